/**
 * Exact top-K neighbours of every query by brute force, in a pool of worker threads.
 *
 * Each worker takes a slice of the queries and streams the whole base file through the WebAssembly
 * SIMD `dots` kernel in chunks (so a base larger than WebAssembly's 4 GiB works), keeping the best K
 * candidates per query by float32 score. It then recomputes the exact float64 distance of those K
 * candidates and sorts them by (distance, id), the order of `tools/groundtruth.py` in the datasets.
 * Output: `<out>.ivecs` (ids) and `<out>.dist.fvecs` (distances), one row of K per query.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { MetricName } from "./distance.js";
import { writeVecs, type VectorMatrix } from "./vector-files.js";

/** What a ground-truth worker receives. */
export interface GroundTruthJob {
  baseFile: string;
  /** Only the first `baseCount` rows of the base file are searched. */
  baseCount: number;
  dim: number;
  metric: MetricName;
  k: number;
  /** All queries, row-major float32, in shared memory. */
  queries: SharedArrayBuffer;
  queryStart: number;
  queryEnd: number;
}

/** A worker's answer: K ids and distances for each query of its slice. */
export interface GroundTruthSlice {
  queryStart: number;
  ids: Int32Array;
  dists: Float32Array;
}

/** Options for {@link computeGroundTruth}. */
export interface GroundTruthOptions {
  baseFile: string;
  baseCount: number;
  queries: VectorMatrix;
  metric: MetricName;
  /** Neighbours per query (default 100). */
  k?: number;
  /** Worker threads (default: every core). */
  threads?: number;
}

/** Exact top-K for every query; returns ids and distances as `count × k` matrices. */
export async function computeGroundTruth(opts: GroundTruthOptions): Promise<{ ids: VectorMatrix<Int32Array>; dists: VectorMatrix }> {
  const k = Math.min(opts.k ?? 100, opts.baseCount);
  const nq = opts.queries.count;
  const dim = opts.queries.dim;
  const threads = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), nq));
  const shared = new SharedArrayBuffer(nq * dim * 4);
  new Float32Array(shared).set(opts.queries.data);
  const ids = new Int32Array(nq * k);
  const dists = new Float32Array(nq * k);
  const workerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "ground-truth-worker.js");
  const per = Math.ceil(nq / threads);
  const jobs: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const queryStart = t * per;
    const queryEnd = Math.min(nq, queryStart + per);
    if (queryStart >= queryEnd) break;
    const job: GroundTruthJob = { baseFile: opts.baseFile, baseCount: opts.baseCount, dim, metric: opts.metric, k, queries: shared, queryStart, queryEnd };
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const w = new Worker(workerFile, { workerData: job });
        w.once("message", (slice: GroundTruthSlice) => {
          ids.set(slice.ids, slice.queryStart * k);
          dists.set(slice.dists, slice.queryStart * k);
          resolve();
        });
        w.once("error", reject);
        w.once("exit", (code) => {
          if (code !== 0) reject(new Error(`ground-truth worker exited with code ${code}`));
        });
      }),
    );
  }
  await Promise.all(jobs);
  return { ids: { count: nq, dim: k, data: ids }, dists: { count: nq, dim: k, data: dists } };
}

/** Computes ground truth and writes `<outPrefix>.ivecs` and `<outPrefix>.dist.fvecs`. */
export async function writeGroundTruth(opts: GroundTruthOptions, outPrefix: string): Promise<void> {
  const gt = await computeGroundTruth(opts);
  writeVecs(`${outPrefix}.ivecs`, gt.ids);
  writeVecs(`${outPrefix}.dist.fvecs`, gt.dists);
}
