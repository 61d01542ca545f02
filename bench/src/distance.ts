/**
 * Exact distances in float64, the yardstick for ground truth and recall. They match OmenDB's metric
 * definitions and the datasets' ground-truth files: cosine = 1 − cos(a, b) (0 when a vector is zero),
 * l2 = squared Euclidean distance, ip = 1 − a·b.
 */

/** The three metrics every dataset and engine here uses. */
export type MetricName = "cosine" | "l2" | "ip";

/** The exact distance between `a` and `b` under `metric`, accumulated in float64. */
export function trueDistance(metric: MetricName, a: Float32Array, b: Float32Array): number {
  const n = a.length;
  if (metric === "l2") {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
    return s;
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (metric === "ip") return 1 - dot;
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/** Scales `v` in place to unit length (a zero vector stays zero) and returns it. */
export function normalizeInPlace(v: Float32Array, start = 0, dim = v.length): Float32Array {
  let s = 0;
  for (let i = start; i < start + dim; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = start; i < start + dim; i++) v[i]! *= inv;
  }
  return v;
}
