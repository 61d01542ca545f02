import { describe, expect, it } from "vitest";
import { ClosedError, ErrorCode, type OmenDBError } from "../errors.js";
import { gaussianVector, mulberry32, randomInt } from "../internal/seeded-random.js";
import type { Metric } from "../types.js";
import { distanceFor } from "./distance.js";
import { VectorArena } from "./vector-arena.js";

/** Brute force with the TypeScript oracle: ascending by distance, ties by smaller slot. */
function bruteForce(metric: Metric, query: Float32Array, vectors: Map<number, Float32Array>, k: number, only?: Iterable<number>) {
  const slots = only === undefined ? [...vectors.keys()] : [...only].filter((s) => vectors.has(s));
  const scored = slots.map((slot) => ({ slot, distance: distanceFor(metric, query, vectors.get(slot)!) }));
  scored.sort((a, b) => a.distance - b.distance || a.slot - b.slot);
  return scored.slice(0, k);
}

function close(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
}

function codeOf(fn: () => unknown): { error: unknown; code: string | undefined } {
  try {
    fn();
  } catch (error) {
    return { error, code: (error as OmenDBError).code };
  }
  return { error: undefined, code: undefined };
}

describe("VectorArena (sharded)", () => {
  for (const metric of ["cosine", "l2", "ip"] as Metric[]) {
    it(`${metric}: search, subsets, distancesTo and distancesFromSlot across 7-slot shards equal brute force`, () => {
      const dim = 12;
      const rand = mulberry32(metric.length);
      const arena = new VectorArena(dim, metric, { shardSlots: 7 });
      const vectors = new Map<number, Float32Array>();
      // Slots spread over many shards, with a hole (no shard at all) between 60 and 90.
      const slots = [...Array.from({ length: 60 }, (_, i) => i), ...Array.from({ length: 15 }, (_, i) => 90 + i * 3)];
      for (const s of slots) {
        const v = gaussianVector(rand, dim);
        arena.set(s, v);
        vectors.set(s, v);
      }
      for (let i = 0; i < 12; i++) {
        const dead = slots[randomInt(rand, slots.length)]!;
        arena.remove(dead);
        vectors.delete(dead);
      }
      expect(arena.liveCount).toBe(vectors.size);
      expect(arena.slotLimit).toBe(Math.max(...vectors.keys()) + 1);
      for (let q = 0; q < 6; q++) {
        const query = gaussianVector(rand, dim);
        for (const k of [1, 5, 200]) {
          const hits = arena.search(query, k);
          const want = bruteForce(metric, query, vectors, k);
          expect(Array.from(hits.slots)).toEqual(want.map((w) => w.slot));
          want.forEach((w, i) => close(hits.distances[i]!, w.distance));
        }
        const subset = Uint32Array.from([3, 95, 14, 61, 102, 8, 0, 57]);
        const hits = arena.search(query, 4, subset);
        expect(Array.from(hits.slots)).toEqual(bruteForce(metric, query, vectors, 4, subset).map((w) => w.slot));
        const live = Uint32Array.from([...vectors.keys()].reverse());
        const d = arena.distancesTo(query, live);
        live.forEach((s, j) => close(d[j]!, distanceFor(metric, query, vectors.get(s)!)));
      }
      const [from, ...rest] = [...vectors.keys()].reverse();
      const targets = Uint32Array.from(rest);
      const out = new Float32Array(targets.length);
      arena.distancesFromSlot(from!, targets, targets.length, out);
      const stored = arena.storedVector(from!);
      targets.forEach((t, j) => close(out[j]!, distanceFor(metric, stored, vectors.get(t)!)));
      // A batch inside one shard takes the direct path: same values.
      const home = Math.floor(from! / 7) * 7;
      const near = Uint32Array.from([...vectors.keys()].filter((s) => s !== from && s >= home && s < home + 7));
      const nearOut = new Float32Array(near.length);
      arena.distancesFromSlot(from!, near, near.length, nearOut);
      near.forEach((t, j) => close(nearOut[j]!, distanceFor(metric, stored, vectors.get(t)!)));
    });
  }

  it("holds slots past one WebAssembly memory: a far slot opens its own shard", () => {
    const arena = new VectorArena(4, "l2");
    expect(arena.shardSlots).toBe(2 ** 31 / 16);
    arena.set(0, Float32Array.of(1, 0, 0, 0));
    arena.set(2 ** 30, Float32Array.of(0, 1, 0, 0));
    expect(arena.liveCount).toBe(2);
    expect(arena.slotLimit).toBe(2 ** 30 + 1);
    expect(arena.isLive(2 ** 30)).toBe(true);
    expect(Array.from(arena.search(Float32Array.of(0, 1, 0, 0), 1).slots)).toEqual([2 ** 30]);
    expect(Array.from(arena.storedVector(2 ** 30))).toEqual([0, 1, 0, 0]);
    arena.remove(2 ** 30);
    expect(arena.slotLimit).toBe(1);
  });

  it("validates like one shard, and refuses use after dispose", () => {
    const arena = new VectorArena(4, "ip", { shardSlots: 2 });
    for (let s = 0; s < 5; s++) arena.set(s, Float32Array.of(s, 1, 0, 0));
    expect(codeOf(() => arena.set(-1, new Float32Array(4))).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => arena.set(3, new Float32Array(3))).code).toBe(ErrorCode.DIMENSION_MISMATCH);
    expect(codeOf(() => arena.search(new Float32Array(5), 1)).code).toBe(ErrorCode.DIMENSION_MISMATCH);
    expect(codeOf(() => arena.search(new Float32Array(4), -1)).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => arena.storedVector(40)).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => arena.distancesTo(new Float32Array(4), Uint32Array.of(1, 40))).code).toBe(ErrorCode.INVALID_OPTION);
    expect(codeOf(() => new VectorArena(4, "l2", { shardSlots: 0 })).code).toBe(ErrorCode.INVALID_OPTION);
    expect(arena.search(new Float32Array(4), 0).slots.length).toBe(0);
    arena.dispose();
    expect(codeOf(() => arena.search(new Float32Array(4), 1)).error).toBeInstanceOf(ClosedError);
  });
});
