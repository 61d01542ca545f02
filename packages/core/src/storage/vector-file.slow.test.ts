/**
 * Throughput of the vector file at the default embedding size: 100,000 × 1536-d (≈ 615 MB).
 * Runs only with `pnpm test:slow`. It prints MB/s and asserts correctness, never a speed.
 * The page cache is warm (the file was just written), so read figures measure checksum + copy cost,
 * not the disk.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc32c } from "../internal/crc32c.js";
import { DEFAULT_CHUNK_BYTES, VectorFile, slotStride } from "./vector-file.js";

const N = 100_000;
const DIM = 1536;
const BATCH = 1000;
const MB = 1e6;

/** Fills `out` from a seeded xorshift32 stream; returns the state to continue from. */
function fill(out: Float32Array, state: number): number {
  let x = state;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 4294967296 - 0.5;
  }
  return x;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

describe("VectorFile throughput, 100,000 × 1536", () => {
  let dir: string;
  let file: string;
  /** Sum over slots of (component 0 + component dim-1), as float64: what every scan must reproduce. */
  let expectedSum = 0;
  const figures: Record<string, string> = {};
  const bytes = N * slotStride(DIM);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    file = path.join(dir, "big.vec");
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`vector file, ${N} × ${DIM} (${(bytes / MB).toFixed(0)} MB), Node ${process.version}, ${os.cpus().length} CPUs`);
    for (const [name, value] of Object.entries(figures)) console.log(`  ${name.padEnd(48)} ${value}`);
  });

  it("writes with writeMany in batches of 1,000 and with write() per slot", () => {
    const vf = VectorFile.create(file, { dim: DIM, metric: "cosine" });
    const packed = new Float32Array(BATCH * DIM);
    const slots = new Uint32Array(BATCH);
    let state = 2463534242;
    let writing = 0;
    for (let first = 0; first < N; first += BATCH) {
      state = fill(packed, state);
      for (let i = 0; i < BATCH; i++) {
        slots[i] = first + i;
        expectedSum += packed[i * DIM]! + packed[i * DIM + DIM - 1]!;
      }
      const t = process.hrtime.bigint();
      vf.writeMany(slots, packed);
      writing += seconds(t);
    }
    figures["writeMany (batches of 1,000) growing the file"] = `${(bytes / MB / writing).toFixed(0)} MB/s`;
    const tSync = process.hrtime.bigint();
    vf.sync();
    figures["fdatasync after writing 615 MB"] = `${seconds(tSync).toFixed(2)} s`;

    // Rewrite the first 20,000 slots one write() at a time, with the vectors they already hold.
    const one = new Float32Array(DIM);
    const count = 20_000;
    let single = 0;
    for (let s = 0; s < count; s++) {
      vf.read(s, one);
      const t = process.hrtime.bigint();
      vf.write(s, one);
      single += seconds(t);
    }
    figures["write() one slot at a time, over written slots"] = `${((count * slotStride(DIM)) / MB / single).toFixed(0)} MB/s (${(count / single).toFixed(0)} vectors/s)`;

    // The same 20,000 slots again with writeMany, so both figures cover the same (already allocated) pages.
    const some = new Float32Array(count * DIM);
    const someSlots = Uint32Array.from({ length: count }, (_, i) => i);
    vf.readMany(someSlots, some);
    const tMany = process.hrtime.bigint();
    vf.writeMany(someSlots, some);
    figures["writeMany over written slots"] = `${((count * slotStride(DIM)) / MB / seconds(tMany)).toFixed(0)} MB/s`;
    vf.sync();
    expect(vf.slotCapacity).toBe(N);
    vf.close();
  });

  it("scans every slot, verifying checksums, at open", () => {
    const vf = VectorFile.open(file, { dim: DIM, metric: "cosine" });
    for (const mode of ["all", "listed"] as const) {
      let sum = 0;
      const t = process.hrtime.bigint();
      const result = vf.scan(mode === "all" ? "all" : Array.from({ length: N }, (_, i) => i), (_slot, v) => {
        sum += v[0]! + v[DIM - 1]!;
      });
      const s = seconds(t);
      expect(result.vectors).toBe(N);
      expect(sum).toBe(expectedSum);
      figures[`scan(${mode === "all" ? '"all"' : "every slot listed"}), 8 MiB chunks`] = `${(result.bytesRead / MB / s).toFixed(0)} MB/s (${(N / s / 1000).toFixed(0)}k vectors/s)`;
    }

    // Reference points: the same bytes read without checksums, and crc32c alone.
    const buffer = new Uint8Array(DEFAULT_CHUNK_BYTES);
    const fd = fs.openSync(file, "r");
    let t = process.hrtime.bigint();
    let position = 64;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      position += n;
    }
    figures["(reference) readSync alone, 8 MiB chunks"] = `${((position - 64) / MB / seconds(t)).toFixed(0)} MB/s`;
    fs.closeSync(fd);
    t = process.hrtime.bigint();
    let acc = 0;
    const rounds = 40;
    for (let r = 0; r < rounds; r++) acc ^= crc32c(buffer);
    figures["(reference) crc32c alone"] = `${((rounds * buffer.length) / MB / seconds(t)).toFixed(0)} MB/s`;
    expect(typeof acc).toBe("number");

    // Random single reads, as a re-ranking step would do them.
    const out = new Float32Array(DIM);
    let x = 12345;
    const reads = 20_000;
    t = process.hrtime.bigint();
    for (let i = 0; i < reads; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      vf.read(x % N, out);
    }
    const rs = seconds(t);
    figures["read() random slots"] = `${((reads / rs) / 1000).toFixed(0)}k reads/s (${((rs / reads) * 1e6).toFixed(1)} µs each)`;
    vf.close();
  });
});
