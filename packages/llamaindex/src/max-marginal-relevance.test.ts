import type { SearchResult } from "@omendb/core";
import { describe, expect, it } from "vitest";
import { selectMaxMarginalRelevance } from "./max-marginal-relevance.js";

function hit(id: string, vector: number[], query: number[]): SearchResult {
  const v = Float32Array.from(vector);
  const dot = vector.reduce((s, x, i) => s + x * query[i]!, 0);
  const cos = dot / (Math.hypot(...vector) * Math.hypot(...query));
  return { id, document: null, metadata: {}, vector: v, distance: 1 - cos, score: cos };
}

const query = [1, 0, 0];
// a and a2 are near-duplicates; b is relevant but different; c is orthogonal to all of them.
const hits = [
  hit("a", [1, 0.3, 0], query),
  hit("a2", [1, 0.31, 0], query),
  hit("b", [1, -0.35, 0], query),
  hit("c", [0, 0, 1], query),
];

describe("selectMaxMarginalRelevance", () => {
  it("keeps relevance order with lambda 1", () => {
    const ids = selectMaxMarginalRelevance(hits, { k: 3, lambda: 1, metric: "cosine" }).map((h) => h.id);
    expect(ids).toEqual(["a", "a2", "b"]);
  });

  it("skips a near-duplicate of a picked hit with lambda 0.5", () => {
    const ids = selectMaxMarginalRelevance(hits, { k: 2, lambda: 0.5, metric: "cosine" }).map((h) => h.id);
    expect(ids).toEqual(["a", "b"]);
  });

  it("honours lambda 0: after the first pick, the least similar to the picks wins", () => {
    const ids = selectMaxMarginalRelevance(hits, { k: 2, lambda: 0, metric: "cosine" }).map((h) => h.id);
    expect(ids).toEqual(["a", "c"]);
  });

  it("penalises similarity to every picked hit, not only the latest", () => {
    // After a then c, a2 is unlike c (the latest pick) but a duplicate of a: b must win.
    const ids = selectMaxMarginalRelevance(hits, { k: 3, lambda: 0.3, metric: "cosine" }).map((h) => h.id);
    expect(ids).toEqual(["a", "c", "b"]);
  });

  it("returns all hits when fewer than k, and none for k = 0", () => {
    expect(selectMaxMarginalRelevance(hits, { k: 10, lambda: 0.5, metric: "l2" })).toHaveLength(4);
    expect(selectMaxMarginalRelevance(hits, { k: 0, lambda: 0.5, metric: "ip" })).toEqual([]);
  });

  it("throws when a hit has no vector", () => {
    const bare = { ...hits[0]! };
    delete bare.vector;
    expect(() => selectMaxMarginalRelevance([bare], { k: 1, lambda: 0.5, metric: "cosine" })).toThrow();
  });
});
