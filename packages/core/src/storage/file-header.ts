/**
 * The fixed 64-byte header that opens every OmenDB binary file (vectors; later graph and PQ codes).
 *
 * Common layout, all integers little-endian. INVARIANT: bytes 0..15 and 60..63 keep this meaning in
 * every format version of every file kind, so a reader can always check the magic and the checksum
 * before it looks at the version.
 *
 * ```
 * offset size  field
 *      0    8  magic: 8 ASCII bytes naming the file kind, NUL-padded ("OMENVEC\0")
 *      8    4  format version, u32 (1 = first; per file kind)
 *     12    4  header size in bytes, u32 (64; the first slot/record starts here)
 *     16   44  kind-specific fields (below); bytes no field uses are written as zero
 *     60    4  crc32c of bytes 0..59, u32
 * ```
 *
 * Vector file (`OMENVEC\0`, version 1), full-precision vectors indexed by dense slot:
 *
 * ```
 * offset size  field
 *     16    4  dim, u32 (>= 1)
 *     20    1  metric, u8: 0 cosine, 1 l2, 2 ip
 *     21    3  reserved, zero (keeps the next field 4-byte aligned)
 *     24    4  slot stride in bytes, u32 = dim * 4 + 8
 *     28   32  reserved, zero
 * ```
 *
 * A header holds no absolute path or file size, so a file can be copied or moved (for example to
 * object storage) and read unchanged.
 *
 * Decoding checks, in order: length (>= 64), magic, checksum, version, header size. A damaged byte
 * therefore reads as corruption even when it lies in the version field; only a header whose checksum
 * holds and whose version is newer than this build knows is `UNSUPPORTED_FORMAT`.
 */
import { CorruptionError, ErrorCode, OmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import type { Metric } from "../types.js";

/** Size of every header in bytes; the first record of a file starts at this offset. */
export const HEADER_SIZE = 64;
/** Offset of the 8-byte magic. */
export const HEADER_MAGIC_OFFSET = 0;
/** Length of the magic in bytes. */
export const HEADER_MAGIC_LENGTH = 8;
/** Offset of the u32 format version. */
export const HEADER_VERSION_OFFSET = 8;
/** Offset of the u32 header size. */
export const HEADER_SIZE_OFFSET = 12;
/** First byte of the kind-specific fields. */
export const HEADER_FIELDS_OFFSET = 16;
/** One past the last byte of the kind-specific fields; also the number of bytes the checksum covers. */
export const HEADER_FIELDS_END = 60;
/** Offset of the u32 crc32c of bytes 0..59. */
export const HEADER_CRC_OFFSET = 60;

/** How a kind-specific field is stored. `u64` holds integers up to `Number.MAX_SAFE_INTEGER`. */
export type HeaderFieldType = "u8" | "u16" | "u32" | "u64";

/** Where one kind-specific field lives in the header. */
export interface HeaderField {
  /** Byte offset from the start of the file, within 16..59 and aligned to the field's size. */
  readonly offset: number;
  readonly type: HeaderFieldType;
}

/** Describes one file kind's header: its magic, newest format version and kind-specific fields. */
export interface HeaderKind<TField extends string> {
  /** Human-readable kind used in error messages, e.g. `"vector file"`. */
  readonly name: string;
  /** Exactly 8 ASCII characters (pad with `\0`). */
  readonly magic: string;
  /** The newest format version this build reads and the one it writes. Older versions still decode. */
  readonly version: number;
  readonly fields: Readonly<Record<TField, HeaderField>>;
}

/** A decoded header: its version and the values of the kind's fields. */
export interface FileHeader<TField extends string> {
  readonly version: number;
  readonly headerSize: number;
  readonly fields: Readonly<Record<TField, number>>;
}

const FIELD_SIZE: Readonly<Record<HeaderFieldType, number>> = { u8: 1, u16: 2, u32: 4, u64: 8 };
const FIELD_MAX: Readonly<Record<HeaderFieldType, number>> = {
  u8: 0xff,
  u16: 0xffff,
  u32: 0xffffffff,
  u64: Number.MAX_SAFE_INTEGER,
};

/**
 * Checks a header kind's layout once, at module load, and returns it frozen.
 *
 * @throws RangeError when the magic is not 8 ASCII characters, the version is not a positive u32, or
 *   a field lies outside bytes 16..59, is misaligned or overlaps another.
 */
export function defineHeaderKind<TField extends string>(kind: HeaderKind<TField>): HeaderKind<TField> {
  if (kind.magic.length !== HEADER_MAGIC_LENGTH || !/^[\x00-\x7f]*$/.test(kind.magic)) {
    throw new RangeError(`${kind.name}: magic must be ${HEADER_MAGIC_LENGTH} ASCII characters, got ${JSON.stringify(kind.magic)}`);
  }
  if (!Number.isInteger(kind.version) || kind.version < 1 || kind.version > 0xffffffff) {
    throw new RangeError(`${kind.name}: version must be a positive u32, got ${kind.version}`);
  }
  const used = new Uint8Array(HEADER_SIZE);
  for (const [name, field] of Object.entries<HeaderField>(kind.fields)) {
    const size = FIELD_SIZE[field.type];
    if (!Number.isInteger(field.offset) || field.offset < HEADER_FIELDS_OFFSET || field.offset + size > HEADER_FIELDS_END) {
      throw new RangeError(`${kind.name}: field ${name} at ${field.offset} lies outside bytes ${HEADER_FIELDS_OFFSET}..${HEADER_FIELDS_END - 1}`);
    }
    if (field.offset % size !== 0) throw new RangeError(`${kind.name}: field ${name} at ${field.offset} is not ${size}-byte aligned`);
    for (let i = field.offset; i < field.offset + size; i++) {
      if (used[i] === 1) throw new RangeError(`${kind.name}: field ${name} overlaps another field at byte ${i}`);
      used[i] = 1;
    }
  }
  return Object.freeze({ ...kind, fields: Object.freeze({ ...kind.fields }) });
}

/**
 * Encodes a header of `kind` holding `fields`, checksum included. Bytes no field uses are zero.
 *
 * @param version defaults to `kind.version`; pass another only to produce old (or, in tests, future) files.
 * @throws RangeError when a value is not an integer that fits its field, or the version is not a u32.
 */
export function encodeHeader<TField extends string>(
  kind: HeaderKind<TField>,
  fields: Readonly<Record<TField, number>>,
  version: number = kind.version,
): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) {
    throw new RangeError(`${kind.name}: version must be a u32, got ${version}`);
  }
  const bytes = new Uint8Array(HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < HEADER_MAGIC_LENGTH; i++) bytes[HEADER_MAGIC_OFFSET + i] = kind.magic.charCodeAt(i);
  view.setUint32(HEADER_VERSION_OFFSET, version, true);
  view.setUint32(HEADER_SIZE_OFFSET, HEADER_SIZE, true);
  for (const [name, field] of Object.entries<HeaderField>(kind.fields)) {
    const value = fields[name as TField];
    if (!Number.isInteger(value) || value < 0 || value > FIELD_MAX[field.type]) {
      throw new RangeError(`${kind.name}: field ${name} must be an integer from 0 to ${FIELD_MAX[field.type]}, got ${value}`);
    }
    writeField(view, field, value);
  }
  view.setUint32(HEADER_CRC_OFFSET, crc32c(bytes.subarray(0, HEADER_FIELDS_END)), true);
  return bytes;
}

/**
 * Decodes and verifies a header of `kind` from the first 64 bytes of `bytes`.
 *
 * Versions 1..`kind.version` decode; the caller interprets fields of older versions.
 *
 * @param file the file's path, named in errors.
 * @throws CorruptionError (`CORRUPTION`) when fewer than 64 bytes are given, the magic differs, the
 *   checksum fails (`expected` = stored, `actual` = computed), the version is 0, the header size is not
 *   64, or a u64 field exceeds `Number.MAX_SAFE_INTEGER`.
 * @throws OmenDBError (`UNSUPPORTED_FORMAT`) when the header is intact but its version is newer than
 *   `kind.version`.
 */
export function decodeHeader<TField extends string>(kind: HeaderKind<TField>, bytes: Uint8Array, file: string): FileHeader<TField> {
  if (bytes.length < HEADER_SIZE) {
    throw new CorruptionError({
      file,
      offset: bytes.length,
      expected: `${HEADER_SIZE}-byte header`,
      actual: `${bytes.length} bytes`,
      what: `truncated ${kind.name} header`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const magic = String.fromCharCode(...bytes.subarray(HEADER_MAGIC_OFFSET, HEADER_MAGIC_OFFSET + HEADER_MAGIC_LENGTH));
  if (magic !== kind.magic) {
    throw new CorruptionError({
      file,
      offset: HEADER_MAGIC_OFFSET,
      expected: printable(kind.magic),
      actual: printable(magic),
      what: `bad ${kind.name} magic`,
    });
  }
  const stored = view.getUint32(HEADER_CRC_OFFSET, true);
  const computed = crc32c(bytes.subarray(0, HEADER_FIELDS_END));
  if (stored !== computed) {
    throw new CorruptionError({
      file,
      offset: HEADER_CRC_OFFSET,
      expected: hex32(stored),
      actual: hex32(computed),
      what: `${kind.name} header checksum mismatch`,
    });
  }
  const version = view.getUint32(HEADER_VERSION_OFFSET, true);
  if (version > kind.version) {
    throw new OmenDBError(
      ErrorCode.UNSUPPORTED_FORMAT,
      `${file} is a ${kind.name} of format version ${version}; this build of OmenDB reads versions 1 to ${kind.version}`,
    );
  }
  if (version === 0) {
    throw new CorruptionError({ file, offset: HEADER_VERSION_OFFSET, expected: `version 1..${kind.version}`, actual: "0", what: `impossible ${kind.name} version` });
  }
  const headerSize = view.getUint32(HEADER_SIZE_OFFSET, true);
  if (headerSize !== HEADER_SIZE) {
    throw new CorruptionError({
      file,
      offset: HEADER_SIZE_OFFSET,
      expected: String(HEADER_SIZE),
      actual: String(headerSize),
      what: `impossible ${kind.name} header size`,
    });
  }
  const fields = {} as Record<TField, number>;
  for (const [name, field] of Object.entries<HeaderField>(kind.fields)) {
    const value = readField(view, field);
    if (value === undefined) {
      throw new CorruptionError({
        file,
        offset: field.offset,
        expected: `${name} <= ${Number.MAX_SAFE_INTEGER}`,
        actual: "a larger u64",
        what: `impossible ${kind.name} header field`,
      });
    }
    fields[name as TField] = value;
  }
  return { version, headerSize, fields };
}

function writeField(view: DataView, field: HeaderField, value: number): void {
  switch (field.type) {
    case "u8":
      view.setUint8(field.offset, value);
      break;
    case "u16":
      view.setUint16(field.offset, value, true);
      break;
    case "u32":
      view.setUint32(field.offset, value, true);
      break;
    case "u64":
      view.setUint32(field.offset, value % 0x1_0000_0000, true);
      view.setUint32(field.offset + 4, Math.floor(value / 0x1_0000_0000), true);
      break;
  }
}

/** Reads a field; `undefined` for a u64 beyond the safe-integer range. */
function readField(view: DataView, field: HeaderField): number | undefined {
  switch (field.type) {
    case "u8":
      return view.getUint8(field.offset);
    case "u16":
      return view.getUint16(field.offset, true);
    case "u32":
      return view.getUint32(field.offset, true);
    case "u64": {
      const value = view.getUint32(field.offset + 4, true) * 0x1_0000_0000 + view.getUint32(field.offset, true);
      return Number.isSafeInteger(value) ? value : undefined;
    }
  }
}

/** Formats a u32 checksum as `0x0123abcd`. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, "0")}`;
}

function printable(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? text[i] : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `"${out}"`;
}

/** The vector file's header: dim, metric code and slot stride (see the layout above). */
export const VECTOR_FILE_HEADER = defineHeaderKind({
  name: "vector file",
  magic: "OMENVEC\0",
  version: 1,
  fields: {
    dim: { offset: 16, type: "u32" },
    metric: { offset: 20, type: "u8" },
    stride: { offset: 24, type: "u32" },
  },
});

/** Metric codes stored in headers: the index is the code (0 cosine, 1 l2, 2 ip). */
export const METRIC_CODES: readonly Metric[] = Object.freeze(["cosine", "l2", "ip"]);

/** The header code of `metric`. @throws RangeError for an unknown metric. */
export function metricCode(metric: Metric): number {
  const code = METRIC_CODES.indexOf(metric);
  if (code < 0) throw new RangeError(`unknown metric ${JSON.stringify(metric)}; expected one of ${METRIC_CODES.join(", ")}`);
  return code;
}
