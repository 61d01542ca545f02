/**
 * Entry point of an engine child process (`fork`ed by the harness with --expose-gc). It receives one
 * {@link ChildJob} over IPC, runs it, sends back one {@link ChildMessage} and exits.
 *
 * - build: loads the base vectors (into memory when they fit in 2 GiB, so file reading is not timed;
 *   streamed in chunks otherwise), times `engine.build` into an empty folder, measures its bytes on disk.
 * - search: a fresh process, so nothing of the build is resident. Measures reopen time (open + first
 *   query), private/file-backed resident memory added by the open index, then for each sweep point:
 *   recall@k, single-thread queries/s and p50/p99 latency over the queries (time-boxed), and all-cores
 *   queries/s through a {@link SearchPool} of reader processes.
 */
import { performance } from "node:perf_hooks";
import type { ChunkSource, Engine, EngineReader } from "./engines/engine.js";
import { loadEngine } from "./engines/registry.js";
import { dirBytes } from "./engines/peer-modules.js";
import { collectGarbage, memoryDelta, memorySnapshot } from "./proc-memory.js";
import { RecallJudge } from "./recall.js";
import type { BuildOutcome, ChildJob, ChildMessage, SearchOutcome, SweepPoint } from "./run-types.js";
import { SearchPool } from "./search-pool.js";
import { mean, percentile } from "./stats.js";
import { fvecsChunks, readFvecs } from "./vector-files.js";

const PRELOAD_LIMIT = 2 ** 31;
const MAX_PASSES = 5;

/** Environment of search processes: one BLAS/OpenMP thread each (faiss), quiet Rust logs (LanceDB). */
export const CHILD_ENV: Record<string, string> = { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", RUST_LOG: "error", LANCEDB_LOG: "error" };

/** At most `limit` items spread evenly from first to last (all when limit is 0). */
function pickEvenly<T>(items: T[], limit: number): T[] {
  if (limit <= 0 || items.length <= limit) return items;
  if (limit === 1) return [items[0]!];
  const out: T[] = [];
  for (let i = 0; i < limit; i++) out.push(items[Math.round((i * (items.length - 1)) / (limit - 1))]!);
  return out;
}

const errorText = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

async function runBuild(job: Extract<ChildJob, { phase: "build" }>): Promise<BuildOutcome> {
  const { engine, reason } = await loadEngine(job.engine);
  if (!engine) return { status: "skipped", reason: reason ?? "unavailable" };
  const unsupported = engine.unsupported(job.spec);
  if (unsupported) return { status: "skipped", reason: unsupported, version: engine.version(), kind: engine.kind };
  const { spec } = job;
  const chunkRows = Math.max(1, Math.floor((256 << 20) / (4 * spec.dim)));
  let chunks: ChunkSource;
  if (spec.count * spec.dim * 4 <= PRELOAD_LIMIT) {
    const all = readFvecs(spec.baseFile, 0, spec.count);
    chunks = function* () {
      for (let start = 0; start < spec.count; start += chunkRows) {
        const rows = Math.min(chunkRows, spec.count - start);
        yield { start, vectors: { count: rows, dim: spec.dim, data: all.data.subarray(start * spec.dim, (start + rows) * spec.dim) } };
      }
    };
  } else {
    chunks = () => fvecsChunks(spec.baseFile, spec.count, chunkRows);
  }
  collectGarbage();
  const t0 = performance.now();
  const info = await engine.build({ dir: job.dir, spec, chunks, threads: job.threads, options: job.options });
  const seconds = (performance.now() - t0) / 1000;
  return {
    status: "ok",
    version: engine.version(),
    kind: info.kind ?? engine.kind,
    params: info.params,
    buildThreads: info.buildThreads,
    buildSeconds: seconds,
    vectorsPerSecond: spec.count / seconds,
    diskBytes: dirBytes(job.dir),
    peakRssBytes: memorySnapshot().peakRss,
    notes: info.notes ?? [],
  };
}

async function timedSearch(reader: EngineReader, q: Float32Array, k: number): Promise<{ ids: number[]; ms: number }> {
  const t = performance.now();
  const r = reader.search(q, k);
  const ids = r instanceof Promise ? await r : r;
  return { ids, ms: performance.now() - t };
}

async function runSearch(job: Extract<ChildJob, { phase: "search" }>): Promise<SearchOutcome> {
  const { engine, reason } = await loadEngine(job.engine);
  if (!engine) return { status: "skipped", reason: reason ?? "unavailable" };
  const { spec, knobs } = job;
  const nq = Math.min(spec.queryCount, knobs.maxQueries);
  const queries = readFvecs(spec.queryFile, 0, nq);
  const query = (i: number): Float32Array => queries.data.subarray(i * spec.dim, (i + 1) * spec.dim);

  collectGarbage();
  const mem0 = memorySnapshot();
  const t0 = performance.now();
  const reader = await engine.open(job.dir, spec, {});
  const t1 = performance.now();
  await timedSearch(reader, query(0), knobs.k);
  const t2 = performance.now();
  for (let i = 0; i < Math.min(knobs.warmupQueries, nq); i++) await timedSearch(reader, query(i), knobs.k);
  collectGarbage();
  const mem = memoryDelta(mem0, memorySnapshot());
  const outcome: SearchOutcome = {
    status: "ok",
    reopen: { openSeconds: (t1 - t0) / 1000, firstQuerySeconds: (t2 - t1) / 1000, totalSeconds: (t2 - t0) / 1000 },
    memory: {
      rssAnonBytes: mem.rssAnon,
      rssFileBytes: mem.rssFile,
      privateBytes: mem.privateBytes,
      anonBytesPerVector: mem.rssAnon / spec.count,
      fileBytesPerVector: mem.rssFile / spec.count,
    },
    points: [],
    notes: [],
  };

  const settings = job.settings ?? pickEvenly(reader.sweep?.() ?? engine.defaultSweep(spec), knobs.sweepLimit);
  const judge = new RecallJudge({ ...spec, queryCount: nq });
  let pool: SearchPool | null = null;
  if (knobs.threads > 1) {
    try {
      pool = await SearchPool.start(job.engine, job.dir, spec, nq, knobs.k, knobs.threads, CHILD_ENV, engine.threadsInProcess === true);
    } catch (err) {
      outcome.notes!.push(`all-cores readers failed to start: ${errorText(err).split("\n")[0]}`);
    }
  }
  try {
    for (const setting of settings) {
      await reader.configure(setting);
      for (let i = 0; i < Math.min(knobs.warmupQueries, nq); i++) await timedSearch(reader, query(i), knobs.k);
      // Passes over the query set until `minSeconds` have elapsed (at most MAX_PASSES, and never past the
      // budget); recall is scored on the first pass, latencies and QPS on all of them.
      const latencies: number[] = [];
      const results: number[][] = [];
      const start = performance.now();
      const budgetMs = knobs.budgetSeconds * 1000;
      let answered = 0;
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        let stopped = false;
        for (let i = 0; i < nq; i++) {
          if (answered >= Math.min(knobs.minQueries, nq) && performance.now() - start > budgetMs) {
            stopped = true;
            break;
          }
          const { ids, ms } = await timedSearch(reader, query(i), knobs.k);
          latencies.push(ms);
          if (pass === 0) results.push(ids);
          answered++;
        }
        if (stopped || performance.now() - start >= knobs.minSeconds * 1000) break;
      }
      const wall = (performance.now() - start) / 1000;
      const point: SweepPoint = {
        label: setting.label,
        params: setting.params,
        recall: judge.recall(results, knobs.k),
        queries: answered,
        qps1: answered / wall,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        meanMs: mean(latencies),
        qpsAll: null,
        threadsAll: 1,
        queriesAll: 0,
      };
      if (pool) {
        // About as much work per reader as the single-thread pass did.
        const target = Math.max(answered * pool.threads, pool.threads * 50);
        const all = await pool.run(setting, target, budgetMs);
        point.qpsAll = all.qps;
        point.threadsAll = pool.threads;
        point.queriesAll = all.queries;
      }
      outcome.points!.push(point);
      const all = point.qpsAll === null ? "" : `, ${point.qpsAll.toFixed(1)} QPS on ${point.threadsAll} threads`;
      console.log(
        `  ${job.engine} ${setting.label}: recall@${knobs.k} ${point.recall.toFixed(4)}, ${point.qps1.toFixed(1)} QPS (1 thread, ${point.queries} q), p50 ${point.p50Ms.toFixed(2)} ms, p99 ${point.p99Ms.toFixed(2)} ms${all}`,
      );
    }
  } finally {
    await pool?.close();
    await reader.close();
    judge.close();
  }
  const best = Math.max(...outcome.points!.map((p) => p.recall));
  if (best < 0.5) outcome.notes!.push(`recall@${knobs.k} never exceeds ${best.toFixed(3)} over the whole sweep: this looks like a bug in the engine or its adapter, not a tuning matter`);
  return outcome;
}

/** Runs one job; errors become an "error" outcome rather than a crash. */
async function run(job: ChildJob): Promise<ChildMessage> {
  try {
    if (job.phase === "build") return { type: "build", outcome: await runBuild(job) };
    return { type: "search", outcome: await runSearch(job) };
  } catch (err) {
    const outcome = { status: "error" as const, reason: errorText(err) };
    return job.phase === "build" ? { type: "build", outcome } : { type: "search", outcome };
  }
}

process.once("message", (job: ChildJob) => {
  void run(job).then((msg) => {
    process.send!(msg, () => process.exit(0));
  });
});

export type { Engine };
