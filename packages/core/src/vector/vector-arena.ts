/**
 * The in-memory vectors of one collection by slot, searched exactly: a row of {@link ArenaShard}s,
 * each one WebAssembly memory holding `shardSlots` consecutive slots, so a collection is bounded by
 * RAM rather than by WebAssembly's 4 GiB memory (a 1536-d shard holds 349,525 vectors in 2 GiB).
 *
 * INVARIANTS
 * - Slot s lives in shard ⌊s / shardSlots⌋ at local slot s mod shardSlots; shards are created on
 *   first use, so the row may have holes.
 * - Results merged over shards are ordered as one shard orders them: ascending by distance, ties by
 *   smaller (global) slot.
 * - With one shard (every collection below `shardSlots` records) each call goes straight to it.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import { TopK } from "../internal/topk.js";
import type { Metric } from "../types.js";
import type { ArenaShare } from "./arena-reader.js";
import { type ArenaHits, ArenaShard } from "./arena-shard.js";
import { positionsByShard } from "./shard-positions.js";

export type { ArenaHits } from "./arena-shard.js";

/** Vector bytes per shard: half of WebAssembly's 4 GiB, leaving room for a full scan's scratch. */
const SHARD_BYTES = 2 ** 31;

/** Options of a {@link VectorArena}. */
export interface VectorArenaOptions {
  /** Slots per shard; default as many vectors as fit in 2 GiB. Tests use small values. */
  shardSlots?: number;
}

/** Exact vector search over one collection's vectors, held in WebAssembly memory by slot. */
export class VectorArena {
  /** Slots per shard. */
  readonly shardSlots: number;
  private readonly shards: (ArenaShard | undefined)[];
  private local = new Uint32Array(64);

  /**
   * @param dim vector length (a positive integer)
   * @param metric how distances are computed; for `"cosine"` vectors and queries are normalised.
   * @throws ValidationError code `INVALID_OPTION` for a bad `dim` or `shardSlots`.
   */
  constructor(
    readonly dim: number,
    readonly metric: Metric,
    options: VectorArenaOptions = {},
  ) {
    this.shards = [new ArenaShard(dim, metric)];
    const shardSlots = options.shardSlots ?? Math.max(1, Math.floor(SHARD_BYTES / (dim * 4)));
    if (!Number.isInteger(shardSlots) || shardSlots < 1) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: shardSlots must be a positive integer, got ${shardSlots}`);
    }
    this.shardSlots = shardSlots;
  }

  /** The number of live slots. */
  get liveCount(): number {
    let total = 0;
    for (const shard of this.shards) total += shard?.liveCount ?? 0;
    return total;
  }

  /** One past the highest live slot (0 when the arena is empty). */
  get slotLimit(): number {
    for (let i = this.shards.length - 1; i >= 0; i--) {
      const limit = this.shards[i]?.slotLimit ?? 0;
      if (limit > 0) return i * this.shardSlots + limit;
    }
    return 0;
  }

  /** The bytes of WebAssembly memory currently held by all shards. */
  get memoryBytes(): number {
    let total = 0;
    for (const shard of this.shards) total += shard?.memoryBytes ?? 0;
    return total;
  }

  /** True when `slot` holds a live vector. */
  isLive(slot: number): boolean {
    const shard = this.shards[Math.floor(slot / this.shardSlots)];
    return shard !== undefined && shard.isLive(slot % this.shardSlots);
  }

  /**
   * Makes room for slots [0, slots) at once (a collection about to load that many).
   * @throws OmenDBError code `CAPACITY` when WebAssembly cannot allocate a shard's memory.
   */
  reserve(slots: number): void {
    const S = this.shardSlots;
    for (let i = 0; i * S < slots; i++) this.shardAt(i).reserve(Math.min(S, slots - i * S));
  }

  /**
   * Stores `vector` at `slot` (replacing what was there) and marks the slot live. Cosine arenas
   * store the unit-normalised copy.
   * @throws ValidationError code `DIMENSION_MISMATCH` for a vector of the wrong length,
   *   `INVALID_OPTION` for a slot that is not a non-negative integer.
   * @throws OmenDBError code `CAPACITY` when WebAssembly cannot grow a shard's memory.
   */
  set(slot: number, vector: Float32Array): void {
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xfffffffe) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot must be a non-negative integer, got ${slot}`);
    }
    this.shardAt(Math.floor(slot / this.shardSlots)).set(slot % this.shardSlots, vector);
  }

  /** Marks `slot` dead (search skips it); unknown or already dead slots are ignored. */
  remove(slot: number): void {
    this.shards[Math.floor(slot / this.shardSlots)]?.remove(slot % this.shardSlots);
  }

  /**
   * The exact `k` nearest live vectors to `query`, ascending by distance, ties by smaller slot.
   * With `slots`, only those candidates are considered (dead or unknown ones are skipped).
   * @throws ValidationError code `DIMENSION_MISMATCH` for a query of the wrong length,
   *   `INVALID_OPTION` for a `k` that is not a non-negative integer.
   */
  search(query: Float32Array, k: number, slots?: Uint32Array): ArenaHits {
    if (this.shards.length === 1) return this.shards[0]!.search(query, k, slots);
    // Validates the query and k (and throws ClosedError after dispose) as a single shard would.
    this.shards[0]!.search(query, Number.isInteger(k) && k >= 0 ? 0 : k);
    const S = this.shardSlots;
    const heap = new TopK(Math.min(k, slots?.length ?? this.liveCount));
    this.forEachGroup(slots, (i, shard, locals) => {
      const hits = shard.search(query, k, locals);
      for (let j = 0; j < hits.slots.length; j++) heap.push(hits.distances[j]!, i * S + hits.slots[j]!);
    });
    const { ids, distances } = heap.drain();
    return { slots: ids, distances };
  }

  /**
   * The distance from `query` to each of `slots`, in the same order (a fresh array).
   * @throws ValidationError code `DIMENSION_MISMATCH` for a query of the wrong length,
   *   `INVALID_OPTION` when a slot is not live.
   */
  distancesTo(query: Float32Array, slots: Uint32Array): Float32Array {
    if (this.shards.length === 1) return this.shards[0]!.distancesTo(query, slots);
    const out = new Float32Array(slots.length);
    this.scatter(slots, slots.length, out, (shard, locals) => shard.distancesTo(query, locals));
    return out;
  }

  /** A copy of the vector stored at `slot` (unit-normalised in a cosine arena). */
  storedVector(slot: number): Float32Array {
    const shard = this.shards[Math.floor(slot / this.shardSlots)];
    if (shard === undefined) throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slot} is not live`);
    return shard.storedVector(slot % this.shardSlots);
  }

  /**
   * The distance from the stored vector at `from` to each of `targets[0..count)`, written to `out`
   * (graph construction's inner loop). All slots must be live; not checked here, for speed.
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    if (this.shards.length === 1) return this.shards[0]!.distancesFromSlot(from, targets, count, out);
    const S = this.shardSlots;
    const home = Math.floor(from / S);
    let sameShard = true;
    for (let j = 0; j < count && sameShard; j++) sameShard = Math.floor(targets[j]! / S) === home;
    if (sameShard) {
      const locals = this.localScratch(count);
      for (let j = 0; j < count; j++) locals[j] = targets[j]! - home * S;
      this.shards[home]!.distancesFromSlot(from - home * S, locals, count, out);
      return;
    }
    const query = this.storedVector(from);
    this.scatter(targets, count, out, (shard, locals) => shard.distancesTo(query, locals));
  }

  /** Number of shards created so far (a new shard changes what {@link share} returns). */
  get shardCount(): number {
    return this.shards.filter((s) => s !== undefined).length;
  }

  /** The shared memories a search thread reads the vectors through (`arena-reader.ts`). */
  share(): ArenaShare {
    return { dim: this.dim, metric: this.metric, shardSlots: this.shardSlots, shards: this.shards.map((s) => s?.share()) };
  }

  /** Releases every shard's memory; any later call except `isLive`/`remove` throws `ClosedError`. */
  dispose(): void {
    for (const shard of this.shards) shard?.dispose();
  }

  // ---------------------------------------------------------------- internals

  private shardAt(i: number): ArenaShard {
    while (this.shards.length <= i) this.shards.push(undefined);
    return (this.shards[i] ??= new ArenaShard(this.dim, this.metric));
  }

  private localScratch(n: number): Uint32Array {
    if (this.local.length < n) this.local = new Uint32Array(Math.max(n, this.local.length * 2));
    return this.local;
  }

  /** Calls `fn` per shard with its local slots of `slots` (every live slot of the shard when absent). */
  private forEachGroup(slots: Uint32Array | undefined, fn: (index: number, shard: ArenaShard, locals: Uint32Array | undefined) => void): void {
    const S = this.shardSlots;
    if (slots === undefined) {
      this.shards.forEach((shard, i) => {
        if (shard !== undefined && shard.liveCount > 0) fn(i, shard, undefined);
      });
      return;
    }
    const groups = new Map<number, number[]>();
    for (let j = 0; j < slots.length; j++) {
      const i = Math.floor(slots[j]! / S);
      if (this.shards[i] === undefined) continue;
      let group = groups.get(i);
      if (group === undefined) groups.set(i, (group = []));
      group.push(slots[j]! - i * S);
    }
    for (const [i, locals] of groups) fn(i, this.shards[i]!, Uint32Array.from(locals));
  }

  /** Computes `slots[0..count)`'s values shard by shard with `fn` and writes them to `out` in order. */
  private scatter(slots: Uint32Array, count: number, out: Float32Array, fn: (shard: ArenaShard, locals: Uint32Array) => Float32Array): void {
    const S = this.shardSlots;
    for (const [i, positions] of positionsByShard(slots, count, S)) {
      const shard = this.shards[i];
      if (shard === undefined) throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slots[positions[0]!]} is not live`);
      const values = fn(shard, Uint32Array.from(positions, (j) => slots[j]! - i * S));
      for (let p = 0; p < positions.length; p++) out[positions[p]!] = values[p]!;
    }
  }
}
