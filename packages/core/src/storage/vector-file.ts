/**
 * The vector file: one collection's full-precision vectors on disk, indexed by dense slot, each
 * record checksummed. Written and read (records returned to users, exports, verification) with
 * positional reads over a plain file descriptor; searches read it through `vector-pages.ts` (a memory
 * map, or positional reads) without checking checksums.
 *
 * Layout (integers little-endian; header described in `file-header.ts`):
 *
 * ```
 * offset                 size       content
 * 0                      64         header: magic "OMENVEC\0", version 1, dim, metric, stride, crc32c
 * 64 + s * stride        dim * 4    slot s: the vector, float32 LE
 *   + dim * 4            4          crc32c of the dim * 4 vector bytes, u32
 *   + dim * 4 + 4        4          reserved, 0
 * stride = dim * 4 + 8
 * ```
 *
 * Invariants:
 * - INVARIANT: slot s always lives at 64 + s * stride; the file holds no pointers, so it can be copied or
 *   moved and read unchanged. Writing slot s past the end extends the file; the skipped slots read as
 *   all-zero records (a hole), which fail their checksum.
 * - INVARIANT: an all-zero record never passes its checksum: crc32c of dim * 4 zero bytes is non-zero for
 *   every dim from 1 to 65,536 (asserted in the tests), so the stored 0 never matches.
 * - Every read verifies the checksum and the reserved word before a vector is returned; a damaged or
 *   missing record is a CorruptionError naming the file and the slot's offset, never a wrong vector.
 *   Callers read only slots they know are live (the record table says which).
 * - Writes are not synced: durability comes from the WAL, and `sync()` runs at checkpoint. `create`
 *   alone is durable at once: it writes the header to `<path>.creating`, fsyncs it, renames it into
 *   place and fsyncs the directory, so `path` either does not exist or holds a complete header.
 * - Big-endian hosts swap bytes on the way in and out, so files are the same on every host.
 */
import fs from "node:fs";
import nodePath from "node:path";
import { ClosedError, CorruptionError, ErrorCode, OmenDBError, ioError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import type { Metric } from "../types.js";
import { syncDirectorySync } from "./directory-sync.js";
import { HEADER_SIZE, METRIC_CODES, VECTOR_FILE_HEADER, decodeHeader, encodeHeader, hex32, metricCode } from "./file-header.js";

/** Bytes that follow each vector in its record: the crc32c and a reserved word. */
export const SLOT_TRAILER_BYTES = 8;
/** Default size of one read in {@link VectorFile.scan} and of one batched write in {@link VectorFile.writeMany}. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** The largest dim whose stride still fits the header's u32. */
export const MAX_VECTOR_FILE_DIM = Math.floor((0xffffffff - SLOT_TRAILER_BYTES) / 4);

const MAX_SLOT = 0xffffffff;
/** A scan of listed slots reads through a gap of unwanted records up to this size rather than seeking. */
const SCAN_GAP_BYTES = 256 * 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The shape of a vector file: what `create` writes and what `open` may check. */
export interface VectorFileShape {
  /** Number of float32 components per vector, 1 to {@link MAX_VECTOR_FILE_DIM}. */
  readonly dim: number;
  readonly metric: Metric;
}

/** Options of {@link VectorFile.scan}. */
export interface ScanOptions {
  /** Largest single read, in bytes (at least one record is always read). Default {@link DEFAULT_CHUNK_BYTES}. */
  readonly chunkBytes?: number;
}

/** What a scan did. */
export interface ScanResult {
  /** Vectors passed to the callback. */
  readonly vectors: number;
  /** Bytes read from the file. */
  readonly bytesRead: number;
}

/** Bytes one slot occupies for vectors of `dim` components. */
export function slotStride(dim: number): number {
  return dim * 4 + SLOT_TRAILER_BYTES;
}

/** Full-precision vectors on disk, one checksummed record per dense slot. Not safe to share across threads. */
export class VectorFile {
  /** The file's path as given to `create`/`open`. */
  readonly path: string;
  readonly dim: number;
  readonly metric: Metric;
  /** Bytes per slot record: `dim * 4 + 8`. */
  readonly stride: number;
  private fd: number | undefined;
  /** The file's size in bytes, kept in step with our writes (one writing process per database). */
  private size: number;
  /** Scratch buffer of one record for `read` and `write`. */
  private readonly record: Uint8Array;

  private constructor(filePath: string, fd: number, shape: VectorFileShape, size: number) {
    this.path = filePath;
    this.fd = fd;
    this.dim = shape.dim;
    this.metric = shape.metric;
    this.stride = slotStride(shape.dim);
    this.size = size;
    this.record = new Uint8Array(this.stride);
  }

  /**
   * Creates an empty vector file holding only its header, durably (file and directory fsynced).
   *
   * @throws RangeError when `dim` or `metric` is invalid.
   * @throws OmenDBError (`IO`) when `path` already exists or a file system call fails.
   */
  static create(filePath: string, shape: VectorFileShape): VectorFile {
    checkShape(shape);
    if (fs.existsSync(filePath)) {
      throw new OmenDBError(ErrorCode.IO, `creating vector file ${filePath} failed: the file already exists`);
    }
    const header = encodeHeader(VECTOR_FILE_HEADER, {
      dim: shape.dim,
      metric: metricCode(shape.metric),
      stride: slotStride(shape.dim),
    });
    const temp = `${filePath}.creating`;
    try {
      const fd = fs.openSync(temp, "w");
      try {
        writeFully(fd, header, header.length, 0);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, filePath);
      syncDirectorySync(nodePath.dirname(filePath));
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw ioError(`creating vector file ${filePath}`, err);
    }
    return VectorFile.open(filePath, shape);
  }

  /**
   * Opens an existing vector file and verifies its header.
   *
   * @param expect when given, the dim and metric the caller requires.
   * @param options `readOnly` opens the descriptor for reading only (writes then fail with `IO`); default false.
   * @throws CorruptionError when the header is short, has a bad magic or checksum, holds impossible
   *   values, or differs from `expect` (offset of the differing field).
   * @throws OmenDBError (`UNSUPPORTED_FORMAT`) when the file was written by a newer format version.
   * @throws OmenDBError (`IO`) when the file cannot be opened or read.
   */
  static open(filePath: string, expect?: VectorFileShape, options: { readOnly?: boolean } = {}): VectorFile {
    let fd: number;
    try {
      fd = fs.openSync(filePath, options.readOnly === true ? "r" : "r+");
    } catch (err) {
      throw ioError(`opening vector file ${filePath}`, err);
    }
    try {
      let size: number;
      const head = new Uint8Array(HEADER_SIZE);
      let got: number;
      try {
        size = fs.fstatSync(fd).size;
        got = readFully(fd, head, HEADER_SIZE, 0);
      } catch (err) {
        throw ioError(`reading vector file header of ${filePath}`, err);
      }
      const { fields } = decodeHeader(VECTOR_FILE_HEADER, head.subarray(0, got), filePath);
      const corrupt = (offset: number, field: string, expected: string, actual: number | string): CorruptionError =>
        new CorruptionError({ file: filePath, offset, expected, actual: String(actual), what: `vector file ${field}` });
      if (fields.dim < 1 || fields.dim > MAX_VECTOR_FILE_DIM) throw corrupt(16, "dim out of range", `1..${MAX_VECTOR_FILE_DIM}`, fields.dim);
      const metric = METRIC_CODES[fields.metric];
      if (metric === undefined) throw corrupt(20, "metric code unknown", `0..${METRIC_CODES.length - 1}`, fields.metric);
      if (fields.stride !== slotStride(fields.dim)) throw corrupt(24, "stride inconsistent with dim", String(slotStride(fields.dim)), fields.stride);
      if (expect !== undefined) {
        if (expect.dim !== fields.dim) throw corrupt(16, "dim differs from the expected dim", String(expect.dim), fields.dim);
        if (expect.metric !== metric) throw corrupt(20, "metric differs from the expected metric", expect.metric, metric);
      }
      return new VectorFile(filePath, fd, { dim: fields.dim, metric }, size);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * Opens the vector file at `path`, or creates it when it does not exist.
   * @throws as {@link VectorFile.open} (with `shape` as `expect`) and {@link VectorFile.create}.
   */
  static openOrCreate(filePath: string, shape: VectorFileShape): VectorFile {
    return fs.existsSync(filePath) ? VectorFile.open(filePath, shape) : VectorFile.create(filePath, shape);
  }

  /** Number of whole slot records the file has room for (written or holes): `floor((size - 64) / stride)`. */
  get slotCapacity(): number {
    return Math.max(0, Math.floor((this.size - HEADER_SIZE) / this.stride));
  }

  /** The file's size in bytes. */
  get byteLength(): number {
    return this.size;
  }

  /** Byte offset of `slot`'s record. */
  slotOffset(slot: number): number {
    return HEADER_SIZE + slot * this.stride;
  }

  /**
   * Writes `vector` into `slot` with its checksum, extending the file if needed. Not synced.
   * @throws RangeError when `slot` is not a u32 or `vector.length` differs from `dim`.
   * @throws ClosedError after `close()`; OmenDBError (`IO`) when the write fails.
   */
  write(slot: number, vector: Float32Array): void {
    const fd = this.checkOpen();
    checkSlot(slot);
    this.checkVector(vector, 0);
    this.encodeRecord(vector, this.record, 0);
    const offset = this.slotOffset(slot);
    this.writeAt(fd, this.record, this.stride, offset);
  }

  /**
   * Writes many vectors. Slots are written in ascending order, and runs of consecutive slots go out
   * in one write of up to {@link DEFAULT_CHUNK_BYTES}. When a slot is listed twice, the later vector wins.
   * Every argument is checked before anything is written.
   *
   * @param vectors either one vector per slot, or all of them packed (`slots.length * dim` floats).
   * @throws RangeError when a slot is not a u32 or the vectors do not match `slots` and `dim`.
   * @throws ClosedError after `close()`; OmenDBError (`IO`) when a write fails.
   */
  writeMany(slots: ArrayLike<number>, vectors: Float32Array | readonly Float32Array[]): void {
    const fd = this.checkOpen();
    const n = slots.length;
    const dim = this.dim;
    const packed = vectors instanceof Float32Array;
    if (packed ? vectors.length !== n * dim : vectors.length !== n) {
      throw new RangeError(
        `writeMany: ${n} slots need ${packed ? `${n * dim} packed floats` : `${n} vectors`}, got ${vectors.length}`,
      );
    }
    let ascending = true;
    for (let i = 0; i < n; i++) {
      checkSlot(slots[i]!);
      if (!packed) this.checkVector((vectors as readonly Float32Array[])[i]!, i);
      if (i > 0 && slots[i]! <= slots[i - 1]!) ascending = false;
    }
    if (n === 0) return;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (!ascending) order.sort((a, b) => slots[a]! - slots[b]! || a - b);
    const vectorAt = packed
      ? (i: number): Float32Array => (vectors as Float32Array).subarray(i * dim, (i + 1) * dim)
      : (i: number): Float32Array => (vectors as readonly Float32Array[])[i]!;
    const stride = this.stride;
    const maxRun = Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / stride));
    const buffer = n === 1 ? this.record : new Uint8Array(Math.min(n, maxRun) * stride);
    let i = 0;
    while (i < n) {
      const first = slots[order[i]!]!;
      let count = 0;
      // INVARIANT: `order` is sorted by slot, so a run of slots first, first+1, ... is contiguous in it.
      while (i + count < n && count < maxRun && slots[order[i + count]!]! === first + count) {
        this.encodeRecord(vectorAt(order[i + count]!), buffer, count * stride);
        count++;
      }
      this.writeAt(fd, buffer, count * stride, this.slotOffset(first));
      i += count;
    }
  }

  /**
   * Reads and verifies the vector in `slot`.
   *
   * @param out where to put it (its first `dim` floats); a new array by default.
   * @throws CorruptionError (offset of the slot) when the record lies beyond the end of the file,
   *   fails its checksum (`expected` = stored, `actual` = computed; an all-zero record was never
   *   written) or has a non-zero reserved word.
   * @throws RangeError for a bad slot or a too-short `out`; ClosedError after `close()`.
   */
  read(slot: number, out: Float32Array = new Float32Array(this.dim)): Float32Array {
    const fd = this.checkOpen();
    checkSlot(slot);
    if (out.length < this.dim) throw new RangeError(`read: out holds ${out.length} floats, dim is ${this.dim}`);
    this.readRecords(fd, slot, 1, this.record);
    if (!this.recordIsValid(this.record, 0)) throw this.recordError(slot, this.record, 0);
    copyVectorOut(this.record, 0, this.dim, out, 0);
    return out;
  }

  /**
   * Reads and verifies the vectors of `slots` into `out`, packed in the order given (slot `slots[i]` at
   * `out[i * dim]`). Runs of consecutive slots are read in one call.
   *
   * @returns `out`.
   * @throws as {@link VectorFile.read}; RangeError when `out` is shorter than `slots.length * dim`.
   */
  readMany(slots: Uint32Array, out: Float32Array): Float32Array {
    const fd = this.checkOpen();
    const n = slots.length;
    const dim = this.dim;
    if (out.length < n * dim) throw new RangeError(`readMany: out holds ${out.length} floats, ${n} slots need ${n * dim}`);
    const stride = this.stride;
    const maxRun = Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / stride));
    let batch: Uint8Array | undefined;
    let i = 0;
    while (i < n) {
      const first = slots[i]!;
      let count = 1;
      while (i + count < n && count < maxRun && slots[i + count]! === first + count) count++;
      const buffer = count === 1 ? this.record : (batch ??= new Uint8Array(Math.min(n, maxRun) * stride));
      this.readRecords(fd, first, count, buffer);
      for (let k = 0; k < count; k++) {
        const at = k * stride;
        if (!this.recordIsValid(buffer, at)) throw this.recordError(first + k, buffer, at);
        copyVectorOut(buffer, at, dim, out, (i + k) * dim);
      }
      i += count;
    }
    return out;
  }

  /**
   * Visits the vectors of `slots` (or of every written slot, for `"all"`) in ascending slot order,
   * verifying each record, reading the file in large chunks. This is how a collection loads at open.
   *
   * - Listed slots: duplicates are visited once; gaps of unlisted records up to 256 KiB are read
   *   through, larger ones skipped. A listed slot beyond the end of the file throws before any callback.
   * - `"all"`: every slot below {@link slotCapacity}; all-zero records (holes: never written) are skipped,
   *   any other damaged record throws.
   *
   * The `vector` passed to `onVector` is a view into a reused buffer, valid only during the call: copy it
   * to keep it. When a record fails, the callback has already seen the slots before it.
   *
   * @throws CorruptionError as {@link VectorFile.read}; RangeError for a slot that is not a u32 or a
   *   non-positive `chunkBytes`; ClosedError after `close()`.
   */
  scan(slots: Iterable<number> | "all", onVector: (slot: number, vector: Float32Array) => void, options: ScanOptions = {}): ScanResult {
    const fd = this.checkOpen();
    const stride = this.stride;
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isFinite(chunkBytes) || chunkBytes <= 0) throw new RangeError(`scan: chunkBytes must be a positive number, got ${chunkBytes}`);
    const perChunk = Math.max(1, Math.floor(chunkBytes / stride));
    let vectors = 0;
    let bytesRead = 0;

    if (slots === "all") {
      const capacity = this.slotCapacity;
      const buffer = new Uint8Array(Math.min(perChunk, Math.max(1, capacity)) * stride);
      for (let first = 0; first < capacity; first += perChunk) {
        const count = Math.min(perChunk, capacity - first);
        this.readRecords(fd, first, count, buffer);
        bytesRead += count * stride;
        for (let k = 0; k < count; k++) {
          const at = k * stride;
          if (!this.recordIsValid(buffer, at)) {
            if (isAllZero(buffer, at, stride)) continue;
            throw this.recordError(first + k, buffer, at);
          }
          onVector(first + k, this.vectorView(buffer, at));
          vectors++;
        }
      }
      return { vectors, bytesRead };
    }

    const wanted = sortedUniqueSlots(slots);
    const n = wanted.length;
    if (n === 0) return { vectors, bytesRead };
    const capacity = this.slotCapacity;
    if (wanted[n - 1]! >= capacity) {
      let k = n - 1;
      while (k > 0 && wanted[k - 1]! >= capacity) k--;
      throw this.beyondEndError(wanted[k]!);
    }
    const buffer = new Uint8Array(Math.min(perChunk, wanted[n - 1]! - wanted[0]! + 1) * stride);
    const maxGapSlots = Math.floor(SCAN_GAP_BYTES / stride);
    let i = 0;
    while (i < n) {
      const first = wanted[i]!;
      let j = i + 1;
      while (j < n && wanted[j]! - first < perChunk && wanted[j]! - wanted[j - 1]! - 1 <= maxGapSlots) j++;
      const count = wanted[j - 1]! - first + 1;
      this.readRecords(fd, first, count, buffer);
      bytesRead += count * stride;
      for (let k = i; k < j; k++) {
        const slot = wanted[k]!;
        const at = (slot - first) * stride;
        if (!this.recordIsValid(buffer, at)) throw this.recordError(slot, buffer, at);
        onVector(slot, this.vectorView(buffer, at));
        vectors++;
      }
      i = j;
    }
    return { vectors, bytesRead };
  }

  /**
   * Flushes written records to stable storage (`fdatasync`).
   * @throws ClosedError after `close()`; OmenDBError (`IO`) when the sync fails.
   */
  sync(): void {
    const fd = this.checkOpen();
    try {
      fs.fdatasyncSync(fd);
    } catch (err) {
      throw ioError(`syncing vector file ${this.path}`, err);
    }
  }

  /** Closes the descriptor without syncing. Calling it again does nothing. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch (err) {
      throw ioError(`closing vector file ${this.path}`, err);
    }
  }

  private checkOpen(): number {
    if (this.fd === undefined) throw new ClosedError(`vector file ${this.path} is closed`);
    return this.fd;
  }

  private checkVector(vector: Float32Array, index: number): void {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim) {
      const got = vector instanceof Float32Array ? `${vector.length} floats` : typeof vector;
      throw new RangeError(`vector ${index} must be a Float32Array of ${this.dim} floats, got ${got}`);
    }
  }

  /** Puts `vector`'s record (bytes, crc32c, reserved 0) at `buffer[at..at + stride)`. */
  private encodeRecord(vector: Float32Array, buffer: Uint8Array, at: number): void {
    const vectorBytes = this.dim * 4;
    buffer.set(new Uint8Array(vector.buffer, vector.byteOffset, vectorBytes), at);
    if (!LITTLE_ENDIAN) swap32(buffer, at, vectorBytes);
    const end = at + vectorBytes;
    setU32(buffer, end, crc32c(buffer.subarray(at, end)));
    setU32(buffer, end + 4, 0);
  }

  /** True when the record at `buffer[at..]` passes its checksum and its reserved word is 0. */
  private recordIsValid(buffer: Uint8Array, at: number): boolean {
    const end = at + this.dim * 4;
    return getU32(buffer, end) === crc32c(buffer.subarray(at, end)) && getU32(buffer, end + 4) === 0;
  }

  private recordError(slot: number, buffer: Uint8Array, at: number): CorruptionError {
    const end = at + this.dim * 4;
    const stored = getU32(buffer, end);
    const computed = crc32c(buffer.subarray(at, end));
    const offset = this.slotOffset(slot);
    if (stored !== computed) {
      const zero = isAllZero(buffer, at, this.stride);
      return new CorruptionError({
        file: this.path,
        offset,
        expected: hex32(stored),
        actual: hex32(computed),
        what: zero
          ? `vector slot ${slot} checksum mismatch (all-zero record: never written, or zeroed by a crash)`
          : `vector slot ${slot} checksum mismatch`,
      });
    }
    return new CorruptionError({
      file: this.path,
      offset,
      expected: "reserved word 0x00000000",
      actual: hex32(getU32(buffer, end + 4)),
      what: `vector slot ${slot} has a non-zero reserved word`,
    });
  }

  private beyondEndError(slot: number): CorruptionError {
    return new CorruptionError({
      file: this.path,
      offset: this.slotOffset(slot),
      expected: `a ${this.stride}-byte record for slot ${slot}`,
      actual: `the file ends at byte ${this.size}`,
      what: `vector slot ${slot} lies beyond the end of the file`,
    });
  }

  /** Reads `count` records from `first` into `buffer`; a record the file does not fully hold is corruption. */
  private readRecords(fd: number, first: number, count: number, buffer: Uint8Array): void {
    const capacity = this.slotCapacity;
    if (first + count > capacity) throw this.beyondEndError(Math.max(first, capacity));
    const length = count * this.stride;
    let got: number;
    try {
      got = readFully(fd, buffer, length, this.slotOffset(first));
    } catch (err) {
      throw ioError(`reading vector file ${this.path}`, err);
    }
    // The file shrank behind our back (another process truncated it).
    if (got < length) {
      this.size = this.slotOffset(first) + got;
      throw this.beyondEndError(first + Math.floor(got / this.stride));
    }
  }

  private writeAt(fd: number, buffer: Uint8Array, length: number, position: number): void {
    try {
      writeFully(fd, buffer, length, position);
    } catch (err) {
      throw ioError(`writing vector file ${this.path}`, err);
    }
    if (position + length > this.size) this.size = position + length;
  }

  /** The vector of the (verified) record at `buffer[at..]`, as a view; swapped to host order on big-endian hosts. */
  private vectorView(buffer: Uint8Array, at: number): Float32Array {
    if (!LITTLE_ENDIAN) swap32(buffer, at, this.dim * 4);
    // INVARIANT: stride is a multiple of 4 and `buffer` starts at byte 0 of its ArrayBuffer, so the view is aligned.
    return new Float32Array(buffer.buffer, buffer.byteOffset + at, this.dim);
  }
}

function checkShape(shape: VectorFileShape): void {
  if (!Number.isInteger(shape.dim) || shape.dim < 1 || shape.dim > MAX_VECTOR_FILE_DIM) {
    throw new RangeError(`vector file dim must be an integer from 1 to ${MAX_VECTOR_FILE_DIM}, got ${shape.dim}`);
  }
  metricCode(shape.metric);
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT) throw new RangeError(`slot must be an integer from 0 to ${MAX_SLOT}, got ${slot}`);
}

function sortedUniqueSlots(slots: Iterable<number>): Uint32Array {
  const list: number[] = [];
  let ascending = true;
  let previous = -1;
  for (const slot of slots) {
    checkSlot(slot);
    if (slot <= previous) ascending = false;
    previous = slot;
    list.push(slot);
  }
  const sorted = Uint32Array.from(list);
  if (ascending) return sorted;
  sorted.sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (n === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  return sorted.subarray(0, n);
}

function copyVectorOut(buffer: Uint8Array, at: number, dim: number, out: Float32Array, outIndex: number): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset + outIndex * 4, dim * 4);
  bytes.set(buffer.subarray(at, at + dim * 4));
  if (!LITTLE_ENDIAN) swap32(bytes, 0, dim * 4);
}

function isAllZero(buffer: Uint8Array, at: number, length: number): boolean {
  for (let i = at; i < at + length; i++) if (buffer[i] !== 0) return false;
  return true;
}

function getU32(buffer: Uint8Array, at: number): number {
  return (buffer[at]! | (buffer[at + 1]! << 8) | (buffer[at + 2]! << 16) | (buffer[at + 3]! << 24)) >>> 0;
}

function setU32(buffer: Uint8Array, at: number, value: number): void {
  buffer[at] = value & 0xff;
  buffer[at + 1] = (value >>> 8) & 0xff;
  buffer[at + 2] = (value >>> 16) & 0xff;
  buffer[at + 3] = value >>> 24;
}

/** Reverses the bytes of each 4-byte word in `buffer[at..at + length)` (little- ↔ big-endian). */
function swap32(buffer: Uint8Array, at: number, length: number): void {
  for (let i = at; i < at + length; i += 4) {
    const a = buffer[i]!;
    const b = buffer[i + 1]!;
    buffer[i] = buffer[i + 3]!;
    buffer[i + 1] = buffer[i + 2]!;
    buffer[i + 2] = b;
    buffer[i + 3] = a;
  }
}

/** Reads up to `length` bytes at `position`; returns fewer only at the end of the file. */
function readFully(fd: number, buffer: Uint8Array, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function writeFully(fd: number, buffer: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buffer, done, length - done, position + done);
}

