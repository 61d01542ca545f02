/**
 * One shard of a collection's in-memory vectors (`vector-arena.ts` splits a collection into shards):
 * slots [0, slotLimit) in one WebAssembly memory, searched exactly by the SIMD kernels of
 * `kernels.wat`.
 *
 * Memory layout (byte offsets, `row = dim * 4`, `block = align16(row) + 8·THREAD_BLOCK_TARGETS`):
 *
 *   [t·block, (t+1)·block)      scratch of search thread t < MAX_SEARCH_THREADS (`arena-reader.ts`):
 *                               the query, then a target list (u32) and its distances (f32)
 *   [V, V + slotLimit*row)      vectors: slot s at V + s*row, V = MAX_SEARCH_THREADS·block, dim
 *                               little-endian f32 (unaligned is fine). Cosine arenas store the
 *                               unit-normalised vector (zero stays zero).
 *   [S, S + align16(row))       scratch: the query (normalised for cosine), S = V + align16(slotLimit*row)
 *   [.., .. + 4m)               scratch: candidate slot list (u32), when searching a subset
 *   [.., .. + 4n)               scratch: one f32 distance per vector scanned
 *
 * The scratch region after the vectors belongs to the owning thread: rebuilt by every call and
 * overwritten by the next `set`. The memory is shared: search threads read the vectors through
 * {@link ArenaShard.share} while the owner writes, under the database's read/write gate.
 *
 * INVARIANTS
 * - `live[s] === 1` ⇔ slot s holds a vector that search returns; `liveCount` counts them.
 * - `slotLimit` is one past the highest live slot (0 when none): every live slot is below it, so a
 *   full scan is the kernel range [0, slotLimit).
 * - The memory never shrinks and stays at most 4 GiB (65,536 pages). `set` refuses a slot whose full
 *   scan (vectors plus scratch) would not fit, so `search` can always grow the memory it needs.
 * - Distances: cosine 1 − q̂·v̂ (clamped to [0, 2] by the kernel, so selection and ties see the
 *   clamped value), ip 1 − q·v, l2 |q − v|², as in `distance.ts`.
 */
import { ClosedError, ErrorCode, OmenDBError, ValidationError } from "../errors.js";
import { TopK } from "../internal/topk.js";
import type { Metric } from "../types.js";
import { MAX_SEARCH_THREADS, THREAD_BLOCK_TARGETS } from "../internal/search-threads.js";
import { normalizeInto } from "./distance.js";
import {
  createMemory,
  type DistanceKernels,
  instantiateKernels,
  WASM_MAX_PAGES as MAX_PAGES,
  WASM_PAGE_BYTES as PAGE,
  type WasmMemory,
  growMemory,
} from "./wasm-kernels.js";

const INITIAL_PAGES = 16; // 1 MiB

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** The result of {@link ArenaShard.search}: parallel arrays, ascending by distance then slot. */
export interface ArenaHits {
  slots: Uint32Array;
  distances: Float32Array;
}

/** What a search thread needs to read one shard's vectors (see `arena-reader.ts`). */
export interface ShardShare {
  memory: WasmMemory;
  dim: number;
  metric: Metric;
  /** Byte offset of slot 0's vector. */
  vectorByte: number;
  /** Bytes of one thread's scratch block; thread t's starts at t·blockBytes. */
  blockBytes: number;
}

/** Exact vector search over vectors held in one WebAssembly memory by slot. */
export class ArenaShard {
  private liveTotal = 0;
  private limit = 0;
  private live = new Uint8Array(1024);
  private memory: WasmMemory | undefined;
  private f32: Float32Array;
  private u32: Uint32Array;
  private readonly row: number;
  /** Byte offset of slot 0 (after the search threads' scratch blocks). */
  private readonly base: number;
  private readonly blockBytes: number;
  private readonly normalized: boolean;
  private readonly rangeKernel: DistanceKernels["dist_l2_range"];
  private readonly listKernel: DistanceKernels["dist_l2_list"];

  /**
   * @param dim vector length (a positive integer)
   * @param metric how distances are computed; for `"cosine"` vectors and queries are normalised.
   * @throws ValidationError code `INVALID_OPTION` for a bad `dim`.
   */
  constructor(
    readonly dim: number,
    readonly metric: Metric,
  ) {
    if (!Number.isInteger(dim) || dim < 1 || dim * 4 > 0xffffffff) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: dimension must be a positive integer, got ${dim}`);
    }
    this.row = dim * 4;
    this.blockBytes = align16(this.row) + 8 * THREAD_BLOCK_TARGETS;
    this.base = MAX_SEARCH_THREADS * this.blockBytes;
    this.normalized = metric === "cosine";
    this.memory = createMemory(INITIAL_PAGES);
    const k = instantiateKernels(this.memory);
    this.rangeKernel = metric === "l2" ? k.dist_l2_range : metric === "ip" ? k.dist_ip_range : k.dist_cos_range;
    this.listKernel = metric === "l2" ? k.dist_l2_list : metric === "ip" ? k.dist_ip_list : k.dist_cos_list;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u32 = new Uint32Array(this.memory.buffer);
  }

  /** The number of live slots. */
  get liveCount(): number {
    return this.liveTotal;
  }

  /** One past the highest live slot (0 when the arena is empty). */
  get slotLimit(): number {
    return this.limit;
  }

  /** True when `slot` holds a live vector. */
  isLive(slot: number): boolean {
    return this.live[slot] === 1;
  }

  /** The bytes of WebAssembly memory currently held (vectors, scratch and growth slack). */
  get memoryBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /**
   * Makes room for slots [0, slots) at once (a collection about to load that many), so loading does
   * not grow the memory step by step.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  reserve(slots: number): void {
    this.assertOpen();
    this.ensureBytes(this.scanBytes(Math.max(slots, this.limit), 0), slots);
    if (slots > this.live.length) {
      const grown = new Uint8Array(slots);
      grown.set(this.live);
      this.live = grown;
    }
  }

  /**
   * Stores `vector` at `slot` (replacing what was there) and marks the slot live. Cosine arenas
   * store the unit-normalised copy. Memory grows in large steps as needed.
   * @throws ValidationError code `DIMENSION_MISMATCH` for a vector of the wrong length,
   *   `INVALID_OPTION` for a slot that is not a non-negative integer.
   * @throws OmenDBError code `CAPACITY` when the vectors up to `slot` (plus search scratch) would
   *   exceed WebAssembly's 4 GiB memory.
   */
  set(slot: number, vector: Float32Array): void {
    this.assertOpen();
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xfffffffe) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot must be a non-negative integer, got ${slot}`);
    }
    if (vector.length !== this.dim) {
      throw new ValidationError(
        ErrorCode.DIMENSION_MISMATCH,
        `vector arena: expected a vector of dimension ${this.dim}, got ${vector.length}`,
      );
    }
    const limit = Math.max(this.limit, slot + 1);
    const need = this.scanBytes(limit, 0);
    if (need > MAX_PAGES * PAGE) {
      throw new OmenDBError(
        ErrorCode.CAPACITY,
        `vector arena: ${limit} slots of dimension ${this.dim} need ${need} bytes, over WebAssembly's 4 GiB memory limit`,
      );
    }
    this.ensureBytes(this.base + (slot + 1) * this.row, limit);
    const at = (this.base + slot * this.row) / 4;
    if (this.normalized) normalizeInto(vector, this.f32.subarray(at, at + this.dim));
    else this.f32.set(vector, at);
    if (slot >= this.live.length) {
      const grown = new Uint8Array(Math.max(slot + 1, this.live.length * 2));
      grown.set(this.live);
      this.live = grown;
    }
    if (this.live[slot] !== 1) {
      this.live[slot] = 1;
      this.liveTotal++;
    }
    this.limit = limit;
  }

  /** Marks `slot` dead (search skips it); unknown or already dead slots are ignored. */
  remove(slot: number): void {
    if (this.live[slot] !== 1) return;
    this.live[slot] = 0;
    this.liveTotal--;
    if (slot === this.limit - 1) {
      let limit = slot;
      while (limit > 0 && this.live[limit - 1] !== 1) limit--;
      this.limit = limit;
    }
  }

  /**
   * The exact `k` nearest live vectors to `query`, ascending by distance, ties by smaller slot.
   * Fewer than `k` come back only when fewer slots are live (or given). With `slots`, only those
   * candidates are considered (they should be distinct; dead or unknown ones are skipped).
   * @throws ValidationError code `DIMENSION_MISMATCH` for a query of the wrong length,
   *   `INVALID_OPTION` for a `k` that is not a non-negative integer.
   */
  search(query: Float32Array, k: number, slots?: Uint32Array): ArenaHits {
    this.assertOpen();
    this.checkQuery(query);
    if (!Number.isInteger(k) || k < 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: k must be a non-negative integer, got ${k}`);
    }
    const live = this.live;
    const limit = this.limit;
    if (k === 0 || this.liveCount === 0) return { slots: new Uint32Array(0), distances: new Float32Array(0) };
    // A full scan reads every slot below the limit; when most are dead, scan a list of live ones.
    let list: Uint32Array | undefined = slots;
    if (list === undefined && this.liveCount * 2 < limit) {
      list = new Uint32Array(this.liveCount);
      for (let s = 0, j = 0; s < limit; s++) if (live[s] === 1) list[j++] = s;
    }
    const heap = new TopK(Math.min(k, list === undefined ? this.liveCount : list.length));
    if (list === undefined) {
      const out = this.scanAll(query, limit);
      const f32 = this.f32;
      if (this.liveCount === limit) {
        for (let s = 0; s < limit; s++) heap.push(f32[out + s]!, s);
      } else {
        for (let s = 0; s < limit; s++) if (live[s] === 1) heap.push(f32[out + s]!, s);
      }
    } else {
      const { listAt, count, out } = this.scanList(query, list, true);
      const f32 = this.f32;
      const u32 = this.u32;
      for (let j = 0; j < count; j++) heap.push(f32[out + j]!, u32[listAt + j]!);
    }
    const { ids, distances } = heap.drain();
    return { slots: ids, distances };
  }

  /**
   * The distance from `query` to each of `slots`, in the same order (a fresh array), for callers
   * that re-rank candidates.
   * @throws ValidationError code `DIMENSION_MISMATCH` for a query of the wrong length,
   *   `INVALID_OPTION` when a slot is not live.
   */
  distancesTo(query: Float32Array, slots: Uint32Array): Float32Array {
    this.assertOpen();
    this.checkQuery(query);
    for (let j = 0; j < slots.length; j++) {
      if (this.live[slots[j]!] !== 1) {
        throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slots[j]} is not live`);
      }
    }
    const { count, out } = this.scanList(query, slots, false);
    return this.f32.slice(out, out + count);
  }

  /** A copy of the vector stored at `slot` (unit-normalised in a cosine arena). */
  storedVector(slot: number): Float32Array {
    this.assertOpen();
    if (this.live[slot] !== 1) throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slot} is not live`);
    const at = (this.base + slot * this.row) / 4;
    return this.f32.slice(at, at + this.dim);
  }

  /**
   * The distance from the stored vector at `from` to each of `targets[0..count)`, written to `out`:
   * one kernel call with the stored vector as the query (graph construction's inner loop). All
   * slots must be live; not checked here, for speed.
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    this.ensureBytes(this.scanBytes(this.limit, count), this.limit);
    const listByte = this.base + align16(this.limit * this.row) + align16(this.row);
    const listAt = listByte / 4;
    this.u32.set(count === targets.length ? targets : targets.subarray(0, count), listAt);
    const outByte = listByte + 4 * count;
    this.listKernel(this.base + from * this.row, this.base, this.dim, listByte, count, outByte);
    out.set(this.f32.subarray(outByte / 4, outByte / 4 + count));
  }

  /** The shared memory and layout a search thread reads this shard's vectors through. */
  share(): ShardShare {
    this.assertOpen();
    return { memory: this.memory!, dim: this.dim, metric: this.metric, vectorByte: this.base, blockBytes: this.blockBytes };
  }

  /** Releases the WebAssembly memory; any later call except `isLive`/`remove` throws `ClosedError`. */
  dispose(): void {
    this.memory = undefined;
    this.f32 = new Float32Array(0);
    this.u32 = new Uint32Array(0);
    this.live = new Uint8Array(0);
    this.liveTotal = 0;
    this.limit = 0;
  }

  // ---------------------------------------------------------------- internals

  private assertOpen(): void {
    if (this.memory === undefined) throw new ClosedError("vector arena was disposed");
  }

  private checkQuery(query: Float32Array): void {
    if (query.length !== this.dim) {
      throw new ValidationError(
        ErrorCode.DIMENSION_MISMATCH,
        `vector arena: expected a query of dimension ${this.dim}, got ${query.length}`,
      );
    }
  }

  /** Bytes a scan needs with `limit` slots of vectors and a candidate list of `listLength`. */
  private scanBytes(limit: number, listLength: number): number {
    return this.base + align16(limit * this.row) + align16(this.row) + 4 * listLength + 4 * Math.max(limit, listLength);
  }

  /** Writes the query into scratch (normalised for cosine) and returns its byte offset. */
  private placeQuery(query: Float32Array, listLength: number): number {
    const q = this.base + align16(this.limit * this.row);
    this.ensureBytes(this.scanBytes(this.limit, listLength), this.limit);
    const at = q / 4;
    if (this.normalized) normalizeInto(query, this.f32.subarray(at, at + this.dim));
    else this.f32.set(query, at);
    return q;
  }

  /** Computes the distances to slots [0, limit); returns the f32 index of the first. */
  private scanAll(query: Float32Array, limit: number): number {
    const q = this.placeQuery(query, 0);
    const out = q + align16(this.row);
    this.rangeKernel(q, this.base, this.dim, limit, out);
    return out / 4;
  }

  /**
   * Copies `slots` into scratch (keeping only live ones when `liveOnly`) and computes their
   * distances; returns the u32 index of the list, its length and the f32 index of the first distance.
   */
  private scanList(query: Float32Array, slots: Uint32Array, liveOnly: boolean): { listAt: number; count: number; out: number } {
    const q = this.placeQuery(query, slots.length);
    const listByte = q + align16(this.row);
    const listAt = listByte / 4;
    let count = slots.length;
    if (liveOnly) {
      const u32 = this.u32;
      const live = this.live;
      count = 0;
      for (let j = 0; j < slots.length; j++) {
        const s = slots[j]!;
        if (live[s] === 1) u32[listAt + count++] = s;
      }
    } else {
      this.u32.set(slots, listAt);
    }
    const outByte = listByte + 4 * count;
    this.listKernel(q, this.base, this.dim, listByte, count, outByte);
    return { listAt, count, out: outByte / 4 };
  }

  /** Grows the memory to hold at least `bytes` (in large steps, never beyond 4 GiB). */
  private ensureBytes(bytes: number, limit: number): void {
    if (!growMemory(this.memory!, bytes, `vector arena (${limit} slots of dimension ${this.dim})`)) return;
    this.f32 = new Float32Array(this.memory!.buffer);
    this.u32 = new Uint32Array(this.memory!.buffer);
  }

}
