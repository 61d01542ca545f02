/**
 * The workload of the filtered-search benchmark (issue #4): a dataset's base and query vectors, the
 * metadata each record is stored with, and the filters measured on it, each with an independent
 * JavaScript oracle that says which base rows it matches (the ground truth never asks OmenDB).
 *
 * Metadata of base row `i` (record id `String(i)`):
 * - `rank`: the row's position in a seeded random permutation of 0..n-1 (Fisher-Yates driven by
 *   {@link Rng}(seed)), so `{ rank: { $lt: m } }` matches exactly m rows, spread uniformly over the data;
 * - `sel_<p>: true` (p = 100, 50, 10, 1, 0_1, 0_01) only on the rows with `rank < m(p)`: the key is
 *   ABSENT on every other row, so `{ sel_1: true }` is an equality filter on a key most records lack;
 * - sotu-use-512 only: `year`, `party`, `president` from `base_texts.jsonl` (the real metadata).
 * m(p) = max(1, round(p / 100 · n)); the sets are nested (the 0.01% rows are among the 0.1% rows, ...).
 *
 * Filter cases: the unfiltered baseline; per bar selectivity a range case (`rank < m`) and an equality
 * case (`sel_<p>: true`); a few extra range cases around the planner's exact/graph crossover
 * (diagnostic, not bars); on sotu, natural filters on the real metadata.
 */
import fs from "node:fs";
import path from "node:path";
import type { Metadata, Where } from "@omendb/core";
import type { DatasetSpec } from "./datasets.js";
import { Rng } from "./rng.js";
import { readFvecs, type VectorMatrix } from "./vector-files.js";

/** The selectivities of the bars, in percent. */
export const BAR_SELECTIVITIES = [100, 50, 10, 1, 0.1, 0.01] as const;

/** Extra range selectivities (percent) around the exact/graph crossover: measured, not bars. */
export const DIAGNOSTIC_SELECTIVITIES = [20, 5, 2] as const;

/** Where a filter case comes from. */
export type CaseGroup = "baseline" | "seeded-range" | "seeded-eq" | "natural" | "diagnostic";

/** One filter measured on a dataset. */
export interface FilterCase {
  /** Short unique label, e.g. `rank<1000` or `party=Whig`. */
  name: string;
  group: CaseGroup;
  /** The filter passed to `search` (undefined for the unfiltered baseline). */
  where: Where | undefined;
  /** Intended selectivity in percent (seeded cases). */
  targetPercent?: number;
  /** Whether the bars apply (every case except the diagnostic ones). */
  bar: boolean;
  /** The oracle: does base row `row` match? */
  test: (row: number) => boolean;
}

/** sotu-use-512's real metadata of one chunk. */
interface SotuRow {
  year: number;
  party: string;
  president: string;
}

/** A dataset prepared for the filtered benchmark. */
export interface FilteredWorkload {
  spec: DatasetSpec;
  /** All base rows used, row-major. */
  base: VectorMatrix;
  /** The queries used, row-major. */
  queries: VectorMatrix;
  /** Seed of the `rank` permutation. */
  seed: number;
  /** `rank[i]` of base row i. */
  rank: Int32Array;
  /** Real metadata (sotu-use-512 only). */
  natural: SotuRow[] | null;
  cases: FilterCase[];
  /** The metadata stored with base row `row`. */
  metadata(row: number): Metadata;
}

/** Rows matching a seeded selectivity of `percent`: max(1, round(percent / 100 · n)). */
export function seededCount(percent: number, n: number): number {
  return Math.max(1, Math.round((percent / 100) * n));
}

/** `sel_<p>` key for a percentage: 100 → sel_100, 0.1 → sel_0_1. */
export function selectivityKey(percent: number): string {
  return `sel_${String(percent).replace(".", "_")}`;
}

/** A seeded random permutation: `rank[i]` is row i's position (Fisher-Yates with {@link Rng}). */
export function seededRanks(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const rank = new Int32Array(n);
  for (let p = 0; p < n; p++) rank[order[p]!] = p;
  return rank;
}

function readSotuMetadata(file: string, n: number): SotuRow[] {
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
  if (lines.length < n) throw new Error(`${file}: ${lines.length} rows, expected at least ${n}`);
  return lines.slice(0, n).map((l) => {
    const r = JSON.parse(l) as SotuRow;
    return { year: r.year, party: r.party, president: r.president };
  });
}

/** The natural filters of sotu-use-512 (real metadata), with their oracles. */
function sotuCases(rows: SotuRow[]): FilterCase[] {
  const c = (name: string, where: Where, test: (r: SotuRow) => boolean): FilterCase => ({
    name,
    group: "natural",
    where,
    bar: true,
    test: (row) => test(rows[row]!),
  });
  const recent = ["Barack Obama", "Donald J Trump", "Joseph R Biden"];
  return [
    c("party=Republican", { party: "Republican" }, (r) => r.party === "Republican"),
    c("party=Democratic", { party: "Democratic" }, (r) => r.party === "Democratic"),
    c("party!=Republican", { party: { $ne: "Republican" } }, (r) => r.party !== "Republican"),
    c("party=Whig", { party: "Whig" }, (r) => r.party === "Whig"),
    c("party=Federalist", { party: "Federalist" }, (r) => r.party === "Federalist"),
    c("president=Theodore Roosevelt", { president: "Theodore Roosevelt" }, (r) => r.president === "Theodore Roosevelt"),
    c("president=Abraham Lincoln", { president: "Abraham Lincoln" }, (r) => r.president === "Abraham Lincoln"),
    c("president=John Adams", { president: "John Adams" }, (r) => r.president === "John Adams"),
    c("president in {Obama, Trump, Biden}", { president: { $in: recent } }, (r) => recent.includes(r.president)),
    c("year>=1900", { year: { $gte: 1900 } }, (r) => r.year >= 1900),
    c("1900<=year<1950", { year: { $gte: 1900, $lt: 1950 } }, (r) => r.year >= 1900 && r.year < 1950),
    c("year>=2000", { year: { $gte: 2000 } }, (r) => r.year >= 2000),
    c("year<1800", { year: { $lt: 1800 } }, (r) => r.year < 1800),
    c("party=Democratic and year>=1950", { party: "Democratic", year: { $gte: 1950 } }, (r) => r.party === "Democratic" && r.year >= 1950),
    c("party=Whig or year>=2010", { $or: [{ party: "Whig" }, { year: { $gte: 2010 } }] }, (r) => r.party === "Whig" || r.year >= 2010),
  ];
}

/** Options of {@link loadWorkload}. */
export interface WorkloadOptions {
  /** Queries used (the first ones of the query file). */
  queries: number;
  /** Seed of the `rank` permutation (default 7). */
  seed?: number;
  /** Case groups to keep (the baseline is always kept); default all. */
  groups?: readonly CaseGroup[];
  /** Diagnostic range selectivities in percent (default {@link DIAGNOSTIC_SELECTIVITIES}). */
  diagnostic?: readonly number[];
}

/** Reads a dataset's vectors (and sotu's metadata) and builds its filter cases. */
export function loadWorkload(spec: DatasetSpec, opts: WorkloadOptions): FilteredWorkload {
  if (spec.metric !== "cosine") throw new Error(`filtered benchmark: ${spec.name} uses ${spec.metric}; only cosine datasets are supported`);
  const n = spec.count;
  const seed = opts.seed ?? 7;
  const base = readFvecs(spec.baseFile, 0, n);
  const queries = readFvecs(spec.queryFile, 0, Math.min(opts.queries, spec.queryCount));
  const rank = seededRanks(n, seed);
  const textsFile = path.join(path.dirname(spec.baseFile), "base_texts.jsonl");
  const natural = spec.name.startsWith("sotu-use-512") && fs.existsSync(textsFile) ? readSotuMetadata(textsFile, n) : null;

  const cases: FilterCase[] = [{ name: "unfiltered", group: "baseline", where: undefined, bar: true, test: () => true }];
  for (const p of BAR_SELECTIVITIES) {
    const m = seededCount(p, n);
    cases.push({ name: `rank<${m}`, group: "seeded-range", where: { rank: { $lt: m } }, targetPercent: p, bar: true, test: (row) => rank[row]! < m });
  }
  for (const p of BAR_SELECTIVITIES) {
    const m = seededCount(p, n);
    const key = selectivityKey(p);
    cases.push({ name: `${key}=true`, group: "seeded-eq", where: { [key]: true }, targetPercent: p, bar: true, test: (row) => rank[row]! < m });
  }
  for (const p of opts.diagnostic ?? DIAGNOSTIC_SELECTIVITIES) {
    const m = seededCount(p, n);
    cases.push({ name: `rank<${m}`, group: "diagnostic", where: { rank: { $lt: m } }, targetPercent: p, bar: false, test: (row) => rank[row]! < m });
  }
  if (natural !== null) cases.push(...sotuCases(natural));
  const groups = opts.groups;
  const kept = groups === undefined ? cases : cases.filter((c) => c.group === "baseline" || groups.includes(c.group));

  const metadata = (row: number): Metadata => {
    const r = rank[row]!;
    const meta: Record<string, string | number | boolean> = { rank: r };
    for (const p of BAR_SELECTIVITIES) if (r < seededCount(p, n)) meta[selectivityKey(p)] = true;
    if (natural !== null) {
      const s = natural[row]!;
      meta["year"] = s.year;
      meta["party"] = s.party;
      meta["president"] = s.president;
    }
    return meta;
  };
  return { spec, base, queries, seed, rank, natural, cases: kept, metadata };
}
