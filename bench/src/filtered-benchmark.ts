/**
 * `pnpm bench:filtered` — filtered search of OmenDB (issue #4): recall@10 against exact filtered ground
 * truth, result counts, p50/p99 latency and QPS on one thread, and the plan every search used, at
 * selectivities 100% … 0.01% (seeded attributes) and, on sotu-use-512, on its real metadata.
 *
 * Options:
 *   --dataset a,b   default sotu-use-512,glove-100-angular-100k,synthetic-100k (1536-d)
 *   --n N           rows of a synthetic set / first N rows of a real one
 *   --queries N     queries per case (default 1000)     --passes N   latency passes (default 3)
 *   --block N       queries per interleaved block (100)  --warmup N   warm-up queries per case (20)
 *   --k N           (default 10)                         --seed N     rank permutation seed (7)
 *   --core FILE     an experiment: import @omendb/core from FILE (a copy's dist/index.js) instead
 *   --label TEXT    name of the experiment, written into the results
 *   --out DIR       default bench/results/filtered (experiments: pass another folder)
 *   --groups a,b    case groups to run: seeded-range, seeded-eq, natural, diagnostic (default all)
 *   --diagnostic p  diagnostic range selectivities in percent, e.g. 0.5,2,5,20 (default 20,5,2)
 *   --index k=v,..  non-default index options (diagnosis only: the bars use the defaults), e.g. maxDegree=128
 * Built collections are cached in bench/.cache/filtered/ (delete a folder to rebuild it).
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { resolveDataset, type BenchPaths } from "./datasets.js";
import { checkAgainstDatasetTruth, computeFilteredTruth } from "./filtered-ground-truth.js";
import { loadCore, measureCases, openCollection } from "./filtered-measure.js";
import { barVerdict, planText, writeResults, type FilteredResultsFile } from "./filtered-report.js";
import { loadWorkload, type CaseGroup } from "./filtered-workload.js";
import { machineInfo } from "./machine-info.js";

const DEFAULT_DATASETS = ["sotu-use-512", "glove-100-angular-100k", "synthetic-100k"];

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** The OMENDB_EXP_* variables an experiment's copy of the core reads (empty for the workspace core). */
function experimentEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("OMENDB_EXP_") && e[1] !== undefined));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: "string" },
      n: { type: "string" },
      queries: { type: "string" },
      passes: { type: "string" },
      block: { type: "string" },
      warmup: { type: "string" },
      k: { type: "string" },
      seed: { type: "string" },
      core: { type: "string" },
      label: { type: "string" },
      out: { type: "string" },
      groups: { type: "string" },
      diagnostic: { type: "string" },
      index: { type: "string" },
    },
  });
  const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const repoRoot = path.resolve(benchDir, "..");
  const paths: BenchPaths = {
    repoRoot,
    benchDir,
    datasetsDir: path.resolve(repoRoot, "../shared/datasets"),
    cacheDir: path.join(benchDir, ".cache"),
  };
  const outDir = path.resolve(values.out ?? path.join(benchDir, "results", "filtered"));
  const k = positiveInt("k", values.k, 10);
  const queries = positiveInt("queries", values.queries, 1000);
  const passes = positiveInt("passes", values.passes, 3);
  const block = positiveInt("block", values.block, 100);
  const warmup = positiveInt("warmup", values.warmup, 20);
  const seed = positiveInt("seed", values.seed, 7);
  const n = values.n === undefined ? undefined : positiveInt("n", values.n, 0);
  const log = (line: string) => console.log(line);
  const core = await loadCore(values.core);
  const coreModule = values.core === undefined ? "@omendb/core (workspace packages/core/dist)" : path.resolve(values.core);
  const indexOptions: Record<string, number> = {};
  for (const pair of (values.index ?? "").split(",").filter(Boolean)) {
    const [key, value] = pair.split("=");
    if (key === undefined || value === undefined || !Number.isFinite(Number(value))) throw new Error(`--index ${pair}: expected key=number`);
    indexOptions[key.trim()] = Number(value);
  }
  const names = (values.dataset ?? DEFAULT_DATASETS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);

  for (const name of names) {
    const machine = machineInfo(repoRoot, argv);
    machine.command = [...Object.entries(experimentEnv()).map(([k, v]) => `${k}=${v}`), "pnpm", "bench:filtered", ...argv].join(" ");
    log(`${name}: resolving`);
    const spec = await resolveDataset(name, paths, { ...(n === undefined ? {} : { n }), dim: 1536, queries: 1000, log });
    const w = loadWorkload(spec, {
      queries,
      seed,
      ...(values.groups === undefined ? {} : { groups: values.groups.split(",").map((g) => g.trim() as CaseGroup) }),
      ...(values.diagnostic === undefined ? {} : { diagnostic: values.diagnostic.split(",").map(Number) }),
    });
    log(`  ${spec.name}: ${spec.count} × ${spec.dim}, ${w.queries.count} queries, ${w.cases.length} cases; exact filtered ground truth...`);
    const truth = computeFilteredTruth(w, k, log);
    const baselineMismatches = checkAgainstDatasetTruth(w, truth);
    log(`  ground truth in ${truth.seconds.toFixed(1)} s; ${baselineMismatches} queries disagree with the dataset's own ground truth`);
    const { collection, close, build } = await openCollection(core, w, path.join(paths.cacheDir, "filtered"), repoRoot, log, indexOptions);
    let measured;
    try {
      measured = await measureCases(collection, w, truth, { k, passes, block, warmup, log });
    } finally {
      await close();
    }
    const results: FilteredResultsFile = {
      schema: 1,
      type: "filtered",
      machine,
      loadAverageEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      core: { module: coreModule, label: values.label ?? null, env: experimentEnv() },
      dataset: { name: spec.name, kind: spec.kind, description: spec.description, metric: spec.metric, dim: spec.dim, count: spec.count, source: spec.source, queries: w.queries.count },
      knobs: { k, passes, block, warmup, seed },
      groundTruth: { seconds: truth.seconds, baselineMismatches },
      build,
      timing: measured.timing,
      cases: measured.cases,
      bars: barVerdict(measured.cases),
    };
    const files = await writeResults(results, outDir);
    log(`  ${spec.name}: recall ${results.bars.recall ? "ok" : "FAIL"}, count ${results.bars.count ? "ok" : "FAIL"}, latency ${results.bars.latency ? "ok" : "FAIL"}`);
    for (const c of results.cases) {
      log(`    ${c.name.padEnd(34)} ${(c.selectivity * 100).toPrecision(3).padStart(7)}%  recall ${c.recall.toFixed(4)}  p99 ${c.latency.p99Ms.toFixed(3)} ms (${c.p99Ratio.toFixed(2)}×)  ${planText(c)}`);
    }
    log(`  wrote ${files.map((f) => path.relative(repoRoot, f)).join(", ")}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
