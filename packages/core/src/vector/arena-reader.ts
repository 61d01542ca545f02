/**
 * Read access to a collection's vectors from a search thread: the exact distances a search
 * re-ranks with, computed by the same SIMD kernels over the owner's shared WebAssembly memories
 * (`arena-shard.ts`), in this thread's own scratch block of each shard.
 *
 * INVARIANTS
 * - Thread t writes only bytes [t·blockBytes, (t+1)·blockBytes) of a shard: its query, a target
 *   list and the distances. The vectors are read, never written.
 * - Distances equal {@link ArenaShard.distancesTo}'s for the same slots (same kernel, same query
 *   normalisation).
 * - Callers hold the read side of the database's gate while reading, so no slot is being written.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import { THREAD_BLOCK_TARGETS } from "../internal/search-threads.js";
import type { Metric } from "../types.js";
import type { ShardShare } from "./arena-shard.js";
import { normalizeInto } from "./distance.js";
import { positionsByShard } from "./shard-positions.js";
import { type DistanceKernels, instantiateKernels } from "./wasm-kernels.js";

/** What a search thread needs to read a collection's vectors: its shards, by shard index. */
export interface ArenaShare {
  dim: number;
  metric: Metric;
  shardSlots: number;
  shards: (ShardShare | undefined)[];
}

/** One thread's view of one shard. */
class ShardReader {
  private readonly kernel: DistanceKernels["dist_l2_list"];
  private f32: Float32Array;
  private u32: Uint32Array;
  private readonly queryByte: number;
  private readonly listByte: number;
  private readonly outByte: number;

  constructor(
    private readonly share: ShardShare,
    thread: number,
  ) {
    const k = instantiateKernels(share.memory);
    this.kernel = share.metric === "l2" ? k.dist_l2_list : share.metric === "ip" ? k.dist_ip_list : k.dist_cos_list;
    this.queryByte = thread * share.blockBytes;
    this.listByte = this.queryByte + Math.ceil((share.dim * 4) / 16) * 16;
    this.outByte = this.listByte + 4 * THREAD_BLOCK_TARGETS;
    this.f32 = new Float32Array(share.memory.buffer, 0, share.blockBytes * (thread + 1) / 4);
    this.u32 = new Uint32Array(this.f32.buffer, 0, this.f32.length);
  }

  /** Copies the stored vector of local slot `slot` into `out`. */
  vector(slot: number, out: Float32Array): void {
    const at = (this.share.vectorByte + slot * this.share.dim * 4) / 4;
    out.set(new Float32Array(this.share.memory.buffer, at * 4, this.share.dim));
  }

  /** Writes the distance from `query` (already normalised for cosine) to each local slot into `out[positions[j]]`. */
  distances(query: Float32Array, locals: Uint32Array, count: number, out: Float32Array, positions?: Uint32Array): void {
    const { dim, vectorByte } = this.share;
    const f32 = this.f32;
    const u32 = this.u32;
    f32.set(query, this.queryByte >>> 2);
    const listAt = this.listByte >>> 2;
    const outAt = this.outByte >>> 2;
    for (let from = 0; from < count; from += THREAD_BLOCK_TARGETS) {
      const n = Math.min(THREAD_BLOCK_TARGETS, count - from);
      for (let j = 0; j < n; j++) u32[listAt + j] = locals[from + j]!;
      this.kernel(this.queryByte, vectorByte, dim, this.listByte, n, this.outByte);
      for (let j = 0; j < n; j++) out[positions === undefined ? from + j : positions[from + j]!] = f32[outAt + j]!;
    }
  }
}

/** One search thread's read access to a collection's vectors (all shards). */
export class ArenaReader {
  private readonly readers: (ShardReader | undefined)[];
  private readonly unit: Float32Array;
  private readonly stored: Float32Array;

  /**
   * @param share the collection's {@link ArenaShare}
   * @param thread this thread's scratch block, below `MAX_SEARCH_THREADS`
   */
  constructor(
    private readonly share: ArenaShare,
    thread: number,
  ) {
    this.readers = share.shards.map((s) => (s === undefined ? undefined : new ShardReader(s, thread)));
    this.unit = new Float32Array(share.dim);
    this.stored = new Float32Array(share.dim);
  }

  /** The stored vector of `slot` (unit-normalised in a cosine arena), copied into a buffer reused by the next call. */
  storedVector(slot: number): Float32Array {
    const S = this.share.shardSlots;
    this.reader(Math.floor(slot / S), slot).vector(slot % S, this.stored);
    return this.stored;
  }

  /**
   * The distance from the stored vector of `from` to each of `targets[0..count)`, into `out`, as
   * `VectorArena.distancesFromSlot` computes it (graph construction's inner loop).
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    this.measure(this.storedVector(from), targets, count, out);
  }

  /**
   * The exact distance from `query` to each of `slots` (same order, a fresh array), as
   * `VectorArena.distancesTo` computes it.
   * @throws ValidationError code `INVALID_OPTION` for a slot in a shard this view does not have.
   */
  distancesTo(query: Float32Array, slots: Uint32Array): Float32Array {
    const q = this.share.metric === "cosine" ? normalizeInto(query, this.unit) : query;
    const out = new Float32Array(slots.length);
    this.measure(q, slots, slots.length, out);
    return out;
  }

  /** Distances from `q` (as stored: normalised for cosine) to `slots[0..count)` into `out`, shard by shard. */
  private measure(q: Float32Array, slots: Uint32Array, count: number, out: Float32Array): void {
    const S = this.share.shardSlots;
    if (this.readers.length === 1) {
      this.reader(0, slots[0]).distances(q, slots, count, out);
      return;
    }
    for (const [i, positions] of positionsByShard(slots, count, S)) {
      const locals = Uint32Array.from(positions, (j) => slots[j]! - i * S);
      this.reader(i, slots[positions[0]!]).distances(q, locals, locals.length, out, Uint32Array.from(positions));
    }
  }

  private reader(shard: number, slot: number | undefined): ShardReader {
    const reader = this.readers[shard];
    if (reader === undefined) throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slot} is not in a shard this thread can read`);
    return reader;
  }
}
