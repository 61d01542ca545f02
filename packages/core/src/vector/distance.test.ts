import { describe, expect, it } from "vitest";
import { ErrorCode, ValidationError } from "../errors.js";
import { gaussianVector, mulberry32, randomInt } from "../internal/seeded-random.js";
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
  /**
   * Lays out a query and n vectors in a fresh memory, vector j at `base + j * stride` (bytes). The
   * bytes between vectors (when stride > dim * 4) hold NaN, so a kernel that reads them is caught.
   * `shift` (a multiple of 4) bytes move the query and vectors off 16-byte alignment.
   */
  function setup(dim: number, n: number, seed: number, shift: number, stride = dim * 4) {
    const rand = mulberry32(seed);
    const q = 16 + shift;
    const base = q + dim * 4 + 4;
    const out = Math.ceil((base + n * stride + 4) / 16) * 16;
    const pages = Math.ceil((out + 4 * (n + 2)) / 65536) + 1;
    const memory = createMemory(pages);
    const kernels = instantiateKernels(memory);
    const f32 = new Float32Array(memory.buffer);
    f32.fill(Number.NaN, base / 4, (base + n * stride) / 4);
    const query = gaussianVector(rand, dim);
    // Raw vectors of very different lengths: cosine must divide by each one's norm.
    const vectors = Array.from({ length: n }, () => {
      const v = gaussianVector(rand, dim);
      const scale = 10 ** (rand() * 6 - 3);
      for (let i = 0; i < dim; i++) v[i] = v[i]! * scale;
      return v;
    });
    const write = (byteOffset: number, v: Float32Array) => new Float32Array(memory.buffer, byteOffset, v.length).set(v);
    write(q, query);
    vectors.forEach((v, j) => write(base + j * stride, v));
    const outView = (count = n) => new Float32Array(memory.buffer, out, count);
    return { rand, memory, kernels, f32, query, vectors, q, base, out, write, outView };
  }

  const dotMagnitude = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + Math.abs(x * b[i]!), 0);

  for (const dim of DIMS) {
    for (const extra of [0, 8]) {
      const stride = dim * 4 + extra;
      it(`dim ${dim}, stride ${stride} bytes: range kernels match ip / l2 / cosine on raw vectors`, () => {
        const n = 23;
        const { kernels, query, vectors, q, base, out, write, outView } = setup(dim, n, 1000 + dim + extra, 4 * (dim % 4), stride);

        // ip: 1 − q·v
        kernels.dist_ip_range(q, base, dim, stride, n, out);
        let got = outView();
        for (let j = 0; j < n; j++) {
          const expected = distanceFor("ip", query, vectors[j]!);
          expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, dotMagnitude(query, vectors[j]!)) + 2 * EPS32 * Math.abs(expected));
        }

        // l2: |q − v|²
        kernels.dist_l2_range(q, base, dim, stride, n, out);
        got = outView();
        for (let j = 0; j < n; j++) {
          const expected = distanceFor("l2", query, vectors[j]!);
          expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(bound(dim, expected));
        }

        // cosine: a unit query against the vectors as stored (not normalised)
        write(q, normalize(query));
        kernels.dist_cos_range(q, base, dim, stride, n, out);
        got = outView();
        for (let j = 0; j < n; j++) {
          const expected = distanceFor("cosine", query, vectors[j]!);
          expect(got[j]).toBeGreaterThanOrEqual(0);
          expect(got[j]).toBeLessThanOrEqual(2);
          expect(Math.abs(got[j]! - expected)).toBeLessThanOrEqual(2 * bound(dim, 1) + 8 * EPS32);
        }

        // single-pair exports
        const unit = normalize(query);
        expect(Math.abs(kernels.l2sq(q, base, dim) - l2sq(unit, vectors[0]!))).toBeLessThanOrEqual(bound(dim, l2sq(unit, vectors[0]!)));
        expect(Math.abs(kernels.dot(q, base, dim) - dot(unit, vectors[0]!))).toBeLessThanOrEqual(bound(dim, dotMagnitude(unit, vectors[0]!)));
      });
    }
  }

  it("strided ranges read only the vectors: a stride of dim * 4 + 8 and a packed stride give the same distances", () => {
    const dim = 13;
    const n = 9;
    const packed = setup(dim, n, 404, 0, dim * 4);
    const strided = setup(dim, n, 404, 0, dim * 4 + 8);
    for (const name of ["dist_ip_range", "dist_l2_range", "dist_cos_range"] as const) {
      packed.kernels[name](packed.q, packed.base, dim, dim * 4, n, packed.out);
      strided.kernels[name](strided.q, strided.base, dim, dim * 4 + 8, n, strided.out);
      const a = Array.from(packed.outView());
      expect(a.every((d) => Number.isFinite(d))).toBe(true);
      expect(Array.from(strided.outView())).toEqual(a);
    }
  });

  it("gives a zero vector a cosine distance of exactly 1, among others and for a zero query", () => {
    for (const dim of [1, 5, 16, 37]) {
      const stride = dim * 4 + 8;
      const { kernels, f32, query, vectors, q, base, out, write, outView } = setup(dim, 5, 90 + dim, 4, stride);
      write(q, normalize(query));
      f32.fill(0, (base + 2 * stride) / 4, (base + 2 * stride) / 4 + dim);
      f32.fill(-0, (base + 4 * stride) / 4, (base + 4 * stride) / 4 + dim);
      kernels.dist_cos_range(q, base, dim, stride, 5, out);
      const got = Array.from(outView());
      expect(got[2]).toBe(1);
      expect(got[4]).toBe(1);
      for (const j of [0, 1, 3]) expect(Math.abs(got[j]! - distanceFor("cosine", query, vectors[j]!))).toBeLessThanOrEqual(1e-5);
      expect(got[2]).toBe(distanceFor("cosine", query, new Float32Array(dim)));
      // A zero query (normalize keeps it zero): every distance is 1.
      write(q, new Float32Array(dim));
      kernels.dist_cos_range(q, base, dim, stride, 5, out);
      expect(Array.from(outView())).toEqual([1, 1, 1, 1, 1]);
    }
  });

  it("list kernels read the listed entries (with repeats) at their stride, as the oracle measures them", () => {
    const dim = 37;
    const n = 9;
    const stride = Math.ceil((dim * 4) / 16) * 16;
    const memory = createMemory(2);
    const kernels = instantiateKernels(memory);
    const f32 = new Float32Array(memory.buffer);
    const u32 = new Uint32Array(memory.buffer);
    const rand = mulberry32(91);
    const q = 0;
    const base = 256;
    const listAt = base + n * stride;
    const out = listAt + 64;
    const query = gaussianVector(rand, dim);
    const vectors = Array.from({ length: n }, () => gaussianVector(rand, dim));
    const list = [8, 0, 3, 3, 5, 1];
    u32.set(list, listAt / 4);
    const check = (expected: (v: Float32Array) => number, tolerance: number) =>
      list.forEach((e, j) => expect(Math.abs(f32[out / 4 + j]! - expected(vectors[e]!)), `entry ${e}`).toBeLessThan(tolerance));
    f32.set(query, q / 4);
    vectors.forEach((v, j) => f32.set(v, (base + j * stride) / 4));
    kernels.dist_l2_list(q, base, dim, stride, listAt, list.length, out);
    check((v) => distanceFor("l2", query, v), 1e-3);
    kernels.dist_ip_list(q, base, dim, stride, listAt, list.length, out);
    check((v) => distanceFor("ip", query, v), 1e-4);
    f32.set(normalize(query), q / 4);
    vectors.forEach((v, j) => f32.set(normalize(v), (base + j * stride) / 4));
    kernels.dist_cosunit_list(q, base, dim, stride, listAt, list.length, out);
    check((v) => distanceFor("cosine", query, v), 1e-6);
    f32.set(vectors[2]!, q / 4);
    kernels.scale(q, dim, 0.5);
    vectors[2]!.forEach((x, i) => expect(f32[q / 4 + i]).toBe(Math.fround(x * 0.5)));
  });

  it("measures cosine right for vectors whose |v|² under- or overflows float32 (scaled again)", () => {
    const memory = createMemory(1, 1);
    const kernels = instantiateKernels(memory);
    const f32 = new Float32Array(memory.buffer);
    const query = [1, 0, 0, 0];
    const cases = [[1e20, 0, 0, 0], [-1e20, 0, 0, 0], [1e-25, 0, 0, 0], [3e38, 3e38, 0, 0], [1e-20, 1e-20, 0, 0], [1e-30, -2e-30, 3e-30, 0], [0, 0, 0, 0]];
    f32.set(query, 0);
    cases.forEach((v, j) => f32.set(v, 4 + 4 * j));
    kernels.dist_cos_range(0, 16, 4, 16, cases.length, 256);
    cases.forEach((v, j) => {
      const expected = distanceFor("cosine", Float32Array.from(query), Float32Array.from(v));
      expect(Math.abs(f32[64 + j]! - expected), `vector ${v.join(", ")}`).toBeLessThan(1e-6);
    });
  });

  it("writes nothing when n is 0 and exactly n outputs otherwise", () => {
    const dim = 7;
    const stride = dim * 4 + 8;
    const { memory, kernels, q, base, out } = setup(dim, 5, 3, 0, stride);
    const view = new Float32Array(memory.buffer, out, 6);
    for (const name of ["dist_ip_range", "dist_l2_range", "dist_cos_range"] as const) {
      view.fill(-42);
      kernels[name](q, base, dim, stride, 0, out);
      expect(Array.from(view)).toEqual([-42, -42, -42, -42, -42, -42]);
      kernels[name](q, base, dim, stride, 5, out);
      expect(view[4]).not.toBe(-42);
      expect(view[5]).toBe(-42);
    }
  });

  it("clamps cosine distances to [0, 2] where 1 − q·v/|v| falls outside", () => {
    const dim = 3;
    const stride = dim * 4 + 8;
    const { memory, kernels, f32, q, base, out } = setup(dim, 4, 1, 0, stride);
    const put = (j: number, v: number[]) => f32.set(v, (base + j * stride) / 4);
    // A query a rounding step longer than unit, and one well over: q·v/|v| above 1 and below −1.
    f32.set([1.0000001, 0, 0], q / 4);
    put(0, [1, 0, 0]);
    put(1, [-1.0000001, 0, 0]);
    put(2, [0, 0, 0]);
    put(3, [0, 7, 0]);
    kernels.dist_ip_range(q, base, dim, stride, 1, out);
    expect(new Float32Array(memory.buffer, out, 1)[0]).toBeLessThan(0);
    kernels.dist_cos_range(q, base, dim, stride, 4, out);
    expect(Array.from(new Float32Array(memory.buffer, out, 4))).toEqual([0, 2, 1, 1]);
    f32.set([1.5, 0, 0], q / 4);
    put(0, [3, 0, 0]);
    put(1, [-0.25, 0, 0]);
    kernels.dist_ip_range(q, base, dim, stride, 2, out);
    const raw = Array.from(new Float32Array(memory.buffer, out, 2));
    expect(raw[0]).toBeLessThan(0);
    expect(raw[1]).toBeGreaterThan(1);
    kernels.dist_cos_range(q, base, dim, stride, 4, out);
    expect(Array.from(new Float32Array(memory.buffer, out, 4))).toEqual([0, 2, 1, 1]);
  });

  it("gives exactly 0 for the l2 distance of a vector to itself and identical results for identical inputs", () => {
    for (const dim of DIMS) {
      const stride = dim * 4 + 8;
      const { f32, kernels, q, base, out, outView } = setup(dim, 2, 77 + dim, 0, stride);
      f32.copyWithin((base + stride) / 4, q / 4, q / 4 + dim);
      f32.copyWithin(base / 4, q / 4, q / 4 + dim);
      for (const name of ["dist_l2_range", "dist_ip_range", "dist_cos_range"] as const) {
        kernels[name](q, base, dim, stride, 2, out);
        const view = outView(2);
        expect(view[0]).toBe(view[1]);
        if (name === "dist_l2_range") expect(view[0]).toBe(0);
      }
    }
  });
});
