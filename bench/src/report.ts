/**
 * Builds `REPORT.md` and the plots from the JSON results in a results folder: for each dataset the
 * latest results file, a table of each engine's best operating point (highest one-thread queries/s
 * with recall@10 ≥ 0.90, else its highest-recall point), the full sweeps, skipped engines with their
 * reasons, and plain sentences on where OmenDB is ahead of and behind each peer; then the latest
 * ingest / exact-search / recovery results of issue #2, the HTTP server throughput of issue #7, and
 * recall under churn (issue #3).
 */
import fs from "node:fs";
import path from "node:path";
import type { ChurnResultsFile } from "./churn-benchmark.js";
import type { HttpResultsFile } from "./http-benchmark.js";
import { renderPlot } from "./plots.js";
import type { AnnResultsFile, EngineResult, ExactResultsFile, IngestResultsFile, RecoveryResultsFile, ResultsFile, SweepPoint } from "./run-types.js";

/** Recall a point needs to count as an operating point in the summaries. */
export const TARGET_RECALL = 0.9;

/** Every parseable results file directly in `dir`. */
export function loadResults(dir: string): { file: string; data: ResultsFile }[] {
  if (!fs.existsSync(dir)) return [];
  const out: { file: string; data: ResultsFile }[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith(".json")) continue;
    try {
      const data = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as ResultsFile;
      if (data && typeof data === "object" && "type" in data) out.push({ file: name, data });
    } catch {
      // not a results file
    }
  }
  return out;
}

/** The engine's best point: highest qps1 with recall ≥ target, else highest recall. */
export function bestPoint(e: EngineResult, target = TARGET_RECALL): SweepPoint | undefined {
  const ok = e.points.filter((p) => p.recall >= target);
  if (ok.length > 0) return ok.reduce((a, b) => (b.qps1 > a.qps1 ? b : a));
  return e.points.reduce<SweepPoint | undefined>((a, b) => (!a || b.recall > a.recall ? b : a), undefined);
}

/** Formats a number for tables: thousands separators, about three significant digits. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const abs = Math.abs(x);
  if (abs >= 100) return Math.round(x).toLocaleString("en-US");
  if (abs === 0) return "0";
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return x.toFixed(Math.min(decimals, 4));
}

/** Recall with three decimals. */
export const fmtRecall = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(3));

const ratio = (a: number, b: number): string => {
  const r = a / b;
  return r >= 1 ? `${fmt(r, 2)}×` : `${fmt(1 / r, 2)}×`;
};

function latestPer<T extends ResultsFile>(files: { file: string; data: ResultsFile }[], type: T["type"], key: (d: T) => string): { file: string; data: T }[] {
  const map = new Map<string, { file: string; data: T }>();
  for (const f of files) {
    if (f.data.type !== type) continue;
    const d = f.data as T;
    const k = key(d);
    const have = map.get(k);
    if (!have || have.data.machine.date < d.machine.date) map.set(k, { file: f.file, data: d });
  }
  return [...map.values()];
}

interface Comparison {
  label: string;
  better: "higher" | "lower";
  value: (e: EngineResult) => number | undefined;
  show: (e: EngineResult, v: number) => string;
}

const COMPARISONS: Comparison[] = [
  {
    label: `queries/s on one thread (best point with recall@10 ≥ ${TARGET_RECALL})`,
    better: "higher",
    value: (e) => {
      const p = bestPoint(e);
      return p && p.recall >= TARGET_RECALL ? p.qps1 : undefined;
    },
    show: (e, v) => `${fmt(v)} at recall ${fmtRecall(bestPoint(e)!.recall)}`,
  },
  {
    label: "queries/s on all cores (same point)",
    better: "higher",
    value: (e) => {
      const p = bestPoint(e);
      return p && p.recall >= TARGET_RECALL && p.qpsAll !== null ? p.qpsAll : undefined;
    },
    show: (_e, v) => fmt(v),
  },
  { label: "build rate (vectors/s, to a closed index on disk)", better: "higher", value: (e) => e.build?.vectorsPerSecond, show: (e, v) => `${fmt(v)} (${e.buildThreads ?? "?"} thr)` },
  { label: "private RAM per vector after reopening (bytes)", better: "lower", value: (e) => e.memory?.anonBytesPerVector, show: (_e, v) => fmt(v) },
  { label: "bytes on disk per vector", better: "lower", value: (e) => e.diskBytesPerVector, show: (_e, v) => fmt(v) },
  { label: "reopen time (open + first query, s)", better: "lower", value: (e) => e.reopen?.totalSeconds, show: (_e, v) => fmt(v) },
];

/** Sentences on where one OmenDB configuration is ahead of and behind the peers on one dataset. */
function standingOf(omen: EngineResult, peers: EngineResult[]): string[] {
  const lines: string[] = [];
  for (const c of COMPARISONS) {
    const mine = c.value(omen);
    if (mine === undefined) {
      lines.push(`- **${c.label}**: no ${omen.engine} figure.`);
      continue;
    }
    const ahead: string[] = [];
    const behind: string[] = [];
    for (const p of peers) {
      const theirs = c.value(p);
      if (theirs === undefined) continue;
      const omenBetter = c.better === "higher" ? mine > theirs : mine < theirs;
      const text = `${p.engine} (${c.show(p, theirs)}; ${ratio(mine, theirs)})`;
      (omenBetter ? ahead : behind).push(text);
    }
    lines.push(`- **${c.label}**: ${omen.engine} ${c.show(omen, mine)}. Ahead of: ${ahead.length ? ahead.join(", ") : "none"}. Behind: ${behind.length ? behind.join(", ") : "none"}.`);
  }
  return lines;
}

/**
 * Where OmenDB is ahead of and behind the peers on one dataset: its default configuration ("omendb"),
 * and its exact scan ("omendb-exact") when that differs from the default (i.e. an index was built).
 */
export function standing(results: AnnResultsFile): string[] {
  const ok = results.engines.filter((e) => e.status === "ok");
  const peers = ok.filter((e) => !e.engine.startsWith("omendb"));
  const omen = ok.find((e) => e.engine === "omendb");
  const exact = ok.find((e) => e.engine === "omendb-exact");
  const lines: string[] = [];
  if (omen) lines.push(...standingOf(omen, peers));
  else lines.push("OmenDB (default configuration) did not run on this dataset.");
  if (exact && (!omen || omen.kind !== exact.kind)) {
    lines.push("", `OmenDB's exact scan (${exact.engine}):`, "", ...standingOf(exact, peers));
  }
  return lines;
}

function engineRow(e: EngineResult): string {
  const p = bestPoint(e);
  const mem = e.memory ? `${fmt(e.memory.anonBytesPerVector)}${e.memory.fileBytesPerVector > 16 ? ` (+${fmt(e.memory.fileBytesPerVector)} file)` : ""}` : "—";
  return `| ${e.engine} ${e.version} | ${e.kind} | ${p?.label ?? "—"} | ${fmtRecall(p?.recall)} | ${fmt(p?.qps1)} | ${fmt(p?.qpsAll)} | ${fmt(p?.p50Ms)} | ${fmt(p?.p99Ms)} | ${fmt(e.build?.seconds)} | ${fmt(e.build?.vectorsPerSecond)} (${e.buildThreads ?? "?"}) | ${mem} | ${fmt(e.diskBytesPerVector)} | ${fmt(e.reopen?.totalSeconds)} |`;
}

function annSection(r: AnnResultsFile, file: string): string {
  const d = r.dataset;
  const m = r.machine;
  const ok = r.engines.filter((e) => e.status === "ok");
  const skipped = r.engines.filter((e) => e.status !== "ok");
  const threads = Math.max(1, ...ok.flatMap((e) => e.points.map((p) => p.threadsAll)));
  const out: string[] = [];
  out.push(`## ${d.name}`);
  out.push("");
  out.push(
    `${d.count.toLocaleString("en-US")} × ${d.dim}, ${d.metric}, ${d.kind === "synthetic" ? "**synthetic** " : ""}${d.description}. ` +
      `${Math.min(d.queryCount, r.knobs.maxQueries).toLocaleString("en-US")} queries${d.selfQuery ? " (the base vectors themselves)" : ""}, k = ${r.knobs.k}. ` +
      `Source: \`${String(d.source["folder"] ?? "")}\`.`,
  );
  out.push("");
  const groups = new Map<string, string[]>();
  for (const e of r.engines) {
    const key = `commit ${e.run.commit.slice(0, 12)}, \`${e.run.command}\``;
    groups.set(key, [...(groups.get(key) ?? []), e.run.date]);
  }
  const runs = [...groups].map(([key, dates]) => {
    const sorted = dates.sort();
    const first = sorted[0]!.slice(0, 16).replace("T", " ");
    const last = sorted[sorted.length - 1]!.slice(11, 16);
    return `${first}${sorted.length > 1 && last !== first.slice(11) ? `–${last}` : ""} UTC, ${key}`;
  });
  const loads = r.engines.map((e) => e.run.loadAverage?.[0]).filter((x): x is number => x !== undefined);
  const load = loads.length ? `1-minute load average ${fmt(Math.min(...loads))}–${fmt(Math.max(...loads))} at engine starts` : `load average at start ${(m.loadAverage ?? []).join(" / ") || "?"}`;
  out.push(`Machine: ${m.cpuModel}, ${m.cores} cores, ${fmt(m.memoryTotalBytes / 2 ** 30)} GiB, Node ${m.node}; ${load}. Runs: ${runs.join("; ")}. Data: [\`${file}\`](${file}).`);
  out.push("");
  out.push(`![recall vs QPS on ${d.name}](plots/${d.name}.svg)`);
  out.push("");
  out.push("### Where OmenDB stands");
  out.push("");
  out.push(...standing(r));
  out.push("");
  out.push(`### Best operating point per engine`);
  out.push("");
  out.push(`Highest one-thread queries/s with recall@${r.knobs.k} ≥ ${TARGET_RECALL} (else the highest-recall point). RAM = private (anonymous) resident bytes per vector added by reopening the index; file-backed pages (memory maps) in brackets.`);
  out.push("");
  out.push(`| engine | index | setting | recall@${r.knobs.k} | QPS 1 thread | QPS ${threads} threads | p50 ms | p99 ms | build s | build vec/s (threads) | RAM B/vector | disk B/vector | reopen s |`);
  out.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const e of ok) out.push(engineRow(e));
  out.push("");
  if (skipped.length) {
    out.push("Not run:");
    out.push("");
    for (const e of skipped) out.push(`- ${e.engine}: ${e.status} — ${(e.reason ?? "").split("\n")[0]}`);
    out.push("");
  }
  const notes = ok.flatMap((e) => e.notes.map((n) => `${e.engine}: ${n}`));
  if (notes.length) {
    out.push(...notes.map((n) => `- ${n}`));
    out.push("");
  }
  out.push("<details><summary>Full sweeps</summary>");
  out.push("");
  out.push(`| engine | setting | recall@${r.knobs.k} | QPS 1 thread | queries | p50 ms | p99 ms | QPS all cores |`);
  out.push("|---|---|---:|---:|---:|---:|---:|---:|");
  for (const e of ok) {
    for (const p of e.points) out.push(`| ${e.engine} | ${p.label} | ${fmtRecall(p.recall)} | ${fmt(p.qps1)} | ${p.queries} | ${fmt(p.p50Ms)} | ${fmt(p.p99Ms)} | ${fmt(p.qpsAll)} |`);
  }
  out.push("");
  out.push("</details>");
  out.push("");
  return out.join("\n");
}

function ingestSection(r: IngestResultsFile, file: string): string {
  const out = [`### Durable ingest (durability "${r.durability}", ${r.dim}-d vectors with metadata)`, ""];
  out.push(`Goal: ≥ ${r.goalVectorsPerSecond.toLocaleString("en-US")} vectors/s batched. One fdatasync on this disk: p50 ${fmt(r.fsyncMs.p50)} ms (mean ${fmt(r.fsyncMs.mean)} ms). ${r.machine.date.slice(0, 10)}, commit ${r.machine.commit.slice(0, 12)}, \`${r.machine.command}\`, [\`${file}\`](${file}).`);
  out.push("");
  out.push("| run | records | batch | concurrency | seconds | vectors/s | count after reopen |");
  out.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const x of r.runs) out.push(`| ${x.description} | ${x.records.toLocaleString("en-US")} | ${x.batchSize} | ${x.concurrency} | ${fmt(x.seconds)} | ${fmt(x.vectorsPerSecond)} | ${x.countAfterReopen.toLocaleString("en-US")} |`);
  out.push("");
  return out.join("\n");
}

function exactSection(r: ExactResultsFile, file: string): string {
  const out = [`### Exact search vs the memory-bandwidth bound (${r.dataset}, ${r.n.toLocaleString("en-US")} × ${r.dim})`, ""];
  out.push(`Collection without an ANN index (threshold out of reach), so every search is the exact scan. One query reads ${fmt(r.bytesPerQuery / 1e6)} MB of vectors. Streaming-read bandwidth measured in the same process (WASM SIMD sum over ${fmt(r.bandwidth.bufferBytes / 2 ** 30)} GiB, one thread): **${fmt(r.bandwidth.gbPerSecond)} GB/s**, so the bound is **${fmt(r.boundMs)} ms** per query. ${r.machine.date.slice(0, 10)}, commit ${r.machine.commit.slice(0, 12)}, \`${r.machine.command}\`, [\`${file}\`](${file}).`);
  out.push("");
  out.push("| | p50 ms | mean ms | p99 ms | QPS | effective GB/s | × bound (p50) | recall@10 |");
  out.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  out.push(`| OmenDB collection.search (${r.queries} queries) | ${fmt(r.omendb.p50Ms)} | ${fmt(r.omendb.meanMs)} | ${fmt(r.omendb.p99Ms)} | ${fmt(r.omendb.qps)} | ${fmt(r.omendb.effectiveGbPerSecond)} | ${fmt(r.ratioToBound)} | ${fmtRecall(r.omendb.recall)} |`);
  out.push(`| bench's own WASM SIMD scan (reference) | — | ${fmt(r.reference.meanMs)} | — | ${fmt(1000 / r.reference.meanMs)} | ${fmt(r.reference.effectiveGbPerSecond)} | ${fmt(r.reference.meanMs / r.boundMs)} | — |`);
  out.push("");
  out.push(`Goal: within 2× of the bound — ${r.ratioToBound <= 2 ? "**met**" : "**not met**"} (${fmt(r.ratioToBound)}×).`);
  out.push("");
  return out.join("\n");
}

function recoverySection(r: RecoveryResultsFile, file: string): string {
  const out = [`### Reopen after a crash (SIGKILL before any checkpoint, ${r.dim}-d)`, ""];
  out.push(`A child process upserts with durability "fsync", checkpoints disabled (checkpointBytes set beyond the WAL size) and no ANN index (index threshold out of reach), reports each acknowledged batch, and is killed with SIGKILL; a fresh process times \`OmenDB.open\` (WAL replay) and checks \`count()\`. Goal: ≤ ${r.goalSecondsPer100k} s per 100,000 records. ${r.machine.date.slice(0, 10)}, commit ${r.machine.commit.slice(0, 12)}, \`${r.machine.command}\`, [\`${file}\`](${file}).`);
  out.push("");
  out.push("| run | records acknowledged | upsert calls | WAL bytes | open s | count after open | s per 100k records |");
  out.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const x of r.runs) {
    out.push(`| ${x.description} | ${x.recordsAcknowledged.toLocaleString("en-US")} | ${x.upsertCalls.toLocaleString("en-US")} | ${x.walBytes.toLocaleString("en-US")} | ${fmt(x.openSeconds)} | ${x.countAfterOpen.toLocaleString("en-US")} | ${fmt(x.secondsPer100kRecords)} |`);
  }
  out.push("");
  return out.join("\n");
}

function httpSection(r: HttpResultsFile, file: string): string {
  const m = r.machine;
  const v = r.verification;
  const out = [`### ${r.dataset.name} (${r.dataset.count.toLocaleString("en-US")} × ${r.dataset.dim}, ${r.dataset.metric}${r.dataset.kind === "synthetic" ? ", synthetic" : ""})`, ""];
  out.push(
    `The real server (\`omendb serve\`, log level ${r.server.logLevel}) on a copy of the folder the in-process figures use; a separate load-generator process keeps N \`query\` requests in flight (one embedding each, k = ${r.k}, ${r.queries} query vectors cycled, ${r.seconds} s per level, keep-alive). ` +
      `In-process: \`collection.search(vector, { k: ${r.k} })\` one at a time on one thread: ${fmt(r.inProcess.qps)} queries/s (p50 ${fmt(r.inProcess.p50Ms)} ms, p99 ${fmt(r.inProcess.p99Ms)} ms) before the HTTP runs and ${fmt(r.inProcessAfter.qps)} after` +
      `${r.inProcessThreads ? `, ${fmt(r.inProcessThreads.qps)} queries/s with ${r.inProcessThreads.threads} core worker threads and ${r.inProcessThreads.concurrency} searches in flight (p50 ${fmt(r.inProcessThreads.p50Ms)} ms, p99 ${fmt(r.inProcessThreads.p99Ms)} ms)` : ""}` +
      `${r.inProcessAllCores ? `, ${fmt(r.inProcessAllCores.qps)} queries/s with ${r.inProcessAllCores.threads} reader processes` : ""}; "% of in-process" is relative to the best of these, **${fmt(r.baselineQps)} queries/s**. ` +
      `HTTP answers equal the in-process ids in the same order for ${v.matching} of ${v.queries} queries. ` +
      `Index: ${r.build.kind}. Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, load average ${m.loadAverage.join(" / ")} at start; ${m.date.slice(0, 16).replace("T", " ")} UTC, commit ${m.commit.slice(0, 12)}, \`${m.command}\`, [\`${file}\`](${file}).`,
  );
  out.push("");
  out.push("| in flight | requests/s | % of in-process | p50 ms | p99 ms | errors | server cores | load-generator cores | load avg |");
  out.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const l of r.levels) {
    if (l.status !== "ok") {
      out.push(`| ${l.concurrency} | error: ${(l.reason ?? "").split("\n")[0]} | | | | | | | |`);
      continue;
    }
    out.push(`| ${l.concurrency} | ${fmt(l.requestsPerSecond)} | ${Math.round(l.ratioToInProcess * 100)}% | ${fmt(l.p50Ms)} | ${fmt(l.p99Ms)} | ${l.errors} | ${l.serverCores === null ? "—" : l.serverCores.toFixed(2)} | ${(l.clientCpuSeconds / l.windowSeconds).toFixed(2)} | ${l.loadAverage[0]?.toFixed(2) ?? "—"} |`);
  }
  out.push("");
  out.push(`Goal (issue #7): HTTP ≥ ${Math.round(r.goalRatio * 100)}% of the in-process queries/s — ${r.bestRatio >= r.goalRatio ? "**met**" : "**not met**"} (best ${Math.round(r.bestRatio * 100)}%).`);
  out.push("");
  out.push(...r.notes.map((n) => `- ${n}`));
  out.push("");
  return out.join("\n");
}

function churnSection(r: ChurnResultsFile, file: string): string {
  const m = r.machine;
  const out = [
    `${r.procedure} Bar: recall@${r.k} drops by ≤ ${r.maxDropPoints} point from round 0 to the last round, and no deleted record is ever returned. ${r.queries} queries, seed ${r.seed}. ` +
      `Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, load average ${m.loadAverage.join(" / ")} at start; ${m.date.slice(0, 16).replace("T", " ")} UTC, commit ${m.commit.slice(0, 12)}, \`${m.command}\`, [\`${file}\`](${file}).`,
    "",
  ];
  for (const d of r.datasets) {
    out.push(`### ${d.dataset.name} (${d.dataset.count.toLocaleString("en-US")} × ${d.dataset.dim}, ${d.dataset.metric}${d.dataset.kind === "synthetic" ? ", synthetic" : ""})`, "");
    out.push(
      `Initial ${d.initial.toLocaleString("en-US")} records, −${d.perRound.toLocaleString("en-US")} / +${d.perRound.toLocaleString("en-US")} per round. ` +
        `Recall drop after ${d.rounds.filter((x) => x.round !== "reopen").length - 1} rounds: **${d.dropPoints.toFixed(2)} points** — ${d.pass ? "**pass**" : "**fail**"}; after reopening: ${d.reopenDropPoints.toFixed(2)} points.`,
    );
    out.push("");
    out.push(`| round | live | recall@${r.k} | QPS 1 thread | p50 ms | p99 ms | delete s | insert s | index s | indexed / pending / deleted | non-live returned | load |`);
    out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    for (const x of d.rounds) {
      const index = x.round === "reopen" ? `open ${fmt(x.openSeconds)}` : fmt(x.indexSeconds);
      out.push(
        `| ${x.round} | ${x.live.toLocaleString("en-US")} | ${x.recall.toFixed(4)} | ${fmt(x.qps)} | ${fmt(x.p50Ms)} | ${fmt(x.p99Ms)} | ${fmt(x.deleteSeconds)} | ${fmt(x.insertSeconds)} | ${index} | ${x.status.indexed.toLocaleString("en-US")} / ${x.status.pending} / ${x.status.deleted} | ${x.nonLiveReturned} | ${x.loadAverage.toFixed(2)} |`,
      );
    }
    out.push("");
    out.push(...d.notes.map((n) => `- ${n}`));
    out.push("");
  }
  return out.join("\n");
}

/** Renders plots and REPORT.md for the results in `dir`; returns the report path. */
/**
 * The summary table of `pnpm bench:filtered` (its own pages live in `<dir>/filtered/`, written by
 * filtered-report.ts), with its links made relative to this report; undefined when it has not run.
 */
function filteredSummary(dir: string): string | undefined {
  const file = path.join(dir, "filtered", "SUMMARY.md");
  if (!fs.existsSync(file)) return undefined;
  const table = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) => line.replace(/\]\(([^)]+\.md)\)/g, "](filtered/$1)"));
  return [
    "Recall@10 against exact filtered ground truth, result counts and p99 latency against the unfiltered p99 at selectivities 100% … 0.01% (seeded attributes) and, on sotu-use-512, its real metadata; `pnpm bench:filtered`. Each dataset's page has the full table and a plot.",
    "",
    ...table,
    "",
  ].join("\n");
}

export async function writeReport(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const files = loadResults(dir);
  const ann = latestPer<AnnResultsFile>(files, "ann", (d) => d.dataset.name).sort(
    (a, b) => (a.data.dataset.kind === b.data.dataset.kind ? a.data.dataset.name.localeCompare(b.data.dataset.name) : a.data.dataset.kind === "real" ? -1 : 1),
  );
  const parts: string[] = [
    "# OmenDB benchmark report",
    "",
    "Generated by `pnpm bench report` from the JSON results in this folder (each run writes `<date>-<dataset>.json`; the latest file per dataset is shown). " +
      "Every engine ran in its own child processes on the same data in the same run: one process builds the index and closes it, a fresh one reopens it and is measured. " +
      "Recall@10 counts a returned id as a hit when its exact distance is within 1e-6 of the 10th true neighbour's. " +
      '"QPS 1 thread" is one query in flight at a time; "all cores" runs one reader process per core, each with the index opened from disk. ' +
      "Synthetic data is labelled as such: it is not real embeddings.",
    "",
  ];
  if (ann.length) {
    parts.push("## Datasets", "");
    parts.push("| dataset | n × dim | engines run | OmenDB best QPS (recall) | OmenDB exact QPS | fastest peer at recall ≥ 0.9 (QPS, recall) |");
    parts.push("|---|---|---|---:|---:|---|");
    for (const { data } of ann) {
      const ok = data.engines.filter((e) => e.status === "ok");
      const omen = ok.find((e) => e.engine === "omendb");
      const op = omen ? bestPoint(omen) : undefined;
      const exact = ok.find((e) => e.engine === "omendb-exact") ?? (omen && omen.kind.startsWith("exact") ? omen : undefined);
      const ep = exact ? bestPoint(exact) : undefined;
      const peers = ok
        .filter((e) => !e.engine.startsWith("omendb"))
        .map((e) => ({ e, p: bestPoint(e) }))
        .filter((x) => x.p && x.p.recall >= TARGET_RECALL)
        .sort((a, b) => b.p!.qps1 - a.p!.qps1);
      const top = peers[0];
      parts.push(
        `| [${data.dataset.name}](#${data.dataset.name.replace(/[^a-z0-9-]/gi, "").toLowerCase()}) | ${data.dataset.count.toLocaleString("en-US")} × ${data.dataset.dim} | ${ok.length} | ${op ? `${fmt(op.qps1)} (${fmtRecall(op.recall)})` : "—"} | ${ep ? fmt(ep.qps1) : "—"} | ${top ? `${top.e.engine}: ${fmt(top.p!.qps1)} (${fmtRecall(top.p!.recall)})` : "—"} |`,
      );
    }
    parts.push("");
  }
  for (const { file, data } of ann) {
    await renderPlot(data, path.join(dir, "plots"));
    parts.push(annSection(data, file));
  }
  const ingest = latestPer<IngestResultsFile>(files, "ingest", () => "x");
  const exact = latestPer<ExactResultsFile>(files, "exact", () => "x");
  const recovery = latestPer<RecoveryResultsFile>(files, "recovery", () => "x");
  if (ingest.length || exact.length || recovery.length) {
    parts.push("## Core engine figures (issue #2)", "");
    for (const { file, data } of ingest) parts.push(ingestSection(data, file));
    for (const { file, data } of exact) parts.push(exactSection(data, file));
    for (const { file, data } of recovery) parts.push(recoverySection(data, file));
  }
  // "http" files are not in the ResultsFile union (run-types.ts); their shape is HttpResultsFile.
  const httpLatest = new Map<string, { file: string; data: HttpResultsFile }>();
  for (const f of files) {
    const d = f.data as unknown as HttpResultsFile;
    if (d.type !== "http") continue;
    const have = httpLatest.get(d.dataset.name);
    if (!have || have.data.machine.date < d.machine.date) httpLatest.set(d.dataset.name, { file: f.file, data: d });
  }
  if (httpLatest.size) {
    parts.push("## HTTP server query throughput (issue #7)", "");
    for (const { file, data } of httpLatest.values()) parts.push(httpSection(data, file));
  }
  // Like "http", "churn" files are outside the ResultsFile union; their shape is ChurnResultsFile.
  let churn: { file: string; data: ChurnResultsFile } | undefined;
  for (const f of files) {
    const d = f.data as unknown as ChurnResultsFile;
    if (d.type === "churn" && (!churn || churn.data.machine.date < d.machine.date)) churn = { file: f.file, data: d };
  }
  if (churn) parts.push("## Recall under churn (issue #3)", "", churnSection(churn.data, churn.file));
  const filtered = filteredSummary(dir);
  if (filtered) parts.push("## Filtered search (issue #4)", "", filtered);
  const out = path.join(dir, "REPORT.md");
  fs.writeFileSync(out, parts.join("\n").replace(/\n{3,}/g, "\n\n"));
  return out;
}
