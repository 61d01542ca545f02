/**
 * WAL byte formats: the record frame and the segment-file header. Pure encode/decode, no I/O.
 *
 * Segment files. The WAL is a folder of segment files named `<first LSN, 20 decimal digits>.wal`
 * (`00000000000000000001.wal`), so lexical order is LSN order. Each file starts with a 32-byte header,
 * all integers little-endian:
 *
 * ```
 * offset size field
 *      0    8 magic          "OMENWAL\0" (4f 4d 45 4e 57 41 4c 00)
 *      8    4 format version u32, WAL_FORMAT_VERSION (1)
 *     12    4 reserved       zero
 *     16    8 first LSN      u64, the LSN of the segment's first record; equals the file name
 *     24    4 reserved       zero
 *     28    4 header crc     u32, CRC-32C of bytes 0..27
 * ```
 *
 * Records follow the header back to back, with no padding, until the end of the file:
 *
 * ```
 * offset size field
 *      0    4 length   u32 = 9 + payload bytes: the bytes of lsn + type + payload
 *      4    4 crc      u32, CRC-32C of bytes 8 .. 8+length (lsn, type and payload)
 *      8    8 lsn      u64, a safe integer (< 2^53)
 *     16    1 type     u8, chosen by the caller
 *     17    n payload  n = length - 9 bytes, opaque
 * ```
 *
 * Invariants (the reader checks each one):
 * - A record occupies exactly 8 + length bytes; 9 <= length <= 9 + MAX_RECORD_PAYLOAD_BYTES.
 * - LSNs are dense: the first record of a segment has the header's first LSN, and each later record
 *   has the previous LSN + 1. A segment's first LSN is one past the previous segment's last LSN
 *   (a gap is allowed only where every missing LSN is already covered by a checkpoint).
 * - The length field is outside the checksum, so a damaged length shows up as a checksum mismatch
 *   (or an impossible length) of the record it frames.
 */
import { CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";

/** The 8 magic bytes that open every segment file: ASCII "OMENWAL" and a NUL. */
export const WAL_MAGIC: Uint8Array = Uint8Array.of(0x4f, 0x4d, 0x45, 0x4e, 0x57, 0x41, 0x4c, 0x00);
/** The segment format version this code writes and reads. */
export const WAL_FORMAT_VERSION = 1;
/** Size of the segment header in bytes. */
export const SEGMENT_HEADER_BYTES = 32;
/** Offset of the header's CRC-32C field; the CRC covers the bytes before it. */
export const SEGMENT_HEADER_CRC_OFFSET = 28;
/** Offset of the header's first-LSN field. */
export const SEGMENT_HEADER_FIRST_LSN_OFFSET = 16;
/** Bytes of a record's frame before the checksummed part: length u32 + crc u32. */
export const RECORD_FRAME_BYTES = 8;
/** Bytes counted by `length` besides the payload: lsn u64 + type u8. */
export const RECORD_LSN_TYPE_BYTES = 9;
/** Total bytes a record takes besides its payload (17). */
export const RECORD_OVERHEAD_BYTES = RECORD_FRAME_BYTES + RECORD_LSN_TYPE_BYTES;
/** The largest payload one record may carry (256 MiB). Split bigger writes into several records. */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;
/** File-name suffix of a segment. */
export const SEGMENT_SUFFIX = ".wal";

const TWO_POW_32 = 0x1_0000_0000;
/** The high 32 bits of a u64 that still make a safe integer are at most 2^21 - 1. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
const SEGMENT_NAME = /^(\d{20})\.wal$/;

/** One WAL record: what the caller appended, plus its LSN. */
export interface WalRecord {
  /** Log sequence number: dense, starting at 1, assigned in append order. */
  readonly lsn: number;
  /** Record type, 0..255; its meaning belongs to the caller. */
  readonly type: number;
  /** The record's bytes. */
  readonly payload: Uint8Array;
}

/** A record that decoded and passed its checksum; `payload` is a view into the decoded buffer. */
export interface DecodedRecord extends WalRecord {
  readonly ok: true;
  /** Bytes the record occupies, frame included (17 + payload length). */
  readonly size: number;
}

/**
 * Why the bytes at an offset are not a valid record.
 * - `"incomplete"`: fewer bytes remain than the frame or its `length` needs.
 * - `"bad-length"`: `length` is below 9 or above the payload limit.
 * - `"bad-checksum"`: the stored CRC differs from the CRC of the bytes (`expected` stored, `actual` computed).
 * - `"bad-lsn"`: the checksum matches but the LSN is not a safe integer.
 */
export interface RecordProblem {
  readonly ok: false;
  readonly reason: "incomplete" | "bad-length" | "bad-checksum" | "bad-lsn";
  /** For `incomplete`: bytes the record needs (at least the frame); for the others: the stored value. */
  readonly expected: number;
  /** For `incomplete`: bytes available; for `bad-checksum`: the computed CRC; otherwise the value found. */
  readonly actual: number;
}

/** The fields of a valid segment header. */
export interface SegmentHeader {
  /** Format version (always WAL_FORMAT_VERSION once decoded). */
  readonly version: number;
  /** LSN of the segment's first record (or of the next record written, while it has none). */
  readonly firstLsn: number;
}

/** Bytes a record with a payload of `payloadLength` bytes occupies in a segment. */
export function recordSize(payloadLength: number): number {
  return RECORD_OVERHEAD_BYTES + payloadLength;
}

/** Reads a little-endian u32 at `offset`. The caller guarantees 4 bytes are there. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Reads a little-endian u64 at `offset` as a number.
 * @returns the value, or -1 when it is not a safe integer (high word ≥ 2^21).
 */
export function readU64(bytes: Uint8Array, offset: number): number {
  const high = readU32(bytes, offset + 4);
  if (high > MAX_SAFE_HIGH_WORD) return -1;
  return high * TWO_POW_32 + readU32(bytes, offset);
}

function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset, value >>> 0);
  writeU32(bytes, offset + 4, Math.floor(value / TWO_POW_32));
}

function checkLsn(lsn: number): void {
  if (!Number.isSafeInteger(lsn) || lsn < 1) throw new RangeError(`LSN must be a safe integer >= 1, got ${lsn}`);
}

/**
 * Encodes `record` into `target` at `offset` and returns the bytes written (`recordSize(payload.length)`).
 * The payload is copied, then the CRC is computed over the copy.
 * @throws RangeError when the LSN is not a safe integer ≥ 1, the type is not 0..255, the payload is
 *   larger than MAX_RECORD_PAYLOAD_BYTES, or `target` lacks room.
 */
export function writeRecord(target: Uint8Array, offset: number, record: WalRecord): number {
  const { lsn, type, payload } = record;
  checkLsn(lsn);
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`record type must be an integer 0..255, got ${type}`);
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES) {
    throw new RangeError(`record payload has ${payload.length} bytes; the limit is ${MAX_RECORD_PAYLOAD_BYTES}`);
  }
  const size = RECORD_OVERHEAD_BYTES + payload.length;
  if (offset < 0 || offset + size > target.length) {
    throw new RangeError(`record of ${size} bytes does not fit at offset ${offset} of a ${target.length}-byte buffer`);
  }
  const length = RECORD_LSN_TYPE_BYTES + payload.length;
  writeU32(target, offset, length);
  writeU64(target, offset + 8, lsn);
  target[offset + 16] = type;
  target.set(payload, offset + RECORD_OVERHEAD_BYTES);
  const crc = crc32c(target.subarray(offset + RECORD_FRAME_BYTES, offset + size));
  writeU32(target, offset + 4, crc);
  return size;
}

/**
 * Encodes one record into a new buffer.
 * @throws RangeError as {@link writeRecord}.
 */
export function encodeRecord(record: WalRecord): Uint8Array {
  const out = new Uint8Array(recordSize(record.payload.length));
  writeRecord(out, 0, record);
  return out;
}

/**
 * Decodes the record at `offset` of `bytes` and verifies its checksum, without copying: the payload is a
 * view into `bytes`. Reads no further than `bytes.length`. Does not check LSN continuity (the reader does).
 */
export function decodeRecord(bytes: Uint8Array, offset: number): DecodedRecord | RecordProblem {
  const available = bytes.length - offset;
  if (available < RECORD_FRAME_BYTES) return { ok: false, reason: "incomplete", expected: RECORD_FRAME_BYTES, actual: available };
  const length = readU32(bytes, offset);
  if (length < RECORD_LSN_TYPE_BYTES || length > RECORD_LSN_TYPE_BYTES + MAX_RECORD_PAYLOAD_BYTES) {
    return { ok: false, reason: "bad-length", expected: RECORD_LSN_TYPE_BYTES, actual: length };
  }
  const size = RECORD_FRAME_BYTES + length;
  if (size > available) return { ok: false, reason: "incomplete", expected: size, actual: available };
  const stored = readU32(bytes, offset + 4);
  const computed = crc32c(bytes.subarray(offset + RECORD_FRAME_BYTES, offset + size));
  if (stored !== computed) return { ok: false, reason: "bad-checksum", expected: stored, actual: computed };
  const lsn = readU64(bytes, offset + 8);
  if (lsn < 1) return { ok: false, reason: "bad-lsn", expected: 1, actual: lsn };
  return {
    ok: true,
    lsn,
    type: bytes[offset + 16]!,
    payload: bytes.subarray(offset + RECORD_OVERHEAD_BYTES, offset + size),
    size,
  };
}

/**
 * Encodes a 32-byte segment header for a segment whose first record has LSN `firstLsn`.
 * @throws RangeError when `firstLsn` is not a safe integer ≥ 1.
 */
export function encodeSegmentHeader(firstLsn: number): Uint8Array {
  checkLsn(firstLsn);
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  header.set(WAL_MAGIC, 0);
  writeU32(header, 8, WAL_FORMAT_VERSION);
  writeU64(header, SEGMENT_HEADER_FIRST_LSN_OFFSET, firstLsn);
  writeU32(header, SEGMENT_HEADER_CRC_OFFSET, crc32c(header.subarray(0, SEGMENT_HEADER_CRC_OFFSET)));
  return header;
}

/** Formats a CRC value the way WAL errors report it (`0x` + 8 hex digits). */
export function formatCrc(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

/**
 * Decodes and verifies the segment header at the start of `bytes`. `file` names the segment in errors.
 * The checks run in order: size, magic, checksum, version, first LSN.
 * @throws CorruptionError when the file is shorter than the header, the magic differs, the checksum
 *   fails, or the first LSN is not a safe integer ≥ 1.
 * @throws OmenDBError code UNSUPPORTED_FORMAT when a valid header names another format version.
 */
export function decodeSegmentHeader(bytes: Uint8Array, file: string): SegmentHeader {
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    throw new CorruptionError({ file, offset: 0, what: "WAL segment header", expected: `${SEGMENT_HEADER_BYTES} bytes`, actual: `${bytes.length} bytes` });
  }
  for (let i = 0; i < WAL_MAGIC.length; i++) {
    if (bytes[i] !== WAL_MAGIC[i]) {
      throw new CorruptionError({
        file,
        offset: 0,
        what: "WAL segment magic",
        expected: Buffer.from(WAL_MAGIC).toString("hex"),
        actual: Buffer.from(bytes.subarray(0, WAL_MAGIC.length)).toString("hex"),
      });
    }
  }
  const stored = readU32(bytes, SEGMENT_HEADER_CRC_OFFSET);
  const computed = crc32c(bytes.subarray(0, SEGMENT_HEADER_CRC_OFFSET));
  if (stored !== computed) {
    throw new CorruptionError({ file, offset: SEGMENT_HEADER_CRC_OFFSET, what: "WAL segment header checksum", expected: formatCrc(stored), actual: formatCrc(computed) });
  }
  const version = readU32(bytes, 8);
  if (version !== WAL_FORMAT_VERSION) {
    throw new OmenDBError(ErrorCode.UNSUPPORTED_FORMAT, `WAL segment ${file} has format version ${version}; this build reads version ${WAL_FORMAT_VERSION}`);
  }
  const firstLsn = readU64(bytes, SEGMENT_HEADER_FIRST_LSN_OFFSET);
  if (firstLsn < 1) {
    throw new CorruptionError({ file, offset: SEGMENT_HEADER_FIRST_LSN_OFFSET, what: "WAL segment first LSN", expected: "a safe integer >= 1", actual: String(firstLsn) });
  }
  return { version, firstLsn };
}

/** The file name of the segment whose first LSN is `firstLsn`: 20 zero-padded digits + ".wal". */
export function segmentFileName(firstLsn: number): string {
  checkLsn(firstLsn);
  return `${String(firstLsn).padStart(20, "0")}${SEGMENT_SUFFIX}`;
}

/** The first LSN encoded in a segment file name, or undefined when `name` is not a segment name. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const lsn = Number(match[1]);
  return Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : undefined;
}
