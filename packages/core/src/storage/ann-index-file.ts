/**
 * The ANN index file: a snapshot of one collection's DiskANN index (Vamana graph, PQ codebook and
 * codes), written whole at checkpoint. At open everything is read and checked; the neighbour lists
 * may instead be memory-mapped copy-on-write (see {@link AnnIndexFileOptions.mapAdjacency}), so the
 * graph's largest part stays in the page cache rather than in the process's private memory.
 *
 * Layout (integers little-endian; the common header is described in `file-header.ts`):
 *
 * ```
 * offset size  header field (magic "OMENANN\0", version 2; version 1 still reads)
 *     16    4  dim, u32 (>= 1)
 *     20    1  metric, u8: 0 cosine, 1 l2, 2 ip
 *     21    1  PQ bits per code, u8 (always 8: 256 centroids per sub-space)
 *     22    2  maxDegree (R), u16 (>= 1)
 *     24    4  m, PQ sub-spaces = code bytes per slot, u32 (1..dim)
 *     28    4  entry + 1, u32 (0 = no entry point; else the entry is slot value - 1, < slotLimit)
 *     32    4  slotLimit, u32: the arrays cover slots [0, slotLimit)
 *     36    2  stride, u16: adjacency entries per slot, >= maxDegree (version 1: 0, meaning maxDegree)
 *     38   22  reserved, zero
 * ```
 *
 * Eight sections follow, in this fixed order, the first at byte 64. Each starts at a multiple of 8;
 * from version 2 the adjacency section's payload starts at a multiple of {@link ANN_ADJACENCY_ALIGN}
 * (so it can be mapped), the zero bytes before its frame counting as the degrees section's padding:
 *
 * ```
 * +0    8  payload length in bytes, u64 (must equal the length the header implies)
 * +8    4  crc32c of the payload bytes, u32
 * +12   4  reserved, zero
 * +16   L  payload
 * +16+L    zero padding to the next multiple of 8 (0..7 bytes)
 * ```
 *
 * ```
 * #  section      payload length         content
 * 0  params       32                     alpha f64 | seed f64 | buildListSize u32 | efSearch u32 |
 *                                        pqSampleSize u32 | reserved u32 0
 * 1  pqOffsets    (m + 1) * 4            i32: sub-space s covers dims [off[s], off[s+1]); 0 = off[0] < … < off[m] = dim
 * 2  pqCentroids  dim * 256 * 4          f32: sub-space s's 256 centroids from off[s] * 256
 * 3  present      slotLimit              u8 0/1: the slot is in the graph
 * 4  deleted      slotLimit              u8 0/1: tombstone awaiting consolidation (implies present)
 * 5  degrees      slotLimit * 2          u16 <= maxDegree
 * 6  adjacency    slotLimit * S * 4      u32: slot s's neighbours at [s * S, s * S + degree[s]), each < slotLimit,
 *                                        S = stride (the graph's in-memory layout, so the section maps as
 *                                        is); entries past the degree are written as 0 and ignored on read
 * 7  codes        slotLimit * m          u8: slot s's PQ code at [s * m, (s + 1) * m)
 * ```
 *
 * Example (version 2, dim 4, m 2, R 3, stride 4, slotLimit 5; asserted in the tests): sections at
 * 64, 112, 144, 4256, 4280, 4304, 65520, 65616; file size 65648. An empty index (slotLimit 0) still
 * has all eight frames.
 *
 * Invariants:
 * - INVARIANT: the file size is exactly what the header implies; every length, offset and array size
 *   follows from dim, maxDegree, m and slotLimit, so a reader checks them before allocating anything.
 * - The length is a u64 (not u32) so adjacency above 4 GiB (more than ~16.7M slots at R = 64) fits.
 * - Reading checks, in order: header (magic, checksum, version), header fields and the caller's
 *   dim/metric, file size, then each section's length, reserved word, checksum and padding, then the
 *   contents (params, pq offsets, present/deleted flags, degrees, neighbours of present slots, entry).
 *   Any failure is a CorruptionError whose offset lies inside the damaged region (the header, or the
 *   section from its frame to its padding); a newer version is `UNSUPPORTED_FORMAT`.
 * - Writing is atomic: the file is built in `<path>.tmp` (truncating any leftover of a crash),
 *   fsynced, renamed over `<path>`, and the directory fsynced. A crash at any point leaves either the
 *   old file or the new one at `<path>`; readers never look at `<path>.tmp`.
 * - Big-endian hosts swap bytes on the way in and out, so files are the same on every host.
 */
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import fsp from "node:fs/promises";
import nodePath from "node:path";
import { CorruptionError, ioError, isOmenDBError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import { wholeUnitBytes } from "../internal/growable-shared-buffer.js";
import type { Metric } from "../types.js";
import { syncDirectory } from "./directory-sync.js";
import { checksumRanges } from "./checksum-thread.js";
import { loadMemoryMap } from "./memory-map.js";
import { HEADER_SIZE, METRIC_CODES, decodeHeader, defineHeaderKind, encodeHeader, hex32, metricCode } from "./file-header.js";

/**
 * Everything needed to rebuild an ANN index: produced by `AnnIndex.snapshot()`, consumed by
 * `AnnIndex.restore()`. Arrays cover slots `[0, slotLimit)`.
 */
export interface AnnIndexSnapshot {
  dim: number;
  metric: Metric;
  /** R: the most neighbours a node keeps (1..65,535). */
  maxDegree: number;
  /** L of construction. */
  buildListSize: number;
  /** Pruning factor of construction (> 0, normally >= 1). */
  alpha: number;
  /** Default candidate list size of a search. */
  efSearch: number;
  /** Vectors sampled to train the quantizer. */
  pqSampleSize: number;
  /** Seed of every random choice; any finite number (stored as a float64, so it round-trips exactly). */
  seed: number;
  /** The product quantizer: `m` sub-spaces of 256 centroids (8 bits per code). */
  pq: { m: number; offsets: Int32Array /* m+1 */; centroids: Float32Array /* dim*256 */ };
  /** Number of slots the arrays cover (0 to 2^32 - 1). */
  slotLimit: number;
  /** Entry point of searches, a present slot, or -1 when the graph is empty. */
  entry: number;
  /** 1 when the slot is in the graph (slotLimit bytes). */
  present: Uint8Array;
  /** 1 when the slot is a tombstone awaiting consolidation; implies present (slotLimit bytes). */
  deleted: Uint8Array;
  /** Neighbour count of each slot, <= maxDegree (slotLimit entries). */
  degrees: Uint16Array;
  /** Adjacency entries per slot (maxDegree..65,535). */
  stride: number;
  /**
   * `slotLimit * stride` entries; entries past a node's degree are ignored (written as 0). When read
   * with {@link AnnIndexFileOptions.mapAdjacency} its buffer may be the mapping: a SharedArrayBuffer
   * longer than the array (see there).
   */
  adjacency: Uint32Array;
  /** PQ codes, `slotLimit * m` bytes. */
  codes: Uint8Array;
}

/** The dim and metric a reader requires; anything else is corruption (the wrong file in place). */
export interface AnnIndexFileExpect {
  readonly dim: number;
  readonly metric: Metric;
}

/** Tuning of the I/O, for tests and measurements. */
export interface AnnIndexFileOptions {
  /** Largest single read or write in bytes, rounded down to a multiple of 8 (at least 8). Default {@link ANN_INDEX_CHUNK_BYTES}. */
  readonly chunkBytes?: number;
  /**
   * Map the neighbour lists copy-on-write instead of reading them (version 2 files on little-endian
   * hosts with the memory-map addon; otherwise they are read). The snapshot's `adjacency` is then a
   * view of a SharedArrayBuffer of {@link adjacencyReserveBytes} bytes whose first pages are the
   * file's and the rest zeros: pages cost private memory only once written. Checksum and contents
   * are checked through the mapping, as when reading.
   */
  readonly mapAdjacency?: boolean;
  /**
   * When given, the sections' payload checksums are not computed by the read: their stored values
   * are handed to this function, and the caller must settle them ({@link verifyDeferredChecksums},
   * which computes them on another thread) before trusting the index. Everything else is checked as
   * usual. Lets a large index's checksums run beside other work at open.
   */
  readonly deferChecksums?: (pending: DeferredChecksums) => void;
}

/** The stored payload checksums of a file read with {@link AnnIndexFileOptions.deferChecksums}. */
export interface DeferredChecksums {
  readonly file: string;
  readonly sections: readonly { readonly name: AnnSectionName; readonly frameOffset: number; readonly payloadOffset: number; readonly payloadBytes: number; readonly stored: number }[];
}

/**
 * Computes the deferred checksums on a worker thread and compares them with the stored ones.
 * @throws CorruptionError exactly as a read that computed them would (offset of the first section
 *   whose checksum differs, `expected` = stored, `actual` = computed).
 * @throws OmenDBError (`IO`) when the file cannot be read.
 */
export async function verifyDeferredChecksums(pending: DeferredChecksums): Promise<void> {
  const computed = await checksumRanges(
    pending.file,
    pending.sections.map((s) => ({ offset: s.payloadOffset, length: s.payloadBytes })),
  );
  pending.sections.forEach((s, i) => {
    if (computed[i] !== s.stored) {
      throw new CorruptionError({
        file: pending.file,
        offset: s.frameOffset,
        expected: hex32(s.stored),
        actual: hex32(computed[i]!),
        what: `ANN index file ${s.name} section checksum mismatch`,
      });
    }
  });
}

/**
 * The neighbour lists of the version 2 file at `path` that `snapshot` was written to, mapped
 * copy-on-write as {@link AnnIndexFileOptions.mapAdjacency} maps them — without reading or checking
 * the file (the caller compares them with what it holds: `VamanaGraph.rebaseAdjacency`). Undefined
 * where they cannot be mapped (no addon, a big-endian host, mmap failing).
 * @throws OmenDBError (`IO`) when the file cannot be opened.
 */
export function mapAnnAdjacency(filePath: string, snapshot: AnnIndexSnapshot): SharedArrayBuffer | undefined {
  const layout = annIndexFileLayout({ dim: snapshot.dim, m: snapshot.pq.m, slotLimit: snapshot.slotLimit, stride: snapshot.stride });
  return withOpenFile(filePath, (fd) => mapSection(filePath, fd, layout.sections.adjacency, adjacencyReserveBytes(snapshot.stride)));
}

/** Runs `fn` with `filePath` open for reading, closing it afterwards. @throws OmenDBError (`IO`) when it cannot be opened. */
function withOpenFile<T>(filePath: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(filePath, "r");
  } catch (err) {
    throw ioError(`opening ANN index file ${filePath}`, err);
  }
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Where a version 2 file's adjacency payload starts: a multiple of this (any page size up to 64 KiB). */
export const ANN_ADJACENCY_ALIGN = 64 * 1024;

/**
 * Bytes of a mapped adjacency buffer for lists of `stride` entries: the whole-slot part of the 4 GiB
 * a graph's lists may hold (the graph never grows past it, so a mapped buffer never has to grow).
 */
export function adjacencyReserveBytes(stride: number): number {
  return wholeUnitBytes(stride * 4);
}

/** Default size of one read or write. */
export const ANN_INDEX_CHUNK_BYTES = 8 * 1024 * 1024;
/** Suffix of the file a write builds before renaming it over the target. */
export const ANN_INDEX_TEMP_SUFFIX = ".tmp";
/** Bytes of a section frame (length, crc32c, reserved) before its payload. */
export const ANN_SECTION_FRAME_BYTES = 16;
/** Bytes of the params payload. */
export const ANN_PARAMS_BYTES = 32;
/** Bits per PQ code: every sub-space has 256 centroids. */
export const ANN_PQ_BITS = 8;

/** Header offsets of the kind-specific fields (see the layout above). */
const F_DIM = 16;
const F_METRIC = 20;
const F_PQ_BITS = 21;
const F_MAX_DEGREE = 22;
const F_M = 24;
const F_ENTRY = 28;
const F_SLOT_LIMIT = 32;
const F_STRIDE = 36;

/** The ANN index file's header (see the layout above). */
export const ANN_INDEX_FILE_HEADER = defineHeaderKind({
  name: "ANN index file",
  magic: "OMENANN\0",
  version: 2,
  fields: {
    dim: { offset: F_DIM, type: "u32" },
    metric: { offset: F_METRIC, type: "u8" },
    pqBits: { offset: F_PQ_BITS, type: "u8" },
    maxDegree: { offset: F_MAX_DEGREE, type: "u16" },
    m: { offset: F_M, type: "u32" },
    entryPlusOne: { offset: F_ENTRY, type: "u32" },
    slotLimit: { offset: F_SLOT_LIMIT, type: "u32" },
    stride: { offset: F_STRIDE, type: "u16" },
  },
});

/** The sections in file order. */
export const ANN_SECTION_NAMES = ["params", "pqOffsets", "pqCentroids", "present", "deleted", "degrees", "adjacency", "codes"] as const;
/** One section's name. */
export type AnnSectionName = (typeof ANN_SECTION_NAMES)[number];

/** Bytes per element of each section's payload. */
const ELEMENT_BYTES: Readonly<Record<AnnSectionName, number>> = {
  params: 1,
  pqOffsets: 4,
  pqCentroids: 4,
  present: 1,
  deleted: 1,
  degrees: 2,
  adjacency: 4,
  codes: 1,
};

/** Offsets of params fields within the params payload. */
const P_ALPHA = 0;
const P_SEED = 8;
const P_BUILD_LIST_SIZE = 16;
const P_EF_SEARCH = 20;
const P_PQ_SAMPLE_SIZE = 24;
const P_RESERVED = 28;

const MAX_U32 = 0xffffffff;
const MAX_DEGREE = 0xffff;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Where one section lies in the file. */
export interface AnnSectionLayout {
  readonly name: AnnSectionName;
  /** Offset of the 16-byte frame (a multiple of 8). */
  readonly frameOffset: number;
  /** Offset of the payload: `frameOffset + 16`. */
  readonly payloadOffset: number;
  readonly payloadBytes: number;
  /** One past the section's last padding byte; the next section's frame offset. */
  readonly end: number;
}

/** Where every section lies, and the file's total size. */
export interface AnnIndexFileLayout {
  readonly sections: Readonly<Record<AnnSectionName, AnnSectionLayout>>;
  readonly fileBytes: number;
}

/** The numbers the layout follows from. */
export interface AnnIndexFileShape {
  readonly dim: number;
  readonly m: number;
  readonly slotLimit: number;
  /** Adjacency entries per slot (version 1: maxDegree). */
  readonly stride: number;
  /** Format version; the adjacency payload is aligned from version 2. Default: the newest. */
  readonly version?: number;
}

/** Computes where each section lies for a file of `shape` (no checks: pass valid numbers). */
export function annIndexFileLayout(shape: AnnIndexFileShape): AnnIndexFileLayout {
  const payload: Record<AnnSectionName, number> = {
    params: ANN_PARAMS_BYTES,
    pqOffsets: (shape.m + 1) * 4,
    pqCentroids: shape.dim * 256 * 4,
    present: shape.slotLimit,
    deleted: shape.slotLimit,
    degrees: shape.slotLimit * 2,
    adjacency: shape.slotLimit * shape.stride * 4,
    codes: shape.slotLimit * shape.m,
  };
  const aligned = (shape.version ?? ANN_INDEX_FILE_HEADER.version) >= 2;
  const frameAt = (name: AnnSectionName, end: number): number =>
    name === "adjacency" && aligned ? alignTo(end + ANN_SECTION_FRAME_BYTES, ANN_ADJACENCY_ALIGN) - ANN_SECTION_FRAME_BYTES : end;
  const sections = {} as Record<AnnSectionName, AnnSectionLayout>;
  let at = HEADER_SIZE;
  ANN_SECTION_NAMES.forEach((name, i) => {
    const payloadBytes = payload[name];
    const payloadOffset = at + ANN_SECTION_FRAME_BYTES;
    const next = ANN_SECTION_NAMES[i + 1];
    const end = align8(payloadOffset + payloadBytes);
    const padded = next === undefined ? end : frameAt(next, end);
    sections[name] = Object.freeze({ name, frameOffset: at, payloadOffset, payloadBytes, end: padded });
    at = padded;
  });
  return Object.freeze({ sections: Object.freeze(sections), fileBytes: at });
}

/**
 * Writes `snapshot` to `path` atomically: builds `<path>.tmp` (overwriting any leftover) with large
 * sequential writes, section by section with incremental checksums, fsyncs it, renames it over
 * `path` and fsyncs the directory. Adjacency entries past a node's degree are written as 0; the
 * snapshot itself is not modified.
 *
 * The snapshot's arrays must not change until the promise settles. One writer per path at a time
 * (the database's lock file guarantees it). Checksums run on the calling thread between writes.
 *
 * @throws RangeError (before any file is touched) when the snapshot is inconsistent: a value out of
 *   range, an array of the wrong type or length, pq offsets not increasing from 0 to dim, a flag not
 *   0/1, a tombstone not present, a degree above maxDegree, a present node's neighbour >= slotLimit,
 *   or an entry that is not a present slot.
 * @throws OmenDBError (`IO`) when a file system call fails; `path` then still holds its old content
 *   (or does not exist), and the temporary file is removed.
 */
export async function writeAnnIndexFile(filePath: string, snapshot: AnnIndexSnapshot, options: AnnIndexFileOptions = {}): Promise<void> {
  checkSnapshotShape(snapshot);
  const fault = findContentFault(snapshot);
  if (fault !== undefined) throw new RangeError(`ANN index snapshot: ${fault.what}: expected ${fault.expected}, got ${fault.actual}`);
  const chunkBytes = chunkSize(options);
  const s = snapshot;
  const m = s.pq.m;
  const layout = annIndexFileLayout({ dim: s.dim, m, slotLimit: s.slotLimit, stride: s.stride });
  const header = encodeHeader(ANN_INDEX_FILE_HEADER, {
    dim: s.dim,
    metric: metricCode(s.metric),
    pqBits: ANN_PQ_BITS,
    maxDegree: s.maxDegree,
    m,
    entryPlusOne: s.entry + 1,
    slotLimit: s.slotLimit,
    stride: s.stride,
  });
  const temp = filePath + ANN_INDEX_TEMP_SUFFIX;
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(temp, "w");
    await writeAll(handle, header, header.length, 0);
    const sec = layout.sections;
    await writeSection(handle, sec.params, [encodeParams(s)]);
    await writeSection(handle, sec.pqOffsets, typedChunks(s.pq.offsets, 4, chunkBytes));
    await writeSection(handle, sec.pqCentroids, typedChunks(s.pq.centroids, 4, chunkBytes));
    await writeSection(handle, sec.present, typedChunks(s.present, 1, chunkBytes));
    await writeSection(handle, sec.deleted, typedChunks(s.deleted, 1, chunkBytes));
    await writeSection(handle, sec.degrees, typedChunks(s.degrees, 2, chunkBytes));
    await writeSection(handle, sec.adjacency, adjacencyChunks(s.adjacency, s.degrees, s.stride, chunkBytes));
    await writeSection(handle, sec.codes, typedChunks(s.codes, 1, chunkBytes));
    await handle.sync();
    const closing = handle;
    handle = undefined;
    await closing.close();
    await fsp.rename(temp, filePath);
    await syncDirectory(nodePath.dirname(filePath));
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw isOmenDBError(err) ? err : ioError(`writing ANN index file ${filePath}`, err);
  }
}

/**
 * Reads and verifies the ANN index file at `path`. Every array of the result has its own
 * ArrayBuffer (aligned, exactly sized), so callers may keep them.
 *
 * @param expect the dim and metric the collection requires.
 * @throws CorruptionError (offset inside the damaged region) when the header is short or damaged,
 *   holds impossible values, differs from `expect` (offset 16 for dim, 20 for metric), the file size
 *   is not the one the header implies (offset = the smaller of the two sizes), a section's length,
 *   reserved word, checksum (`expected` = stored, `actual` = computed) or padding is wrong, or the
 *   contents are impossible (see {@link writeAnnIndexFile} for the rules; offset of the bad element,
 *   or 28 for the entry).
 * @throws OmenDBError (`UNSUPPORTED_FORMAT`) when the file was written by a newer format version.
 * @throws OmenDBError (`IO`) when the file cannot be opened or read (including when it does not exist).
 */
export function readAnnIndexFile(filePath: string, expect: AnnIndexFileExpect, options: AnnIndexFileOptions = {}): AnnIndexSnapshot {
  const mapAdjacency = options.mapAdjacency === true;
  const defer = options.deferChecksums;
  const chunkBytes = chunkSize(options);
  return withOpenFile(filePath, (fd) => readOpen(filePath, fd, expect, chunkBytes, mapAdjacency, defer));
}

function readOpen(
  file: string,
  fd: number,
  expect: AnnIndexFileExpect,
  chunkBytes: number,
  mapAdjacency: boolean,
  defer: ((pending: DeferredChecksums) => void) | undefined,
): AnnIndexSnapshot {
  const corrupt = (offset: number, what: string, expected: string, actual: number | string): CorruptionError =>
    new CorruptionError({ file, offset, expected, actual: String(actual), what: `ANN index file ${what}` });
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
  } catch (err) {
    throw ioError(`reading ANN index file ${file}`, err);
  }
  const head = new Uint8Array(HEADER_SIZE);
  const got = readAt(file, fd, head, 0, HEADER_SIZE, 0);
  const { version, fields } = decodeHeader(ANN_INDEX_FILE_HEADER, head.subarray(0, got), file);

  const { dim, maxDegree, m, slotLimit, entryPlusOne } = fields;
  const stride = version === 1 ? maxDegree : fields.stride;
  if (dim < 1) throw corrupt(F_DIM, "dim out of range", ">= 1", dim);
  const metric = METRIC_CODES[fields.metric];
  if (metric === undefined) throw corrupt(F_METRIC, "metric code unknown", `0..${METRIC_CODES.length - 1}`, fields.metric);
  if (fields.pqBits !== ANN_PQ_BITS) throw corrupt(F_PQ_BITS, "PQ bits unsupported", String(ANN_PQ_BITS), fields.pqBits);
  if (maxDegree < 1) throw corrupt(F_MAX_DEGREE, "maxDegree out of range", ">= 1", maxDegree);
  if (version === 1 ? fields.stride !== 0 : stride < maxDegree) {
    throw corrupt(F_STRIDE, "stride out of range", version === 1 ? "0 (version 1)" : `${maxDegree}..${MAX_DEGREE}`, fields.stride);
  }
  if (m < 1 || m > dim) throw corrupt(F_M, "PQ sub-space count out of range", `1..${dim}`, m);
  if (entryPlusOne > slotLimit) throw corrupt(F_ENTRY, "entry out of range", `-1..${slotLimit - 1}`, entryPlusOne - 1);
  if (expect.dim !== dim) throw corrupt(F_DIM, "dim differs from the expected dim", String(expect.dim), dim);
  if (expect.metric !== metric) throw corrupt(F_METRIC, "metric differs from the expected metric", expect.metric, metric);

  const layout = annIndexFileLayout({ dim, m, slotLimit, stride, version });
  if (size !== layout.fileBytes) {
    throw corrupt(Math.min(size, layout.fileBytes), size < layout.fileBytes ? "truncated" : "longer than its header implies", `${layout.fileBytes} bytes`, `${size} bytes`);
  }

  const sec = layout.sections;
  const params = new Uint8Array(ANN_PARAMS_BYTES);
  const offsets = new Int32Array(m + 1);
  const centroids = new Float32Array(dim * 256);
  const present = new Uint8Array(slotLimit);
  const deleted = new Uint8Array(slotLimit);
  const degrees = new Uint16Array(slotLimit);
  const mapped = mapAdjacency && version >= 2 ? mapSection(file, fd, sec.adjacency, adjacencyReserveBytes(stride)) : undefined;
  const adjacency = mapped === undefined ? new Uint32Array(slotLimit * stride) : new Uint32Array(mapped, 0, slotLimit * stride);
  const codes = new Uint8Array(slotLimit * m);
  const targets: Record<AnnSectionName, ArrayBufferView> = { params, pqOffsets: offsets, pqCentroids: centroids, present, deleted, degrees, adjacency, codes };
  const frame = new Uint8Array(ANN_SECTION_FRAME_BYTES);
  const padding = new Uint8Array(Math.min(ANN_ADJACENCY_ALIGN, chunkBytes));
  const deferred: DeferredChecksums["sections"][number][] = [];
  for (const name of ANN_SECTION_NAMES) {
    const s = sec[name];
    readAt(file, fd, frame, 0, ANN_SECTION_FRAME_BYTES, s.frameOffset);
    const length = getU32(frame, 4) * 0x1_0000_0000 + getU32(frame, 0);
    if (length !== s.payloadBytes) throw corrupt(s.frameOffset, `${name} section length wrong`, String(s.payloadBytes), length);
    const reserved = getU32(frame, 12);
    if (reserved !== 0) throw corrupt(s.frameOffset + 12, `${name} section reserved word not zero`, hex32(0), hex32(reserved));
    const target = targets[name];
    const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    let crc = 0;
    for (let done = 0; done < bytes.length; ) {
      const n = Math.min(chunkBytes, bytes.length - done);
      if (target !== adjacency || mapped === undefined) {
        const read = readAt(file, fd, bytes, done, n, s.payloadOffset + done);
        if (read < n) throw corrupt(s.payloadOffset + done + read, "truncated", `${layout.fileBytes} bytes`, `${s.payloadOffset + done + read} bytes`);
      }
      if (defer === undefined) crc = crc32c(bytes.subarray(done, done + n), crc);
      done += n;
    }
    const stored = getU32(frame, 8);
    if (defer !== undefined) deferred.push({ name, frameOffset: s.frameOffset, payloadOffset: s.payloadOffset, payloadBytes: s.payloadBytes, stored });
    else if (stored !== crc) throw corrupt(s.frameOffset, `${name} section checksum mismatch`, hex32(stored), hex32(crc));
    for (let padStart = s.payloadOffset + s.payloadBytes; padStart < s.end; padStart += padding.length) {
      const padBytes = Math.min(padding.length, s.end - padStart);
      readAt(file, fd, padding, 0, padBytes, padStart);
      for (let i = 0; i < padBytes; i++) {
        if (padding[i] !== 0) throw corrupt(padStart + i, `${name} section padding not zero`, "0x00", `0x${padding[i]!.toString(16).padStart(2, "0")}`);
      }
    }
    if (!LITTLE_ENDIAN) swapBytes(bytes, ELEMENT_BYTES[name]);
  }

  const view = new DataView(params.buffer);
  const snapshot: AnnIndexSnapshot = {
    dim,
    metric,
    maxDegree,
    buildListSize: view.getUint32(P_BUILD_LIST_SIZE, true),
    alpha: view.getFloat64(P_ALPHA, true),
    efSearch: view.getUint32(P_EF_SEARCH, true),
    pqSampleSize: view.getUint32(P_PQ_SAMPLE_SIZE, true),
    seed: view.getFloat64(P_SEED, true),
    pq: { m, offsets, centroids },
    slotLimit,
    entry: entryPlusOne - 1,
    present,
    deleted,
    degrees,
    stride,
    adjacency,
    codes,
  };
  const paramsReserved = view.getUint32(P_RESERVED, true);
  if (paramsReserved !== 0) throw corrupt(sec.params.payloadOffset + P_RESERVED, "params reserved word not zero", hex32(0), hex32(paramsReserved));
  const fault = findContentFault(snapshot);
  if (fault !== undefined) {
    const offset = fault.section === "header" ? fault.index : sec[fault.section].payloadOffset + fault.index * ELEMENT_BYTES[fault.section];
    throw corrupt(offset, fault.what, fault.expected, fault.actual);
  }
  defer?.({ file, sections: deferred });
  return snapshot;
}

/** An impossible value in a snapshot: where it is (element index, or header byte offset) and what is wrong. */
interface ContentFault {
  readonly section: AnnSectionName | "header";
  readonly index: number;
  readonly what: string;
  readonly expected: string;
  readonly actual: string;
}

/**
 * The first impossible value among the params, pq offsets, flags, degrees, neighbours of present
 * slots and entry of a snapshot whose shape is already valid; `undefined` when there is none.
 */
function findContentFault(s: AnnIndexSnapshot): ContentFault | undefined {
  const fault = (section: AnnSectionName | "header", index: number, what: string, expected: string, actual: number | string): ContentFault => ({
    section,
    index,
    what,
    expected,
    actual: String(actual),
  });
  if (!(Number.isFinite(s.alpha) && s.alpha > 0)) return fault("params", P_ALPHA, "alpha out of range", "a finite number > 0", s.alpha);
  if (!Number.isFinite(s.seed)) return fault("params", P_SEED, "seed not finite", "a finite number", s.seed);
  const ints: [number, number, string][] = [
    [s.buildListSize, P_BUILD_LIST_SIZE, "buildListSize"],
    [s.efSearch, P_EF_SEARCH, "efSearch"],
    [s.pqSampleSize, P_PQ_SAMPLE_SIZE, "pqSampleSize"],
  ];
  for (const [value, at, name] of ints) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_U32) return fault("params", at, `${name} out of range`, `an integer 1..${MAX_U32}`, value);
  }

  const { offsets } = s.pq;
  const m = s.pq.m;
  if (offsets[0] !== 0) return fault("pqOffsets", 0, "PQ offsets do not start at 0", "0", offsets[0]!);
  for (let i = 1; i <= m; i++) {
    if (offsets[i]! <= offsets[i - 1]!) return fault("pqOffsets", i, "PQ offsets not increasing", `> ${offsets[i - 1]!}`, offsets[i]!);
  }
  if (offsets[m] !== s.dim) return fault("pqOffsets", m, "PQ offsets do not end at dim", String(s.dim), offsets[m]!);

  const n = s.slotLimit;
  const R = s.maxDegree;
  const { present, deleted, degrees, adjacency, stride } = s;
  for (let slot = 0; slot < n; slot++) {
    const p = present[slot]!;
    const d = deleted[slot]!;
    if (p > 1) return fault("present", slot, `present flag of slot ${slot} not 0/1`, "0 or 1", p);
    if (d > 1) return fault("deleted", slot, `deleted flag of slot ${slot} not 0/1`, "0 or 1", d);
    if (d > p) return fault("deleted", slot, `slot ${slot} deleted but not present`, "0 for a slot not present", d);
    const degree = degrees[slot]!;
    if (degree > R) return fault("degrees", slot, `degree of slot ${slot} above maxDegree`, `<= ${R}`, degree);
    if (p === 1) {
      const base = slot * stride;
      for (let j = base; j < base + degree; j++) {
        if (adjacency[j]! >= n) return fault("adjacency", j, `neighbour ${j - base} of slot ${slot} out of range`, `< ${n}`, adjacency[j]!);
      }
    }
  }
  if (s.entry !== -1 && present[s.entry] !== 1) return fault("header", F_ENTRY, "entry not a present slot", "a present slot or -1", s.entry);
  return undefined;
}

/** Checks scalar ranges and array types/lengths of a snapshot to write. @throws RangeError */
function checkSnapshotShape(s: AnnIndexSnapshot): void {
  const bad = (what: string, expected: string, actual: unknown): never => {
    throw new RangeError(`ANN index snapshot: ${what} must be ${expected}, got ${typeof actual === "number" ? actual : describeValue(actual)}`);
  };
  const intIn = (value: number, lo: number, hi: number, what: string): void => {
    if (!Number.isInteger(value) || value < lo || value > hi) bad(what, `an integer ${lo}..${hi}`, value);
  };
  intIn(s.dim, 1, MAX_U32, "dim");
  metricCode(s.metric);
  intIn(s.maxDegree, 1, MAX_DEGREE, "maxDegree");
  intIn(s.stride, s.maxDegree, MAX_DEGREE, "stride");
  const pq = s.pq;
  intIn(pq.m, 1, s.dim, "pq.m");
  intIn(s.slotLimit, 0, MAX_U32, "slotLimit");
  intIn(s.entry, -1, s.slotLimit - 1, "entry");
  const arrays: [unknown, abstract new (...args: never[]) => ArrayBufferView, number, string][] = [
    [pq.offsets, Int32Array, pq.m + 1, "pq.offsets"],
    [pq.centroids, Float32Array, s.dim * 256, "pq.centroids"],
    [s.present, Uint8Array, s.slotLimit, "present"],
    [s.deleted, Uint8Array, s.slotLimit, "deleted"],
    [s.degrees, Uint16Array, s.slotLimit, "degrees"],
    [s.adjacency, Uint32Array, s.slotLimit * s.stride, "adjacency"],
    [s.codes, Uint8Array, s.slotLimit * pq.m, "codes"],
  ];
  for (const [array, type, length, what] of arrays) {
    if (!(array instanceof type) || (array as unknown as { length: number }).length !== length) bad(what, `a ${type.name} of length ${length}`, array);
  }
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  return value === null ? "null" : typeof value;
}

function encodeParams(s: AnnIndexSnapshot): Uint8Array {
  const bytes = new Uint8Array(ANN_PARAMS_BYTES);
  const view = new DataView(bytes.buffer);
  view.setFloat64(P_ALPHA, s.alpha, true);
  view.setFloat64(P_SEED, s.seed, true);
  view.setUint32(P_BUILD_LIST_SIZE, s.buildListSize, true);
  view.setUint32(P_EF_SEARCH, s.efSearch, true);
  view.setUint32(P_PQ_SAMPLE_SIZE, s.pqSampleSize, true);
  view.setUint32(P_RESERVED, 0, true);
  return bytes;
}

/**
 * Writes one section: the payload chunks in order (each chunk's checksum computed while the previous
 * chunk's write is in flight), the padding, then the frame with the finished checksum.
 *
 * INVARIANT: a chunk's buffer is not refilled until its write has completed: producers alternate
 * between two scratch buffers, and the loop awaits write k before asking for chunk k + 2.
 */
async function writeSection(handle: FileHandle, s: AnnSectionLayout, chunks: Iterable<Uint8Array>): Promise<void> {
  let crc = 0;
  let position = s.payloadOffset;
  let pending: Promise<void> | undefined;
  for (const bytes of chunks) {
    crc = crc32c(bytes, crc);
    if (pending !== undefined) await pending;
    pending = writeAll(handle, bytes, bytes.length, position);
    position += bytes.length;
  }
  if (pending !== undefined) await pending;
  if (position !== s.payloadOffset + s.payloadBytes) throw new Error(`internal: ${s.name} section wrote ${position - s.payloadOffset} of ${s.payloadBytes} bytes`);
  const padBytes = s.end - position;
  if (padBytes > 0) await writeAll(handle, new Uint8Array(padBytes), padBytes, position);
  const frame = new Uint8Array(ANN_SECTION_FRAME_BYTES);
  setU32(frame, 0, s.payloadBytes % 0x1_0000_0000);
  setU32(frame, 4, Math.floor(s.payloadBytes / 0x1_0000_0000));
  setU32(frame, 8, crc);
  await writeAll(handle, frame, frame.length, s.frameOffset);
}

/** The bytes of `array` in chunks of at most `chunkBytes`: views on little-endian hosts, swapped copies otherwise. */
function* typedChunks(array: ArrayBufferView, elementBytes: number, chunkBytes: number): Generator<Uint8Array> {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const swap = !LITTLE_ENDIAN && elementBytes > 1;
  const scratch = swap ? [new Uint8Array(Math.min(chunkBytes, bytes.length)), new Uint8Array(Math.min(chunkBytes, bytes.length))] : [];
  let k = 0;
  for (let done = 0; done < bytes.length; done += chunkBytes, k++) {
    const chunk = bytes.subarray(done, Math.min(bytes.length, done + chunkBytes));
    if (!swap) {
      yield chunk;
      continue;
    }
    const out = scratch[k & 1]!.subarray(0, chunk.length);
    out.set(chunk);
    swapBytes(out, elementBytes);
    yield out;
  }
}

/** The adjacency (`R` entries a node) in chunks of whole nodes, copied so that entries past each node's degree are 0. */
function* adjacencyChunks(adjacency: Uint32Array, degrees: Uint16Array, R: number, chunkBytes: number): Generator<Uint8Array> {
  const nodes = degrees.length;
  if (nodes === 0) return;
  const perChunk = Math.max(1, Math.min(nodes, Math.floor(chunkBytes / (R * 4))));
  const scratch = [new Uint32Array(perChunk * R), new Uint32Array(perChunk * R)];
  let k = 0;
  for (let first = 0; first < nodes; first += perChunk, k++) {
    const count = Math.min(perChunk, nodes - first);
    const out = scratch[k & 1]!.subarray(0, count * R);
    out.set(adjacency.subarray(first * R, (first + count) * R));
    for (let i = 0; i < count; i++) {
      const degree = degrees[first + i]!;
      if (degree < R) out.fill(0, i * R + degree, (i + 1) * R);
    }
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    if (!LITTLE_ENDIAN) swapBytes(bytes, 4);
    yield bytes;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(bytes, done, length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads up to `length` bytes at `position` into `buffer[offset..]`; fewer only at the end of the file. */
function readAt(file: string, fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  try {
    while (done < length) {
      const n = fs.readSync(fd, buffer, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
  } catch (err) {
    throw ioError(`reading ANN index file ${file}`, err);
  }
  return done;
}


function chunkSize(options: AnnIndexFileOptions): number {
  const requested = options.chunkBytes ?? ANN_INDEX_CHUNK_BYTES;
  if (!Number.isFinite(requested) || requested <= 0) throw new RangeError(`chunkBytes must be a positive number, got ${requested}`);
  // Cap below the 2 GiB limit of one read/write call; keep whole elements of every width.
  return Math.max(8, Math.floor(Math.min(requested, 1 << 30) / 8) * 8);
}

function align8(n: number): number {
  return alignTo(n, 8);
}

function alignTo(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/**
 * The payload of section `s` mapped copy-on-write into a buffer of `reserve` bytes, or undefined
 * when it cannot be (no addon, a big-endian host, a payload not page-aligned, or mmap failing:
 * the caller then reads it).
 */
function mapSection(file: string, fd: number, s: AnnSectionLayout, reserve: number): SharedArrayBuffer | undefined {
  const mapPrivate = loadMemoryMap().mapPrivate;
  if (mapPrivate === undefined || !LITTLE_ENDIAN || s.payloadBytes > reserve) return undefined;
  try {
    return mapPrivate(fd, s.payloadOffset, s.payloadBytes, reserve);
  } catch {
    return undefined;
  }
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

/** Reverses the bytes of each `width`-byte element of `bytes` in place (little- ↔ big-endian). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
