/**
 * `pnpm bench [command] [options]` — the one entry point of the benchmarks.
 *
 * Commands:
 *   (none) | ann   recall@10 / QPS / latency / build / RAM / disk / reopen for OmenDB and each peer
 *   ingest         durable ingest of 1536-d vectors with metadata (batched, concurrent singles), OmenDB
 *   exact          exact search time over 100k × 1536 vs the measured memory-bandwidth bound, OmenDB
 *   recovery       reopen time after SIGKILL with an un-checkpointed WAL, OmenDB
 *   http           HTTP query throughput of @omendb/server vs in-process search, same folder (issue #7)
 *   churn          recall@10 after rounds of deleting and inserting records vs fresh ground truth (issue #3)
 *   report         regenerate REPORT.md and the plots from the JSON results
 *   list           datasets and engines (with why an engine is unavailable)
 *
 * Options (ann): --dataset a,b  --n N  --only a,b  --smoke  --queries N  --budget S  --threads N
 *   --sweep engine:param=v1,v2 (repeatable)  --build-option engine:key=value (repeatable)
 *   --dim D  --out DIR  --keep  --datasets-dir DIR  --build-timeout S
 * Default datasets: every folder of ../shared/datasets plus synthetic-100k (synthetic-1m only when
 * named). --smoke: fiori-docs-minilm-384 (or synthetic-2k when the shared datasets are absent), 100
 * queries, 1 s per point, two sweep points, results in bench/.cache/smoke-results unless --out.
 *
 * Options (http): --dataset D (default synthetic-<n>, n = 100k)  --n N  --concurrency 1,2,4,8,16
 *   --seconds S (per level, default 10)  --rebuild (ignore the cached folder in bench/.cache/http)
 *   --smoke (synthetic-2k, concurrency 1,4, 1 s)  --out DIR. Needs packages/server built.
 *
 * Options (churn): --dataset a,b (default glove-100-angular-100k,sotu-use-512)  --rounds N (10)
 *   --fraction F (share deleted and inserted per round, 0.1)  --queries N (1000)  --n N  --dim D
 *   --smoke (synthetic-3000 at 64-d, 2 rounds, 100 queries, results in bench/.cache/smoke-results)  --out DIR.
 *   The initial set is n / (1 + rounds × fraction) rows, so every round inserts vectors never seen before.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { defaultThreads, runAnnBenchmark } from "./ann-benchmark.js";
import { parseCount, realDatasetNames, type BenchPaths } from "./datasets.js";
import type { SearchSetting } from "./engines/engine.js";
import { ENGINE_NAMES, loadEngine, selectEngines } from "./engines/registry.js";
import { runExactBenchmark } from "./exact-benchmark.js";
import { DEFAULT_CHURN_DATASETS, runChurnBenchmark } from "./churn-benchmark.js";
import { DEFAULT_CONCURRENCY, runHttpBenchmark } from "./http-benchmark.js";
import { runIngestBenchmark } from "./ingest-benchmark.js";
import { runRecoveryBenchmark } from "./recovery-benchmark.js";
import { writeReport } from "./report.js";

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Parses `engine:key=value` (a build option) into engine, key and value (a number when numeric). */
export function parseBuildOption(text: string): { engine: string; key: string; value: number | string } {
  const m = /^([^:]+):([^=]+)=(.+)$/.exec(text);
  if (!m) throw new Error(`--build-option ${text}: expected engine:key=value`);
  const names = selectEngines([m[1]!]);
  if (names.length !== 1) throw new Error(`--build-option ${text}: "${m[1]}" must name exactly one engine (matches ${names.join(", ")})`);
  const num = Number(m[3]);
  return { engine: names[0]!, key: m[2]!, value: Number.isFinite(num) ? num : m[3]! };
}

/** Parses `engine:param=v1,v2` into settings for that engine. */
export function parseSweep(text: string): { engine: string; settings: SearchSetting[] } {
  const m = /^([^:]+):([^=]+)=(.+)$/.exec(text);
  if (!m) throw new Error(`--sweep ${text}: expected engine:param=v1,v2,...`);
  const [, engine, param, values] = m;
  const settings = values!.split(",").map((v) => {
    const num = Number(v);
    return { label: `${param}=${v}`, params: { [param!]: Number.isFinite(num) && v.trim() !== "" ? num : v } };
  });
  const names = selectEngines([engine!]);
  if (names.length !== 1) throw new Error(`--sweep ${text}: "${engine}" must name exactly one engine (matches ${names.join(", ")})`);
  return { engine: names[0]!, settings };
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = parseCount(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} ${v}: expected a positive integer`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dataset: { type: "string", multiple: true },
      n: { type: "string" },
      only: { type: "string", multiple: true },
      smoke: { type: "boolean", default: false },
      queries: { type: "string" },
      budget: { type: "string" },
      threads: { type: "string" },
      sweep: { type: "string", multiple: true },
      "build-option": { type: "string", multiple: true },
      dim: { type: "string" },
      out: { type: "string" },
      keep: { type: "boolean", default: false },
      "datasets-dir": { type: "string" },
      "build-timeout": { type: "string" },
      concurrency: { type: "string" },
      seconds: { type: "string" },
      rebuild: { type: "boolean", default: false },
      rounds: { type: "string" },
      fraction: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const command = positionals[0] ?? "ann";
  if (values.help) {
    const text = fs.readFileSync(fileURLToPath(import.meta.url), "utf8");
    console.log(/\/\*\*([\s\S]*?)\*\//.exec(text)![1]!.replace(/^ \* ?/gm, ""));
    return;
  }
  const repoRoot = path.resolve(benchDir, "..");
  const paths: BenchPaths = {
    repoRoot,
    benchDir,
    datasetsDir: path.resolve(values["datasets-dir"] ?? path.resolve(repoRoot, "../shared/datasets")),
    cacheDir: path.join(benchDir, ".cache"),
  };
  const smoke = values.smoke ?? false;
  const outDir = path.resolve(values.out ?? (smoke ? path.join(paths.cacheDir, "smoke-results") : path.join(benchDir, "results")));
  const log = (line: string): void => console.log(line);
  const threads = positiveInt("threads", values.threads, defaultThreads());
  const n = values.n === undefined ? undefined : positiveInt("n", values.n, 0);
  const dim = values.dim === undefined ? undefined : positiveInt("dim", values.dim, 0);
  const split = (xs: string[] | undefined): string[] | undefined => xs?.flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);

  switch (command) {
    case "ann": {
      const engines = selectEngines(split(values.only));
      let datasets = split(values.dataset);
      if (!datasets) {
        const real = realDatasetNames(paths);
        if (smoke) datasets = real.includes("fiori-docs-minilm-384") ? ["fiori-docs-minilm-384"] : ["synthetic-2k"];
        else datasets = [...real, "synthetic-100k"];
      }
      const sweeps: Record<string, SearchSetting[]> = {};
      for (const s of values.sweep ?? []) {
        const { engine, settings } = parseSweep(s);
        sweeps[engine] = settings;
      }
      const buildOptions: Record<string, Record<string, number | string>> = {};
      for (const s of values["build-option"] ?? []) {
        const { engine, key, value } = parseBuildOption(s);
        (buildOptions[engine] ??= {})[key] = value;
      }
      const budget = values.budget === undefined ? (smoke ? 1 : 30) : Number(values.budget);
      if (!(budget > 0)) throw new Error(`--budget ${values.budget}: expected seconds > 0`);
      await runAnnBenchmark({
        paths,
        datasets,
        n,
        dim,
        engines,
        knobs: {
          k: 10,
          budgetSeconds: budget,
          minSeconds: smoke ? 0.2 : 2,
          minQueries: smoke ? 5 : 20,
          maxQueries: positiveInt("queries", values.queries, smoke ? 100 : 1000),
          threads,
          warmupQueries: smoke ? 3 : 20,
          sweepLimit: smoke ? 2 : 0,
        },
        sweeps,
        buildOptions,
        smoke,
        outDir,
        keep: values.keep ?? false,
        argv,
        buildTimeoutSeconds: values["build-timeout"] === undefined ? undefined : Number(values["build-timeout"]),
        log,
      });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    }
    case "ingest":
      await runIngestBenchmark({ paths, smoke, outDir, argv, n, dim, log });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    case "exact":
      await runExactBenchmark({ paths, smoke, outDir, argv, n, dim, queries: values.queries === undefined ? undefined : positiveInt("queries", values.queries, 0), log });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    case "recovery":
      await runRecoveryBenchmark({ paths, smoke, outDir, argv, n, dim, log });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    case "http": {
      const datasets = split(values.dataset);
      if (datasets && datasets.length !== 1) throw new Error("http: --dataset takes one dataset");
      const concurrency = values.concurrency === undefined ? (smoke ? [1, 4] : DEFAULT_CONCURRENCY) : values.concurrency.split(",").map((c) => positiveInt("concurrency", c.trim(), 0));
      const seconds = values.seconds === undefined ? (smoke ? 1 : 10) : Number(values.seconds);
      if (!(seconds > 0)) throw new Error(`--seconds ${values.seconds}: expected seconds > 0`);
      await runHttpBenchmark({ paths, smoke, outDir, argv, n, dim, log, dataset: datasets?.[0], concurrency, seconds, rebuild: values.rebuild ?? false });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    }
    case "churn": {
      const fraction = values.fraction === undefined ? 0.1 : Number(values.fraction);
      if (!(fraction > 0 && fraction < 1)) throw new Error(`--fraction ${values.fraction}: expected a share between 0 and 1`);
      await runChurnBenchmark({
        paths,
        smoke,
        outDir,
        argv,
        n,
        dim: dim ?? (smoke ? 64 : undefined),
        queries: values.queries === undefined ? undefined : positiveInt("queries", values.queries, 0),
        log,
        datasets: split(values.dataset) ?? (smoke ? ["synthetic-3000"] : DEFAULT_CHURN_DATASETS),
        rounds: positiveInt("rounds", values.rounds, smoke ? 2 : 10),
        fraction,
      });
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    }
    case "report":
      log(`report: ${path.relative(process.cwd(), await writeReport(outDir))}`);
      break;
    case "list": {
      log(`datasets (${paths.datasetsDir}): ${[...realDatasetNames(paths), "synthetic-100k", "synthetic-1m", "synthetic-<n>"].join(", ")}`);
      for (const name of ENGINE_NAMES) {
        const { engine, reason } = await loadEngine(name);
        log(`  ${engine ? "ok  " : "SKIP"} ${name}${engine ? ` ${engine.version()} (${engine.kind})` : ` — ${reason}`}`);
      }
      break;
    }
    default:
      throw new Error(`unknown command "${command}"; commands: ann, ingest, exact, recovery, http, churn, report, list (see --help)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
