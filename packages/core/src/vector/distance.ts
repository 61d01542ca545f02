/**
 * Pure-TypeScript distance functions: the reference the WebAssembly kernels are tested against, and
 * the one place metric semantics are written down in code (see {@link Metric}).
 *
 * Arithmetic is in float64 over the float32 inputs, so these are at least as accurate as the kernels
 * (which accumulate in float32); compare the two with a tolerance, never for equality.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import type { Metric } from "../types.js";

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new ValidationError(ErrorCode.DIMENSION_MISMATCH, `vectors differ in length: ${a.length} vs ${b.length}`);
  }
}

/**
 * The inner product a · b.
 * @throws ValidationError code `DIMENSION_MISMATCH` when the lengths differ.
 */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The squared Euclidean distance |a − b|².
 * @throws ValidationError code `DIMENSION_MISMATCH` when the lengths differ.
 */
export function l2sq(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

/** The Euclidean length |a|. */
export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/**
 * Writes `a / |a|` into `out` (which may be `a` itself) and returns `out`. A zero vector stays zero
 * (it has no direction; its cosine distance to anything is 1).
 */
export function normalizeInto(a: ArrayLike<number>, out: Float32Array): Float32Array {
  const n = norm(a);
  if (n === 0) {
    out.fill(0, 0, a.length);
  } else {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! / n;
  }
  return out;
}

/** A new unit-length copy of `a`; a zero vector stays zero. */
export function normalize(a: ArrayLike<number>): Float32Array {
  return normalizeInto(a, new Float32Array(a.length));
}

/**
 * The distance between `a` and `b` under `metric` (smaller is closer):
 * - `"cosine"`: 1 − cos(a, b), clamped to [0, 2]; 1 when either vector is zero.
 * - `"l2"`: the squared Euclidean distance.
 * - `"ip"`: 1 − a · b.
 * @throws ValidationError code `DIMENSION_MISMATCH` when the lengths differ.
 */
export function distanceFor(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  switch (metric) {
    case "l2":
      return l2sq(a, b);
    case "ip":
      return 1 - dot(a, b);
    case "cosine": {
      const d = dot(a, b);
      const n = norm(a) * norm(b);
      return n === 0 ? 1 : clampCosineDistance(1 - d / n);
    }
  }
}

/** Clamps a cosine distance to its range [0, 2]; rounding could otherwise give −1e-16 for a vector and itself. */
function clampCosineDistance(distance: number): number {
  return distance < 0 ? 0 : distance > 2 ? 2 : distance;
}

/**
 * The score (bigger is better) of a distance under `metric`: cosine → 1 − d (the cosine similarity),
 * l2 → 1 / (1 + d), ip → 1 − d (the inner product).
 */
export function scoreFor(metric: Metric, distance: number): number {
  return metric === "l2" ? 1 / (1 + distance) : 1 - distance;
}
