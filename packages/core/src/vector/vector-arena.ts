/**
 * Exact vector search over one collection, by slot: which slots are live, and the distances to their
 * vectors, read from the collection's vector file (`vector-reader.ts`: through a memory map, or with
 * positional reads). The vectors stay in the file — in the OS page cache, not in this process's own
 * memory — so opening a collection reads none of them.
 *
 * INVARIANTS
 * - `live[s] === 1` ⇔ slot s is live: its vector is in the vector file (written before
 *   {@link VectorArena.setLive}) and search returns it; `liveCount` counts them.
 * - `slotLimit` is one past the highest live slot (0 when none).
 * - Results are ascending by distance, ties by smaller slot.
 * - Distances: cosine 1 − q̂·v̂ (clamped to [0, 2]), ip 1 − q·v, l2 |q − v|², as in `distance.ts`.
 */
import { ClosedError, ErrorCode, ValidationError } from "../errors.js";
import { TopK } from "../internal/topk.js";
import type { Metric } from "../types.js";
import { defaultVectorReads, type VectorReads } from "../storage/vector-pages.js";
import { VectorReader, type VectorShare } from "./vector-reader.js";

/** The result of {@link VectorArena.search}: parallel arrays, ascending by distance then slot. */
export interface ArenaHits {
  slots: Uint32Array;
  distances: Float32Array;
}

/** Exact vector search over one collection's vectors, by slot. */
export class VectorArena {
  private liveTotal = 0;
  private limit = 0;
  private live = new Uint8Array(1024);
  private reader: VectorReader | undefined;
  private scan = new Float32Array(0);

  /**
   * @param path the collection's vector file (it must exist, with a checked header)
   * @param dim vector length (a positive integer)
   * @param metric how distances are computed
   * @param reads how the file is read; default `defaultVectorReads()`
   * @throws ValidationError code `INVALID_OPTION` for a bad `dim`; OmenDBError code `IO` when the
   *   file cannot be opened or mapped.
   */
  constructor(
    path: string,
    readonly dim: number,
    readonly metric: Metric,
    reads: VectorReads = defaultVectorReads(),
  ) {
    if (!Number.isInteger(dim) || dim < 1 || dim * 4 > 0xffffffff) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: dimension must be a positive integer, got ${dim}`);
    }
    this.reader = new VectorReader({ path, dim, metric, reads });
  }

  /** The number of live slots. */
  get liveCount(): number {
    return this.liveTotal;
  }

  /** One past the highest live slot (0 when the arena is empty). */
  get slotLimit(): number {
    return this.limit;
  }

  /** True when `slot` is live. */
  isLive(slot: number): boolean {
    return this.live[slot] === 1;
  }

  /**
   * Marks `slot` live; its vector must already be in the vector file (a rewritten record replaces
   * what the reader had cached).
   * @throws ValidationError code `INVALID_OPTION` for a slot that is not a u32 below 2³² − 1.
   */
  setLive(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xfffffffe) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot must be a non-negative integer, got ${slot}`);
    }
    if (slot >= this.live.length) {
      const grown = new Uint8Array(Math.max(slot + 1, this.live.length * 2));
      grown.set(this.live);
      this.live = grown;
    }
    this.reader?.forget(slot);
    if (this.live[slot] !== 1) {
      this.live[slot] = 1;
      this.liveTotal++;
    }
    this.limit = Math.max(this.limit, slot + 1);
  }

  /** Marks `slot` dead (search skips it); unknown or already dead slots are ignored. */
  remove(slot: number): void {
    if (this.live[slot] !== 1) return;
    this.reader?.forget(slot);
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
    const reader = this.open();
    this.checkQuery(query);
    if (!Number.isInteger(k) || k < 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: k must be a non-negative integer, got ${k}`);
    }
    const live = this.live;
    const limit = this.limit;
    if (k === 0 || this.liveTotal === 0) return { slots: new Uint32Array(0), distances: new Float32Array(0) };
    // A full scan reads every slot below the limit; when most are dead, scan a list of live ones.
    let list: Uint32Array | undefined;
    if (slots !== undefined) {
      let count = 0;
      for (let j = 0; j < slots.length; j++) if (live[slots[j]!] === 1) count++;
      list = new Uint32Array(count);
      for (let j = 0, i = 0; j < slots.length; j++) if (live[slots[j]!] === 1) list[i++] = slots[j]!;
    } else if (this.liveTotal * 2 < limit) {
      list = new Uint32Array(this.liveTotal);
      for (let s = 0, j = 0; s < limit; s++) if (live[s] === 1) list[j++] = s;
    }
    const heap = new TopK(Math.min(k, list === undefined ? this.liveTotal : list.length));
    if (list === undefined) {
      const out = this.scratch(reader.chunk);
      for (let first = 0; first < limit; first += reader.chunk) {
        const n = Math.min(reader.chunk, limit - first);
        reader.distancesToRange(query, first, n, out);
        for (let j = 0; j < n; j++) if (live[first + j] === 1) heap.push(out[j]!, first + j);
      }
    } else {
      const distances = reader.distancesTo(query, list);
      for (let j = 0; j < list.length; j++) heap.push(distances[j]!, list[j]!);
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
    const reader = this.open();
    this.checkQuery(query);
    for (let j = 0; j < slots.length; j++) {
      if (this.live[slots[j]!] !== 1) {
        throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slots[j]} is not live`);
      }
    }
    return reader.distancesTo(query, slots);
  }

  /** A copy of the vector stored at `slot` (unit-normalised in a cosine arena). */
  storedVector(slot: number): Float32Array {
    const reader = this.open();
    if (this.live[slot] !== 1) throw new ValidationError(ErrorCode.INVALID_OPTION, `vector arena: slot ${slot} is not live`);
    return reader.storedVector(slot);
  }

  /**
   * The distance from the stored vector at `from` to each of `targets[0..count)`, written to `out`
   * (graph construction's inner loop). All slots must be live; not checked here, for speed.
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    this.open().distancesFromSlot(from, targets, count, out);
  }

  /** The first of `targets[0..count)` within `limit` of the vector at `from`, or −1 (see `VectorReader.firstWithin`). */
  firstWithin(from: number, targets: Uint32Array, count: number, limit: number): number {
    return this.open().firstWithin(from, targets, count, limit);
  }

  /** What a search or build thread needs to read these vectors with its own `VectorReader`. */
  share(): VectorShare {
    return this.open().share;
  }

  /** Closes the vector file; any later call except `isLive`/`remove` throws `ClosedError`. */
  dispose(): void {
    this.reader?.close();
    this.reader = undefined;
    this.live = new Uint8Array(0);
    this.liveTotal = 0;
    this.limit = 0;
  }

  // ---------------------------------------------------------------- internals

  private open(): VectorReader {
    if (this.reader === undefined) throw new ClosedError("vector arena was disposed");
    return this.reader;
  }

  private checkQuery(query: Float32Array): void {
    if (query.length !== this.dim) {
      throw new ValidationError(
        ErrorCode.DIMENSION_MISMATCH,
        `vector arena: expected a query of dimension ${this.dim}, got ${query.length}`,
      );
    }
  }

  private scratch(n: number): Float32Array {
    if (this.scan.length < n) this.scan = new Float32Array(n);
    return this.scan;
  }
}
