import { describe, expect, it } from "vitest";
import { mulberry32, randomInt } from "./seeded-random.js";
import { TopK } from "./topk.js";

/** The oracle: sort everything, keep the first k. */
function sortedTopK(pairs: Array<[number, number]>, k: number): Array<[number, number]> {
  const key = (d: number) => (Number.isNaN(d) ? Infinity : d);
  return [...pairs].sort((a, b) => key(a[0]) - key(b[0]) || a[1] - b[1]).slice(0, k);
}

function drainPairs(heap: TopK): Array<[number, number]> {
  const { ids, distances } = heap.drain();
  return Array.from(ids, (id, i) => [distances[i]!, id]);
}

describe("TopK", () => {
  it("keeps the k smallest, ascending, ties by smaller id, for random inputs with many ties", () => {
    const rand = mulberry32(5);
    for (let trial = 0; trial < 300; trial++) {
      const n = randomInt(rand, 200);
      const k = randomInt(rand, 40);
      const levels = 1 + randomInt(rand, 20); // few distinct distances: many ties
      const ids = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
      const pairs: Array<[number, number]> = ids.map((id) => [Math.fround(randomInt(rand, levels) / 7), id]);
      const heap = new TopK(k);
      for (const [d, id] of pairs) heap.push(d, id);
      expect(heap.size).toBe(Math.min(k, n));
      expect(drainPairs(heap)).toEqual(sortedTopK(pairs, k));
    }
  });

  it("returns nothing for k = 0 and is empty after drain, ready for reuse", () => {
    const none = new TopK(0);
    none.push(1, 1);
    expect(none.size).toBe(0);
    expect(drainPairs(none)).toEqual([]);

    const heap = new TopK(2);
    heap.push(3, 1);
    heap.push(1, 2);
    heap.push(2, 3);
    expect(drainPairs(heap)).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(heap.size).toBe(0);
    heap.push(5, 9);
    expect(drainPairs(heap)).toEqual([[5, 9]]);
  });

  it("treats NaN as +Infinity and keeps infinities in order", () => {
    const heap = new TopK(4);
    heap.push(Number.NaN, 0);
    heap.push(Infinity, 1);
    heap.push(2, 2);
    heap.push(-Infinity, 3);
    heap.push(1, 4);
    expect(drainPairs(heap)).toEqual([
      [-Infinity, 3],
      [1, 4],
      [2, 2],
      [Infinity, 0],
    ]);
  });
});
