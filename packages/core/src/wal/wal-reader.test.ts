import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import { readWal } from "./wal-reader.js";
import { RECORD_OVERHEAD_BYTES, SEGMENT_HEADER_BYTES, encodeRecord, encodeSegmentHeader, segmentFileName } from "./wal-record.js";
import { WalWriter } from "./wal-writer.js";

let root: string;
let dir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  dir = path.join(root, "wal");
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

interface ReadRecord {
  lsn: number;
  type: number;
  payload: string;
}

async function readAll(afterLsn = 0): Promise<{ records: ReadRecord[]; lastLsn: number; truncatedBytes: number }> {
  const records: ReadRecord[] = [];
  const result = await readWal(dir, {
    afterLsn,
    onRecord: (lsn, type, payload) => records.push({ lsn, type, payload: Buffer.from(payload).toString("hex") }),
  });
  return { records, ...result };
}

async function readError(afterLsn = 0): Promise<unknown> {
  try {
    await readAll(afterLsn);
  } catch (error) {
    return error;
  }
  throw new Error("expected readWal to throw");
}

function payloadFor(lsn: number, length = 24): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (lsn * 131 + i * 17 + 1) & 0xff);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function expected(lsns: number[], length = 24): ReadRecord[] {
  return lsns.map((lsn) => ({ lsn, type: lsn % 7, payload: hex(payloadFor(lsn, length)) }));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Writes records `from..to` with the real writer into one segment (`"none"`, closed cleanly). */
async function writeRecords(from: number, to: number, length = 24): Promise<void> {
  const wal = await WalWriter.open(dir, { durability: "none", nextLsn: from });
  for (let lsn = from; lsn <= to; lsn++) await wal.append(lsn % 7, payloadFor(lsn, length));
  await wal.close();
}

/** Builds a segment file by hand: a header and the given records (LSNs need not be valid). */
function writeSegment(firstLsn: number, lsns: number[], name = segmentFileName(firstLsn)): string {
  fs.mkdirSync(dir, { recursive: true });
  const parts = [encodeSegmentHeader(firstLsn), ...lsns.map((lsn) => encodeRecord({ lsn, type: lsn % 7, payload: payloadFor(lsn) }))];
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** Start offset of each record in a segment written with `payloadFor(lsn, length)`. */
function recordOffsets(count: number, length = 24): number[] {
  return range(0, count - 1).map((i) => SEGMENT_HEADER_BYTES + i * (RECORD_OVERHEAD_BYTES + length));
}

function expectCorruption(error: unknown, file: string, offset: number): CorruptionError {
  expect(error).toBeInstanceOf(CorruptionError);
  const corruption = error as CorruptionError;
  expect(corruption.code).toBe(ErrorCode.CORRUPTION);
  expect(corruption.file).toBe(file);
  expect(corruption.offset).toBe(offset);
  return corruption;
}

describe("readWal", () => {
  it("treats a missing folder as an empty WAL", async () => {
    expect(await readAll(17)).toEqual({ records: [], lastLsn: 17, truncatedBytes: 0 });
  });

  it("delivers records after afterLsn, in order, across segments", async () => {
    await writeRecords(1, 5);
    await writeRecords(6, 9);
    expect(await readAll(0)).toEqual({ records: expected(range(1, 9)), lastLsn: 9, truncatedBytes: 0 });
    expect(await readAll(4)).toEqual({ records: expected(range(5, 9)), lastLsn: 9, truncatedBytes: 0 });
    expect(await readAll(9)).toEqual({ records: [], lastLsn: 9, truncatedBytes: 0 });
    // The checkpoint may be ahead of the WAL (records lost from a relaxed WAL were already applied).
    expect(await readAll(12)).toEqual({ records: [], lastLsn: 12, truncatedBytes: 0 });
  });

  it("decodes zero-copy: payloads of one segment are views of one buffer", async () => {
    await writeRecords(1, 3);
    const payloads: Uint8Array[] = [];
    await readWal(dir, { afterLsn: 0, onRecord: (_lsn, _type, payload) => payloads.push(payload) });
    expect(payloads).toHaveLength(3);
    expect(payloads[1]!.buffer).toBe(payloads[0]!.buffer);
    expect(payloads[2]!.buffer).toBe(payloads[0]!.buffer);
  });

  it("reports a header-only last segment's first LSN - 1 as lastLsn", async () => {
    writeSegment(1, [1, 2, 3]);
    writeSegment(4, []);
    expect(await readAll(0)).toEqual({ records: expected([1, 2, 3]), lastLsn: 3, truncatedBytes: 0 });
  });

  it("ignores files that are not segments", async () => {
    await writeRecords(1, 2);
    fs.writeFileSync(path.join(dir, "notes.txt"), "hello");
    fs.writeFileSync(path.join(dir, `${segmentFileName(3)}.tmp`), "partial");
    expect((await readAll()).records.map((r) => r.lsn)).toEqual([1, 2]);
  });

  it("rethrows an error thrown by onRecord", async () => {
    await writeRecords(1, 2);
    const boom = new Error("apply failed");
    await expect(
      readWal(dir, {
        afterLsn: 0,
        onRecord: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });

  it("validates its arguments", async () => {
    await expect(readWal(dir, { afterLsn: -1, onRecord: () => undefined })).rejects.toBeInstanceOf(RangeError);
    await expect(readWal(dir, { afterLsn: 0.5, onRecord: () => undefined })).rejects.toBeInstanceOf(RangeError);
    await expect(readWal(dir, { afterLsn: 0, onRecord: undefined as never })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("readWal torn tail", () => {
  it("truncates the last record cut at every byte offset, keeps earlier records, and the writer continues", async () => {
    await writeRecords(1, 5);
    const file = path.join(dir, segmentFileName(1));
    const whole = fs.readFileSync(file);
    const lastStart = recordOffsets(5)[4]!;
    expect(whole.length).toBe(lastStart + RECORD_OVERHEAD_BYTES + 24);
    for (let cut = lastStart; cut < whole.length; cut++) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      fs.writeFileSync(file, whole.subarray(0, cut));

      const { records, lastLsn, truncatedBytes } = await readAll();
      expect(records).toEqual(expected(range(1, 4)));
      expect(lastLsn).toBe(4);
      expect(truncatedBytes).toBe(cut - lastStart);
      expect(fs.statSync(file).size).toBe(lastStart);

      const wal = await WalWriter.open(dir, { durability: "none", nextLsn: lastLsn + 1 });
      expect(await wal.append(5 % 7, payloadFor(5))).toBe(5);
      await wal.close();
      expect(await readAll()).toEqual({ records: expected(range(1, 5)), lastLsn: 5, truncatedBytes: 0 });
    }
  });

  it("truncates zeros after the last record (a file extended but not written)", async () => {
    await writeRecords(1, 3);
    const file = path.join(dir, segmentFileName(1));
    fs.appendFileSync(file, new Uint8Array(4096));
    expect(await readAll()).toEqual({ records: expected([1, 2, 3]), lastLsn: 3, truncatedBytes: 4096 });
    expect(await readAll()).toEqual({ records: expected([1, 2, 3]), lastLsn: 3, truncatedBytes: 0 });
  });

  it("treats a flipped byte in the last record with nothing after it as torn (cannot be told from a torn write)", async () => {
    await writeRecords(1, 5);
    const file = path.join(dir, segmentFileName(1));
    const whole = fs.readFileSync(file);
    const lastStart = recordOffsets(5)[4]!;
    for (const at of [lastStart + 4, lastStart + 10, lastStart + RECORD_OVERHEAD_BYTES + 3, whole.length - 1]) {
      const damaged = Buffer.from(whole);
      damaged[at]! ^= 0x40;
      fs.writeFileSync(file, damaged);
      expect(await readAll()).toEqual({ records: expected(range(1, 4)), lastLsn: 4, truncatedBytes: whole.length - lastStart });
    }
    // ... and likewise when only zeros follow it.
    const damaged = Buffer.concat([whole, new Uint8Array(100)]);
    damaged[lastStart + RECORD_OVERHEAD_BYTES]! ^= 1;
    fs.writeFileSync(file, damaged);
    expect(await readAll()).toEqual({ records: expected(range(1, 4)), lastLsn: 4, truncatedBytes: whole.length + 100 - lastStart });
  });

  it("truncates a last segment back to its header when its only record is torn", async () => {
    await writeRecords(1, 3);
    await writeRecords(4, 4);
    const file = path.join(dir, segmentFileName(4));
    fs.truncateSync(file, SEGMENT_HEADER_BYTES + 5);
    expect(await readAll()).toEqual({ records: expected([1, 2, 3]), lastLsn: 3, truncatedBytes: 5 });
    // The writer reuses the now header-only segment.
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 4 });
    expect(await wal.append(4 % 7, payloadFor(4))).toBe(4);
    await wal.close();
    expect((await readAll()).records).toEqual(expected(range(1, 4)));
  });
});

describe("readWal corruption", () => {
  it("a flipped byte anywhere in a middle record is a CorruptionError at that record, and nothing is truncated", async () => {
    await writeRecords(1, 5);
    const file = path.join(dir, segmentFileName(1));
    const whole = fs.readFileSync(file);
    const offsets = recordOffsets(5);
    const start = offsets[2]!;
    for (let at = start; at < offsets[3]!; at++) {
      const damaged = Buffer.from(whole);
      damaged[at]! ^= 0xff;
      fs.writeFileSync(file, damaged);
      const delivered: number[] = [];
      let error: unknown;
      try {
        await readWal(dir, { afterLsn: 0, onRecord: (lsn) => delivered.push(lsn) });
      } catch (caught) {
        error = caught;
      }
      expectCorruption(error, file, start);
      expect(delivered).toEqual([]); // a damaged segment delivers nothing
      expect(fs.statSync(file).size).toBe(whole.length);
    }
  });

  it("reports the stored and the computed checksum", async () => {
    await writeRecords(1, 3);
    const file = path.join(dir, segmentFileName(1));
    const damaged = fs.readFileSync(file);
    const start = recordOffsets(3)[1]!;
    damaged[start + RECORD_OVERHEAD_BYTES]! ^= 1;
    fs.writeFileSync(file, damaged);
    const error = expectCorruption(await readError(), file, start);
    const stored = damaged.readUInt32LE(start + 4);
    const computed = crc32c(damaged.subarray(start + 8, start + 8 + 9 + 24));
    expect(error.expected).toBe(`0x${stored.toString(16).padStart(8, "0")}`);
    expect(error.actual).toBe(`0x${computed.toString(16).padStart(8, "0")}`);
  });

  it("a bad or cut-short last record of a segment that is not the last is a CorruptionError", async () => {
    await writeRecords(1, 3);
    await writeRecords(4, 6);
    const file = path.join(dir, segmentFileName(1));
    const whole = fs.readFileSync(file);
    const lastStart = recordOffsets(3)[2]!;
    const damaged = Buffer.from(whole);
    damaged[whole.length - 1]! ^= 1;
    fs.writeFileSync(file, damaged);
    expectCorruption(await readError(), file, lastStart);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 3));
    expectCorruption(await readError(), file, lastStart);
    fs.writeFileSync(file, Buffer.concat([whole, new Uint8Array(10)]));
    expectCorruption(await readError(), file, whole.length);
  });

  it("a damaged segment header is a CorruptionError; another version is UNSUPPORTED_FORMAT", async () => {
    await writeRecords(1, 3);
    const file = path.join(dir, segmentFileName(1));
    const whole = fs.readFileSync(file);
    for (const [at, offset] of [
      [0, 0],
      [7, 0],
      [16, 28],
      [20, 28],
      [30, 28],
    ] as const) {
      const damaged = Buffer.from(whole);
      damaged[at]! ^= 0x21;
      fs.writeFileSync(file, damaged);
      expectCorruption(await readError(), file, offset);
    }
    fs.writeFileSync(file, whole.subarray(0, 20));
    expectCorruption(await readError(), file, 0);

    const otherVersion = Buffer.from(whole);
    otherVersion.writeUInt32LE(9, 8);
    otherVersion.writeUInt32LE(crc32c(otherVersion.subarray(0, 28)), 28);
    fs.writeFileSync(file, otherVersion);
    const error = await readError();
    expect(error).toBeInstanceOf(OmenDBError);
    expect((error as OmenDBError).code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
  });

  it("a header whose first LSN differs from the file name is a CorruptionError", async () => {
    const file = writeSegment(2, [2, 3], segmentFileName(1));
    expectCorruption(await readError(), file, 16);
  });

  it("an LSN out of sequence inside a segment is a CorruptionError at that record, even at the tail", async () => {
    let file = writeSegment(1, [1, 2, 4, 5]);
    expectCorruption(await readError(), file, recordOffsets(4)[2]!);
    fs.rmSync(file);
    file = writeSegment(1, [1, 2, 2]);
    expectCorruption(await readError(), file, recordOffsets(3)[2]!);
    fs.rmSync(file);
    file = writeSegment(1, [2, 3]);
    expectCorruption(await readError(), file, SEGMENT_HEADER_BYTES);
  });

  it("a gap or an overlap between segments is a CorruptionError unless the checkpoint covers the gap", async () => {
    writeSegment(1, [1, 2, 3]);
    const gapped = writeSegment(6, [6, 7]);
    expectCorruption(await readError(0), gapped, 16);
    expectCorruption(await readError(4), gapped, 16);
    // Every missing LSN (4, 5) is ≤ afterLsn: allowed.
    expect((await readAll(5)).records).toEqual(expected([6, 7]));
    fs.rmSync(gapped);

    const overlapping = writeSegment(3, [3, 4]);
    expectCorruption(await readError(0), overlapping, 16);
  });

  it("a first segment that starts after afterLsn + 1 is a CorruptionError (records are missing)", async () => {
    const file = writeSegment(5, [5, 6]);
    expectCorruption(await readError(0), file, 16);
    expectCorruption(await readError(3), file, 16);
    expect((await readAll(4)).records).toEqual(expected([5, 6]));
  });
});
