/**
 * k-means with k-means++ seeding (Arthur & Vassilvitskii, 2007) over small sub-vectors, as product
 * quantization trains one codebook per sub-space. Pure and deterministic: every random choice comes
 * from the injected generator.
 *
 * INVARIANT: the result holds exactly `k` centroids; an empty cluster is re-seeded from the point
 * farthest from its centroid, so no centroid is left unused while points remain.
 */

/** Options of {@link kmeans}. */
export interface KMeansOptions {
  /** Number of centroids (clamped to the number of points). */
  k: number;
  /** Lloyd iterations after seeding. Default 10. */
  iterations?: number;
  /** Uniform random numbers in [0, 1). */
  random: () => number;
}

/**
 * Clusters `n` points of `dim` floats stored contiguously in `points`; returns `k × dim` centroids.
 */
export function kmeans(points: Float32Array, dim: number, options: KMeansOptions): Float32Array {
  const n = Math.floor(points.length / dim);
  const k = Math.min(options.k, n);
  const centroids = seedPlusPlus(points, n, dim, k, options.random);
  const assign = new Int32Array(n);
  const best = new Float64Array(n);
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  const iterations = options.iterations ?? 10;
  for (let iter = 0; iter < iterations; iter++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const [c, d] = nearest(points, i * dim, centroids, k, dim);
      if (c !== assign[i] || iter === 0) changed++;
      assign[i] = c;
      best[i] = d;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      counts[c]!++;
      for (let j = 0; j < dim; j++) sums[c * dim + j]! += points[i * dim + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // Re-seed an empty cluster with the worst-served point.
        let far = 0;
        for (let i = 1; i < n; i++) if (best[i]! > best[far]!) far = i;
        best[far] = 0;
        for (let j = 0; j < dim; j++) centroids[c * dim + j] = points[far * dim + j]!;
        continue;
      }
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j]! / counts[c]!;
    }
    if (changed === 0) break;
  }
  return centroids;
}

/** Index and squared distance of the centroid nearest to the point at `offset`. */
export function nearest(points: Float32Array, offset: number, centroids: Float32Array, k: number, dim: number): [number, number] {
  let bestC = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    let d = 0;
    const base = c * dim;
    for (let j = 0; j < dim; j++) {
      const t = points[offset + j]! - centroids[base + j]!;
      d += t * t;
    }
    if (d < bestD) {
      bestD = d;
      bestC = c;
    }
  }
  return [bestC, bestD];
}

function seedPlusPlus(points: Float32Array, n: number, dim: number, k: number, random: () => number): Float32Array {
  const centroids = new Float32Array(k * dim);
  const d2 = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(pick * dim, pick * dim + dim), c * dim);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const t = points[i * dim + j]! - centroids[c * dim + j]!;
        d += t * t;
      }
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
    if (c + 1 === k) break;
    if (total === 0) {
      pick = Math.floor(random() * n); // all points coincide with a centroid: any choice is as good
      continue;
    }
    let r = random() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d2[i]!;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}
