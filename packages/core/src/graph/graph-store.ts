/**
 * How the graph sees vectors: only through batched distance callbacks, so it never imports storage,
 * the WAL or SQLite (the role of DiskANN's data provider). One call computes a whole batch.
 */

/** Writes the distance from the current query to each of `targets[0..count)` into `out`. */
export type DistanceFromQuery = (targets: Uint32Array, count: number, out: Float32Array) => void;

/** Distances between stored vectors, by slot (graph construction): a `VectorArena` or `VectorReader` is one. */
export interface SlotDistances {
  /** Writes the distance from the stored vector of `from` to each of `targets[0..count)` into `out`. */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void;
  /**
   * The first i in [0, count) whose distance from `from` to `targets[i]` (exactly as
   * {@link distancesFromSlot} gives it) is ≤ `limit`, or −1: a prune's cover test, which need not
   * measure past the first cover.
   */
  firstWithin(from: number, targets: Uint32Array, count: number, limit: number): number;
}

/** {@link SlotDistances} over a plain batched distance function (`firstWithin` measures the whole batch). */
export function slotDistances(distances: SlotDistances["distancesFromSlot"]): SlotDistances {
  let out = new Float32Array(64);
  return {
    distancesFromSlot: distances,
    firstWithin(from, targets, count, limit) {
      if (out.length < count) out = new Float32Array(count * 2);
      distances(from, targets, count, out);
      for (let i = 0; i < count; i++) if (out[i]! <= limit) return i;
      return -1;
    },
  };
}
