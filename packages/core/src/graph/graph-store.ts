/**
 * How the graph sees vectors: only through batched distance callbacks, so it never imports storage,
 * the WAL or SQLite (the role of DiskANN's data provider). One call computes a whole batch.
 */

/** Writes the distance from the current query to each of `targets[0..count)` into `out`. */
export type DistanceFromQuery = (targets: Uint32Array, count: number, out: Float32Array) => void;

/** Writes the distance from the stored vector of `from` to each of `targets[0..count)` into `out`. */
export type DistanceFromSlot = (from: number, targets: Uint32Array, count: number, out: Float32Array) => void;
