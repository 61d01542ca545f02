/**
 * The recall/throughput benchmark (`pnpm bench`): for each dataset and engine, a build child process
 * and then a search child process (see engine-child.ts), all on the same data in the same run. Results
 * go to `<out>/<date>-<dataset>.json` after every engine (a re-run of some engines on the same day
 * replaces just their entries), then the report and plots are regenerated.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runInChild } from "./child-process.js";
import { snapshotCore } from "./core-snapshot.js";
import { resolveDataset, type BenchPaths, type DatasetSpec } from "./datasets.js";
import type { SearchSetting } from "./engines/engine.js";
import { ENGINE_ENV, ENGINE_NAMES } from "./engines/registry.js";
import { gitCommit, machineInfo, type MachineInfo } from "./machine-info.js";
import {
  RESULTS_SCHEMA,
  type AnnResultsFile,
  type BuildOutcome,
  type ChildJob,
  type ChildMessage,
  type EngineResult,
  type SearchKnobs,
  type SearchOutcome,
} from "./run-types.js";

/** Options of {@link runAnnBenchmark}. */
export interface AnnOptions {
  paths: BenchPaths;
  datasets: string[];
  n?: number;
  dim?: number;
  engines: string[];
  knobs: SearchKnobs;
  /** `--sweep` overrides by engine name. */
  sweeps: Record<string, SearchSetting[]>;
  /** `--build-option` settings by engine name. */
  buildOptions: Record<string, Record<string, number | string>>;
  smoke: boolean;
  outDir: string;
  /** Keep the built index folders (under bench/.cache/work). */
  keep: boolean;
  argv: string[];
  buildTimeoutSeconds?: number;
  log: (line: string) => void;
}

/** The date part of an ISO timestamp (UTC), used in result file names. */
export function runDate(machine: MachineInfo): string {
  return machine.date.slice(0, 10);
}

function datasetEntry(spec: DatasetSpec, paths: BenchPaths): AnnResultsFile["dataset"] {
  const { baseFile, queryFile, gtIdsFile, gtDistFile, ...rest } = spec;
  const rel = (p: string): string => path.relative(paths.repoRoot, p);
  return { ...rest, files: { base: rel(baseFile), queries: rel(queryFile), gtIds: rel(gtIdsFile), gtDists: rel(gtDistFile) } };
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

/** Runs one engine on one dataset: build child, then search child. */
async function runEngine(engine: string, spec: DatasetSpec, opts: AnnOptions, machine: MachineInfo): Promise<EngineResult> {
  const workDir = path.join(opts.paths.cacheDir, "work", spec.name, engine);
  // Reader copies (`<dir>.reader-N`) left by a crashed search child go too.
  const clean = (): void => {
    fs.rmSync(workDir, { recursive: true, force: true });
    for (const leftover of fs.existsSync(path.dirname(workDir)) ? fs.readdirSync(path.dirname(workDir)) : []) {
      if (leftover.startsWith(`${engine}.reader-`)) fs.rmSync(path.join(path.dirname(workDir), leftover), { recursive: true, force: true });
    }
  };
  clean();
  fs.mkdirSync(workDir, { recursive: true });
  const result: EngineResult = {
    engine,
    kind: "",
    version: "",
    status: "ok",
    params: {},
    points: [],
    notes: [],
    run: { date: new Date().toISOString(), commit: machine.commit, command: machine.command, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  };
  try {
    opts.log(`[${spec.name}] ${engine}: build`);
    const buildJob: ChildJob = { phase: "build", engine, spec, dir: workDir, threads: opts.knobs.threads, options: opts.buildOptions[engine] ?? {} };
    const build = await runInChild<ChildJob, ChildMessage>(
      "engine-child.js",
      buildJob,
      (why) => ({ type: "build", outcome: { status: "error", reason: why } }),
      { timeoutSeconds: opts.buildTimeoutSeconds, env: { RUST_LOG: "error", LANCEDB_LOG: "error", ...ENGINE_ENV[engine] } },
    );
    const b = build.outcome as BuildOutcome;
    result.kind = b.kind ?? "";
    result.version = b.version ?? "";
    if (b.status !== "ok") {
      result.status = b.status;
      result.reason = b.reason;
      opts.log(`[${spec.name}] ${engine}: ${b.status.toUpperCase()} — ${b.reason?.split("\n")[0]}`);
      return result;
    }
    result.params = b.params ?? {};
    result.buildThreads = b.buildThreads;
    result.build = { seconds: b.buildSeconds!, vectorsPerSecond: b.vectorsPerSecond!, peakRssBytes: b.peakRssBytes! };
    result.diskBytes = b.diskBytes;
    result.diskBytesPerVector = b.diskBytes! / spec.count;
    result.notes.push(...(b.notes ?? []));
    opts.log(
      `[${spec.name}] ${engine}: built ${spec.count} vectors in ${b.buildSeconds!.toFixed(2)} s (${b.vectorsPerSecond!.toFixed(0)} vec/s, ${b.buildThreads} thread(s)), ${(b.diskBytes! / 2 ** 20).toFixed(1)} MiB on disk`,
    );

    const override = opts.sweeps[engine] ?? null;
    const searchJob: ChildJob = { phase: "search", engine, spec, dir: workDir, settings: override, knobs: opts.knobs };
    const search = await runInChild<ChildJob, ChildMessage>(
      "engine-child.js",
      searchJob,
      (why) => ({ type: "search", outcome: { status: "error", reason: why } }),
      { env: { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", RUST_LOG: "error", LANCEDB_LOG: "error", ...ENGINE_ENV[engine] } },
    );
    const s = search.outcome as SearchOutcome;
    if (s.status !== "ok") {
      result.status = s.status;
      result.reason = s.reason;
      opts.log(`[${spec.name}] ${engine}: search ${s.status.toUpperCase()} — ${s.reason?.split("\n")[0]}`);
      return result;
    }
    result.reopen = s.reopen;
    result.memory = s.memory;
    result.points = s.points ?? [];
    result.notes.push(...(s.notes ?? []));
    opts.log(
      `[${spec.name}] ${engine}: reopen ${s.reopen!.totalSeconds.toFixed(3)} s, private RAM ${s.memory!.anonBytesPerVector.toFixed(0)} B/vector (+${s.memory!.fileBytesPerVector.toFixed(0)} B file-backed)`,
    );
    return result;
  } finally {
    if (!opts.keep) clean();
  }
}

/** Runs the benchmark over every dataset and engine; returns the result files written. */
export async function runAnnBenchmark(opts: AnnOptions): Promise<string[]> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const written: string[] = [];
  // The commit is read once, with the core snapshot, so it names the code every engine ran against.
  const commit = gitCommit(opts.paths.repoRoot);
  const dropSnapshot = opts.engines.includes("omendb") ? snapshotCore(opts.paths) : () => {};
  try {
    await runAll(opts, written, commit);
  } finally {
    dropSnapshot();
  }
  return written;
}

async function runAll(opts: AnnOptions, written: string[], commit: string): Promise<void> {
  for (const name of opts.datasets) {
    const spec = await resolveDataset(name, opts.paths, { n: opts.n, dim: opts.dim, queries: opts.smoke ? 100 : 1000, log: opts.log });
    const machine = { ...machineInfo(opts.paths.repoRoot, opts.argv), commit };
    const file = path.join(opts.outDir, `${runDate(machine)}-${spec.name}.json`);
    if (machine.loadAverage[0]! > machine.cores / 2) {
      opts.log(`warning: load average ${machine.loadAverage[0]} on ${machine.cores} cores — other work on this machine will skew the figures`);
    }
    opts.log(`\n=== ${spec.name}: ${spec.count} × ${spec.dim}, ${spec.metric}, ${Math.min(spec.queryCount, opts.knobs.maxQueries)} queries, k = ${opts.knobs.k} ===`);
    let results: AnnResultsFile = {
      schema: RESULTS_SCHEMA,
      type: "ann",
      machine,
      dataset: datasetEntry(spec, opts.paths),
      knobs: opts.knobs,
      smoke: opts.smoke,
      engines: [],
    };
    if (fs.existsSync(file)) {
      const old = JSON.parse(fs.readFileSync(file, "utf8")) as AnnResultsFile;
      if (old.schema === RESULTS_SCHEMA && old.dataset.count === spec.count && old.dataset.dim === spec.dim && old.smoke === opts.smoke) {
        results = { ...results, engines: old.engines.filter((e) => !opts.engines.includes(e.engine)) };
      }
    }
    for (const engine of opts.engines) {
      const r = await runEngine(engine, spec, opts, machine);
      results.engines = results.engines.filter((e) => e.engine !== r.engine);
      results.engines.push(r);
      results.engines.sort((a, b) => ENGINE_NAMES.indexOf(a.engine) - ENGINE_NAMES.indexOf(b.engine));
      writeJsonAtomic(file, results);
    }
    written.push(file);
    opts.log(`results: ${path.relative(process.cwd(), file)}`);
  }
}

/** Cores used for "all cores" figures by default. */
export function defaultThreads(): number {
  return os.availableParallelism();
}
