/**
 * Product-quantizer training with the k-means steps in WebAssembly (`pq-kernels.wat`): the same
 * algorithm, random draws and result as `trainProductQuantizer` (product-quantizer.ts + kmeans.ts),
 * computed faster.
 *
 * Equality with the oracle: k-means++ distances and their running total, the draw, the Lloyd
 * assignment (nearest centroid, first of equals, with its f64 distance) and the cluster sums are
 * reproduced in the oracle's f64 arithmetic and order (the assignment runs in f32 SIMD and
 * re-checks in f64 every centroid that could be the nearest), and centroids are the same
 * `sum / count` rounded to f32, so the result is bit-identical to `trainProductQuantizer`.
 *
 * Working memory (one WebAssembly memory per call, released on return; byte offsets, `W` the widest
 * sub-space, `K` = min(256, n) centroids, `P` = K rounded up to 16):
 *
 *   points     n·W·4   the sub-space's points, point i at i·w·4 (w ≤ W the current width)
 *   pointsT    n·W·4   the same transposed: component j of point i at (j·n + i)·4
 *   d2, best   n·8     f64: k-means++ distances, Lloyd distances of the assigned centroid
 *   assign     n·4     i32 cluster of each point
 *   cent       K·W·4   centroids, centroid c at c·w·4 (the oracle's layout)
 *   centT      W·P·4   centroids transposed (rows of P floats, lanes ≥ K hold 0)
 *   halfNorms  P·4     |c|²/2 of each centroid (f32; lanes ≥ K hold +inf)
 *   row        P·4     scratch
 *   splat      W·16    scratch (the k-means++ centroid as f64 pairs)
 *   sums       K·W·8   f64;   counts  K·4  i32
 */
import { ErrorCode, OmenDBError } from "../errors.js";
import { createMemory, instantiatePQKernels, WASM_MAX_PAGES, WASM_PAGE_BYTES as PAGE } from "../vector/wasm-kernels.js";
import { defaultSubspaces, PQ_CENTROIDS, type ProductQuantizer, subspaceOffsets, type TrainOptions } from "./product-quantizer.js";

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Trains a quantizer on `n` sample vectors stored contiguously (`n × dim`): the same contract,
 * defaults and result as `trainProductQuantizer` (bit for bit, given the same random stream),
 * with the k-means work in WebAssembly SIMD.
 * @throws RangeError for an empty sample or a bad `m` (as `trainProductQuantizer`).
 * @throws OmenDBError code `CAPACITY` when the working memory (about 8·n·⌈dim/m⌉ + 20·n bytes)
 *   exceeds 4 GiB; code `IO` when the compiled kernels are missing.
 */
export function trainProductQuantizerFast(sample: Float32Array, dim: number, options: TrainOptions): ProductQuantizer {
  const n = Math.floor(sample.length / dim);
  if (n === 0) throw new RangeError("product quantizer training needs at least one vector");
  const m = options.m ?? defaultSubspaces(dim);
  const offsets = subspaceOffsets(dim, m);
  const iterations = options.iterations ?? 8;
  const random = options.random;
  const k = Math.min(PQ_CENTROIDS, n);
  const kpad = align16(k);
  const W = Math.ceil(dim / m);

  // layout
  const pointsB = 0;
  const pointsTB = align16(pointsB + n * W * 4);
  const d2B = align16(pointsTB + n * W * 4);
  const bestB = align16(d2B + n * 8);
  const assignB = align16(bestB + n * 8);
  const centB = align16(assignB + n * 4);
  const centTB = align16(centB + k * W * 4);
  const halfNormsB = align16(centTB + W * kpad * 4);
  const rowB = align16(halfNormsB + kpad * 4);
  const splatB = align16(rowB + kpad * 4);
  const sumsB = align16(splatB + W * 16);
  const countsB = align16(sumsB + k * W * 8);
  const end = align16(countsB + k * 4);
  if (end > WASM_MAX_PAGES * PAGE) {
    throw new OmenDBError(ErrorCode.CAPACITY, `PQ training: ${n} samples need ${end} bytes of WebAssembly memory, over the 4 GiB limit`);
  }

  const memory = createMemory(Math.max(1, Math.ceil(end / PAGE)), WASM_MAX_PAGES, true);
  const kernels = instantiatePQKernels(memory);
  const f32 = new Float32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);

  const centroids = new Float32Array(dim * PQ_CENTROIDS);
  for (let s = 0; s < m; s++) {
    const lo = offsets[s]!;
    const w = offsets[s + 1]! - lo;
    // the sub-space's points, in both layouts
    const p0 = pointsB >>> 2;
    const t0 = pointsTB >>> 2;
    for (let i = 0; i < n; i++) {
      const from = i * dim + lo;
      for (let j = 0; j < w; j++) {
        const v = sample[from + j]!;
        f32[p0 + i * w + j] = v;
        f32[t0 + j * n + i] = v;
      }
    }
    const cent = f32.subarray(centB >>> 2, (centB >>> 2) + k * w);
    seedPlusPlus(n, w, k);
    lloyd(n, w, k);
    // fewer samples than centroids: repeat the last centroid (as the oracle)
    const base = lo * PQ_CENTROIDS;
    centroids.set(cent, base);
    for (let c = k; c < PQ_CENTROIDS; c++) centroids.set(cent.subarray((k - 1) * w, k * w), base + c * w);
  }
  return { dim, m, offsets, centroids };

  /** k-means++ seeding, as `seedPlusPlus` in kmeans.ts; leaves the centroids at `centB`. */
  function seedPlusPlus(count: number, w: number, clusters: number): void {
    const d2 = d2B >>> 3;
    f64.fill(Number.POSITIVE_INFINITY, d2, d2 + count);
    const p0 = pointsB >>> 2;
    const c0 = centB >>> 2;
    let pick = Math.floor(random() * count);
    for (let c = 0; c < clusters; c++) {
      f32.copyWithin(c0 + c * w, p0 + pick * w, p0 + pick * w + w);
      const total = kernels.kpp_update(pointsTB, count, w, centB + c * w * 4, d2B, splatB);
      if (c + 1 === clusters) break;
      if (total === 0) {
        pick = Math.floor(random() * count);
        continue;
      }
      pick = kernels.kpp_pick(d2B, count, random() * total);
    }
  }

  /** Lloyd iterations, as `kmeans` in kmeans.ts, on the centroids at `centB`. */
  function lloyd(count: number, w: number, clusters: number): void {
    const p0 = pointsB >>> 2;
    const c0 = centB >>> 2;
    const best = bestB >>> 3;
    const sums = sumsB >>> 3;
    const counts = countsB >>> 2;
    let maxHalfNorm = transpose(w, clusters);
    for (let iter = 0; iter < iterations; iter++) {
      const changed = kernels.kmeans_assign(
        pointsB, count, w, centTB, centB, halfNormsB, maxHalfNorm, clusters, kpad, rowB, assignB, bestB, iter === 0 ? 1 : 0,
      );
      kernels.kmeans_sums(pointsB, count, w, assignB, clusters, sumsB, countsB);
      for (let c = 0; c < clusters; c++) {
        const size = i32[counts + c]!;
        if (size === 0) {
          // re-seed an empty cluster with the worst-served point
          let far = 0;
          for (let i = 1; i < count; i++) if (f64[best + i]! > f64[best + far]!) far = i;
          f64[best + far] = 0;
          f32.copyWithin(c0 + c * w, p0 + far * w, p0 + far * w + w);
          continue;
        }
        for (let j = 0; j < w; j++) f32[c0 + c * w + j] = f64[sums + c * w + j]! / size;
      }
      maxHalfNorm = transpose(w, clusters);
      if (changed === 0) break;
    }
  }

  /**
   * Writes the transposed centroids (rows of `kpad`, padding lanes 0) and their half squared norms
   * (padding +inf); returns the largest half norm (as stored in f32).
   */
  function transpose(w: number, clusters: number): number {
    const c0 = centB >>> 2;
    const t0 = centTB >>> 2;
    const h0 = halfNormsB >>> 2;
    for (let j = 0; j < w; j++) {
      const row = t0 + j * kpad;
      for (let c = 0; c < clusters; c++) f32[row + c] = f32[c0 + c * w + j]!;
      f32.fill(0, row + clusters, row + kpad);
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < clusters; c++) {
      let norm = 0;
      for (let j = 0; j < w; j++) norm += f32[c0 + c * w + j]! ** 2;
      f32[h0 + c] = norm / 2;
      max = Math.max(max, f32[h0 + c]!);
    }
    f32.fill(Number.POSITIVE_INFINITY, h0 + clusters, h0 + kpad);
    return max;
  }
}
