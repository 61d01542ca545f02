/**
 * Product quantization (Jégou, Douze & Schmid, 2011): a vector is cut into `m` contiguous sub-vectors
 * and each is replaced by the index of its nearest of 256 centroids, one byte per sub-space. Queries
 * stay exact ("asymmetric distance computation"): a per-query table holds the distance from each
 * query sub-vector to every centroid, and a code's distance is the sum of `m` table lookups.
 *
 * Sub-spaces: `dim` is split into `m` parts whose sizes differ by at most one (the first `dim % m`
 * parts are one longer). Default `m`: see {@link defaultSubspaces} — 192 bytes a vector at 1536 dimensions.
 *
 * Table semantics: for `"l2"` an entry is the squared L2 distance of the sub-vectors, so a code's
 * sum approximates the squared L2 distance; for `"ip"` an entry is minus their dot product, so
 * `1 + sum` approximates `1 − q·x`. An index over unit vectors (cosine) walks on the `"l2"` table:
 * see `ann-index.ts`.
 */
import { kmeans } from "./kmeans.js";

/** Centroids per sub-space (one byte per code). */
export const PQ_CENTROIDS = 256;

/** A trained product quantizer. */
export interface ProductQuantizer {
  readonly dim: number;
  /** Number of sub-spaces = bytes per code. */
  readonly m: number;
  /** Sub-space `s` covers dimensions `[offsets[s], offsets[s + 1])`. */
  readonly offsets: Int32Array;
  /** For each sub-space `s`, 256 centroids of its width, stored from `offsets[s] * 256`. */
  readonly centroids: Float32Array;
}

/** Options of {@link trainProductQuantizer}. */
export interface TrainOptions {
  /** Sub-spaces; default {@link defaultSubspaces}. */
  m?: number;
  /** k-means iterations per sub-space; default 8. */
  iterations?: number;
  /** Uniform random numbers in [0, 1). */
  random: () => number;
}

/**
 * The default number of sub-spaces for `dim`: 64 bytes a vector, but no fewer than one byte per 8
 * dimensions and no more than one per 2 (100 → 50, 384 → 64, 1536 → 192). Measured on
 * glove-100-angular-100k: one byte per 8 dimensions caps recall@10 near 0.77 at efSearch 100; one per
 * 2 reaches 0.98.
 */
export function defaultSubspaces(dim: number): number {
  return Math.max(1, Math.ceil(Math.min(dim / 2, Math.max(dim / 8, 64))));
}

/** Sub-space boundaries for `dim` split into `m` near-equal parts. */
export function subspaceOffsets(dim: number, m: number): Int32Array {
  if (!Number.isInteger(m) || m < 1 || m > dim) throw new RangeError(`PQ sub-spaces must be an integer in [1, ${dim}], got ${m}`);
  const offsets = new Int32Array(m + 1);
  const base = Math.floor(dim / m);
  const extra = dim % m;
  for (let s = 0; s < m; s++) offsets[s + 1] = offsets[s]! + base + (s < extra ? 1 : 0);
  return offsets;
}

/**
 * Trains a quantizer on `n` sample vectors stored contiguously (`n × dim`). The sample should be a
 * few thousand vectors or more; with fewer than 256 a sub-space gets as many centroids as samples.
 */
export function trainProductQuantizer(sample: Float32Array, dim: number, options: TrainOptions): ProductQuantizer {
  const n = Math.floor(sample.length / dim);
  if (n === 0) throw new RangeError("product quantizer training needs at least one vector");
  const m = options.m ?? defaultSubspaces(dim);
  const offsets = subspaceOffsets(dim, m);
  const centroids = new Float32Array(dim * PQ_CENTROIDS);
  for (let s = 0; s < m; s++) {
    const lo = offsets[s]!;
    const width = offsets[s + 1]! - lo;
    const sub = new Float32Array(n * width);
    for (let i = 0; i < n; i++) sub.set(sample.subarray(i * dim + lo, i * dim + lo + width), i * width);
    const trained = kmeans(sub, width, { k: PQ_CENTROIDS, iterations: options.iterations ?? 8, random: options.random });
    // Fewer samples than centroids: repeat the last centroid so every code byte decodes to something.
    const base = lo * PQ_CENTROIDS;
    centroids.set(trained, base);
    const have = trained.length / width;
    for (let c = have; c < PQ_CENTROIDS; c++) centroids.set(trained.subarray((have - 1) * width, have * width), base + c * width);
  }
  return { dim, m, offsets, centroids };
}

/** Writes the `m`-byte code of `vector` into `out` at `outOffset`. */
export function encodeVector(pq: ProductQuantizer, vector: Float32Array, out: Uint8Array, outOffset = 0): void {
  for (let s = 0; s < pq.m; s++) {
    const lo = pq.offsets[s]!;
    const width = pq.offsets[s + 1]! - lo;
    const base = lo * PQ_CENTROIDS;
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      let d = 0;
      const at = base + c * width;
      for (let j = 0; j < width; j++) {
        const t = vector[lo + j]! - pq.centroids[at + j]!;
        d += t * t;
      }
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    out[outOffset + s] = best;
  }
}

/** Reconstructs the approximate vector a code stands for. */
export function decodeVector(pq: ProductQuantizer, code: Uint8Array, codeOffset = 0, out = new Float32Array(pq.dim)): Float32Array {
  for (let s = 0; s < pq.m; s++) {
    const lo = pq.offsets[s]!;
    const width = pq.offsets[s + 1]! - lo;
    const at = lo * PQ_CENTROIDS + code[codeOffset + s]! * width;
    for (let j = 0; j < width; j++) out[lo + j] = pq.centroids[at + j]!;
  }
  return out;
}

/**
 * The per-query table, `m × 256` floats: entry `[s][c]` is the distance part of sub-space `s` if the
 * vector's code there is `c` (see the module comment for the two kinds).
 */
export function distanceTable(pq: ProductQuantizer, query: Float32Array, kind: "l2" | "ip", out = new Float32Array(pq.m * PQ_CENTROIDS)): Float32Array {
  for (let s = 0; s < pq.m; s++) {
    const lo = pq.offsets[s]!;
    const width = pq.offsets[s + 1]! - lo;
    const base = lo * PQ_CENTROIDS;
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      let d = 0;
      const at = base + c * width;
      if (kind === "l2") {
        for (let j = 0; j < width; j++) {
          const t = query[lo + j]! - pq.centroids[at + j]!;
          d += t * t;
        }
      } else {
        for (let j = 0; j < width; j++) d -= query[lo + j]! * pq.centroids[at + j]!;
      }
      out[s * PQ_CENTROIDS + c] = d;
    }
  }
  return out;
}

/** Sum of table lookups for one code: the asymmetric distance (before the `1 +` of the ip kind). */
export function tableDistance(table: Float32Array, code: Uint8Array, codeOffset: number, m: number): number {
  let d = 0;
  for (let s = 0; s < m; s++) d += table[s * PQ_CENTROIDS + code[codeOffset + s]!]!;
  return d;
}
