import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClosedError, CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import { HEADER_SIZE, VECTOR_FILE_HEADER, encodeHeader } from "./file-header.js";
import { VectorFile, slotStride } from "./vector-file.js";

/** mulberry32: a small seeded generator, so every run writes the same vectors. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomVector(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = next() * 2 - 1;
  return v;
}

/** Bit-exact equality (distinguishes -0 from 0 and compares NaN payloads). */
function expectSameBits(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Array.from(new Uint32Array(actual.buffer, actual.byteOffset, actual.length))).toEqual(
    Array.from(new Uint32Array(expected.buffer, expected.byteOffset, expected.length)),
  );
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

function expectCorruption(fn: () => unknown, offset: number, file: string): CorruptionError {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.code).toBe(ErrorCode.CORRUPTION);
  expect(c.offset).toBe(offset);
  expect(c.file).toBe(file);
  return c;
}

/** Flips bits of one byte of a closed file in place. */
function flipByte(file: string, position: number, mask = 0x40): void {
  const fd = fs.openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, position);
    b[0]! ^= mask;
    fs.writeSync(fd, b, 0, 1, position);
  } finally {
    fs.closeSync(fd);
  }
}

let dir: string;
let file: string;
const opened: VectorFile[] = [];

function track(vf: VectorFile): VectorFile {
  opened.push(vf);
  return vf;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  file = path.join(dir, "c.vec");
});

afterEach(() => {
  for (const vf of opened.splice(0)) vf.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("VectorFile.create / open / openOrCreate", () => {
  it("creates a file holding only a valid 64-byte header and leaves no temp file", () => {
    const vf = track(VectorFile.create(file, { dim: 1536, metric: "cosine" }));
    expect(vf.path).toBe(file);
    expect(vf.dim).toBe(1536);
    expect(vf.metric).toBe("cosine");
    expect(vf.stride).toBe(1536 * 4 + 8);
    expect(vf.slotCapacity).toBe(0);
    expect(fs.statSync(file).size).toBe(HEADER_SIZE);
    expect(fs.readdirSync(dir)).toEqual(["c.vec"]);
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8).toString("latin1")).toBe("OMENVEC\0");
    expect(bytes.readUInt32LE(16)).toBe(1536);
    expect(bytes[20]).toBe(0);
    expect(bytes.readUInt32LE(24)).toBe(6152);
  });

  it("refuses to create over an existing file, leaving it intact", () => {
    track(VectorFile.create(file, { dim: 4, metric: "l2" })).write(0, new Float32Array([1, 2, 3, 4]));
    const before = fs.readFileSync(file);
    const err = catchError(() => VectorFile.create(file, { dim: 4, metric: "l2" }));
    expect(err).toBeInstanceOf(OmenDBError);
    expect((err as OmenDBError).code).toBe(ErrorCode.IO);
    expect(fs.readFileSync(file)).toEqual(before);
  });

  it("rejects an invalid dim or metric with RangeError", () => {
    expect(() => VectorFile.create(file, { dim: 0, metric: "l2" })).toThrow(RangeError);
    expect(() => VectorFile.create(file, { dim: 1.5, metric: "l2" })).toThrow(RangeError);
    expect(() => VectorFile.create(file, { dim: 4, metric: "hamming" as never })).toThrow(RangeError);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("reopens with the same shape and contents, and reads each metric back", () => {
    for (const metric of ["cosine", "l2", "ip"] as const) {
      const p = path.join(dir, `${metric}.vec`);
      const vf = VectorFile.create(p, { dim: 3, metric });
      vf.write(2, new Float32Array([1, 2, 3]));
      vf.sync();
      vf.close();
      const again = track(VectorFile.open(p));
      expect(again.metric).toBe(metric);
      expect(again.dim).toBe(3);
      expect(again.slotCapacity).toBe(3);
      expect(Array.from(again.read(2))).toEqual([1, 2, 3]);
    }
  });

  it("openOrCreate creates a missing file, then opens the existing one", () => {
    const a = VectorFile.openOrCreate(file, { dim: 2, metric: "ip" });
    a.write(0, new Float32Array([5, 6]));
    a.close();
    const b = track(VectorFile.openOrCreate(file, { dim: 2, metric: "ip" }));
    expect(Array.from(b.read(0))).toEqual([5, 6]);
  });

  it("throws CorruptionError at the dim or metric field when the file differs from the expected shape", () => {
    VectorFile.create(file, { dim: 8, metric: "cosine" }).close();
    expectCorruption(() => VectorFile.open(file, { dim: 9, metric: "cosine" }), 16, file);
    expectCorruption(() => VectorFile.open(file, { dim: 8, metric: "l2" }), 20, file);
    expectCorruption(() => VectorFile.openOrCreate(file, { dim: 7, metric: "cosine" }), 16, file);
    track(VectorFile.open(file, { dim: 8, metric: "cosine" }));
  });

  it("throws CorruptionError for a flipped byte anywhere in the header", () => {
    VectorFile.create(file, { dim: 8, metric: "cosine" }).close();
    for (let byte = 0; byte < HEADER_SIZE; byte++) {
      flipByte(file, byte);
      const err = catchError(() => VectorFile.open(file));
      expect(err, `byte ${byte}`).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).code).toBe(ErrorCode.CORRUPTION);
      flipByte(file, byte);
    }
    track(VectorFile.open(file));
  });

  it("throws UNSUPPORTED_FORMAT for a file of a newer format version", () => {
    fs.writeFileSync(file, encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 40 }, 2));
    const err = catchError(() => VectorFile.open(file));
    expect(err).toBeInstanceOf(OmenDBError);
    expect(err).not.toBeInstanceOf(CorruptionError);
    expect((err as OmenDBError).code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
  });

  it("throws CorruptionError for an intact header with impossible values", () => {
    fs.writeFileSync(file, encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 44 }));
    expectCorruption(() => VectorFile.open(file), 24, file);
    fs.writeFileSync(file, encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 3, stride: 40 }));
    expectCorruption(() => VectorFile.open(file), 20, file);
    fs.writeFileSync(file, encodeHeader(VECTOR_FILE_HEADER, { dim: 0, metric: 0, stride: 8 }));
    expectCorruption(() => VectorFile.open(file), 16, file);
  });

  it("throws CorruptionError for a file truncated inside its header, and IO for a missing file", () => {
    VectorFile.create(file, { dim: 8, metric: "cosine" }).close();
    fs.truncateSync(file, 40);
    expectCorruption(() => VectorFile.open(file), 40, file);
    fs.truncateSync(file, 0);
    expectCorruption(() => VectorFile.open(file), 0, file);
    const err = catchError(() => VectorFile.open(path.join(dir, "missing.vec")));
    expect((err as OmenDBError).code).toBe(ErrorCode.IO);
  });
});

describe("VectorFile.write / read", () => {
  it("round-trips vectors bit for bit for several dims", () => {
    const next = rng(1);
    for (const dim of [1, 3, 8, 17, 128, 768, 1536]) {
      const p = path.join(dir, `d${dim}.vec`);
      const vf = VectorFile.create(p, { dim, metric: "l2" });
      const written = new Map<number, Float32Array>();
      for (const slot of [0, 1, 5, 2, 40]) {
        const v = randomVector(dim, next);
        vf.write(slot, v);
        written.set(slot, v);
      }
      const replaced = randomVector(dim, next);
      vf.write(1, replaced);
      written.set(1, replaced);
      expect(vf.slotCapacity).toBe(41);
      expect(fs.statSync(p).size).toBe(HEADER_SIZE + 41 * slotStride(dim));
      vf.close();
      const again = track(VectorFile.open(p, { dim, metric: "l2" }));
      for (const [slot, v] of written) expectSameBits(again.read(slot), v);
    }
  });

  it("keeps -0, subnormals, ±Infinity and NaN payloads exactly", () => {
    const bits = new Uint32Array([0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x7fc00001, 0x3f800000]);
    const v = new Float32Array(bits.buffer);
    const vf = track(VectorFile.create(file, { dim: 6, metric: "ip" }));
    vf.write(3, v);
    expectSameBits(vf.read(3), v);
  });

  it("writes the documented record layout: float32 LE, crc32c of the vector bytes, reserved 0", () => {
    const vf = track(VectorFile.create(file, { dim: 3, metric: "cosine" }));
    const v = new Float32Array([1.5, -2, 0.25]);
    vf.write(1, v);
    const bytes = fs.readFileSync(file);
    const at = HEADER_SIZE + 1 * slotStride(3);
    expect([bytes.readFloatLE(at), bytes.readFloatLE(at + 4), bytes.readFloatLE(at + 8)]).toEqual([1.5, -2, 0.25]);
    expect(bytes.readUInt32LE(at + 12)).toBe(crc32c(new Uint8Array(bytes.subarray(at, at + 12))));
    expect(bytes.readUInt32LE(at + 16)).toBe(0);
  });

  it("writes from a subarray view and reads into a caller's buffer", () => {
    const backing = new Float32Array([9, 1, 2, 3, 4, 9]);
    const vf = track(VectorFile.create(file, { dim: 4, metric: "l2" }));
    vf.write(0, backing.subarray(1, 5));
    const out = new Float32Array(4);
    expect(vf.read(0, out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
  });

  it("rejects a wrong vector length, a bad slot or a short out buffer with RangeError", () => {
    const vf = track(VectorFile.create(file, { dim: 4, metric: "l2" }));
    expect(() => vf.write(0, new Float32Array(3))).toThrow(RangeError);
    expect(() => vf.write(-1, new Float32Array(4))).toThrow(RangeError);
    expect(() => vf.write(2 ** 32, new Float32Array(4))).toThrow(RangeError);
    expect(() => vf.write(0.5, new Float32Array(4))).toThrow(RangeError);
    vf.write(0, new Float32Array(4));
    expect(() => vf.read(0, new Float32Array(3))).toThrow(RangeError);
    expect(vf.slotCapacity).toBe(1);
  });

  it("throws CorruptionError at the slot's offset for a flipped byte anywhere in its vector, crc or reserved word", () => {
    const dim = 8;
    const stride = slotStride(dim);
    const next = rng(2);
    const vf = VectorFile.create(file, { dim, metric: "cosine" });
    for (let s = 0; s < 4; s++) vf.write(s, randomVector(dim, next));
    vf.close();
    const slot = 2;
    const slotAt = HEADER_SIZE + slot * stride;
    for (let byte = 0; byte < stride; byte++) {
      for (const mask of [0x01, 0x80]) {
        flipByte(file, slotAt + byte, mask);
        const r = VectorFile.open(file);
        try {
          const err = expectCorruption(() => r.read(slot), slotAt, file);
          if (byte < dim * 4 + 4) expect(err.expected).not.toBe(err.actual);
          expectCorruption(() => r.readMany(Uint32Array.of(1, 2, 3), new Float32Array(3 * dim)), slotAt, file);
          expectCorruption(() => r.scan([0, 1, 2, 3], () => {}), slotAt, file);
          expectCorruption(() => r.scan("all", () => {}), slotAt, file);
          expect(() => r.read(1)).not.toThrow();
          expect(() => r.read(3)).not.toThrow();
        } finally {
          r.close();
        }
        flipByte(file, slotAt + byte, mask);
      }
    }
    const clean = track(VectorFile.open(file));
    expect(clean.scan("all", () => {}).vectors).toBe(4);
  });

  it("reports the stored crc as expected and the computed crc as actual", () => {
    const vf = VectorFile.create(file, { dim: 2, metric: "l2" });
    vf.write(0, new Float32Array([1, 2]));
    vf.close();
    const before = fs.readFileSync(file);
    const stored = before.readUInt32LE(HEADER_SIZE + 8);
    flipByte(file, HEADER_SIZE + 1);
    const after = fs.readFileSync(file);
    const computed = crc32c(new Uint8Array(after.subarray(HEADER_SIZE, HEADER_SIZE + 8)));
    const r = track(VectorFile.open(file));
    const err = expectCorruption(() => r.read(0), HEADER_SIZE, file);
    expect(err.expected).toBe(`0x${stored.toString(16).padStart(8, "0")}`);
    expect(err.actual).toBe(`0x${computed.toString(16).padStart(8, "0")}`);
  });

  it("throws CorruptionError for a never-written slot (a hole) and for a slot beyond the end", () => {
    const dim = 4;
    const vf = track(VectorFile.create(file, { dim, metric: "l2" }));
    vf.write(5, new Float32Array([1, 2, 3, 4]));
    expectCorruption(() => vf.read(2), HEADER_SIZE + 2 * slotStride(dim), file);
    expectCorruption(() => vf.read(6), HEADER_SIZE + 6 * slotStride(dim), file);
    expectCorruption(() => vf.read(1000), HEADER_SIZE + 1000 * slotStride(dim), file);
    // A written all-zero vector is a valid record, unlike a hole.
    vf.write(2, new Float32Array(dim));
    expect(Array.from(vf.read(2))).toEqual([0, 0, 0, 0]);
  });

  it("an all-zero record fails its checksum for every dim from 1 to 65,536", () => {
    // crc32c of dim*4 zero bytes, extended four zero bytes at a time.
    const word = new Uint8Array(4);
    let crc = 0;
    let zeroCrcs = 0;
    for (let dim = 1; dim <= 65_536; dim++) {
      crc = crc32c(word, crc);
      if (crc === 0) zeroCrcs++;
    }
    expect(crc).toBe(crc32c(new Uint8Array(65_536 * 4)));
    expect(zeroCrcs).toBe(0);
  });

  it("throws CorruptionError at the first slot the file no longer holds after truncation", () => {
    const dim = 16;
    const stride = slotStride(dim);
    const next = rng(3);
    const vf = VectorFile.create(file, { dim, metric: "l2" });
    const vectors = Array.from({ length: 10 }, () => randomVector(dim, next));
    vf.writeMany(Array.from({ length: 10 }, (_, i) => i), vectors);
    vf.close();
    fs.truncateSync(file, HEADER_SIZE + 7 * stride + 5);
    const r = track(VectorFile.open(file));
    expect(r.slotCapacity).toBe(7);
    for (let s = 0; s < 7; s++) expectSameBits(r.read(s), vectors[s]!);
    expectCorruption(() => r.read(7), HEADER_SIZE + 7 * stride, file);
    expectCorruption(() => r.read(9), HEADER_SIZE + 9 * stride, file);
    expectCorruption(() => r.readMany(Uint32Array.of(5, 6, 7, 8), new Float32Array(4 * dim)), HEADER_SIZE + 7 * stride, file);
    let visited = 0;
    expectCorruption(() => r.scan([1, 8, 9], () => visited++), HEADER_SIZE + 8 * stride, file);
    expect(visited).toBe(0);
    expect(r.scan("all", () => {}).vectors).toBe(7);
  });

  it("notices a file truncated by someone else while open", () => {
    const dim = 4;
    const vf = track(VectorFile.create(file, { dim, metric: "l2" }));
    for (let s = 0; s < 5; s++) vf.write(s, new Float32Array([s, s, s, s]));
    fs.truncateSync(file, HEADER_SIZE + 2 * slotStride(dim));
    expectCorruption(() => vf.read(3), HEADER_SIZE + 3 * slotStride(dim), file);
    expect(Array.from(vf.read(1))).toEqual([1, 1, 1, 1]);
  });
});

describe("VectorFile.writeMany / readMany", () => {
  it("writes unsorted slots with duplicates (the later vector wins), from packed or separate vectors", () => {
    const dim = 5;
    const next = rng(4);
    const slots = [7, 3, 4, 5, 3, 100, 6, 0];
    const vectors = slots.map(() => randomVector(dim, next));
    const packed = new Float32Array(slots.length * dim);
    vectors.forEach((v, i) => packed.set(v, i * dim));
    for (const [name, input] of [["separate", vectors], ["packed", packed]] as const) {
      const p = path.join(dir, `${name}.vec`);
      const vf = track(VectorFile.create(p, { dim, metric: "l2" }));
      vf.writeMany(slots, input);
      expect(vf.slotCapacity).toBe(101);
      const expected = new Map<number, Float32Array>();
      slots.forEach((s, i) => expected.set(s, vectors[i]!));
      for (const [s, v] of expected) expectSameBits(vf.read(s), v);
      expectSameBits(vf.read(3), vectors[4]!);
    }
  });

  it("writes runs longer than one batch (more than 8 MiB of consecutive slots)", () => {
    const dim = 1024;
    const n = 2100; // 2,100 × 4,104 bytes ≈ 8.2 MiB: two batches
    const next = rng(5);
    const packed = new Float32Array(n * dim);
    for (let i = 0; i < packed.length; i++) packed[i] = next();
    const vf = track(VectorFile.create(file, { dim, metric: "l2" }));
    vf.writeMany(Uint32Array.from({ length: n }, (_, i) => i), packed);
    const out = new Float32Array(n * dim);
    vf.readMany(Uint32Array.from({ length: n }, (_, i) => i), out);
    expectSameBits(out, packed);
  });

  it("checks every argument before writing anything", () => {
    const vf = track(VectorFile.create(file, { dim: 2, metric: "l2" }));
    expect(() => vf.writeMany([0, 1, -1], [new Float32Array(2), new Float32Array(2), new Float32Array(2)])).toThrow(RangeError);
    expect(() => vf.writeMany([0, 1], [new Float32Array(2), new Float32Array(3)])).toThrow(RangeError);
    expect(() => vf.writeMany([0, 1], new Float32Array(3))).toThrow(RangeError);
    expect(() => vf.writeMany([0, 1], [new Float32Array(2)])).toThrow(RangeError);
    expect(vf.byteLength).toBe(HEADER_SIZE);
    expect(fs.statSync(file).size).toBe(HEADER_SIZE);
    vf.writeMany([], []);
    expect(vf.slotCapacity).toBe(0);
  });

  it("reads slots in the order given, runs and scattered alike", () => {
    const dim = 6;
    const next = rng(6);
    const vf = track(VectorFile.create(file, { dim, metric: "ip" }));
    const vectors = Array.from({ length: 50 }, () => randomVector(dim, next));
    vf.writeMany(Array.from({ length: 50 }, (_, i) => i), vectors);
    const slots = Uint32Array.of(10, 11, 12, 3, 49, 0, 1, 1, 30);
    const out = vf.readMany(slots, new Float32Array(slots.length * dim + 3));
    slots.forEach((s, i) => expectSameBits(out.subarray(i * dim, (i + 1) * dim), vectors[s]!));
    expect(() => vf.readMany(slots, new Float32Array(slots.length * dim - 1))).toThrow(RangeError);
  });
});

describe("VectorFile.scan", () => {
  const dim = 16;
  const n = 12_000;
  let vectors: Float32Array[];

  beforeEach(() => {
    const next = rng(7);
    vectors = Array.from({ length: n }, () => randomVector(dim, next));
    const vf = VectorFile.create(file, { dim, metric: "l2" });
    vf.writeMany(Array.from({ length: n }, (_, i) => i), vectors);
    vf.close();
  });

  function collect(vf: VectorFile, slots: Iterable<number> | "all", chunkBytes?: number): Map<number, Float32Array> {
    const seen = new Map<number, Float32Array>();
    let last = -1;
    const result = vf.scan(
      slots,
      (slot, vector) => {
        expect(slot).toBeGreaterThan(last);
        last = slot;
        seen.set(slot, vector.slice());
      },
      chunkBytes === undefined ? {} : { chunkBytes },
    );
    expect(result.vectors).toBe(seen.size);
    return seen;
  }

  it("visits every slot once in ascending order and equals individual reads, for any chunk size", () => {
    const vf = track(VectorFile.open(file));
    for (const chunkBytes of [undefined, 1, 1000, 72 * 7, 65_536]) {
      const seen = collect(vf, "all", chunkBytes);
      expect(seen.size).toBe(n);
      for (let s = 0; s < n; s += 37) expectSameBits(seen.get(s)!, vf.read(s));
      for (let s = 0; s < n; s++) expectSameBits(seen.get(s)!, vectors[s]!);
    }
  });

  it("visits listed slots (unsorted, duplicated, with small and large gaps) once each", () => {
    const vf = track(VectorFile.open(file));
    const next = rng(8);
    const listed: number[] = [];
    for (let i = 0; i < 3000; i++) listed.push(Math.floor(next() * n));
    listed.push(0, n - 1, 5000, 5000, 5001, 11_000);
    const wanted = [...new Set(listed)].sort((a, b) => a - b);
    for (const chunkBytes of [undefined, 500, 100_000]) {
      const seen = collect(vf, listed, chunkBytes);
      expect([...seen.keys()]).toEqual(wanted);
      for (const s of wanted) expectSameBits(seen.get(s)!, vectors[s]!);
    }
    const sparse = vf.scan([0, n - 1], () => {});
    expect(sparse.vectors).toBe(2);
    expect(sparse.bytesRead).toBe(2 * slotStride(dim));
    const dense = vf.scan(Array.from({ length: 100 }, (_, i) => i * 2), () => {});
    expect(dense.bytesRead).toBe(199 * slotStride(dim));
  });

  it("scans from any iterable, and an empty one visits nothing", () => {
    const vf = track(VectorFile.open(file));
    const set = new Set([4, 2, 9]);
    expect([...collect(vf, set).keys()]).toEqual([2, 4, 9]);
    expect(vf.scan([], () => expect.unreachable()).vectors).toBe(0);
    expect(() => vf.scan([1, -2], () => {})).toThrow(RangeError);
    expect(() => vf.scan("all", () => {}, { chunkBytes: 0 })).toThrow(RangeError);
  });

  it("skips holes in an 'all' scan but throws for a listed hole", () => {
    const p = path.join(dir, "holes.vec");
    const vf = track(VectorFile.create(p, { dim: 4, metric: "l2" }));
    vf.write(1, new Float32Array([1, 1, 1, 1]));
    vf.write(4, new Float32Array([4, 4, 4, 4]));
    expect([...collect(vf, "all").keys()]).toEqual([1, 4]);
    expectCorruption(() => vf.scan([1, 2, 4], () => {}), HEADER_SIZE + 2 * slotStride(4), p);
  });
});

describe("VectorFile lifecycle", () => {
  it("throws ClosedError after close, and close twice is harmless", () => {
    const vf = VectorFile.create(file, { dim: 2, metric: "l2" });
    vf.write(0, new Float32Array([1, 2]));
    vf.close();
    vf.close();
    for (const call of [
      () => vf.read(0),
      () => vf.write(0, new Float32Array(2)),
      () => vf.writeMany([0], [new Float32Array(2)]),
      () => vf.readMany(Uint32Array.of(0), new Float32Array(2)),
      () => vf.scan("all", () => {}),
      () => vf.sync(),
    ]) {
      const err = catchError(call);
      expect(err).toBeInstanceOf(ClosedError);
      expect((err as ClosedError).code).toBe(ErrorCode.CLOSED);
    }
  });

  it("opened read-only, reads work and writes fail with IO", () => {
    const vf = VectorFile.create(file, { dim: 2, metric: "l2" });
    vf.write(0, new Float32Array([1, 2]));
    vf.close();
    const r = track(VectorFile.open(file, undefined, { readOnly: true }));
    expect(Array.from(r.read(0))).toEqual([1, 2]);
    const err = catchError(() => r.write(1, new Float32Array(2)));
    expect(err).toBeInstanceOf(OmenDBError);
    expect((err as OmenDBError).code).toBe(ErrorCode.IO);
  });

  it("reads back what another handle wrote and synced, at the same bytes (position-independent)", () => {
    const vf = VectorFile.create(file, { dim: 3, metric: "cosine" });
    vf.writeMany([0, 1, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    vf.sync();
    vf.close();
    const moved = path.join(dir, "elsewhere.vec");
    fs.copyFileSync(file, moved);
    const r = track(VectorFile.open(moved, { dim: 3, metric: "cosine" }));
    expect(Array.from(r.readMany(Uint32Array.of(2, 0), new Float32Array(6)))).toEqual([7, 8, 9, 1, 2, 3]);
  });
});
