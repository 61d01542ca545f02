/**
 * Recall@k against exact ground truth, counting ties as the datasets README prescribes: a returned id
 * is a hit when its true distance to the query is ≤ the k-th true distance + 1e-6. True distances come
 * from the ground-truth file when the id is among the stored neighbours, otherwise they are computed
 * in float64 from the base file (only needed when the stored list itself ends in a tie).
 */
import { trueDistance } from "./distance.js";
import type { DatasetSpec } from "./datasets.js";
import { FvecsRowReader, readFvecs, readIvecs, type VectorMatrix } from "./vector-files.js";

const TIE_EPS = 1e-6;

/** Scores result lists of one dataset. */
export class RecallJudge {
  private readonly gtIds: VectorMatrix<Int32Array>;
  private readonly gtDists: VectorMatrix;
  private readonly queries: VectorMatrix;
  private reader: FvecsRowReader | undefined;

  constructor(private readonly spec: DatasetSpec) {
    this.gtIds = readIvecs(spec.gtIdsFile, 0, spec.queryCount);
    this.gtDists = readFvecs(spec.gtDistFile, 0, spec.queryCount);
    this.queries = readFvecs(spec.queryFile, 0, spec.queryCount);
  }

  /** Hits among the first k distinct `returned` ids of query `q` (at most k). */
  hits(q: number, returned: readonly number[], k: number): number {
    const width = this.gtIds.dim;
    const kk = Math.min(k, width, this.spec.count);
    const threshold = this.gtDists.data[q * width + kk - 1]! + TIE_EPS;
    const lastStored = this.gtDists.data[q * width + width - 1]!;
    const seen = new Set<number>();
    let hits = 0;
    for (const id of returned) {
      if (seen.size >= k) break;
      if (seen.has(id) || id < 0 || id >= this.spec.count) continue;
      seen.add(id);
      let rank = -1;
      for (let i = 0; i < width; i++) {
        if (this.gtIds.data[q * width + i] === id) {
          rank = i;
          break;
        }
      }
      if (rank >= 0) {
        if (this.gtDists.data[q * width + rank]! <= threshold) hits++;
      } else if (lastStored <= threshold) {
        // The stored list ends inside a tie, so an unlisted id may still tie with the k-th.
        this.reader ??= new FvecsRowReader(this.spec.baseFile);
        const query = this.queries.data.subarray(q * this.queries.dim, (q + 1) * this.queries.dim);
        if (trueDistance(this.spec.metric, query, this.reader.row(id)) <= threshold) hits++;
      }
    }
    return hits;
  }

  /** Mean recall@k over the queries whose results are given (`results[q]` for q = 0..). */
  recall(results: readonly (readonly number[])[], k: number): number {
    if (results.length === 0) return NaN;
    let total = 0;
    const kk = Math.min(k, this.spec.count);
    for (let q = 0; q < results.length; q++) total += this.hits(q, results[q]!, k) / kk;
    return total / results.length;
  }

  close(): void {
    this.reader?.close();
  }
}
