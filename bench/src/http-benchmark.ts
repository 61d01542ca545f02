/**
 * `pnpm bench http`: query throughput of the OmenDB HTTP server (`@omendb/server`, Chroma v2 wire)
 * against the same queries answered in-process, on the same data folder (issue #7: HTTP ≥ 80% of the
 * in-process queries/s).
 *
 * 1. Build: the omendb engine's build (batched upserts, `buildIndex()` past the index threshold,
 *    `close()`) in an engine child process, into `bench/.cache/http/<dataset>/db`. The folder is kept
 *    and reused by later runs on the same dataset (`build.json` beside it records when and by which
 *    commit it was built); `--rebuild` builds it again.
 * 2. In-process: the harness opens the folder through the omendb engine (`collection.search(vector,
 *    { k })`), one query at a time on one thread, passes over the queries for `seconds`: queries/s,
 *    p50/p99. Then the same folder opened with one core worker thread per core (`OmenDB.open(dir,
 *    { threads })`) and 16 searches kept in flight from this thread: in-process queries/s using every
 *    core, as the server uses them. Then the ANN bench's all-cores figure (one reader process per
 *    core, each on its own copy of the folder, see search-pool.ts) for context.
 * 3. HTTP: `packages/server/dist/cli.js serve --path <copy of the folder> --port 0` (default log level,
 *    stdout discarded) in its own process; the listening address is read from its stderr line. The
 *    collection id comes from `GET …/collections`. A sample of queries is sent one at a time and the
 *    returned ids must equal the in-process ids, in order. Then for each concurrency level a fresh
 *    load-generator process (http-load-child.ts) keeps that many requests in flight for `seconds`.
 * 4. Results: `<out>/<date>-http.json` (type "http"), the report section comes from report.ts.
 *
 * After the HTTP levels (server stopped) the one-thread in-process figure is measured again: the
 * machine may be shared, and the two figures bracket the noise. The ratio reported is HTTP requests/s
 * (one query embedding per request) / the best in-process figure (the highest of one thread before,
 * one thread after, worker threads, and reader processes) — the strict reading of "≥ 80% of the
 * in-process queries/s using both cores". The load generator runs on the same machine, so on 2 cores it competes with the server
 * for CPU; its CPU time is recorded, and so is the load average at every measurement.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { runInChild } from "./child-process.js";
import { writeJson, type CommandOptions } from "./command-options.js";
import { resolveDataset, type DatasetSpec } from "./datasets.js";
import { EXACT_SWEEP } from "./engines/engine.js";
import { loadEngine } from "./engines/registry.js";
import { failedLoad, queryBody, request, DEFAULT_DATABASE_PATH, queryPath, type HttpLoadJob, type HttpLoadResult } from "./http-load-child.js";
import { gitCommit, machineInfo, type MachineInfo } from "./machine-info.js";
import { collectGarbage } from "./proc-memory.js";
import type { BuildOutcome, ChildJob, ChildMessage } from "./run-types.js";
import { RESULTS_SCHEMA } from "./run-types.js";
import { SearchPool } from "./search-pool.js";
import { mean, percentile } from "./stats.js";
import { readFvecs } from "./vector-files.js";

/** Issue #7's goal: HTTP queries/s ≥ this share of the in-process queries/s. */
export const HTTP_GOAL_RATIO = 0.8;
/** Default concurrency levels. */
export const DEFAULT_CONCURRENCY = [1, 2, 4, 8, 16];
const ENGINE = "omendb";
const K = 10;

/** Options of {@link runHttpBenchmark}. */
export interface HttpOptions extends CommandOptions {
  /** Dataset name (default `synthetic-<n>`, n = 100,000, 2,000 with --smoke). */
  dataset?: string;
  /** In-flight request counts, one measured level each. */
  concurrency: number[];
  /** Timed seconds per level (and of the in-process measurement). */
  seconds: number;
  /** Build the folder again even when a cached one exists. */
  rebuild: boolean;
}

/** `build.json` next to the cached folder. */
interface BuildRecord {
  dataset: string;
  count: number;
  dim: number;
  date: string;
  commit: string;
  outcome: BuildOutcome;
}

/** One-thread in-process queries/s and latency. */
export interface InProcessFigure {
  queries: number;
  seconds: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** 1/5/15-minute load averages when the measurement started. */
  loadAverage: number[];
}

/** A results file of `bench http` (`<date>-http.json`). */
export interface HttpResultsFile {
  schema: number;
  type: "http";
  machine: MachineInfo;
  dataset: { name: string; kind: DatasetSpec["kind"]; description: string; metric: string; count: number; dim: number };
  k: number;
  /** Query rows used (each pass / each load level cycles through them). */
  queries: number;
  seconds: number;
  build: { reused: boolean; date: string; commit: string; seconds?: number; kind: string; status: unknown };
  /** One thread, one query at a time, `collection.search(vector, { k })`. */
  inProcess: InProcessFigure;
  /** The same, measured again after the HTTP levels with the server stopped. */
  inProcessAfter: InProcessFigure;
  /** The ANN bench's all-cores figure: one reader process per core (null when it failed or 1 core). */
  inProcessAllCores: { threads: number; queries: number; qps: number } | null;
  /** One process with one core worker thread per core, `concurrency` searches in flight (null with 1 core). */
  inProcessThreads: (InProcessFigure & { threads: number; concurrency: number }) | null;
  server: { command: string; logLevel: string; startSeconds: number; note: string };
  /** HTTP ids vs in-process ids for the first `queries` queries, one request at a time. */
  verification: { queries: number; matching: number; mismatches: { query: number; http: string[]; inProcess: string[] }[] };
  /** The denominator of the ratios: max of the in-process queries/s figures above. */
  baselineQps: number;
  levels: (HttpLoadResult & { ratioToInProcess: number })[];
  goalRatio: number;
  /** Highest HTTP requests/s over the levels / in-process queries/s. */
  bestRatio: number;
  smoke: boolean;
  notes: string[];
}

/** The built folder for `spec`, from the cache or built now in an engine child process. */
async function ensureBuilt(spec: DatasetSpec, opts: HttpOptions): Promise<{ dir: string; record: BuildRecord; reused: boolean }> {
  const home = path.join(opts.paths.cacheDir, "http", spec.name);
  const dir = path.join(home, "db");
  const recordFile = path.join(home, "build.json");
  if (!opts.rebuild && fs.existsSync(recordFile) && fs.existsSync(dir)) {
    const record = JSON.parse(fs.readFileSync(recordFile, "utf8")) as BuildRecord;
    if (record.count === spec.count && record.dim === spec.dim && record.outcome.status === "ok") {
      opts.log(`build: reusing ${path.relative(process.cwd(), dir)} (built ${record.date}, commit ${record.commit.slice(0, 12)}; --rebuild to build again)`);
      return { dir, record, reused: true };
    }
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  opts.log(`build: ${spec.count.toLocaleString("en-US")} × ${spec.dim} into ${path.relative(process.cwd(), dir)} (omendb engine build, child process)...`);
  const job: ChildJob = { phase: "build", engine: ENGINE, spec, dir, threads: 1, options: {} };
  const reply = await runInChild<ChildJob, ChildMessage>("engine-child.js", job, (why) => ({ type: "build", outcome: { status: "error", reason: why } }));
  const outcome = reply.outcome as BuildOutcome;
  if (outcome.status !== "ok") throw new Error(`build failed: ${outcome.reason ?? outcome.status}`);
  const record: BuildRecord = { dataset: spec.name, count: spec.count, dim: spec.dim, date: new Date().toISOString(), commit: gitCommit(opts.paths.repoRoot), outcome };
  fs.writeFileSync(recordFile, JSON.stringify(record, null, 2) + "\n");
  opts.log(`build: ${outcome.buildSeconds!.toFixed(1)} s (${outcome.vectorsPerSecond!.toFixed(0)} vectors/s), ${outcome.kind}`);
  return { dir, record, reused: false };
}

/** One-thread in-process queries/s over passes of the query set for `seconds`; ids of the first pass. */
async function measureInProcess(dir: string, spec: DatasetSpec, nq: number, opts: HttpOptions): Promise<{ result: InProcessFigure; ids: string[][] }> {
  const { engine, reason } = await loadEngine(ENGINE);
  if (!engine) throw new Error(`omendb engine unavailable: ${reason}`);
  const queries = readFvecs(spec.queryFile, 0, nq);
  const q = (i: number): Float32Array => queries.data.subarray(i * spec.dim, (i + 1) * spec.dim);
  const reader = await engine.open(dir, spec, {});
  try {
    await reader.configure(EXACT_SWEEP[0]!); // no extra search options: the collection's defaults
    for (let i = 0; i < Math.min(20, nq); i++) await reader.search(q(i), K);
    collectGarbage();
    const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);
    const ids: string[][] = [];
    const ms: number[] = [];
    const t0 = performance.now();
    const until = t0 + opts.seconds * 1000;
    for (let pass = 0; pass === 0 || performance.now() < until; pass++) {
      for (let i = 0; i < nq && (pass === 0 || performance.now() < until); i++) {
        const t = performance.now();
        const hits = await reader.search(q(i), K);
        ms.push(performance.now() - t);
        if (pass === 0) ids.push(hits.map(String));
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { result: { queries: ms.length, seconds, qps: ms.length / seconds, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), meanMs: mean(ms), loadAverage }, ids };
  } finally {
    await reader.close();
  }
}

/**
 * In-process queries/s with the core's worker threads: the folder opened with `threads`, and
 * `concurrency` searches kept in flight from this thread for `seconds`.
 */
async function measureInProcessThreads(dir: string, spec: DatasetSpec, nq: number, opts: HttpOptions, threads: number, concurrency: number): Promise<InProcessFigure & { threads: number; concurrency: number }> {
  const { engine, reason } = await loadEngine(ENGINE);
  if (!engine) throw new Error(`omendb engine unavailable: ${reason}`);
  const queries = readFvecs(spec.queryFile, 0, nq);
  const q = (i: number): Float32Array => queries.data.subarray(i * spec.dim, (i + 1) * spec.dim);
  const reader = await engine.open(dir, spec, { threads });
  try {
    await reader.configure(EXACT_SWEEP[0]!);
    for (let i = 0; i < Math.min(40, nq); i++) await reader.search(q(i), K);
    collectGarbage();
    const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);
    const ms: number[] = [];
    let next = 0;
    const t0 = performance.now();
    const until = t0 + opts.seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const i = next++ % nq;
          const t = performance.now();
          await reader.search(q(i), K);
          ms.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { queries: ms.length, seconds, qps: ms.length / seconds, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), meanMs: mean(ms), loadAverage, threads, concurrency };
  } finally {
    await reader.close();
  }
}

/** A running server process and its base URL. */
interface RunningServer {
  child: ChildProcess;
  url: string;
  startSeconds: number;
}

/** Starts `omendb serve` on `dir` (port 0) and waits for the address it prints on stderr. */
function startServerProcess(cli: string, dir: string, timeoutSeconds: number): Promise<RunningServer> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, "serve", "--path", dir, "--port", "0"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, OMENDB_API_KEY: "" },
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not report its address within ${timeoutSeconds} s; stderr: ${stderr.slice(-500)}`));
    }, timeoutSeconds * 1000);
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? `code ${code}`}) before listening; stderr: ${stderr.slice(-500)}`));
    };
    child.once("exit", onExit);
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr += chunk;
      const m = / at (http:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve({ child, url: m[1]!, startSeconds: (performance.now() - t0) / 1000 });
      }
    });
  });
}

/** SIGTERM (graceful: drain, checkpoint), SIGKILL after `graceSeconds`. */
function stopServerProcess(child: ChildProcess, graceSeconds: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceSeconds * 1000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The id of the only collection the server lists. */
async function collectionId(agent: http.Agent, base: string): Promise<string> {
  const r = await request(agent, new URL(`${DEFAULT_DATABASE_PATH}/collections`, base));
  if (r.status !== 200) throw new Error(`GET collections: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  const list = JSON.parse(r.body) as { id: string; name: string }[];
  if (list.length !== 1) throw new Error(`expected one collection in the folder, the server lists ${list.map((c) => c.name).join(", ") || "none"}`);
  return list[0]!.id;
}

/** Sends the first `count` queries one at a time and compares the ids with the in-process ones. */
async function verify(agent: http.Agent, base: string, id: string, spec: DatasetSpec, expected: string[][], count: number): Promise<HttpResultsFile["verification"]> {
  const queries = readFvecs(spec.queryFile, 0, count);
  const out: HttpResultsFile["verification"] = { queries: count, matching: 0, mismatches: [] };
  for (let i = 0; i < count; i++) {
    const r = await request(agent, new URL(queryPath(id), base), queryBody(queries.data.subarray(i * spec.dim, (i + 1) * spec.dim), K));
    if (r.status !== 200) throw new Error(`query ${i}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const got = (JSON.parse(r.body) as { ids: string[][] }).ids[0] ?? [];
    const want = expected[i]!;
    if (got.length === want.length && got.every((x, j) => x === want[j])) out.matching++;
    else if (out.mismatches.length < 5) out.mismatches.push({ query: i, http: got, inProcess: want });
  }
  return out;
}

/** Runs the HTTP benchmark and writes `<date>-http.json`; returns its path. */
export async function runHttpBenchmark(opts: HttpOptions): Promise<string> {
  const serverCli = path.join(opts.paths.repoRoot, "packages", "server", "dist", "cli.js");
  if (!fs.existsSync(serverCli)) throw new Error(`${serverCli} is missing: run \`pnpm --filter @omendb/server build\``);
  const name = opts.dataset ?? `synthetic-${opts.n ?? (opts.smoke ? 2_000 : 100_000)}`;
  const spec = await resolveDataset(name, opts.paths, { n: opts.n, dim: opts.dim, queries: opts.smoke ? 100 : 1000, log: opts.log });
  const nq = Math.min(spec.queryCount, opts.smoke ? 100 : 1000);
  const machine = machineInfo(opts.paths.repoRoot, ["http", ...opts.argv.filter((a) => a !== "http")]);
  if (machine.loadAverage[0]! > machine.cores / 2) {
    opts.log(`warning: load average ${machine.loadAverage.join(" / ")} on ${machine.cores} cores — other work on this machine will skew the figures`);
  }
  opts.log(`http: ${spec.name} (${spec.count.toLocaleString("en-US")} × ${spec.dim}, ${spec.metric}), ${nq} queries, k = ${K}, ${opts.seconds} s per measurement`);
  const { dir, record, reused } = await ensureBuilt(spec, opts);
  const notes: string[] = [];

  // In-process, one thread.
  const { result: inProcess, ids } = await measureInProcess(dir, spec, nq, opts);
  opts.log(`in-process (1 thread): ${inProcess.qps.toFixed(1)} queries/s, p50 ${inProcess.p50Ms.toFixed(2)} ms, p99 ${inProcess.p99Ms.toFixed(2)} ms (${inProcess.queries} queries)`);
  collectGarbage();

  // In-process, all cores: the core's worker threads, as the server uses them.
  const threads = os.availableParallelism();
  let inProcessThreads: HttpResultsFile["inProcessThreads"] = null;
  if (threads > 1) {
    inProcessThreads = await measureInProcessThreads(dir, spec, nq, opts, Math.min(4, threads), 16);
    opts.log(`in-process (${inProcessThreads.threads} worker threads, 16 in flight): ${inProcessThreads.qps.toFixed(1)} queries/s, p50 ${inProcessThreads.p50Ms.toFixed(2)} ms, p99 ${inProcessThreads.p99Ms.toFixed(2)} ms`);
    collectGarbage();
  }

  // In-process, all cores (reader processes, for context).
  let inProcessAllCores: HttpResultsFile["inProcessAllCores"] = null;
  if (threads > 1) {
    let pool: SearchPool | null = null;
    try {
      pool = await SearchPool.start(ENGINE, dir, spec, nq, K, threads);
      const r = await pool.run(EXACT_SWEEP[0]!, Number.MAX_SAFE_INTEGER, opts.seconds * 1000);
      inProcessAllCores = { threads, queries: r.queries, qps: r.qps };
      opts.log(`in-process (${threads} reader processes): ${r.qps.toFixed(1)} queries/s`);
    } catch (err) {
      notes.push(`all-cores in-process measurement failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    } finally {
      await pool?.close();
    }
  }

  // HTTP.
  const served = `${dir}.served`;
  fs.rmSync(served, { recursive: true, force: true });
  fs.cpSync(dir, served, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
  const levels: HttpResultsFile["levels"] = [];
  let verification: HttpResultsFile["verification"] = { queries: 0, matching: 0, mismatches: [] };
  let server: RunningServer | null = null;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    server = await startServerProcess(serverCli, served, 600);
    opts.log(`server: ${server.url} (pid ${server.child.pid}), listening ${server.startSeconds.toFixed(2)} s after start`);
    const id = await collectionId(agent, server.url);
    verification = await verify(agent, server.url, id, spec, ids, Math.min(nq, opts.smoke ? 20 : 100));
    agent.destroy();
    opts.log(`verification: ${verification.matching} of ${verification.queries} queries return the in-process ids in the same order`);
    for (const concurrency of opts.concurrency) {
      const job: HttpLoadJob = {
        url: server.url,
        collectionId: id,
        queryFile: spec.queryFile,
        queryCount: nq,
        k: K,
        concurrency,
        seconds: opts.seconds,
        warmupSeconds: opts.smoke ? 0.2 : 2,
        serverPid: server.child.pid!,
      };
      const r = await runInChild<HttpLoadJob, HttpLoadResult>("http-load-child.js", job, (why) => failedLoad(concurrency, why));
      const ratio = r.requestsPerSecond / Math.max(inProcess.qps, inProcessAllCores?.qps ?? 0, inProcessThreads?.qps ?? 0);
      levels.push({ ...r, ratioToInProcess: ratio });
      if (r.status !== "ok") {
        opts.log(`  concurrency ${concurrency}: ERROR — ${r.reason?.split("\n")[0]}`);
        continue;
      }
      opts.log(
        `  concurrency ${String(concurrency).padStart(2)}: ${r.requestsPerSecond.toFixed(1)} requests/s (${(ratio * 100).toFixed(0)}% of in-process so far), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors, server ${r.serverCores === null ? "?" : r.serverCores.toFixed(2)} cores, load generator ${(r.clientCpuSeconds / r.windowSeconds).toFixed(2)} cores, load ${r.loadAverage[0]}`,
      );
      if (r.firstError) opts.log(`    first error: ${r.firstError}`);
    }
  } finally {
    agent.destroy();
    if (server) await stopServerProcess(server.child, 120);
    fs.rmSync(served, { recursive: true, force: true });
  }

  collectGarbage();
  const { result: inProcessAfter } = await measureInProcess(dir, spec, nq, opts);
  opts.log(`in-process again (1 thread, server stopped): ${inProcessAfter.qps.toFixed(1)} queries/s, p50 ${inProcessAfter.p50Ms.toFixed(2)} ms, p99 ${inProcessAfter.p99Ms.toFixed(2)} ms, load ${inProcessAfter.loadAverage[0]}`);
  const baselineQps = Math.max(inProcess.qps, inProcessAfter.qps, inProcessAllCores?.qps ?? 0, inProcessThreads?.qps ?? 0);
  const oneThreadQps = Math.max(inProcess.qps, inProcessAfter.qps);
  for (const l of levels) l.ratioToInProcess = l.requestsPerSecond / baselineQps;
  const ok = levels.filter((l) => l.status === "ok");
  const bestRatio = ok.length ? Math.max(...ok.map((l) => l.ratioToInProcess)) : 0;
  const maxCores = ok.length ? Math.max(...ok.map((l) => l.serverCores ?? 0)) : 0;
  const bestHttp = ok.length ? Math.max(...ok.map((l) => l.requestsPerSecond)) : 0;
  const poolNote = `The server opens the folder with threads: "auto" (${Math.min(4, threads)} worker threads on ${threads} cores): workers search, the main thread parses requests, reads documents and writes responses (server process up to ${maxCores.toFixed(2)} cores). Best HTTP requests/s = ${((bestHttp / oneThreadQps) * 100).toFixed(0)}% of the one-thread in-process figure.`;
  notes.push(poolNote, "The load generator runs on the same machine and takes CPU from the server; its CPU time is in the table.");
  if (verification.matching !== verification.queries) notes.push(`${verification.queries - verification.matching} of ${verification.queries} HTTP answers differ from the in-process ids.`);
  const loads = [inProcess.loadAverage[0]!, inProcessAfter.loadAverage[0]!, ...ok.map((l) => l.loadAverage[0]!)];
  if (Math.max(...loads) > machine.cores) {
    notes.push(`The 1-minute load average was ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${machine.cores} cores during the measurements: other work shared the CPU, so every figure here is skewed and the ratios are rough.`);
  }
  opts.log(`best HTTP requests/s / best in-process queries/s (${baselineQps.toFixed(1)}): ${(bestRatio * 100).toFixed(0)}% (goal ≥ ${HTTP_GOAL_RATIO * 100}% ${bestRatio >= HTTP_GOAL_RATIO ? "met" : "not met"})`);
  opts.log(`note: ${poolNote}`);

  const results: HttpResultsFile = {
    schema: RESULTS_SCHEMA,
    type: "http",
    machine,
    dataset: { name: spec.name, kind: spec.kind, description: spec.description, metric: spec.metric, count: spec.count, dim: spec.dim },
    k: K,
    queries: nq,
    seconds: opts.seconds,
    build: { reused, date: record.date, commit: record.commit, seconds: record.outcome.buildSeconds, kind: record.outcome.kind ?? "", status: record.outcome.params?.["status"] },
    inProcess,
    inProcessAfter,
    inProcessAllCores,
    inProcessThreads,
    baselineQps,
    server: {
      command: "node packages/server/dist/cli.js serve --path <copy of the folder> --port 0",
      logLevel: "info (stdout discarded)",
      startSeconds: server?.startSeconds ?? NaN,
      note: `threads: "auto" (${Math.min(4, threads)} worker threads answer queries)`,
    },
    verification,
    levels,
    goalRatio: HTTP_GOAL_RATIO,
    bestRatio,
    smoke: opts.smoke,
    notes,
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${machine.date.slice(0, 10)}-http.json`);
  writeJson(file, results);
  opts.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}

