import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { randomVectors, tempDir, thrown } from "../../test/helpers.js";
import { ClosedError, CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { HEADER_SIZE } from "./file-header.js";
import { loadMemoryMap } from "./memory-map.js";
import { VectorFile, slotStride } from "./vector-file.js";
import { defaultVectorReads, type VectorReads, VectorPages } from "./vector-pages.js";

const DIM = 5;
const STRIDE = slotStride(DIM);
const MMAP_MISSING = loadMemoryMap().map === undefined ? loadMemoryMap().reason ?? "memory-map addon did not load" : undefined;


/** A vector file of `n` seeded vectors (slots 0..n-1) in a fresh temp dir, left closed. */
function writeFile(n: number, seed: number): { file: string; vectors: Float32Array[] } {
  const file = path.join(tempDir(), "vectors.omv");
  const vectors = randomVectors(n, DIM, seed);
  const vf = VectorFile.create(file, { dim: DIM, metric: "l2" });
  vf.writeMany(Array.from({ length: n }, (_, s) => s), vectors);
  vf.close();
  return { file, vectors };
}

/** The bytes of the file at [position, position + length), read from disk. */
function diskBytes(file: string, position: number, length: number): Uint8Array {
  return Uint8Array.from(fs.readFileSync(file).subarray(position, position + length));
}

const bytesOf = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));

const opened: VectorPages[] = [];
function pagesOf(file: string, reads: VectorReads): VectorPages {
  const pages = new VectorPages(file, DIM, reads);
  opened.push(pages);
  return pages;
}
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

for (const reads of ["mmap", "pread"] as const) {
  const skip = reads === "mmap" && MMAP_MISSING !== undefined;
  const title = skip ? `VectorPages (mmap) — SKIPPED, memory-map addon unavailable: ${MMAP_MISSING}` : `VectorPages (${reads})`;

  describe.skipIf(skip)(title, () => {
    it("copyVector returns exactly the written vector's bytes at the given offset, touching nothing else", () => {
      const { file, vectors } = writeFile(40, 7);
      const pages = pagesOf(file, reads);
      expect(pages.vectorBytes).toBe(DIM * 4);
      expect(pages.stride).toBe(STRIDE);
      const out = new Uint8Array(3 + DIM * 4 + 5);
      for (const slot of [0, 1, 17, 39, 38, 0]) {
        out.fill(0xa5);
        pages.copyVector(slot, out, 3);
        expect(Array.from(out.subarray(3, 3 + DIM * 4))).toEqual(Array.from(bytesOf(vectors[slot]!)));
        expect(Array.from(out.subarray(0, 3))).toEqual([0xa5, 0xa5, 0xa5]);
        expect(out.subarray(3 + DIM * 4).every((b) => b === 0xa5)).toBe(true);
      }
    });

    it("copyVectors copies scattered slots' vectors at a stride, as copyVector does one by one", () => {
      const { file, vectors } = writeFile(300, 15);
      const pages = pagesOf(file, reads);
      const slots = Uint32Array.of(7, 299, 0, 150, 7, 42, 298, 1);
      const stride = DIM * 4 + 6;
      for (const shared of [false, true]) {
        // WebAssembly memory is an ArrayBuffer; a view over a SharedArrayBuffer takes the one-by-one path.
        const out = new Uint8Array(shared ? new SharedArrayBuffer(3 + 8 * stride) : new ArrayBuffer(3 + 8 * stride)).fill(0x3c);
        pages.copyVectors(slots, 2, 5, out, 3, stride);
        for (let j = 0; j < 5; j++) {
          const at = 3 + j * stride;
          expect(Array.from(out.subarray(at, at + DIM * 4))).toEqual(Array.from(bytesOf(vectors[slots[2 + j]!]!)));
          expect(out.subarray(at + DIM * 4, at + stride).every((b) => b === 0x3c)).toBe(true);
        }
        expect(out.subarray(0, 3).every((b) => b === 0x3c)).toBe(true);
        expect(out.subarray(3 + 5 * stride).every((b) => b === 0x3c)).toBe(true);
      }
      // Past the end: CorruptionError naming the highest slot's record, nothing copied.
      const out = new Uint8Array(4 * stride);
      const error = thrown(() => pages.copyVectors(Uint32Array.of(3, 300, 5), 0, 3, out, 0, stride));
      expect(error).toBeInstanceOf(CorruptionError);
      expect((error as CorruptionError).offset).toBe(HEADER_SIZE + 300 * STRIDE);
      expect(out.every((b) => b === 0)).toBe(true);
      // A slot in the file's second GiB (sparse: one record written) next to one in the first.
      const far = Math.ceil((1100 * 1024 * 1024) / STRIDE);
      const farVector = randomVectors(1, DIM, 16)[0]!;
      const writer = VectorFile.open(file, { dim: DIM, metric: "l2" });
      try {
        writer.write(far, farVector);
      } finally {
        writer.close();
      }
      pages.copyVectors(Uint32Array.of(far, 3), 0, 2, out, 0, stride);
      expect(Array.from(out.subarray(0, DIM * 4))).toEqual(Array.from(bytesOf(farVector)));
      expect(Array.from(out.subarray(stride, stride + DIM * 4))).toEqual(Array.from(bytesOf(vectors[3]!)));
      pages.close();
      expect(thrown(() => pages.copyVectors(slots, 0, 1, out, 0, stride))).toBeInstanceOf(ClosedError);
    });

    it("copyRecords returns exactly count * stride bytes of the file, trailers included", () => {
      const { file, vectors } = writeFile(40, 8);
      const pages = pagesOf(file, reads);
      for (const [first, count] of [[0, 40], [5, 1], [12, 9], [39, 1], [0, 0]] as const) {
        const out = new Uint8Array(count * STRIDE + 11).fill(0x5a);
        pages.copyRecords(first, count, out, 7);
        expect(Array.from(out.subarray(7, 7 + count * STRIDE))).toEqual(Array.from(diskBytes(file, HEADER_SIZE + first * STRIDE, count * STRIDE)));
        expect(out.subarray(0, 7).every((b) => b === 0x5a)).toBe(true);
        expect(out.subarray(7 + count * STRIDE).every((b) => b === 0x5a)).toBe(true);
        for (let j = 0; j < count; j++) {
          const at = 7 + j * STRIDE;
          expect(Array.from(out.subarray(at, at + DIM * 4))).toEqual(Array.from(bytesOf(vectors[first + j]!)));
          // the reserved word of the trailer is zero
          expect(Array.from(out.subarray(at + DIM * 4 + 4, at + STRIDE))).toEqual([0, 0, 0, 0]);
        }
      }
    });

    it("throws CorruptionError naming the file for a slot or run past the end, including a cut last record", () => {
      const { file } = writeFile(10, 9);
      const pages = pagesOf(file, reads);
      const out = new Uint8Array(20 * STRIDE);
      for (const read of [() => pages.copyVector(10, out, 0), () => pages.copyVector(1000, out, 0), () => pages.copyRecords(8, 3, out, 0)]) {
        const error = thrown(read);
        expect(error).toBeInstanceOf(CorruptionError);
        expect((error as CorruptionError).code).toBe(ErrorCode.CORRUPTION);
        expect((error as CorruptionError).file).toBe(file);
        expect((error as CorruptionError).offset).toBe(HEADER_SIZE + 10 * STRIDE);
      }
      // Still usable after the failure.
      pages.copyRecords(0, 10, out, 0);
      expect(Array.from(out.subarray(0, 10 * STRIDE))).toEqual(Array.from(diskBytes(file, HEADER_SIZE, 10 * STRIDE)));

      // A file whose last vector was cut short (before this reader opened it).
      const { file: cut, vectors } = writeFile(10, 10);
      fs.truncateSync(cut, HEADER_SIZE + 9 * STRIDE + DIM * 4 - 2);
      const short = pagesOf(cut, reads);
      short.copyVector(8, out, 0);
      expect(Array.from(out.subarray(0, DIM * 4))).toEqual(Array.from(bytesOf(vectors[8]!)));
      const error = thrown(() => short.copyVector(9, out, 0));
      expect(error).toBeInstanceOf(CorruptionError);
      expect((error as CorruptionError).file).toBe(cut);
      expect(thrown(() => short.copyRecords(8, 2, out, 0))).toBeInstanceOf(CorruptionError);

      // Only the last trailer cut: its vector reads, a run of records including it does not.
      const { file: tail, vectors: tailVectors } = writeFile(10, 10);
      fs.truncateSync(tail, HEADER_SIZE + 9 * STRIDE + DIM * 4 + 2);
      const noTrailer = pagesOf(tail, reads);
      noTrailer.copyVector(9, out, 0);
      expect(Array.from(out.subarray(0, DIM * 4))).toEqual(Array.from(bytesOf(tailVectors[9]!)));
      expect(thrown(() => noTrailer.copyRecords(9, 1, out, 0))).toBeInstanceOf(CorruptionError);
      noTrailer.copyRecords(0, 9, out, 0);
    });

    it("refuses a file shorter than its header, and a missing file", () => {
      const dir = tempDir();
      const empty = path.join(dir, "empty.omv");
      fs.writeFileSync(empty, new Uint8Array(10));
      const error = thrown(() => pagesOf(empty, reads));
      expect(error).toBeInstanceOf(CorruptionError);
      expect((error as CorruptionError).file).toBe(empty);
      const missing = thrown(() => pagesOf(path.join(dir, "missing.omv"), reads));
      expect(missing).toBeInstanceOf(OmenDBError);
      expect((missing as OmenDBError).code).toBe(ErrorCode.IO);
    });

    it("reads a file that grew after construction: several thousand new slots, then one far past the first mapping", () => {
      const { file, vectors } = writeFile(10, 11);
      const pages = pagesOf(file, reads);
      const out = new Uint8Array(DIM * 4);
      expect(thrown(() => pages.copyVector(10, out, 0))).toBeInstanceOf(CorruptionError);

      const writer = VectorFile.open(file, { dim: DIM, metric: "l2" });
      try {
        const more = randomVectors(5000, DIM, 12);
        writer.writeMany(Array.from({ length: 5000 }, (_, i) => 10 + i), more);
        for (const i of [0, 1, 2500, 4999]) {
          pages.copyVector(10 + i, out, 0);
          expect(Array.from(out)).toEqual(Array.from(bytesOf(more[i]!)));
        }
        const run = new Uint8Array(5010 * STRIDE);
        pages.copyRecords(0, 5010, run, 0);
        expect(Array.from(run)).toEqual(Array.from(diskBytes(file, HEADER_SIZE, 5010 * STRIDE)));

        // A slot past the first mapping (file + 64 MiB headroom): the file is sparse, so this writes
        // one record; an mmap reader must map again to reach it.
        const far = Math.ceil((80 * 1024 * 1024) / STRIDE);
        const farVector = randomVectors(1, DIM, 13)[0]!;
        writer.write(far, farVector);
        pages.copyVector(far, out, 0);
        expect(Array.from(out)).toEqual(Array.from(bytesOf(farVector)));
        // The hole between reads as zeros; the old slots still read right.
        pages.copyVector(far - 1, out, 0);
        expect(out.every((b) => b === 0)).toBe(true);
        pages.copyVector(3, out, 0);
        expect(Array.from(out)).toEqual(Array.from(bytesOf(vectors[3]!)));
        expect(thrown(() => pages.copyVector(far + 1, out, 0))).toBeInstanceOf(CorruptionError);
      } finally {
        writer.close();
      }
    });

    it("throws ClosedError after close (which is idempotent)", () => {
      const { file } = writeFile(3, 14);
      const pages = new VectorPages(file, DIM, reads);
      const out = new Uint8Array(3 * STRIDE);
      pages.copyVector(2, out, 0);
      pages.close();
      pages.close();
      expect(thrown(() => pages.copyVector(0, out, 0))).toBeInstanceOf(ClosedError);
      expect(thrown(() => pages.copyRecords(0, 1, out, 0))).toBeInstanceOf(ClosedError);
    });
  });
}

describe("VectorPages: the two read modes", () => {
  it.skipIf(MMAP_MISSING !== undefined)(
    `mmap and pread copy the same bytes${MMAP_MISSING === undefined ? "" : ` — SKIPPED, memory-map addon unavailable: ${MMAP_MISSING}`}`,
    () => {
      const { file } = writeFile(300, 15);
      const a = pagesOf(file, "mmap");
      const b = pagesOf(file, "pread");
      expect(a.reads).toBe("mmap");
      expect(b.reads).toBe("pread");
      const x = new Uint8Array(300 * STRIDE);
      const y = new Uint8Array(300 * STRIDE).fill(1);
      a.copyRecords(0, 300, x, 0);
      b.copyRecords(0, 300, y, 0);
      expect(Array.from(x)).toEqual(Array.from(y));
    },
  );

  it.skipIf(MMAP_MISSING !== undefined)(
    `reads past 4 GiB and across a 1 GiB mapping segment's edge (a sparse file)${MMAP_MISSING === undefined ? "" : ` — SKIPPED: ${MMAP_MISSING}`}`,
    () => {
      const file = path.join(tempDir(), "big.omv");
      const dim = 9; // stride 44: a record crosses byte 2^30 (with dim 5 one starts exactly there)
      const stride = slotStride(dim);
      const vf = VectorFile.create(file, { dim, metric: "l2" });
      const straddling = Math.floor((2 ** 30 - HEADER_SIZE) / stride);
      const beyond4GiB = Math.ceil((2 ** 32 + 4096 - HEADER_SIZE) / stride);
      const vectors = randomVectors(2, dim, 44);
      vf.write(straddling, vectors[0]!);
      vf.write(beyond4GiB, vectors[1]!);
      vf.close();
      expect(HEADER_SIZE + straddling * stride).toBeLessThan(2 ** 30);
      expect(HEADER_SIZE + (straddling + 1) * stride).toBeGreaterThan(2 ** 30);
      for (const reads of ["mmap", "pread"] as const) {
        const pages = new VectorPages(file, dim, reads);
        opened.push(pages);
        const out = new Uint8Array(2 * stride);
        pages.copyVector(straddling, out, 0);
        pages.copyVector(beyond4GiB, out, stride);
        expect(Array.from(out.subarray(0, dim * 4)), reads).toEqual(Array.from(bytesOf(vectors[0]!)));
        expect(Array.from(out.subarray(stride, stride + dim * 4)), reads).toEqual(Array.from(bytesOf(vectors[1]!)));
      }
      fs.rmSync(file);
    },
  );

  it("pread: a file cut short behind the reader's back is a CorruptionError, not a short read", () => {
    const { file } = writeFile(10, 16);
    const pages = pagesOf(file, "pread");
    const out = new Uint8Array(DIM * 4);
    pages.copyVector(9, out, 0);
    fs.truncateSync(file, HEADER_SIZE + 5 * STRIDE);
    const error = thrown(() => pages.copyVector(9, out, 0));
    expect(error).toBeInstanceOf(CorruptionError);
    expect((error as CorruptionError).file).toBe(file);
    pages.copyVector(4, out, 0);
  });
});

describe("defaultVectorReads", () => {
  const saved = process.env["OMENDB_VECTOR_READS"];
  afterEach(() => {
    if (saved === undefined) delete process.env["OMENDB_VECTOR_READS"];
    else process.env["OMENDB_VECTOR_READS"] = saved;
  });

  it("honours OMENDB_VECTOR_READS=pread", () => {
    process.env["OMENDB_VECTOR_READS"] = "pread";
    expect(defaultVectorReads()).toBe("pread");
    const { file } = writeFile(2, 17);
    expect(pagesOf(file, defaultVectorReads()).reads).toBe("pread");
  });

  it("rejects any other value with INVALID_OPTION", () => {
    for (const value of ["bogus", "MMAP", " pread"]) {
      process.env["OMENDB_VECTOR_READS"] = value;
      const error = thrown(() => defaultVectorReads());
      expect(error).toBeInstanceOf(OmenDBError);
      expect((error as OmenDBError).code).toBe(ErrorCode.INVALID_OPTION);
    }
  });

  it("uses mmap when unset and when asked for, exactly when the addon loads", () => {
    for (const value of [undefined, ""]) {
      if (value === undefined) delete process.env["OMENDB_VECTOR_READS"];
      else process.env["OMENDB_VECTOR_READS"] = value;
      expect(defaultVectorReads()).toBe(MMAP_MISSING === undefined ? "mmap" : "pread");
    }
    process.env["OMENDB_VECTOR_READS"] = "mmap";
    if (MMAP_MISSING === undefined) expect(defaultVectorReads()).toBe("mmap");
    else expect((thrown(() => defaultVectorReads()) as OmenDBError).code).toBe(ErrorCode.IO);
  });
});
