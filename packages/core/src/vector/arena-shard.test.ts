import { describe, expect, it } from "vitest";
import { ClosedError, ErrorCode, OmenDBError, ValidationError } from "../errors.js";
import { gaussianVector, mulberry32, randomInt, type RandomSource } from "../internal/seeded-random.js";
import type { Metric } from "../types.js";
import { distanceFor } from "./distance.js";
import { ArenaShard } from "./arena-shard.js";

const METRICS: Metric[] = ["cosine", "l2", "ip"];

/** Brute force with the TypeScript oracle: ascending by distance, ties by smaller slot. */
function bruteForce(metric: Metric, query: Float32Array, vectors: Map<number, Float32Array>, k: number, only?: Iterable<number>) {
  const slots = only === undefined ? [...vectors.keys()] : [...only].filter((s) => vectors.has(s));
  const scored = slots.map((s) => ({ slot: s, distance: distanceFor(metric, query, vectors.get(s)!) }));
  scored.sort((a, b) => a.distance - b.distance || a.slot - b.slot);
  return scored.slice(0, k);
}

/** Distances agree within 1e-5, relative to the magnitude for large l2 distances. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
}

function expectMatchesBruteForce(
  arena: ArenaShard,
  metric: Metric,
  query: Float32Array,
  vectors: Map<number, Float32Array>,
  k: number,
  only?: Uint32Array,
): void {
  const hits = arena.search(query, k, only);
  const expected = bruteForce(metric, query, vectors, k, only);
  expect(Array.from(hits.slots)).toEqual(expected.map((e) => e.slot));
  expected.forEach((e, i) => expectClose(hits.distances[i]!, e.distance));
  for (let i = 1; i < hits.distances.length; i++) expect(hits.distances[i]!).toBeGreaterThanOrEqual(hits.distances[i - 1]!);
}

function fill(arena: ArenaShard, rand: RandomSource, n: number, dim: number): Map<number, Float32Array> {
  const vectors = new Map<number, Float32Array>();
  for (let s = 0; s < n; s++) {
    const v = gaussianVector(rand, dim);
    arena.set(s, v);
    vectors.set(s, v);
  }
  return vectors;
}

function codeOf(fn: () => unknown): { error: unknown; code: string | undefined } {
  try {
    fn();
  } catch (error) {
    return { error, code: (error as OmenDBError).code };
  }
  return { error: undefined, code: undefined };
}

describe("ArenaShard", () => {
  for (const metric of METRICS) {
    for (const dim of [3, 16, 100]) {
      it(`${metric}, dim ${dim}: search equals brute force, with dead slots, any k`, () => {
        const rand = mulberry32(dim * 31 + metric.length);
        const arena = new ArenaShard(dim, metric);
        const vectors = fill(arena, rand, 300, dim);
        // kill a third, including the highest slot
        for (let s = 0; s < 300; s += 3) {
          arena.remove(s);
          vectors.delete(s);
        }
        arena.remove(299);
        vectors.delete(299);
        expect(arena.liveCount).toBe(vectors.size);
        expect(arena.slotLimit).toBe(299); // 298 is the highest live slot (297 was removed)
        expect(arena.isLive(0)).toBe(false);
        expect(arena.isLive(1)).toBe(true);
        for (let t = 0; t < 5; t++) {
          const query = gaussianVector(rand, dim);
          for (const k of [1, 10, 57]) expectMatchesBruteForce(arena, metric, query, vectors, k);
          const all = arena.search(query, 10_000);
          expect(all.slots.length).toBe(vectors.size);
          expectMatchesBruteForce(arena, metric, query, vectors, 10_000);
        }
        arena.dispose();
      });
    }

    it(`${metric}: candidate-slot search equals brute force over the candidates`, () => {
      const dim = 24;
      const rand = mulberry32(404 + metric.length);
      const arena = new ArenaShard(dim, metric);
      const vectors = fill(arena, rand, 500, dim);
      for (let t = 0; t < 10; t++) {
        const chosen = new Set<number>();
        const m = 1 + randomInt(rand, 120);
        while (chosen.size < m) chosen.add(randomInt(rand, 500));
        const candidates = Uint32Array.from(chosen);
        const query = gaussianVector(rand, dim);
        for (const k of [1, 5, 10, m, m + 3]) expectMatchesBruteForce(arena, metric, query, vectors, k, candidates);
      }
      // dead candidates are skipped
      arena.remove(7);
      vectors.delete(7);
      const query = gaussianVector(rand, dim);
      expectMatchesBruteForce(arena, metric, query, vectors, 3, Uint32Array.of(7, 8, 9, 10));
      expect(arena.search(query, 3, Uint32Array.of(7)).slots.length).toBe(0);
      expect(arena.search(query, 3, new Uint32Array(0)).slots.length).toBe(0);
    });

    it(`${metric}: distancesTo matches the oracle in the order given`, () => {
      const dim = 37;
      const rand = mulberry32(55);
      const arena = new ArenaShard(dim, metric);
      const vectors = fill(arena, rand, 50, dim);
      const query = gaussianVector(rand, dim);
      const slots = Uint32Array.of(49, 0, 3, 3, 17);
      const got = arena.distancesTo(query, slots);
      expect(got.length).toBe(slots.length);
      slots.forEach((s, i) => expectClose(got[i]!, distanceFor(metric, query, vectors.get(s)!)));
      // a copy: the next search does not change it
      const before = Array.from(got);
      arena.search(gaussianVector(rand, dim), 5);
      expect(Array.from(got)).toEqual(before);
      arena.remove(17);
      const { error, code } = codeOf(() => arena.distancesTo(query, slots));
      expect(error).toBeInstanceOf(ValidationError);
      expect(code).toBe(ErrorCode.INVALID_OPTION);
    });
  }

  it("takes the sparse path (most slots dead) and still equals brute force", () => {
    const dim = 8;
    const rand = mulberry32(8);
    for (const metric of METRICS) {
      const arena = new ArenaShard(dim, metric);
      const vectors = fill(arena, rand, 1000, dim);
      for (let s = 0; s < 1000; s++) {
        if (s % 10 !== 4) {
          arena.remove(s);
          vectors.delete(s);
        }
      }
      expect(arena.liveCount).toBe(100);
      expect(arena.slotLimit).toBe(995);
      const query = gaussianVector(rand, dim);
      for (const k of [1, 10, 100, 101]) expectMatchesBruteForce(arena, metric, query, vectors, k);
    }
  });

  it("breaks distance ties by the smaller slot", () => {
    const rand = mulberry32(3);
    for (const metric of METRICS) {
      const arena = new ArenaShard(5, metric);
      const v = gaussianVector(rand, 5);
      const far = gaussianVector(rand, 5).map((x) => x * 100);
      for (const s of [9, 2, 30, 4]) arena.set(s, v);
      arena.set(0, far);
      arena.set(1, far);
      const hits = arena.search(v, 3);
      expect(Array.from(hits.slots)).toEqual([2, 4, 9]);
      expect(hits.distances[0]).toBe(hits.distances[2]);
      expect(Array.from(arena.search(v, 3, Uint32Array.of(30, 9, 4)).slots)).toEqual([4, 9, 30]);
    }
  });

  it("handles k = 0, an empty arena and k larger than the live count", () => {
    const arena = new ArenaShard(4, "l2");
    const q = Float32Array.of(1, 2, 3, 4);
    expect(arena.search(q, 5).slots.length).toBe(0);
    arena.set(3, Float32Array.of(1, 2, 3, 5));
    arena.set(1, Float32Array.of(0, 0, 0, 0));
    expect(arena.search(q, 0).slots.length).toBe(0);
    expect(arena.search(q, 0).distances.length).toBe(0);
    const hits = arena.search(q, 100);
    expect(Array.from(hits.slots)).toEqual([3, 1]);
    expect(Array.from(hits.distances)).toEqual([1, 30]);
    arena.remove(3);
    arena.remove(1);
    arena.remove(1);
    expect(arena.liveCount).toBe(0);
    expect(arena.slotLimit).toBe(0);
    expect(arena.search(q, 5).slots.length).toBe(0);
  });

  it("replaces the vector of a live slot without changing the live count", () => {
    const arena = new ArenaShard(2, "l2");
    arena.set(0, Float32Array.of(10, 10));
    arena.set(1, Float32Array.of(5, 5));
    arena.set(0, Float32Array.of(0, 0));
    expect(arena.liveCount).toBe(2);
    expect(Array.from(arena.search(Float32Array.of(0, 0), 1).slots)).toEqual([0]);
    arena.remove(0);
    arena.set(0, Float32Array.of(1, 0));
    expect(arena.liveCount).toBe(2);
    expect(Array.from(arena.search(Float32Array.of(0, 0), 2).distances)).toEqual([1, 50]);
  });

  it("grows its memory past the initial size and keeps earlier vectors intact", () => {
    const dim = 1536;
    const rand = mulberry32(1536);
    const arena = new ArenaShard(dim, "cosine");
    const initial = arena.memoryBytes;
    const vectors = fill(arena, rand, 20, dim);
    const early = arena.memoryBytes;
    // skip ahead: a hole of never-set slots, then more vectors, several growth steps
    for (let s = 900; s < 1500; s++) {
      const v = gaussianVector(rand, dim);
      arena.set(s, v);
      vectors.set(s, v);
    }
    expect(arena.memoryBytes).toBeGreaterThan(early);
    expect(early).toBeGreaterThanOrEqual(initial);
    expect(arena.memoryBytes).toBeGreaterThanOrEqual(1500 * dim * 4);
    expect(arena.liveCount).toBe(620);
    expect(arena.isLive(500)).toBe(false);
    for (const s of [0, 7, 19, 900, 1499]) {
      const hits = arena.search(vectors.get(s)!, 1);
      expect(hits.slots[0]).toBe(s);
      expect(hits.distances[0]).toBeGreaterThanOrEqual(0);
      expect(hits.distances[0]).toBeLessThan(1e-6);
    }
    expectMatchesBruteForce(arena, "cosine", gaussianVector(rand, dim), vectors, 10);
  });

  it("cosine: a zero vector is at distance 1 from everything, and a zero query sees all at 1", () => {
    const arena = new ArenaShard(3, "cosine");
    arena.set(0, Float32Array.of(1, 2, 3));
    arena.set(1, new Float32Array(3));
    arena.set(2, Float32Array.of(-1, -2, -3));
    const hits = arena.search(Float32Array.of(1, 2, 3), 3);
    expect(Array.from(hits.slots)).toEqual([0, 1, 2]);
    expect(hits.distances[0]).toBe(0);
    expect(hits.distances[1]).toBe(1);
    expect(hits.distances[2]).toBeCloseTo(2, 6);
    const zero = arena.search(new Float32Array(3), 3);
    expect(Array.from(zero.slots)).toEqual([0, 1, 2]);
    expect(Array.from(zero.distances)).toEqual([1, 1, 1]);
    expect(Array.from(arena.distancesTo(new Float32Array(3), Uint32Array.of(1)))).toEqual([1]);
  });

  it("does not keep a reference to the caller's vectors (cosine stores a normalised copy)", () => {
    const arena = new ArenaShard(2, "cosine");
    const v = Float32Array.of(3, 4);
    arena.set(0, v);
    expect(Array.from(v)).toEqual([3, 4]);
    v[0] = -100;
    const hits = arena.search(Float32Array.of(3, 4), 1);
    expect(hits.distances[0]).toBe(0);
  });

  it("refuses slots whose vectors would not fit in 4 GiB with CAPACITY, naming nothing stored", () => {
    const arena = new ArenaShard(1536, "l2");
    const v = new Float32Array(1536);
    const { error, code } = codeOf(() => arena.set(700_000, v));
    expect(error).toBeInstanceOf(OmenDBError);
    expect(code).toBe(ErrorCode.CAPACITY);
    expect(arena.liveCount).toBe(0);
    expect(arena.isLive(700_000)).toBe(false);
    expect(codeOf(() => new ArenaShard(4, "ip").set(2 ** 30, new Float32Array(4))).code).toBe(ErrorCode.CAPACITY);
  });

  it("rejects bad input with ValidationError codes and use after dispose with ClosedError", () => {
    const arena = new ArenaShard(4, "ip");
    expect(codeOf(() => arena.set(0, new Float32Array(3))).code).toBe(ErrorCode.DIMENSION_MISMATCH);
    expect(codeOf(() => arena.set(-1, new Float32Array(4))).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => arena.set(1.5, new Float32Array(4))).code).toBe(ErrorCode.INVALID_OPTION);
    arena.set(0, new Float32Array(4));
    expect(codeOf(() => arena.search(new Float32Array(5), 1)).code).toBe(ErrorCode.DIMENSION_MISMATCH);
    expect(codeOf(() => arena.search(new Float32Array(4), -1)).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => arena.search(new Float32Array(4), 2.5)).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => new ArenaShard(0, "l2")).code).toBe(ErrorCode.INVALID_OPTION);
    arena.dispose();
    const { error, code } = codeOf(() => arena.search(new Float32Array(4), 1));
    expect(error).toBeInstanceOf(ClosedError);
    expect(code).toBe(ErrorCode.CLOSED);
    expect(arena.isLive(0)).toBe(false);
  });
});
