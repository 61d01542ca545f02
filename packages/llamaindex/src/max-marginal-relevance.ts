/**
 * Maximal marginal relevance (Carbonell & Goldstein, SIGIR 1998) over search hits.
 *
 * Greedy: pick the candidate maximising λ·relevance − (1 − λ)·(max similarity to any already picked
 * candidate), where relevance is the hit's core score and the similarity between two candidates is
 * the same score function applied to their stored vectors (cosine similarity, 1 / (1 + squared L2),
 * or the dot product). With λ = 1 the order is by relevance; ties go to the earlier (nearer) hit.
 *
 * Unlike `getTopKMMREmbeddings` in LlamaIndex.TS, the penalty uses every picked candidate (not only
 * the most recent one) and `λ = 0` is honoured rather than replaced by 0.5.
 */
import type { Metric, SearchResult } from "@omendb/core";

/** Options of {@link selectMaxMarginalRelevance}. */
export interface MaxMarginalRelevanceOptions {
  /** How many hits to pick. */
  k: number;
  /** Weight of relevance against diversity, within [0, 1]. */
  lambda: number;
  /** The collection's metric, which defines the similarity between two candidates. */
  metric: Metric;
}

/**
 * Picks `k` hits (or all, when fewer) in MMR order.
 * @throws Error when a hit lacks its `vector` (search with `includeVector: true`).
 */
export function selectMaxMarginalRelevance<T extends SearchResult>(hits: readonly T[], options: MaxMarginalRelevanceOptions): T[] {
  const { k, lambda, metric } = options;
  const vectors = hits.map((hit) => {
    if (hit.vector === undefined) throw new Error(`MMR needs stored vectors; hit "${hit.id}" has none`);
    return hit.vector;
  });
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)));
  const similarity = (i: number, j: number): number => {
    const a = vectors[i]!;
    const b = vectors[j]!;
    if (metric === "ip") return dot(a, b);
    if (metric === "l2") return 1 / (1 + squaredL2(a, b));
    const denominator = norms[i]! * norms[j]!;
    return denominator === 0 ? 0 : dot(a, b) / denominator;
  };

  const picked: number[] = [];
  // maxOverlap[i] = highest similarity between candidate i and any picked candidate.
  const maxOverlap = new Float64Array(hits.length).fill(Number.NEGATIVE_INFINITY);
  const taken = new Uint8Array(hits.length);
  const want = Math.min(k, hits.length);
  while (picked.length < want) {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < hits.length; i++) {
      if (taken[i]) continue;
      const penalty = picked.length === 0 ? 0 : maxOverlap[i]!;
      const value = lambda * hits[i]!.score - (1 - lambda) * penalty;
      if (value > bestValue || best === -1) {
        best = i;
        bestValue = value;
      }
    }
    picked.push(best);
    taken[best] = 1;
    for (let i = 0; i < hits.length; i++) {
      if (!taken[i]) maxOverlap[i] = Math.max(maxOverlap[i]!, similarity(i, best));
    }
  }
  return picked.map((i) => hits[i]!);
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function squaredL2(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}
