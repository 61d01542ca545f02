import { describe, expect, it } from "vitest";
import { CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import {
  HEADER_CRC_OFFSET,
  HEADER_FIELDS_END,
  HEADER_FIELDS_OFFSET,
  HEADER_MAGIC_LENGTH,
  HEADER_MAGIC_OFFSET,
  HEADER_SIZE,
  HEADER_SIZE_OFFSET,
  HEADER_VERSION_OFFSET,
  METRIC_CODES,
  VECTOR_FILE_HEADER,
  decodeHeader,
  defineHeaderKind,
  encodeHeader,
  metricCode,
} from "./file-header.js";

/** A header kind of the sort a later file (graph, PQ codes) will define: every field type. */
const TEST_KIND = defineHeaderKind({
  name: "test file",
  magic: "OMENTST\0",
  version: 3,
  fields: {
    small: { offset: 16, type: "u8" },
    medium: { offset: 18, type: "u16" },
    count: { offset: 20, type: "u32" },
    total: { offset: 24, type: "u64" },
    last: { offset: 56, type: "u32" },
  },
});

/** Rewrites the checksum after a test edits header bytes on purpose. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(HEADER_CRC_OFFSET, crc32c(bytes.subarray(0, HEADER_FIELDS_END)), true);
  return bytes;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("file header layout", () => {
  it("is exactly 64 bytes with the documented common offsets", () => {
    expect(HEADER_SIZE).toBe(64);
    expect(HEADER_MAGIC_OFFSET).toBe(0);
    expect(HEADER_MAGIC_LENGTH).toBe(8);
    expect(HEADER_VERSION_OFFSET).toBe(8);
    expect(HEADER_SIZE_OFFSET).toBe(12);
    expect(HEADER_FIELDS_OFFSET).toBe(16);
    expect(HEADER_FIELDS_END).toBe(60);
    expect(HEADER_CRC_OFFSET).toBe(60);
    expect(HEADER_CRC_OFFSET + 4).toBe(HEADER_SIZE);
  });

  it("places the vector file's fields at 16 (dim u32), 20 (metric u8) and 24 (stride u32)", () => {
    expect(VECTOR_FILE_HEADER.magic).toBe("OMENVEC\0");
    expect(VECTOR_FILE_HEADER.version).toBe(1);
    expect(VECTOR_FILE_HEADER.fields).toEqual({
      dim: { offset: 16, type: "u32" },
      metric: { offset: 20, type: "u8" },
      stride: { offset: 24, type: "u32" },
    });
    expect(METRIC_CODES).toEqual(["cosine", "l2", "ip"]);
  });

  it("encodes a 1536-d cosine vector header byte for byte", () => {
    const bytes = encodeHeader(VECTOR_FILE_HEADER, { dim: 1536, metric: metricCode("cosine"), stride: 1536 * 4 + 8 });
    expect(bytes.length).toBe(64);
    // Golden bytes: a change here is a format change and needs a version bump.
    const golden =
      "4f4d454e56454300" + // "OMENVEC\0"
      "01000000" + // version 1
      "40000000" + // header size 64
      "00060000" + // dim 1536
      "00000000" + // metric 0 (cosine) + 3 reserved
      "08180000" + // stride 6152
      "00".repeat(32) + // reserved 28..59
      "";
    expect(Buffer.from(bytes.subarray(0, 60)).toString("hex")).toBe(golden);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(60, true)).toBe(crc32c(bytes.subarray(0, 60)));
  });

  it("stores the metric code at byte 20", () => {
    for (const metric of ["cosine", "l2", "ip"] as const) {
      const bytes = encodeHeader(VECTOR_FILE_HEADER, { dim: 3, metric: metricCode(metric), stride: 20 });
      expect(bytes[20]).toBe(METRIC_CODES.indexOf(metric));
    }
  });
});

describe("encodeHeader / decodeHeader", () => {
  it("round-trips every field type, including u64 values past 2^32", () => {
    const fields = { small: 255, medium: 65_535, count: 0xffffffff, total: Number.MAX_SAFE_INTEGER, last: 7 };
    const decoded = decodeHeader(TEST_KIND, encodeHeader(TEST_KIND, fields), "t.bin");
    expect(decoded).toEqual({ version: 3, headerSize: 64, fields });
    const other = { small: 0, medium: 1, count: 2, total: 2 ** 40 + 5, last: 0 };
    expect(decodeHeader(TEST_KIND, encodeHeader(TEST_KIND, other), "t.bin").fields).toEqual(other);
  });

  it("decodes an older version and reports it", () => {
    const fields = { small: 1, medium: 2, count: 3, total: 4, last: 5 };
    expect(decodeHeader(TEST_KIND, encodeHeader(TEST_KIND, fields, 1), "t.bin").version).toBe(1);
  });

  it("reads the header from the start of a longer buffer at any byte offset", () => {
    const header = encodeHeader(VECTOR_FILE_HEADER, { dim: 4, metric: 2, stride: 24 });
    const backing = new Uint8Array(200);
    backing.set(header, 7);
    const decoded = decodeHeader(VECTOR_FILE_HEADER, backing.subarray(7), "v.vec");
    expect(decoded.fields).toEqual({ dim: 4, metric: 2, stride: 24 });
  });

  it("rejects values that do not fit their field", () => {
    const ok = { small: 1, medium: 2, count: 3, total: 4, last: 5 };
    expect(() => encodeHeader(TEST_KIND, { ...ok, small: 256 })).toThrow(RangeError);
    expect(() => encodeHeader(TEST_KIND, { ...ok, medium: -1 })).toThrow(RangeError);
    expect(() => encodeHeader(TEST_KIND, { ...ok, count: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeHeader(TEST_KIND, { ...ok, total: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodeHeader(TEST_KIND, { ...ok, last: 1.5 })).toThrow(RangeError);
  });

  it("throws CorruptionError at the byte count for a header shorter than 64 bytes", () => {
    const bytes = encodeHeader(VECTOR_FILE_HEADER, { dim: 4, metric: 0, stride: 24 });
    const err = catchError(() => decodeHeader(VECTOR_FILE_HEADER, bytes.subarray(0, 63), "v.vec"));
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).code).toBe(ErrorCode.CORRUPTION);
    expect((err as CorruptionError).offset).toBe(63);
    expect((err as CorruptionError).file).toBe("v.vec");
  });

  it("throws CorruptionError at offset 0 for another kind's magic", () => {
    const bytes = encodeHeader(TEST_KIND, { small: 1, medium: 2, count: 3, total: 4, last: 5 });
    const err = catchError(() => decodeHeader(VECTOR_FILE_HEADER, bytes, "v.vec")) as CorruptionError;
    expect(err).toBeInstanceOf(CorruptionError);
    expect(err.code).toBe(ErrorCode.CORRUPTION);
    expect(err.offset).toBe(0);
    expect(err.expected).toContain("OMENVEC");
    expect(err.actual).toContain("OMENTST");
  });

  it("throws CorruptionError for a flipped bit in any of the 64 bytes", () => {
    const good = encodeHeader(VECTOR_FILE_HEADER, { dim: 1536, metric: 1, stride: 6152 });
    for (let byte = 0; byte < HEADER_SIZE; byte++) {
      for (const bit of [0x01, 0x80]) {
        const bad = good.slice();
        bad[byte]! ^= bit;
        const err = catchError(() => decodeHeader(VECTOR_FILE_HEADER, bad, "v.vec")) as CorruptionError;
        expect(err, `byte ${byte}`).toBeInstanceOf(CorruptionError);
        expect(err.code).toBe(ErrorCode.CORRUPTION);
        expect(err.offset, `byte ${byte}`).toBe(byte < HEADER_MAGIC_LENGTH ? 0 : HEADER_CRC_OFFSET);
      }
    }
  });

  it("reports the stored checksum as expected and the computed one as actual", () => {
    const bad = encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 40 });
    const stored = new DataView(bad.buffer).getUint32(60, true);
    bad[30] = 1;
    const err = catchError(() => decodeHeader(VECTOR_FILE_HEADER, bad, "v.vec")) as CorruptionError;
    expect(err.expected).toBe(`0x${stored.toString(16).padStart(8, "0")}`);
    expect(err.actual).toBe(`0x${crc32c(bad.subarray(0, 60)).toString(16).padStart(8, "0")}`);
  });

  it("throws UNSUPPORTED_FORMAT (not corruption) for an intact header of a newer version", () => {
    const future = encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 40 }, 2);
    const err = catchError(() => decodeHeader(VECTOR_FILE_HEADER, future, "v.vec"));
    expect(err).toBeInstanceOf(OmenDBError);
    expect(err).not.toBeInstanceOf(CorruptionError);
    expect((err as OmenDBError).code).toBe(ErrorCode.UNSUPPORTED_FORMAT);
  });

  it("throws CorruptionError for version 0 or a header size other than 64, even with a valid checksum", () => {
    const zero = encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 40 }, 0);
    const errZero = catchError(() => decodeHeader(VECTOR_FILE_HEADER, zero, "v.vec")) as CorruptionError;
    expect(errZero).toBeInstanceOf(CorruptionError);
    expect(errZero.offset).toBe(HEADER_VERSION_OFFSET);

    const sized = encodeHeader(VECTOR_FILE_HEADER, { dim: 8, metric: 0, stride: 40 });
    new DataView(sized.buffer).setUint32(HEADER_SIZE_OFFSET, 128, true);
    const errSize = catchError(() => decodeHeader(VECTOR_FILE_HEADER, reseal(sized), "v.vec")) as CorruptionError;
    expect(errSize).toBeInstanceOf(CorruptionError);
    expect(errSize.offset).toBe(HEADER_SIZE_OFFSET);
  });

  it("throws CorruptionError for a u64 field beyond the safe-integer range", () => {
    const bytes = encodeHeader(TEST_KIND, { small: 1, medium: 2, count: 3, total: 4, last: 5 });
    new DataView(bytes.buffer).setUint32(28, 0x00200000, true);
    const err = catchError(() => decodeHeader(TEST_KIND, reseal(bytes), "t.bin")) as CorruptionError;
    expect(err).toBeInstanceOf(CorruptionError);
    expect(err.offset).toBe(24);
  });
});

describe("defineHeaderKind", () => {
  const base = { name: "k", magic: "OMENKND\0", version: 1 };

  it("rejects fields outside bytes 16..59, misaligned or overlapping", () => {
    expect(() => defineHeaderKind({ ...base, fields: { a: { offset: 12, type: "u32" } } })).toThrow(RangeError);
    expect(() => defineHeaderKind({ ...base, fields: { a: { offset: 56, type: "u64" } } })).toThrow(RangeError);
    expect(() => defineHeaderKind({ ...base, fields: { a: { offset: 18, type: "u32" } } })).toThrow(RangeError);
    expect(() =>
      defineHeaderKind({ ...base, fields: { a: { offset: 16, type: "u32" }, b: { offset: 18, type: "u16" } } }),
    ).toThrow(RangeError);
    expect(() => defineHeaderKind({ ...base, fields: { a: { offset: 48, type: "u64" } } })).not.toThrow();
  });

  it("rejects a magic that is not 8 ASCII characters and a version that is not a positive u32", () => {
    expect(() => defineHeaderKind({ ...base, magic: "OMEN", fields: {} })).toThrow(RangeError);
    expect(() => defineHeaderKind({ ...base, magic: "OMENVÉC\0", fields: {} })).toThrow(RangeError);
    expect(() => defineHeaderKind({ ...base, version: 0, fields: {} })).toThrow(RangeError);
  });

  it("returns the kind frozen", () => {
    expect(Object.isFrozen(VECTOR_FILE_HEADER)).toBe(true);
    expect(Object.isFrozen(VECTOR_FILE_HEADER.fields)).toBe(true);
  });
});
