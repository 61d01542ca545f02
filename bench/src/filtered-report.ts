/**
 * Output of the filtered benchmark: per dataset `<dataset>.json` (everything measured),
 * `<dataset>.md` (the table) and `<dataset>.svg` (p99 latency and recall@k against selectivity, as a
 * Vega-Lite specification rendered headless by Vega), plus `SUMMARY.md` over every results file of the
 * folder. Each file states the machine, Node version, date, commit and command.
 */
import fs from "node:fs";
import path from "node:path";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { DatasetSpec } from "./datasets.js";
import type { BuildRecord, CaseResult, TimingContext } from "./filtered-measure.js";
import type { MachineInfo } from "./machine-info.js";

/** One results file of the filtered benchmark. */
export interface FilteredResultsFile {
  schema: 1;
  type: "filtered";
  machine: MachineInfo;
  /** 1/5/15-minute load averages when the measurement ended. */
  loadAverageEnd: number[];
  /** Which `@omendb/core` ran: the workspace package or an experiment's copy (`--core`). */
  core: { module: string; label: string | null; env: Record<string, string> };
  dataset: Pick<DatasetSpec, "name" | "kind" | "description" | "metric" | "dim" | "count" | "source"> & { queries: number };
  knobs: { k: number; passes: number; block: number; warmup: number; seed: number };
  groundTruth: { seconds: number; baselineMismatches: number };
  build: BuildRecord;
  timing: TimingContext;
  cases: CaseResult[];
  /** Bars over the cases they apply to. */
  bars: { recall: boolean; count: boolean; latency: boolean; latencyCpu: boolean; all: boolean };
}

/** Whether every bar case of `cases` passes each bar. */
export function barVerdict(cases: readonly CaseResult[]): FilteredResultsFile["bars"] {
  const barCases = cases.filter((c) => c.bar && c.group !== "baseline");
  const recall = barCases.every((c) => c.pass.recall);
  const count = cases.every((c) => c.pass.count);
  const latency = barCases.every((c) => c.pass.latency);
  const latencyCpu = barCases.every((c) => c.pass.latencyCpu);
  return { recall, count, latency, latencyCpu, all: recall && count && latency };
}

function pct(x: number): string {
  const p = x * 100;
  if (p >= 10) return `${p.toFixed(1)}%`;
  if (p >= 1) return `${p.toFixed(2)}%`;
  return `${p.toPrecision(2)}%`;
}

function ms(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** "index-filtered 900 (w0 800, w1 100; ef ≤ 400)" style summary of the plans of one case. */
export function planText(c: CaseResult): string {
  const plans = Object.entries(c.plans).sort((a, b) => b[1] - a[1]);
  const parts = plans.map(([p, n]) => (plans.length === 1 ? p : `${p} ${n}`));
  const w = Object.entries(c.widenings).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (w.length > 1 || (w.length === 1 && w[0]![0] !== "0")) parts.push(`widenings ${w.map(([k, n]) => `${k}:${n}`).join(" ")}`);
  if (c.efSearchMax > 0) parts.push(`ef ≤ ${c.efSearchMax}`);
  return parts.join("; ");
}

function mark(ok: boolean): string {
  return ok ? "ok" : "**FAIL**";
}

/** The markdown page of one results file. */
export function markdownTable(r: FilteredResultsFile): string {
  const m = r.machine;
  const d = r.dataset;
  const base = r.cases.find((c) => c.group === "baseline")!;
  const lines: string[] = [];
  lines.push(`# Filtered search: ${d.name}${r.core.label ? ` (experiment: ${r.core.label})` : ""}`);
  lines.push("");
  lines.push(
    `${d.count.toLocaleString("en-US")} × ${d.dim}, ${d.metric}${d.kind === "synthetic" ? ", **synthetic data** (" + d.description + ")" : ""}; ` +
      `${d.queries} queries, k = ${r.knobs.k}; OmenDB ${Object.keys(r.build.index ?? {}).length > 0 ? "index options " + JSON.stringify(r.build.index) : "default index settings"}, \`buildIndex()\` after loading.`,
  );
  lines.push("");
  lines.push(`- machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryTotalBytes / 2 ** 30).toFixed(0)} GiB; Node ${m.node}; ${m.platform}/${m.arch}`);
  const env = Object.entries(r.core.env ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
  lines.push(`- date: ${m.date}; commit: \`${m.commit}\`; core: ${r.core.module}${env ? ` with ${env}` : ""}`);
  lines.push(`- command: \`${m.command}\``);
  lines.push(
    `- load average at start ${m.loadAverage.join(" / ")}, at end ${r.loadAverageEnd.join(" / ")}; this process got ${(r.timing.cpuShare * 100).toFixed(0)}% of a core during the latency passes (shared machine)`,
  );
  const b = r.build;
  lines.push(
    `- collection: ${Object.keys(b.index ?? {}).length > 0 ? `**non-default index options ${JSON.stringify(b.index)}** (diagnosis), ` : ""}${b.cached ? "reused" : "built"} (${b.builtAt}, commit ${b.builtWithCommit.slice(0, 12)}): load ${b.loadSeconds.toFixed(1)} s, buildIndex ${b.buildIndexSeconds.toFixed(1)} s; reopen ${b.reopenSeconds.toFixed(2)} s; ${b.indexStatus.indexed} indexed`,
  );
  lines.push(
    `- ground truth: exact filtered top-${r.knobs.k} in float64 (${r.groundTruth.seconds.toFixed(1)} s); unfiltered k-th distances that disagree with the dataset's own ground truth: ${r.groundTruth.baselineMismatches}`,
  );
  lines.push(
    `- latency: ${r.knobs.passes} passes × ${d.queries} queries per case, one thread, cases interleaved in blocks of ${r.knobs.block}; ` +
      `unfiltered p50 / p99: wall ${ms(base.latency.p50Ms)} / ${ms(base.latency.p99Ms)} ms, CPU ${ms(base.latency.cpuP50Ms)} / ${ms(base.latency.cpuP99Ms)} ms`,
  );
  const v = r.bars;
  lines.push(
    `- bars (every case except \`diagnostic\`): recall@${r.knobs.k} ≥ 0.95 ${mark(v.recall)}; never fewer than min(k, matches) ${mark(v.count)}; ` +
      `p99 ≤ 3× unfiltered p99: wall clock ${mark(v.latency)}, CPU time ${mark(v.latencyCpu)}`,
  );
  lines.push("");
  lines.push(`| filter | group | matched | selectivity | plan | recall@${r.knobs.k} | min | short | p50 ms | p99 ms | QPS | p99 / unfiltered | CPU p50 ms | CPU p99 ms | CPU p99 / unfiltered | filter µs | bars r/c/l/l-cpu |`);
  lines.push("|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
  for (const c of r.cases) {
    const flags = [c.pass.recall, c.pass.count, c.pass.latency, c.pass.latencyCpu].map((x) => (x ? "✓" : "✗")).join(" ");
    const bars = c.group === "baseline" ? "—" : c.bar ? flags : `(${flags})`;
    const l = c.latency;
    lines.push(
      `| \`${c.name}\` | ${c.group} | ${c.matched.toLocaleString("en-US")} | ${pct(c.selectivity)} | ${planText(c)} | ${c.recall.toFixed(4)} | ${c.recallMin.toFixed(2)} | ${c.shortResults} | ` +
        `${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${l.qps.toFixed(0)} | ${c.p99Ratio.toFixed(2)}× | ${ms(l.cpuP50Ms)} | ${ms(l.cpuP99Ms)} | ${c.cpuP99Ratio.toFixed(2)}× | ${c.filterEvalUs.toFixed(0)} | ${bars} |`,
    );
  }
  lines.push("");
  lines.push(
    "`short`: queries that got fewer than min(k, matches) results. `min`: lowest recall of one query. `p50/p99 ms`: wall clock of one " +
      "`search` call; `CPU`: the same call's wall time minus the time its thread waited in the run queue while other processes " +
      "held the cores (`run_delay` of /proc/self/task/<pid>/schedstat), i.e. its latency on a machine of its own. QPS = searches / total wall time of the searches. `filter µs`: median time of " +
      "`count({ filter })`, the filter index's share of a search. Plans come from `collection.explain()`; `widenings a:n` = n queries " +
      "widened their candidate list a times. `diagnostic` cases sit around the planner's exact/graph crossover and are not bars. " +
      "Bars: r = recall, c = count (and no row outside the filter), l = wall p99 ratio ≤ 3, l-cpu = CPU p99 ratio ≤ 3.",
  );
  lines.push("");
  return lines.join("\n");
}

/** The Vega-Lite specification of one dataset's plot: wall p99, CPU-time p99 and recall against selectivity. */
export function plotSpec(r: FilteredResultsFile): vegaLite.TopLevelSpec {
  const base = r.cases.find((c) => c.group === "baseline")!;
  const rows = r.cases
    .filter((c) => c.group !== "baseline" && c.matched > 0)
    .map((c) => ({
      name: c.name,
      group: c.group,
      selectivity: c.selectivity,
      p99Ms: c.latency.p99Ms,
      cpuP99Ms: c.latency.cpuP99Ms,
      recall: c.recall,
      plan: planText(c),
    }));
  const m = r.machine;
  const d = r.dataset;
  const minSel = rows.reduce((a, x) => Math.min(a, x.selectivity), 1);
  const x = {
    field: "selectivity",
    type: "quantitative",
    title: "selectivity (matching records / all, log scale)",
    scale: { type: "log", domain: [Math.pow(10, Math.floor(Math.log10(minSel))), 1] },
    axis: { format: "~%" },
  };
  const groups = ["seeded-range", "seeded-eq", "natural", "diagnostic"].filter((g) => rows.some((x) => x.group === g));
  const color = { field: "group", type: "nominal", title: "filter", scale: { domain: groups, scheme: "tableau10" } };
  const shape = { field: "group", type: "nominal", title: "filter", scale: { domain: groups } };
  const tooltip = [
    { field: "name" },
    { field: "plan" },
    { field: "selectivity", format: ".4%" },
    { field: "p99Ms", format: ".3f" },
    { field: "cpuP99Ms", format: ".3f" },
    { field: "recall", format: ".4f" },
  ];
  const latencyPanel = (field: "p99Ms" | "cpuP99Ms", title: string, baseline: number) => {
    const rules = [
      { y: baseline, label: `unfiltered ${ms(baseline)} ms` },
      { y: 3 * baseline, label: "bar: 3× unfiltered" },
    ];
    const values = rows.map((x) => x[field]);
    const lo = Math.min(...values, baseline) / 1.5;
    const hi = Math.max(...values, 3 * baseline) * 1.5;
    return {
      width: 600,
      height: 220,
      layer: [
        {
          data: { values: rules },
          mark: { type: "rule", strokeDash: [6, 4] },
          encoding: { y: { field: "y", type: "quantitative", scale: { type: "log", domain: [lo, hi] } }, color: { value: "#888" } },
        },
        {
          data: { values: rules },
          mark: { type: "text", align: "left", dx: 4, dy: -6, fontSize: 10, color: "#555" },
          encoding: { y: { field: "y", type: "quantitative" }, x: { value: 0 }, text: { field: "label" } },
        },
        {
          data: { values: rows },
          mark: { type: "point", filled: true, size: 70 },
          encoding: { x, y: { field, type: "quantitative", title, scale: { type: "log", domain: [lo, hi] } }, color, shape, tooltip },
        },
      ],
    };
  };
  const minRecall = rows.reduce((a, x) => Math.min(a, x.recall), 0.95);
  const recallScale = { domain: [Math.max(0, Math.floor(minRecall * 20) / 20 - 0.05), 1.005], zero: false };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `${d.name}: filtered search, OmenDB${r.core.label ? ` (${r.core.label})` : ""}, k = ${r.knobs.k}`,
      subtitle: [
        `${d.count.toLocaleString("en-US")} × ${d.dim}, ${d.metric}${d.kind === "synthetic" ? ", SYNTHETIC data" : ""}; ${d.queries} queries × ${r.knobs.passes} passes, one thread`,
        `${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 16)}Z, commit ${m.commit.slice(0, 12)}`,
        `${m.command}`,
      ],
    },
    background: "white",
    config: { font: "DejaVu Sans", view: { stroke: "#ddd" } },
    vconcat: [
      latencyPanel("p99Ms", "p99 latency, wall clock, ms (log)", base.latency.p99Ms),
      latencyPanel("cpuP99Ms", "p99 latency, CPU time, ms (log)", base.latency.cpuP99Ms),
      {
        width: 600,
        height: 200,
        layer: [
          {
            data: { values: [{ y: 0.95 }] },
            mark: { type: "rule", strokeDash: [6, 4] },
            encoding: { y: { field: "y", type: "quantitative", scale: recallScale }, color: { value: "#888" } },
          },
          {
            data: { values: rows },
            mark: { type: "point", filled: true, size: 70 },
            encoding: {
              x,
              y: { field: "recall", type: "quantitative", title: `recall@${r.knobs.k} (bar 0.95 dashed)`, scale: recallScale },
              color,
              shape,
              tooltip,
            },
          },
        ],
      },
    ],
  } as vegaLite.TopLevelSpec;
}

/** Renders the plot of `r` to an SVG string. */
export async function renderSvg(r: FilteredResultsFile): Promise<string> {
  const compiled = vegaLite.compile(plotSpec(r)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes `<dataset>.json`, `.md` and `.svg` into `dir` and refreshes `SUMMARY.md`; returns the paths. */
export async function writeResults(r: FilteredResultsFile, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, r.dataset.name);
  fs.writeFileSync(`${stem}.json`, JSON.stringify(r, null, 2) + "\n");
  fs.writeFileSync(`${stem}.md`, markdownTable(r));
  fs.writeFileSync(`${stem}.svg`, await renderSvg(r));
  writeSummary(dir);
  return [`${stem}.json`, `${stem}.md`, `${stem}.svg`, path.join(dir, "SUMMARY.md")];
}

/** `SUMMARY.md`: one line per dataset of the folder, per bar-selectivity case its recall and p99 ratio. */
export function writeSummary(dir: string): void {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as FilteredResultsFile)
    .filter((r) => r.type === "filtered");
  const lines = ["# Filtered search: summary", "", "Generated from the JSON files of this folder by `bench/src/filtered-report.ts`; one page per dataset holds the full table.", ""];
  lines.push("| dataset | date | commit | recall ≥ 0.95 | never < k | p99 ≤ 3× | worst recall (case) | worst p99 ratio (case) |");
  lines.push("|---|---|---|---|---|---|---|---|");
  for (const r of files) {
    const bar = r.cases.filter((c) => c.bar && c.group !== "baseline");
    const worstRecall = bar.reduce((a, c) => (c.recall < a.recall ? c : a), bar[0]!);
    const worstRatio = bar.reduce((a, c) => (c.p99Ratio > a.p99Ratio ? c : a), bar[0]!);
    lines.push(
      `| [${r.dataset.name}](${r.dataset.name}.md) | ${r.machine.date.slice(0, 10)} | ${r.machine.commit.slice(0, 12)} | ${mark(r.bars.recall)} | ${mark(r.bars.count)} | ${mark(r.bars.latency)} | ${worstRecall.recall.toFixed(4)} (\`${worstRecall.name}\`) | ${worstRatio.p99Ratio.toFixed(2)}× (\`${worstRatio.name}\`) |`,
    );
  }
  lines.push("");
  fs.writeFileSync(path.join(dir, "SUMMARY.md"), lines.join("\n"));
}
