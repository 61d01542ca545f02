import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import {
  MAX_RECORD_PAYLOAD_BYTES,
  RECORD_OVERHEAD_BYTES,
  SEGMENT_HEADER_BYTES,
  WAL_FORMAT_VERSION,
  decodeRecord,
  decodeSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  parseSegmentFileName,
  readU64,
  recordSize,
  segmentFileName,
  writeRecord,
} from "./wal-record.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("WAL record layout", () => {
  it("encodes length | crc32c | lsn | type | payload, little-endian", () => {
    const payload = Uint8Array.of(0xaa, 0xbb, 0xcc);
    const bytes = encodeRecord({ lsn: 0x0102030405, type: 7, payload });
    expect(bytes.length).toBe(RECORD_OVERHEAD_BYTES + 3);
    expect(RECORD_OVERHEAD_BYTES).toBe(17);
    // length = 8 (lsn) + 1 (type) + 3 (payload) = 12
    expect(hex(bytes.subarray(0, 4))).toBe("0c000000");
    expect(hex(bytes.subarray(8, 16))).toBe("0504030201000000");
    expect(bytes[16]).toBe(7);
    expect(hex(bytes.subarray(17))).toBe("aabbcc");
    const crc = crc32c(bytes.subarray(8));
    expect(Buffer.from(bytes).readUInt32LE(4)).toBe(crc);
  });

  it("writes a record at an offset of a larger buffer and reports its size", () => {
    const target = new Uint8Array(100).fill(0xee);
    const written = writeRecord(target, 10, { lsn: 5, type: 1, payload: new Uint8Array(20).fill(3) });
    expect(written).toBe(recordSize(20));
    expect(target[9]).toBe(0xee);
    expect(target[10 + written]).toBe(0xee);
    const decoded = decodeRecord(target.subarray(0, 10 + written), 10);
    expect(decoded).toMatchObject({ ok: true, lsn: 5, type: 1, size: written });
  });

  it("decodes without copying: the payload is a view into the input", () => {
    const bytes = encodeRecord({ lsn: 1, type: 0, payload: Uint8Array.of(1, 2, 3) });
    const decoded = decodeRecord(bytes, 0);
    if (!decoded.ok) throw new Error("expected a valid record");
    expect(decoded.payload.buffer).toBe(bytes.buffer);
    expect(decoded.payload.byteOffset).toBe(bytes.byteOffset + RECORD_OVERHEAD_BYTES);
  });

  it("reports incomplete, bad-length and bad-checksum records", () => {
    const bytes = encodeRecord({ lsn: 9, type: 2, payload: new Uint8Array(10).fill(1) });
    expect(decodeRecord(bytes.subarray(0, 5), 0)).toMatchObject({ ok: false, reason: "incomplete", expected: 8, actual: 5 });
    expect(decodeRecord(bytes.subarray(0, bytes.length - 1), 0)).toMatchObject({ ok: false, reason: "incomplete", expected: bytes.length });
    const short = bytes.slice();
    short[0] = 8; // below lsn + type
    expect(decodeRecord(short, 0)).toMatchObject({ ok: false, reason: "bad-length", actual: 8 });
    const flipped = bytes.slice();
    flipped[20]! ^= 0x10;
    const result = decodeRecord(flipped, 0);
    expect(result).toMatchObject({ ok: false, reason: "bad-checksum" });
    if (!result.ok) expect(result.actual).toBe(crc32c(flipped.subarray(8)));
  });

  it("rejects an LSN that is not a safe integer, a bad type and an oversized payload", () => {
    expect(() => encodeRecord({ lsn: 0, type: 0, payload: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeRecord({ lsn: 2 ** 53, type: 0, payload: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeRecord({ lsn: 1, type: 256, payload: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeRecord({ lsn: 1, type: 1.5, payload: new Uint8Array(0) })).toThrow(RangeError);
    const huge = { length: MAX_RECORD_PAYLOAD_BYTES + 1 } as Uint8Array;
    expect(() => writeRecord(new Uint8Array(0), 0, { lsn: 1, type: 0, payload: huge })).toThrow(RangeError);
    expect(() => writeRecord(new Uint8Array(10), 0, { lsn: 1, type: 0, payload: new Uint8Array(0) })).toThrow(RangeError);
  });

  it("reads a u64 above 2^53 as -1 (not a safe integer)", () => {
    const bytes = new Uint8Array(8);
    bytes[6] = 0x20; // 2^53
    expect(readU64(bytes, 0)).toBe(-1);
    bytes[6] = 0x1f;
    bytes.fill(0xff, 0, 6);
    expect(readU64(bytes, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("property: decode(encode(record)) returns the record, at any offset", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 2000 }),
        fc.nat({ max: 64 }),
        (lsn, type, payload, offset) => {
          const buffer = new Uint8Array(offset + recordSize(payload.length) + 3);
          const size = writeRecord(buffer, offset, { lsn, type, payload });
          const decoded = decodeRecord(buffer.subarray(0, offset + size), offset);
          expect(decoded.ok).toBe(true);
          if (!decoded.ok) return;
          expect(decoded.lsn).toBe(lsn);
          expect(decoded.type).toBe(type);
          expect(decoded.size).toBe(size);
          expect(hex(decoded.payload)).toBe(hex(payload));
        },
      ),
      { seed: 20260501, numRuns: 500 },
    );
  });

  it("property: any single flipped bit makes the record fail to decode", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (lsn, type, payload, where, bit) => {
          const bytes = encodeRecord({ lsn, type, payload });
          bytes[where % bytes.length]! ^= 1 << bit;
          expect(decodeRecord(bytes, 0).ok).toBe(false);
        },
      ),
      { seed: 77, numRuns: 500 },
    );
  });
});

describe("WAL segment header", () => {
  it("is 32 bytes: magic, version, reserved, first LSN, reserved, crc32c of bytes 0..27", () => {
    const header = encodeSegmentHeader(0x0a0b0c0d0e);
    expect(header.length).toBe(SEGMENT_HEADER_BYTES);
    expect(Buffer.from(header.subarray(0, 8)).toString("latin1")).toBe("OMENWAL\0");
    expect(hex(header.subarray(8, 12))).toBe("01000000");
    expect(hex(header.subarray(12, 16))).toBe("00000000");
    expect(hex(header.subarray(16, 24))).toBe("0e0d0c0b0a000000");
    expect(hex(header.subarray(24, 28))).toBe("00000000");
    expect(Buffer.from(header).readUInt32LE(28)).toBe(crc32c(header.subarray(0, 28)));
    expect(decodeSegmentHeader(header, "x.wal")).toEqual({ version: WAL_FORMAT_VERSION, firstLsn: 0x0a0b0c0d0e });
  });

  it("throws CorruptionError for a short header, bad magic or bad checksum", () => {
    const header = encodeSegmentHeader(1);
    const cases: Array<[Uint8Array, number]> = [];
    cases.push([header.subarray(0, 31), 0]);
    const magic = header.slice();
    magic[3] = 0x4d;
    cases.push([magic, 0]);
    const lsn = header.slice();
    lsn[16] = 2;
    cases.push([lsn, 28]);
    for (const [bytes, offset] of cases) {
      let caught: unknown;
      try {
        decodeSegmentHeader(bytes, "seg.wal");
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CorruptionError);
      expect((caught as CorruptionError).code).toBe(ErrorCode.CORRUPTION);
      expect((caught as CorruptionError).file).toBe("seg.wal");
      expect((caught as CorruptionError).offset).toBe(offset);
    }
  });

  it("throws UNSUPPORTED_FORMAT for a valid header of another version", () => {
    const header = encodeSegmentHeader(1);
    header[8] = 2;
    Buffer.from(header.buffer, header.byteOffset).writeUInt32LE(crc32c(header.subarray(0, 28)), 28);
    let caught: unknown;
    try {
      decodeSegmentHeader(header, "seg.wal");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OmenDBError);
    expect((caught as OmenDBError).code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
  });
});

describe("segment file names", () => {
  it("are the first LSN in 20 digits + .wal, and parse back", () => {
    expect(segmentFileName(1)).toBe("00000000000000000001.wal");
    expect(segmentFileName(Number.MAX_SAFE_INTEGER)).toBe("00009007199254740991.wal");
    expect(parseSegmentFileName("00000000000000000042.wal")).toBe(42);
    expect(parseSegmentFileName("00000000000000000042.wal.tmp")).toBeUndefined();
    expect(parseSegmentFileName("42.wal")).toBeUndefined();
    expect(parseSegmentFileName("00000000000000000000.wal")).toBeUndefined();
    expect(parseSegmentFileName("99999999999999999999.wal")).toBeUndefined();
  });
});
