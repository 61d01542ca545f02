/**
 * `pnpm bench exact`: OmenDB's exact search time per query over n × dim vectors (default the
 * synthetic 100,000 × 1536 set) against the memory-bandwidth bound, all in one process:
 * 1. load the base into a collection (durability "none": loading is not what is measured; index
 *    threshold set out of reach so every search is the exact scan), close, reopen, and time `collection.search(q, { k: 10 })` for each query (p50/mean/p99, recall@10);
 * 2. measure streaming-read bandwidth with the WASM SIMD `sum` kernel over a 1 GiB buffer (best of
 *    several passes, one thread) — the bound is n·dim·4 bytes / bandwidth;
 * 3. time the bench's own WASM SIMD `dots` scan over the same vectors held in WebAssembly memory, as a
 *    reference for what a bare kernel achieves.
 */
import fs from "node:fs";
import path from "node:path";
import { OmenDB } from "@omendb/core";
import { writeJson, type CommandOptions } from "./command-options.js";
import { resolveDataset } from "./datasets.js";
import { machineInfo } from "./machine-info.js";
import { collectGarbage } from "./proc-memory.js";
import { RecallJudge } from "./recall.js";
import { RESULTS_SCHEMA, type ExactResultsFile } from "./run-types.js";
import { paddedDim, SimdKernels } from "./simd-kernels.js";
import { mean, percentile } from "./stats.js";
import { fvecsChunks, readFvecs } from "./vector-files.js";

/** Streaming-read bandwidth of one thread: best of `passes` WASM SIMD sums over `bytes` (GB/s, 1e9). */
export function streamingBandwidth(bytes: number, passes: number): { gbPerSecond: number; bufferBytes: number; passes: number } {
  const k = new SimdKernels();
  k.ensure(bytes + 64);
  const view = k.f32(0, bytes / 4);
  view.fill(1);
  let best = Infinity;
  let sink = 0;
  for (let p = 0; p < passes; p++) {
    const t = performance.now();
    sink += k.sum(0, bytes);
    best = Math.min(best, performance.now() - t);
  }
  if (!Number.isFinite(sink)) throw new Error("bandwidth sum overflowed");
  return { gbPerSecond: bytes / (best / 1000) / 1e9, bufferBytes: bytes, passes };
}

/** Runs the exact-search benchmark and writes `<date>-exact.json`; returns its path. */
export async function runExactBenchmark(opts: CommandOptions): Promise<string> {
  const n = opts.n ?? (opts.smoke ? 5_000 : 100_000);
  const spec = await resolveDataset(`synthetic-${n}`, opts.paths, { dim: opts.dim ?? 1536, queries: opts.smoke ? 100 : 1000, log: opts.log });
  const nq = Math.min(spec.queryCount, opts.queries ?? (opts.smoke ? 20 : 200));
  const machine = machineInfo(opts.paths.repoRoot, ["exact", ...opts.argv.filter((a) => a !== "exact")]);
  const dir = path.join(opts.paths.cacheDir, "work", "exact");
  fs.rmSync(dir, { recursive: true, force: true });
  opts.log(`exact: ${spec.name} (${spec.count.toLocaleString("en-US")} × ${spec.dim}), ${nq} queries`);

  // 1. OmenDB.
  let db = await OmenDB.open(dir, { durability: "none" });
  // No index: this measures the exact scan (the collection would otherwise start building its index).
  let collection = await db.createCollection("exact", { dimension: spec.dim, metric: spec.metric, index: { threshold: Number.MAX_SAFE_INTEGER } });
  for (const { start, vectors } of fvecsChunks(spec.baseFile, spec.count, 10_000)) {
    for (let r = 0; r < vectors.count; r += 1000) {
      const rows = Math.min(1000, vectors.count - r);
      const batch = [];
      for (let i = 0; i < rows; i++) batch.push({ id: String(start + r + i), vector: vectors.data.subarray((r + i) * spec.dim, (r + i + 1) * spec.dim) });
      await collection.upsert(batch);
    }
  }
  await db.close();
  collectGarbage();
  db = await OmenDB.open(dir);
  collection = db.getCollection("exact");
  const queries = readFvecs(spec.queryFile, 0, nq);
  const q = (i: number): Float32Array => queries.data.subarray(i * spec.dim, (i + 1) * spec.dim);
  for (let i = 0; i < Math.min(5, nq); i++) await collection.search(q(i), { k: 10 });
  const ms: number[] = [];
  const results: number[][] = [];
  const t0 = performance.now();
  for (let i = 0; i < nq; i++) {
    const t = performance.now();
    const hits = await collection.search(q(i), { k: 10 });
    ms.push(performance.now() - t);
    results.push(hits.map((h) => Number(h.id)));
  }
  const qps = nq / ((performance.now() - t0) / 1000);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const judge = new RecallJudge({ ...spec, queryCount: nq });
  const recall = judge.recall(results, 10);
  judge.close();
  const bytesPerQuery = spec.count * spec.dim * 4;
  const p50 = percentile(ms, 50);
  opts.log(`  OmenDB: p50 ${p50.toFixed(2)} ms, mean ${mean(ms).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms, recall@10 ${recall.toFixed(4)}`);
  collectGarbage();

  // 2. Bandwidth.
  const bandwidth = streamingBandwidth(opts.smoke ? 256 * 2 ** 20 : 2 ** 30, opts.smoke ? 3 : 8);
  const boundMs = (bytesPerQuery / (bandwidth.gbPerSecond * 1e9)) * 1000;
  opts.log(`  streaming bandwidth ${bandwidth.gbPerSecond.toFixed(1)} GB/s → bound ${boundMs.toFixed(2)} ms per query`);
  collectGarbage();

  // 3. Reference scan.
  const pd = paddedDim(spec.dim);
  const k = new SimdKernels();
  const qBase = 0;
  const outBase = pd * 4;
  const baseOff = Math.ceil((outBase + spec.count * 4) / 64) * 64;
  k.ensure(baseOff + spec.count * pd * 4);
  for (const { start, vectors } of fvecsChunks(spec.baseFile, spec.count, 10_000)) {
    const view = k.f32(baseOff + start * pd * 4, vectors.count * pd);
    for (let r = 0; r < vectors.count; r++) view.set(vectors.data.subarray(r * spec.dim, (r + 1) * spec.dim), r * pd);
  }
  const refMs: number[] = [];
  const refQueries = Math.min(nq, 20);
  for (let i = 0; i < refQueries + 2; i++) {
    k.f32(qBase, pd).set(q(i % nq));
    const t = performance.now();
    k.dots(qBase, baseOff, spec.count, pd, outBase);
    if (i >= 2) refMs.push(performance.now() - t);
  }
  const refMean = mean(refMs);
  opts.log(`  reference WASM scan: ${refMean.toFixed(2)} ms per query`);

  const results2: ExactResultsFile = {
    schema: RESULTS_SCHEMA,
    type: "exact",
    machine,
    dataset: spec.name,
    n: spec.count,
    dim: spec.dim,
    queries: nq,
    bytesPerQuery,
    bandwidth,
    boundMs,
    omendb: { p50Ms: p50, meanMs: mean(ms), p99Ms: percentile(ms, 99), qps, recall, effectiveGbPerSecond: bytesPerQuery / (p50 / 1000) / 1e9 },
    reference: { meanMs: refMean, effectiveGbPerSecond: bytesPerQuery / (refMean / 1000) / 1e9 },
    ratioToBound: p50 / boundMs,
    smoke: opts.smoke,
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${machine.date.slice(0, 10)}-exact.json`);
  writeJson(file, results2);
  opts.log(`  p50 / bound = ${results2.ratioToBound.toFixed(2)}× (goal ≤ 2)`);
  opts.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}
