import { describe, expect, it } from "vitest";
import { gaussian, gaussianVector, mulberry32, randomInt } from "../internal/seeded-random.js";
import { trainProductQuantizerFast } from "./pq-train-fast.js";
import { type TrainOptions, trainProductQuantizer } from "./product-quantizer.js";

/** Trains with both versions from the same seed; expects identical quantizers and random streams. */
function expectSameTraining(sample: Float32Array, dim: number, options: Omit<TrainOptions, "random">, seed: number): void {
  const slowRandom = mulberry32(seed);
  const fastRandom = mulberry32(seed);
  const slow = trainProductQuantizer(sample, dim, { ...options, random: slowRandom });
  const fast = trainProductQuantizerFast(sample, dim, { ...options, random: fastRandom });
  expect(fast.dim).toBe(slow.dim);
  expect(fast.m).toBe(slow.m);
  expect(fast.offsets).toEqual(slow.offsets);
  expect(fast.centroids.length).toBe(slow.centroids.length);
  // bit-identical, not merely close
  let differing = 0;
  for (let i = 0; i < slow.centroids.length; i++) if (!Object.is(fast.centroids[i], slow.centroids[i])) differing++;
  expect(differing).toBe(0);
  expect(fastRandom()).toBe(slowRandom());
}

describe("trainProductQuantizerFast", () => {
  it("matches trainProductQuantizer with one-wide sub-spaces (dim 7, m 7)", () => {
    const rand = mulberry32(1);
    expectSameTraining(gaussianVector(rand, 600 * 7), 7, { m: 7 }, 101);
  });

  it("matches with uneven widths (dim 100, m 13)", () => {
    const rand = mulberry32(2);
    expectSameTraining(gaussianVector(rand, 400 * 100), 100, { m: 13, iterations: 5 }, 102);
  });

  it("matches with the default m and iterations (dim 40)", () => {
    const rand = mulberry32(3);
    expectSameTraining(gaussianVector(rand, 700 * 40), 40, {}, 103);
  });

  it("matches with fewer samples than centroids (padding, k < 256)", () => {
    const rand = mulberry32(4);
    expectSameTraining(gaussianVector(rand, 37 * 12), 12, { m: 3 }, 104);
    expectSameTraining(gaussianVector(rand, 1 * 5), 5, { m: 2 }, 105);
  });

  it("matches for point counts of every residue around k = 256", () => {
    const rand = mulberry32(8);
    for (const n of [253, 254, 255, 256, 257, 258, 259, 302, 303]) {
      expectSameTraining(gaussianVector(rand, n * 6), 6, { m: 2, iterations: 3 }, 200 + n);
    }
  });

  it("matches on clustered data with duplicates (zero totals, empty clusters)", () => {
    const rand = mulberry32(5);
    const dim = 6;
    const n = 500;
    // 20 distinct points repeated: k-means++ runs out of distance (total 0) and clusters go empty
    const distinct = gaussianVector(rand, 20 * dim);
    const sample = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const at = randomInt(rand, 20) * dim;
      sample.set(distinct.subarray(at, at + dim), i * dim);
    }
    expectSameTraining(sample, dim, { m: 3, iterations: 6 }, 106);
    // a few tight blobs of near-duplicates
    const blobs = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const c = randomInt(rand, 5);
      for (let j = 0; j < dim; j++) blobs[i * dim + j] = distinct[c * dim + j]! + 1e-4 * gaussian(rand);
    }
    expectSameTraining(blobs, dim, { m: 2 }, 107);
  });

  it("matches on integer-valued data full of exact ties", () => {
    const rand = mulberry32(6);
    const dim = 8;
    const n = 800;
    const sample = new Float32Array(n * dim);
    for (let i = 0; i < sample.length; i++) sample[i] = randomInt(rand, 4);
    expectSameTraining(sample, dim, { m: 4 }, 108);
  });

  it("rejects an empty sample and a bad m as trainProductQuantizer does", () => {
    const random = mulberry32(7);
    expect(() => trainProductQuantizerFast(new Float32Array(3), 4, { random })).toThrow(RangeError);
    expect(() => trainProductQuantizerFast(new Float32Array(16), 4, { m: 5, random })).toThrow(RangeError);
  });
});
