/**
 * One thread's exact distances over a collection's vector file. Vectors are copied from the file
 * (`VectorPages`: a memory map, or positional reads) into this reader's own WebAssembly memory and
 * measured there by the SIMD kernels of `kernels.wat`. The owner's `VectorArena` and every search or
 * build thread each have their own reader; none holds the collection's vectors in its own memory.
 *
 * Distances between stored vectors go through a small cache of recently read vectors (round-robin
 * replacement): a graph build measures the same candidates again and again while it prunes. A
 * query's distances (a full scan, or a search's re-rank of listed slots) stream the records through
 * a separate staging area instead: a query's targets are rarely read again, and the scan's kernel
 * normalises as it measures.
 *
 * Memory layout (byte offsets; `row` = align16(dim * 4), `stride` = the file's record size):
 *
 *   [0, row)                          the query (unit-normalised for cosine)
 *   [C, C + ENTRIES·row)              the cache: entry e holds the vector of slotOfEntry[e]
 *                                     (unit-normalised for cosine)
 *   [L, L + 4·BATCH)                  the entries of one kernel call (u32)
 *   [O, O + 4·max(BATCH, RUN))        one f32 distance per vector measured
 *   [S, S + RUN·stride)               staging for a query's targets: RUN records as stored
 *
 * INVARIANTS
 * - Distances: cosine 1 − q̂·v̂ clamped to [0, 2] (vectors are stored as given; queries and cached
 *   vectors are normalised here, staged vectors are divided by |v| as they are measured), ip 1 − q·v, l2 |q − v|², as
 *   `distance.ts` computes them.
 * - entryOfSlot.get(s) = e ⇔ slotOfEntry[e] = s, and entry e then holds slot s's vector as it was
 *   read; a writer of slot s calls {@link VectorReader.forget} (the owner's arena does, on every
 *   write and delete); readers that may see writes they are not told about do not cache.
 * - Each public call, and each kernel call within one, starts a new call number; it reads at most
 *   BATCH ≤ ENTRIES / 2 entries, and no entry read or filled under the current number is replaced
 *   before the kernel has run: entries are stamped with the number.
 */
import { ClosedError } from "../errors.js";
import { type VectorReads, VectorPages } from "../storage/vector-pages.js";
import type { Metric } from "../types.js";
import { normalizeInto } from "./distance.js";
import { createMemory, type DistanceKernels, instantiateKernels, WASM_PAGE_BYTES } from "./wasm-kernels.js";

/** What a thread needs to read a collection's vectors: the file and how to read it. */
export interface VectorShare {
  path: string;
  dim: number;
  metric: Metric;
  reads: VectorReads;
}

/** Bytes of the cache of recently read vectors (at least 2·BATCH entries). */
const CACHE_BYTES = 4 * 1024 * 1024;
/** Bytes of records staged per kernel call of a full scan. */
const RUN_BYTES = 128 * 1024;
/** Most vectors measured per kernel call from the cache. */
const BATCH = 256;
/** |q|² outside this range has lost precision in f32: normalise in double precision instead. */
const NORM_MIN = 1e-30;
const NORM_MAX = 1e30;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Options of a {@link VectorReader}. */
export interface VectorReaderOptions {
  /**
   * Keep recently read vectors (default true). Off for a reader that is not told about writes
   * (`forget`) while it lives: a search thread's.
   */
  cache?: boolean;
}

/** Exact distances from queries to the vectors of one vector file, by slot. Not shared across threads. */
export class VectorReader {
  readonly dim: number;
  readonly metric: Metric;
  /** Records per kernel call of a full scan. */
  readonly chunk: number;
  private readonly pages: VectorPages;
  private readonly k: DistanceKernels;
  private readonly rangeKernel: DistanceKernels["dist_l2_range"];
  private readonly listKernel: DistanceKernels["dist_l2_list"];
  private readonly coverKernel: DistanceKernels["first_within_l2_list"];
  private readonly stride: number;
  private readonly row: number;
  private readonly entries: number;
  private readonly cacheByte: number;
  private readonly listByte: number;
  private readonly outByte: number;
  private readonly stageByte: number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly f32: Float32Array;
  private readonly caching: boolean;
  private readonly entryOfSlot = new Map<number, number>();
  private readonly slotOfEntry: Int32Array;
  private readonly stampOfEntry: Uint32Array;
  private hand = 0;
  private call = 1;
  private closed = false;

  /** @throws OmenDBError code `IO` when the file cannot be opened (or mapped). */
  constructor(
    readonly share: VectorShare,
    options: VectorReaderOptions = {},
  ) {
    this.dim = share.dim;
    this.metric = share.metric;
    this.caching = options.cache ?? true;
    this.pages = new VectorPages(share.path, share.dim, share.reads);
    this.stride = this.pages.stride;
    this.row = align16(this.dim * 4);
    this.chunk = Math.max(1, Math.floor(RUN_BYTES / this.stride));
    this.entries = Math.max(2 * BATCH, Math.floor(CACHE_BYTES / this.row));
    this.cacheByte = this.row;
    this.listByte = this.cacheByte + this.entries * this.row;
    this.outByte = this.listByte + 4 * BATCH;
    this.stageByte = align16(this.outByte + 4 * Math.max(BATCH, this.chunk));
    const pages = Math.ceil((this.stageByte + this.chunk * this.stride) / WASM_PAGE_BYTES);
    const memory = createMemory(pages, pages);
    this.k = instantiateKernels(memory);
    const k = this.k;
    this.rangeKernel = share.metric === "l2" ? k.dist_l2_range : share.metric === "ip" ? k.dist_ip_range : k.dist_cos_range;
    this.listKernel = share.metric === "l2" ? k.dist_l2_list : share.metric === "ip" ? k.dist_ip_list : k.dist_cosunit_list;
    this.coverKernel = share.metric === "l2" ? k.first_within_l2_list : share.metric === "ip" ? k.first_within_ip_list : k.first_within_cosunit_list;
    this.u8 = new Uint8Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
    this.slotOfEntry = new Int32Array(this.entries).fill(-1);
    this.stampOfEntry = new Uint32Array(this.entries);
  }

  /** The vector stored at `slot` (unit-normalised for cosine), in a fresh array. */
  storedVector(slot: number): Float32Array {
    this.assertOpen();
    this.nextCall();
    const at = this.cacheByte + this.entry(slot) * this.row;
    return this.f32.slice(at / 4, at / 4 + this.dim);
  }

  /** The distance from `query` to each of `slots` (same order, a fresh array), the vectors staged, not cached. */
  distancesTo(query: Float32Array, slots: Uint32Array): Float32Array {
    this.assertOpen();
    const out = new Float32Array(slots.length);
    this.placeQuery(query);
    for (let done = 0; done < slots.length; done += this.chunk) {
      const n = Math.min(this.chunk, slots.length - done);
      this.pages.copyVectors(slots, done, n, this.u8, this.stageByte, this.stride);
      this.measureStaged(n, out, done);
    }
    return out;
  }

  /**
   * The distance from the stored vector of `from` to each of `targets[0..count)`, into `out`
   * (graph construction's inner loop).
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    this.assertOpen();
    this.measure(targets, count, out, from);
  }

  /**
   * The first i in [0, count) whose distance from the stored vector of `from` to `targets[i]` (as
   * {@link distancesFromSlot} measures it) is ≤ `limit`, or −1: a graph prune's cover test, which
   * stops measuring at the first cover.
   */
  firstWithin(from: number, targets: Uint32Array, count: number, limit: number): number {
    this.assertOpen();
    for (let done = 0; done < count; done += BATCH - 1) {
      const n = Math.min(BATCH - 1, count - done);
      const q = this.placeBatch(targets, done, n, from);
      const hit = this.coverKernel(q, this.cacheByte, this.dim, this.row, this.listByte, n, limit);
      if (hit >= 0) return done + hit;
    }
    return -1;
  }

  /**
   * The distance from `query` to every slot in [first, first + count) into `out[0 .. count)`,
   * reading the records as runs (a full scan). Every slot in the range must have been written.
   */
  distancesToRange(query: Float32Array, first: number, count: number, out: Float32Array): void {
    this.assertOpen();
    this.placeQuery(query);
    for (let done = 0; done < count; done += this.chunk) {
      const n = Math.min(this.chunk, count - done);
      this.pages.copyRecords(first + done, n, this.u8, this.stageByte);
      this.measureStaged(n, out, done);
    }
  }

  /** Drops `slot`'s cached vector (its record was rewritten, or the slot freed). */
  forget(slot: number): void {
    const e = this.entryOfSlot.get(slot);
    if (e === undefined) return;
    this.entryOfSlot.delete(slot);
    this.slotOfEntry[e] = -1;
  }

  /** Drops every cached vector. */
  forgetAll(): void {
    this.entryOfSlot.clear();
    this.slotOfEntry.fill(-1);
  }

  /** Closes the file; later calls throw `ClosedError`. Idempotent. */
  close(): void {
    this.closed = true;
    this.pages.close();
    this.forgetAll();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`vector reader of ${this.share.path} was closed`);
  }

  /** Puts `query` where the kernels read it, unit-normalised for cosine. */
  private placeQuery(query: Float32Array): void {
    this.f32.set(query, 0);
    this.unitAt(0);
  }

  /** The distances from the placed query to the `n` records in staging, into `out[at ..]`. */
  private measureStaged(n: number, out: Float32Array, at: number): void {
    this.rangeKernel(0, this.stageByte, this.dim, this.stride, n, this.outByte);
    const outAt = this.outByte >>> 2;
    out.set(this.f32.subarray(outAt, outAt + n), at);
  }

  /** Normalises the vector at byte `at` in place for cosine (in double precision when |v|² is extreme). */
  private unitAt(at: number): void {
    if (this.metric !== "cosine") return;
    const n = this.k.dot(at, at, this.dim);
    if (n >= NORM_MIN && n <= NORM_MAX) {
      this.k.scale(at, this.dim, 1 / Math.sqrt(n));
    } else {
      const v = this.f32.subarray(at / 4, at / 4 + this.dim);
      normalizeInto(v, v);
    }
  }

  /**
   * The cache entry holding `slot`'s vector, reading it from the file when absent, stamped for the
   * current call. Without caching, entries are used round-robin as plain staging.
   */
  private entry(slot: number): number {
    if (this.caching) {
      const hit = this.entryOfSlot.get(slot);
      if (hit !== undefined) {
        this.stampOfEntry[hit] = this.call;
        return hit;
      }
    }
    let e = this.hand;
    while (this.stampOfEntry[e] === this.call) e = e + 1 === this.entries ? 0 : e + 1;
    this.hand = e + 1 === this.entries ? 0 : e + 1;
    const old = this.slotOfEntry[e]!;
    if (old >= 0) this.entryOfSlot.delete(old);
    this.slotOfEntry[e] = -1;
    const at = this.cacheByte + e * this.row;
    this.pages.copyVector(slot, this.u8, at);
    this.unitAt(at);
    if (this.caching) {
      this.slotOfEntry[e] = slot;
      this.entryOfSlot.set(slot, e);
    }
    this.stampOfEntry[e] = this.call;
    return e;
  }

  /** Starts a new call: entries stamped before it may be replaced. */
  private nextCall(): void {
    this.call = this.call === 0xffffffff ? 1 : this.call + 1;
  }

  /**
   * Distances from the stored vector of `from` to `slots[0..count)` into `out`, a batch of entries at
   * a time, measured where the vectors sit in the cache.
   */
  private measure(slots: Uint32Array, count: number, out: Float32Array, from: number): void {
    const outAt = this.outByte >>> 2;
    for (let done = 0; done < count; done += BATCH - 1) {
      const n = Math.min(BATCH - 1, count - done);
      const q = this.placeBatch(slots, done, n, from);
      this.listKernel(q, this.cacheByte, this.dim, this.row, this.listByte, n, this.outByte);
      out.set(this.f32.subarray(outAt, outAt + n), done);
    }
  }

  /**
   * Starts a kernel call from `from` over `slots[done, done + n)`: their cache entries into the entry
   * list, `from`'s entry among the call's too. Returns the byte offset of `from`'s vector.
   */
  private placeBatch(slots: Uint32Array, done: number, n: number, from: number): number {
    this.nextCall();
    const q = this.cacheByte + this.entry(from) * this.row;
    const listAt = this.listByte >>> 2;
    for (let j = 0; j < n; j++) this.u32[listAt + j] = this.entry(slots[done + j]!);
    return q;
  }
}
