/**
 * A small, fast, seeded pseudo-random source for tests and benchmarks: the same seed always gives
 * the same sequence on every platform. Not for anything that needs unpredictability.
 *
 * Generator: mulberry32 (Tommy Ettinger's 32-bit state mixer): one 32-bit state advanced by the
 * Weyl increment 0x6D2B79F5, output through two xorshift-multiply rounds; period 2^32. Gaussian
 * values use the Box–Muller transform on two uniform draws.
 */

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/**
 * A mulberry32 generator seeded with `seed` (any number; only its low 32 bits are used). Each call
 * returns a uniform number in [0, 1) with 32 random bits.
 */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal draw (mean 0, variance 1) from `random`, by the Box–Muller transform. */
export function gaussian(random: RandomSource): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A vector of `dim` independent standard normal values. */
export function gaussianVector(random: RandomSource, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = gaussian(random);
  return out;
}

/** An integer uniform in [0, n) (n ≥ 1). */
export function randomInt(random: RandomSource, n: number): number {
  return Math.floor(random() * n);
}
