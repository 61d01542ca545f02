/**
 * Worker thread of {@link computeGroundTruth}: brute-force top-K for a slice of the queries.
 * Memory layout in the kernel instance (byte offsets, 16-byte aligned, pd = dim rounded up to 16):
 * [queries: nqSlice × pd f32][chunk: CHUNK × pd f32][scores: CHUNK f32].
 */
import { parentPort, workerData } from "node:worker_threads";
import { trueDistance } from "./distance.js";
import type { GroundTruthJob, GroundTruthSlice } from "./ground-truth.js";
import { paddedDim, SimdKernels } from "./simd-kernels.js";
import { FvecsRowReader, fvecsChunks } from "./vector-files.js";

const CHUNK = 4096;
const job = workerData as GroundTruthJob;
const { dim, k, metric } = job;
const pd = paddedDim(dim);
const nq = job.queryEnd - job.queryStart;
const allQueries = new Float32Array(job.queries);

const kernels = new SimdKernels();
const qBase = 0;
const chunkBase = qBase + nq * pd * 4;
const scoreBase = chunkBase + CHUNK * pd * 4;
kernels.ensure(scoreBase + CHUNK * 4);
const qView = kernels.f32(qBase, nq * pd);
for (let q = 0; q < nq; q++) qView.set(allQueries.subarray((job.queryStart + q) * dim, (job.queryStart + q + 1) * dim), q * pd);

// Per query: the K best (lowest) scores so far, kept sorted ascending, and their ids.
const best = new Float64Array(nq * k).fill(Infinity);
const bestIds = new Int32Array(nq * k).fill(-1);

function offer(q: number, score: number, id: number): void {
  const o = q * k;
  if (!(score < best[o + k - 1]!)) return;
  let i = k - 1;
  while (i > 0 && best[o + i - 1]! > score) {
    best[o + i] = best[o + i - 1]!;
    bestIds[o + i] = bestIds[o + i - 1]!;
    i--;
  }
  best[o + i] = score;
  bestIds[o + i] = id;
}

const norms = new Float64Array(CHUNK);
for (const { start, vectors } of fvecsChunks(job.baseFile, job.baseCount, CHUNK)) {
  const rows = vectors.count;
  const chunk = kernels.f32(chunkBase, rows * pd);
  const scores = kernels.f32(scoreBase, rows);
  for (let r = 0; r < rows; r++) {
    const row = vectors.data.subarray(r * dim, (r + 1) * dim);
    chunk.set(row, r * pd);
    let s = 0;
    for (let i = 0; i < dim; i++) s += row[i]! * row[i]!;
    norms[r] = s;
  }
  for (let q = 0; q < nq; q++) {
    kernels.dots(qBase + q * pd * 4, chunkBase, rows, pd, scoreBase);
    for (let r = 0; r < rows; r++) {
      const dot = scores[r]!;
      const n = norms[r]!;
      // Lower is better; per-query constants (|q|) are dropped, they do not change the order.
      const score = metric === "l2" ? n - 2 * dot : metric === "ip" ? -dot : n > 0 ? -dot / Math.sqrt(n) : 0;
      offer(q, score, start + r);
    }
  }
}

// Re-rank the candidates with exact float64 distances; ties broken by the smaller id.
const reader = new FvecsRowReader(job.baseFile);
const ids = new Int32Array(nq * k);
const dists = new Float32Array(nq * k);
for (let q = 0; q < nq; q++) {
  const query = allQueries.subarray((job.queryStart + q) * dim, (job.queryStart + q + 1) * dim);
  const cands: { id: number; d: number }[] = [];
  for (let i = 0; i < k; i++) {
    const id = bestIds[q * k + i]!;
    cands.push({ id, d: trueDistance(metric, query, reader.row(id)) });
  }
  cands.sort((a, b) => a.d - b.d || a.id - b.id);
  for (let i = 0; i < k; i++) {
    ids[q * k + i] = cands[i]!.id;
    dists[q * k + i] = cands[i]!.d;
  }
}
reader.close();
const slice: GroundTruthSlice = { queryStart: job.queryStart, ids, dists };
parentPort!.postMessage(slice, [ids.buffer, dists.buffer]);
