import { describe, expect, it } from "vitest";
import { ErrorCode, ValidationError } from "../errors.js";
import { gaussianVector, mulberry32, randomInt } from "../internal/seeded-random.js";
import type { Metric } from "../types.js";
import { distanceFor, dot, l2sq, norm, normalize, scoreFor } from "./distance.js";
import { createMemory, instantiateKernels } from "./wasm-kernels.js";

const DIMS = [1, 3, 4, 7, 16, 100, 384, 1536];
const EPS32 = 2 ** -23;

/**
 * A worst-case bound on the float32 kernel's rounding error: each of the 16 partial sums adds about
 * dim/16 terms, then 4 + 2 more additions; every step errs by at most one ulp of the running magnitude.
 */
function bound(dim: number, magnitude: number): number {
  return 2 * EPS32 * (Math.ceil(dim / 16) + 8) * magnitude + 1e-30;
}

describe("distance oracle", () => {
  it("computes dot, l2sq and norm", () => {
    const a = [1, 2, 3];
    const b = [4, -5, 6];
    expect(dot(a, b)).toBe(12);
    expect(l2sq(a, b)).toBe(9 + 49 + 9);
    expect(norm([3, 4])).toBe(5);
  });

  it("normalises to unit length and keeps a zero vector zero", () => {
    const u = normalize(Float32Array.of(3, 4));
    expect(Array.from(u)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const z = normalize(new Float32Array(5));
    expect(Array.from(z)).toEqual([0, 0, 0, 0, 0]);
  });

  it("follows the documented metric semantics", () => {
    const a = Float32Array.of(1, 0);
    const b = Float32Array.of(0, 2);
    const c = Float32Array.of(-3, 0);
    expect(distanceFor("cosine", a, a)).toBe(0);
    expect(distanceFor("cosine", a, b)).toBeCloseTo(1, 12);
    expect(distanceFor("cosine", a, c)).toBeCloseTo(2, 12);
    expect(distanceFor("cosine", a, new Float32Array(2))).toBe(1);
    expect(distanceFor("l2", a, b)).toBe(5);
    expect(distanceFor("ip", a, c)).toBe(4);
    expect(distanceFor("ip", b, b)).toBe(-3);
  });

  it("never returns a cosine distance below 0 for a vector and itself", () => {
    const rand = mulberry32(11);
    for (let i = 0; i < 200; i++) {
      const v = gaussianVector(rand, 1 + randomInt(rand, 300));
      const d = distanceFor("cosine", v, v);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1e-12);
    }
  });

  it("turns distances into scores", () => {
    expect(scoreFor("cosine", 0.25)).toBe(0.75);
    expect(scoreFor("ip", -3)).toBe(4);
    expect(scoreFor("l2", 0)).toBe(1);
    expect(scoreFor("l2", 3)).toBe(0.25);
  });

  it("rejects vectors of different lengths", () => {
    const err = (() => {
      try {
        dot([1, 2], [1]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe(ErrorCode.DIMENSION_MISMATCH);
  });
});

describe("wasm kernels against the oracle", () => {
  /** Lays out a query and n vectors in a fresh memory; `shift` (a multiple of 4) bytes move vectors off 16-byte alignment. */
  function setup(dim: number, n: number, seed: number, shift: number) {
    const rand = mulberry32(seed);
    const rowBytes = dim * 4;
    const q = 16 + shift;
    const base = q + rowBytes + 4;
    const slotsAt = base + n * rowBytes;
    const out = slotsAt + 4 * 2 * n;
    const pages = Math.ceil((out + 4 * 2 * n) / 65536) + 1;
    const memory = createMemory(pages);
    const kernels = instantiateKernels(memory);
    const f32 = new Float32Array(memory.buffer);
    const query = gaussianVector(rand, dim);
    const vectors = Array.from({ length: n }, () => gaussianVector(rand, dim));
    const write = (byteOffset: number, v: Float32Array) => new Float32Array(memory.buffer, byteOffset, v.length).set(v);
    write(q, query);
    vectors.forEach((v, j) => write(base + j * rowBytes, v));
    return { rand, memory, kernels, f32, query, vectors, q, base, slotsAt, out, write };
  }

  const dotMagnitude = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + Math.abs(x * b[i]!), 0);

  for (const dim of DIMS) {
    it(`dim ${dim}: range and list kernels match dot / l2sq / cosine / ip`, () => {
      const n = 23;
      const { rand, memory, kernels, query, vectors, q, base, slotsAt, out, write } = setup(dim, n, 1000 + dim, 4 * (dim % 4));
      const outView = () => new Float32Array(memory.buffer, out, 2 * n);

      // ip: 1 − q·v over consecutive vectors
      kernels.dist_ip_range(q, base, dim, n, out);
      let got = outView();
      for (let j = 0; j < n; j++) {
        const expected = distanceFor("ip", query, vectors[j]!);
        expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, dotMagnitude(query, vectors[j]!)) + 2 * EPS32 * Math.abs(expected));
      }

      // l2: |q − v|²
      kernels.dist_l2_range(q, base, dim, n, out);
      got = outView();
      for (let j = 0; j < n; j++) {
        const expected = distanceFor("l2", query, vectors[j]!);
        expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, expected));
      }

      // list kernels: a shuffled slot list with repeats, twice as long as n
      const slots = Uint32Array.from({ length: 2 * n }, () => randomInt(rand, n));
      new Uint32Array(memory.buffer, slotsAt, slots.length).set(slots);
      kernels.dist_l2_list(q, base, dim, slotsAt, slots.length, out);
      got = outView();
      for (let j = 0; j < slots.length; j++) {
        const expected = l2sq(query, vectors[slots[j]!]!);
        expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, expected));
      }
      kernels.dist_ip_list(q, base, dim, slotsAt, slots.length, out);
      got = outView();
      for (let j = 0; j < slots.length; j++) {
        const v = vectors[slots[j]!]!;
        expect(Math.abs(got[j]! - (1 - dot(query, v)))).toBeLessThanOrEqual(bound(dim, dotMagnitude(query, v)) + 2 * EPS32);
      }

      // cosine: the clamped kernels over unit vectors
      write(q, normalize(query));
      vectors.forEach((v, j) => write(base + j * dim * 4, normalize(v)));
      kernels.dist_cos_range(q, base, dim, n, out);
      got = outView();
      for (let j = 0; j < n; j++) {
        expect(Math.abs(got[j]! - distanceFor("cosine", query, vectors[j]!))).toBeLessThanOrEqual(bound(dim, 1) + 4 * EPS32);
      }
      kernels.dist_cos_list(q, base, dim, slotsAt, slots.length, out);
      got = outView();
      for (let j = 0; j < slots.length; j++) {
        const expected = distanceFor("cosine", query, vectors[slots[j]!]!);
        expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, 1) + 4 * EPS32);
      }

      // single-pair exports
      expect(Math.abs(kernels.l2sq(q, base, dim) - l2sq(normalize(query), normalize(vectors[0]!)))).toBeLessThanOrEqual(bound(dim, 4));
      expect(Math.abs(kernels.dot(q, base, dim) - dot(normalize(query), normalize(vectors[0]!)))).toBeLessThanOrEqual(bound(dim, 1));
    });
  }

  it("writes nothing when n is 0 and exactly n outputs otherwise", () => {
    const dim = 7;
    const { memory, kernels, q, base, out } = setup(dim, 5, 3, 0);
    const view = new Float32Array(memory.buffer, out, 6);
    view.fill(-42);
    kernels.dist_l2_range(q, base, dim, 0, out);
    expect(Array.from(view)).toEqual([-42, -42, -42, -42, -42, -42]);
    kernels.dist_ip_range(q, base, dim, 5, out);
    expect(view[4]).not.toBe(-42);
    expect(view[5]).toBe(-42);
  });

  it("clamps cosine distances to [0, 2] where 1 − q·v falls outside by rounding", () => {
    const dim = 3;
    const { memory, kernels, q, base, out } = setup(dim, 3, 1, 0);
    const f32 = new Float32Array(memory.buffer);
    // q·v slightly above 1 and slightly below −1 (not unit vectors, as rounding can produce)
    f32.set([1.0000001, 0, 0], q / 4);
    f32.set([1.0000001, 0, 0, -1.0000001, 0, 0, 0, 1, 0], base / 4);
    kernels.dist_ip_range(q, base, dim, 3, out);
    const raw = Array.from(new Float32Array(memory.buffer, out, 3));
    expect(raw[0]).toBeLessThan(0);
    expect(raw[1]).toBeGreaterThan(2);
    kernels.dist_cos_range(q, base, dim, 3, out);
    expect(Array.from(new Float32Array(memory.buffer, out, 3))).toEqual([0, 2, 1]);
  });

  it("gives exactly 0 for the l2 distance of a vector to itself and identical results for identical inputs", () => {
    const metrics: Metric[] = ["l2", "ip"];
    for (const dim of DIMS) {
      const { memory, kernels, q, base, out } = setup(dim, 2, 77 + dim, 0);
      new Float32Array(memory.buffer).copyWithin(base / 4 + dim, q / 4, q / 4 + dim);
      new Float32Array(memory.buffer).copyWithin(base / 4, q / 4, q / 4 + dim);
      for (const metric of metrics) {
        (metric === "l2" ? kernels.dist_l2_range : kernels.dist_ip_range)(q, base, dim, 2, out);
        const view = new Float32Array(memory.buffer, out, 2);
        expect(view[0]).toBe(view[1]);
        if (metric === "l2") expect(view[0]).toBe(0);
      }
    }
  });
});
