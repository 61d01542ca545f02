/**
 * Read access to a vector file's records by slot for the distance kernels: copies one slot's vector,
 * a list of slots' vectors, or a run of consecutive records, into a caller's buffer (a staging area
 * in WebAssembly memory).
 * Two ways to read, with the same results:
 *
 * - `"mmap"`: the file is mapped read-only and shared through the memory-map addon
 *   (`native/mmap.cc`, loaded by `memory-map.ts`); a copy is a memcpy from the page cache (a list
 *   of slots is one native call), and the vectors count as file-backed memory, not as the
 *   process's own.
 * - `"pread"`: positional reads straight into the buffer, one system call per vector or run; used
 *   where the addon is not built or cannot load, or when asked for (`OMENDB_VECTOR_READS=pread`).
 *
 * Nothing here checks a record's checksum: a search reads tens to hundreds of vectors per query. The
 * checksums are checked by `VectorFile.read`/`scan` (records returned to users, exports) and by
 * `omendb verify` (every record). Layout: `vector-file.ts`.
 *
 * INVARIANTS
 * - A read never touches bytes past the file's end as last looked at with fstat: a record that ends
 *   beyond it is a `CorruptionError`, never a fault. OmenDB never shortens a vector file; one that
 *   another process shortens while it is mapped is outside this guarantee (in `"mmap"` mode reading a
 *   lost page is a bus error that ends the process, as with any memory-mapped database; in
 *   `"pread"` mode a `CorruptionError`).
 * - The file is mapped in fixed 1 GiB segments (made on first use, kept until close; each is unmapped
 *   when the garbage collector frees its buffer), so a growing file never needs a remap.
 * - Opens its own read-only descriptor: each thread that reads a vector file has its own instance.
 */
import fs from "node:fs";
import { ClosedError, CorruptionError, ErrorCode, OmenDBError, ioError } from "../errors.js";
import { HEADER_SIZE } from "./file-header.js";
import { type MemoryMap, loadMemoryMap } from "./memory-map.js";
import { slotStride } from "./vector-file.js";

/** How a {@link VectorPages} reads: through a memory map, or with positional reads. */
export type VectorReads = "mmap" | "pread";

/**
 * The file is mapped in segments of this many bytes (Node caps one buffer at 4 GiB), each extended by
 * SEGMENT_OVERLAP into the next, so every read — one vector of at most 65,536 floats, or a run of at
 * most ~256 KiB — lies inside the segment its first byte is in. A segment may reach past the file's
 * end: those pages are read only once the file has grown over them, so growth needs no remapping.
 */
const SEGMENT_BYTES = 1024 * 1024 * 1024;
const SEGMENT_OVERLAP = 1024 * 1024;

/**
 * The way vector files are read by default: `OMENDB_VECTOR_READS` (`mmap` or `pread`) when set,
 * else `"mmap"` when the addon loads, else `"pread"`.
 * @throws OmenDBError code `INVALID_OPTION` when `OMENDB_VECTOR_READS` holds anything else, and
 *   code `IO` when it asks for `mmap` and the addon cannot load (with the loader's reason).
 */
export function defaultVectorReads(): VectorReads {
  const asked = process.env["OMENDB_VECTOR_READS"];
  if (asked === undefined || asked === "") return loadMemoryMap().map === undefined ? "pread" : "mmap";
  if (asked !== "mmap" && asked !== "pread") {
    throw new OmenDBError(ErrorCode.INVALID_OPTION, `OMENDB_VECTOR_READS must be "mmap" or "pread", got ${JSON.stringify(asked)}`);
  }
  if (asked === "mmap" && loadMemoryMap().map === undefined) {
    throw new OmenDBError(ErrorCode.IO, `OMENDB_VECTOR_READS=mmap, but the memory-map addon cannot load: ${loadMemoryMap().reason}`);
  }
  return asked;
}

/** One thread's read access to the vectors of one vector file. */
export class VectorPages {
  /** Bytes of one slot's vector. */
  readonly vectorBytes: number;
  /** Bytes of one slot's record (vector and trailer). */
  readonly stride: number;
  private fd: number | undefined;
  /** The file's size when last looked at: no read goes past it. */
  private fileBytes = 0;
  /**
   * The mapped segments by index, made on first use. Private (#) so that no generic code
   * (inspection, deep equality) walks them: pages past the file's end must not be read.
   */
  #segments: (ArrayBuffer | undefined)[] = [];
  /** The addon's gather in `"mmap"` mode (undefined otherwise): {@link copyVectors}' one native call. */
  private readonly gather: MemoryMap["gather"];
  /** File positions of one {@link copyVectors} call. */
  private positions = new Float64Array(64);

  /**
   * @param path the vector file (its header is checked by whoever opened it as a `VectorFile`)
   * @param dim the file's dimension
   * @param reads how to read; default {@link defaultVectorReads}
   * @throws OmenDBError code `IO` when the file cannot be opened, or mapped in `"mmap"` mode.
   */
  constructor(
    readonly path: string,
    readonly dim: number,
    readonly reads: VectorReads = defaultVectorReads(),
  ) {
    this.vectorBytes = dim * 4;
    this.stride = slotStride(dim);
    this.gather = reads === "mmap" ? loadMemoryMap().gather : undefined;
    try {
      this.fd = fs.openSync(path, "r");
    } catch (err) {
      throw ioError(`opening vector file ${path} for reading`, err);
    }
    try {
      this.refresh(HEADER_SIZE);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Copies the vector of `slot` (dim float32, as stored) to `out[at ..]`. */
  copyVector(slot: number, out: Uint8Array, at: number): void {
    const position = HEADER_SIZE + slot * this.stride;
    this.copy(position, this.vectorBytes, out, at, slot);
  }

  /**
   * Copies the vectors of `slots[from .. from + count)` to `out`, vector j at `at + j·outStride`: a
   * search's re-rank, whose candidates lie all over the file. In `"mmap"` mode one native call copies
   * them all, fetching the next records from memory while it copies (a re-rank of 128 vectors of
   * 6 KiB: 62–66 µs instead of 107–114 µs with one JavaScript copy each, measured on this machine);
   * otherwise {@link copyVector} each.
   */
  copyVectors(slots: Uint32Array, from: number, count: number, out: Uint8Array, at: number, outStride: number): void {
    if (this.fd === undefined) throw new ClosedError(`vector file ${this.path} was closed`);
    const target = out.buffer;
    const gather = target instanceof ArrayBuffer ? this.gather : undefined;
    if (gather !== undefined && this.positions.length < count) this.positions = new Float64Array(Math.max(count, 2 * this.positions.length));
    let last = 0;
    for (let j = 0; j < count; j++) {
      const slot = slots[from + j]!;
      if (slot > last) last = slot;
      if (gather !== undefined) this.positions[j] = HEADER_SIZE + slot * this.stride;
    }
    if (count === 0) return;
    const lastPosition = HEADER_SIZE + last * this.stride;
    if (lastPosition + this.vectorBytes > this.fileBytes) this.refresh(lastPosition + this.vectorBytes, last);
    if (gather === undefined || !(target instanceof ArrayBuffer)) {
      for (let j = 0; j < count; j++) this.copyVector(slots[from + j]!, out, at + j * outStride);
      return;
    }
    // Segments are address space until read: every one up to the last record's is mapped.
    for (let i = Math.floor(lastPosition / SEGMENT_BYTES); i >= 0; i--) if (this.#segments[i] === undefined) this.mapSegment(i);
    gather(this.#segments, SEGMENT_BYTES, this.positions, count, this.vectorBytes, target, out.byteOffset + at, outStride);
  }

  /** Copies the records of slots [first, first + count) (`count * stride` bytes, trailers included) to `out[at ..]`. */
  copyRecords(first: number, count: number, out: Uint8Array, at: number): void {
    const position = HEADER_SIZE + first * this.stride;
    this.copy(position, count * this.stride, out, at, first + count - 1);
  }

  /** Closes the descriptor; the mapping goes with its last view. Idempotent. */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.#segments = [];
  }

  private copy(position: number, length: number, out: Uint8Array, at: number, lastSlot: number): void {
    if (this.fd === undefined) throw new ClosedError(`vector file ${this.path} was closed`);
    const end = position + length;
    if (end > this.fileBytes) this.refresh(end, lastSlot);
    if (this.reads === "mmap") {
      const i = Math.floor(position / SEGMENT_BYTES);
      const segment = this.#segments[i] ?? this.mapSegment(i);
      out.set(new Uint8Array(segment, position - i * SEGMENT_BYTES, length), at);
      return;
    }
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.fd, out, at + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw ioError(`reading vector file ${this.path} at byte ${position + done}`, err);
    }
    if (done < length) this.refresh(end, lastSlot); // the file shrank behind our back: throws
  }

  /** Maps segment `i`: bytes [i·SEGMENT_BYTES, (i+1)·SEGMENT_BYTES + SEGMENT_OVERLAP), past the file's end if need be. */
  private mapSegment(i: number): ArrayBuffer {
    const length = SEGMENT_BYTES + SEGMENT_OVERLAP;
    try {
      const segment = loadMemoryMap().map!(this.fd!, i * SEGMENT_BYTES, length);
      this.#segments[i] = segment;
      return segment;
    } catch (err) {
      throw ioError(`mapping vector file ${this.path} (bytes ${i * SEGMENT_BYTES} + ${length})`, err);
    }
  }

  /** Looks at the file's size again, until it holds `end` bytes; else throws. */
  private refresh(end: number, lastSlot?: number): void {
    let size: number;
    try {
      size = fs.fstatSync(this.fd!).size;
    } catch (err) {
      throw ioError(`reading the size of vector file ${this.path}`, err);
    }
    if (size < end) {
      throw new CorruptionError({
        file: this.path,
        offset: size,
        expected: `at least ${end} bytes (slot ${lastSlot ?? 0}'s record)`,
        actual: `${size} bytes`,
        what: "vector file ends before a live slot's record",
      });
    }
    this.fileBytes = size;
  }
}
