/**
 * `pnpm bench churn`: recall@10 of OmenDB's DiskANN index under churn, against exact ground truth
 * recomputed over the live records after every round (issue #3: after 10 rounds of deleting 10% and
 * inserting 10% new vectors, recall@10 drops by ≤ 1 point).
 *
 * Per dataset, in this process, through the public API of @omendb/core only:
 * 1. A seeded permutation of the base rows splits them into an initial set and a pool of fresh
 *    vectors. The initial set is n / (1 + rounds · fraction) rows (half the base with the defaults), so
 *    the pool covers every round without re-inserting a vector the collection has seen before.
 *    Record ids are the base row numbers (`String(row)`), so each fresh vector gets a new id.
 * 2. `OmenDB.open` (default durability), `createCollection(name, { dimension, metric })` with default
 *    index settings, upsert the initial set in batches of 1,000, `buildIndex()`: round 0.
 * 3. Each round: delete `round(fraction · initial)` live records (seeded choice) in batches of 1,000,
 *    upsert as many fresh pool vectors, then `await buildIndex()`. In packages/core,
 *    `buildIndex()` (collection.ts → CollectionIndex.buildAll) inserts every not-yet-indexed record
 *    and then, when the graph holds deleted nodes, runs `consolidate()` synchronously (Fresh-DiskANN
 *    style repair of the neighbours of deleted nodes) before it resolves; a fresh bulk build happens
 *    only when more than half the live records are unindexed. So no background wait is needed:
 *    `indexStatus().deleted` is 0 after it (recorded, and a round where it is not is flagged).
 *    Background maintenance runs only once writes have been quiet for a while, so little index work
 *    lands in the delete/insert timings; `indexStatus()` before `buildIndex()` shows how much did.
 * 4. After each round (and round 0): exact top-100 ground truth over the live records (written to a
 *    scratch fvecs file in ascending row order and scanned by the ground-truth workers, on every core),
 *    then one pass of `search(q, { k: 10 })` per query with the collection's default efSearch on one
 *    thread: recall@10 (ties counted as in recall.ts), queries/s, p50/p99, and how many returned ids
 *    are not live (deleted records must never come back).
 * 5. At the end: `close()`, `OmenDB.open` again, and the same measurement on the reopened folder (the
 *    persisted index after churn).
 * Result: `<out>/<date>-churn.json` (type "churn"); report.ts renders one table per dataset.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OmenDB, type Collection } from "@omendb/core";
import { writeJson, type CommandOptions } from "./command-options.js";
import { resolveDataset, type DatasetSpec } from "./datasets.js";
import { computeGroundTruth } from "./ground-truth.js";
import { machineInfo, type MachineInfo } from "./machine-info.js";
import { collectGarbage } from "./proc-memory.js";
import { RecallJudge } from "./recall.js";
import { Rng } from "./rng.js";
import { RESULTS_SCHEMA } from "./run-types.js";
import { mean, percentile } from "./stats.js";
import { readFvecs, VecsWriter, writeVecs, type VectorMatrix } from "./vector-files.js";

/** Issue #3's churn bar: recall@10 may drop by at most this many points (1 point = 0.01). */
export const CHURN_MAX_DROP_POINTS = 1;
/** Default datasets of `bench churn`. */
export const DEFAULT_CHURN_DATASETS = ["glove-100-angular-100k", "sotu-use-512"];
const K = 10;
const GT_K = 100;
const BATCH = 1000;
const SEED = 7;
const COLLECTION = "churn";

/** Options of {@link runChurnBenchmark}. */
export interface ChurnOptions extends CommandOptions {
  datasets: string[];
  /** Churn rounds after the initial build. */
  rounds: number;
  /** Share of the initial record count deleted and inserted per round. */
  fraction: number;
}

/** `indexStatus()` of the collection. */
export interface ChurnIndexStatus {
  indexed: number;
  pending: number;
  deleted: number;
  mode: string;
  threshold: number;
}

/** One measurement: recall, speed and index state after the build (round 0), a churn round, or the reopen. */
export interface ChurnRound {
  /** 0 = the initial build; 1..rounds = after that churn round; "reopen" = after close + open. */
  round: number | "reopen";
  live: number;
  deleted: number;
  inserted: number;
  /** Seconds of `delete` calls, `upsert` calls and `buildIndex()` in this round. */
  deleteSeconds: number;
  insertSeconds: number;
  indexSeconds: number;
  /** Seconds of `OmenDB.open` + `getCollection` (reopen only). */
  openSeconds?: number;
  /** `indexStatus()` after the writes, before `buildIndex()` (background work already done). */
  statusBeforeBuild: ChurnIndexStatus | null;
  /** `indexStatus()` when measured. */
  status: ChurnIndexStatus;
  /** Seconds to compute exact ground truth over the live records (all cores). */
  groundTruthSeconds: number;
  recall: number;
  queries: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Returned ids that are not live records (deleted or never inserted): must be 0. */
  nonLiveReturned: number;
  /** Queries that returned fewer than k results. */
  shortResults: number;
  /** 1-minute load average when the search pass started. */
  loadAverage: number;
}

/** The churn run of one dataset. */
export interface ChurnDatasetResult {
  dataset: { name: string; kind: DatasetSpec["kind"]; description: string; metric: string; count: number; dim: number };
  initial: number;
  pool: number;
  perRound: number;
  rounds: ChurnRound[];
  /** Recall of round 0 minus recall of the last round, × 100. */
  dropPoints: number;
  /** Recall of round 0 minus recall after the reopen, × 100. */
  reopenDropPoints: number;
  pass: boolean;
  notes: string[];
}

/** A results file of `bench churn` (`<date>-churn.json`). */
export interface ChurnResultsFile {
  schema: number;
  type: "churn";
  machine: MachineInfo;
  k: number;
  /** Queries used per measurement (first rows of the query file). */
  queries: number;
  roundsRequested: number;
  fraction: number;
  seed: number;
  maxDropPoints: number;
  /** What the run did, in one paragraph (rendered in the report). */
  procedure: string;
  datasets: ChurnDatasetResult[];
  smoke: boolean;
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** The live base rows as a set, with helpers to pick random members and list them in row order. */
class LiveSet {
  private readonly rows: number[] = [];
  private readonly position: Int32Array;

  constructor(count: number) {
    this.position = new Int32Array(count).fill(-1);
  }

  get size(): number {
    return this.rows.length;
  }

  has(row: number): boolean {
    return row >= 0 && row < this.position.length && this.position[row]! >= 0;
  }

  add(row: number): void {
    if (this.has(row)) return;
    this.position[row] = this.rows.length;
    this.rows.push(row);
  }

  /** Removes and returns `n` members chosen uniformly at random. */
  takeRandom(n: number, rng: Rng): number[] {
    const out: number[] = [];
    for (let i = 0; i < n && this.rows.length > 0; i++) {
      const at = rng.int(this.rows.length);
      const row = this.rows[at]!;
      const last = this.rows.pop()!;
      if (at < this.rows.length) {
        this.rows[at] = last;
        this.position[last] = at;
      }
      this.position[row] = -1;
      out.push(row);
    }
    return out;
  }

  /** Members in ascending row order. */
  sorted(): Int32Array {
    return Int32Array.from(this.rows).sort();
  }
}

/** Exact ground truth over the live rows; returns a judge over live-file positions and the row → position map. */
async function liveGroundTruth(
  spec: DatasetSpec,
  base: VectorMatrix,
  queries: VectorMatrix,
  live: LiveSet,
  workDir: string,
): Promise<{ judge: RecallJudge; positionOf: Int32Array; seconds: number }> {
  const t0 = performance.now();
  const rows = live.sorted();
  const positionOf = new Int32Array(base.count).fill(-1);
  const liveFile = path.join(workDir, "live.fvecs");
  const writer = new VecsWriter(liveFile, spec.dim);
  for (let i = 0; i < rows.length; i += 4096) {
    const n = Math.min(4096, rows.length - i);
    const chunk = new Float32Array(n * spec.dim);
    for (let j = 0; j < n; j++) {
      const row = rows[i + j]!;
      positionOf[row] = i + j;
      chunk.set(base.data.subarray(row * spec.dim, (row + 1) * spec.dim), j * spec.dim);
    }
    writer.write(chunk);
  }
  writer.close();
  const gt = await computeGroundTruth({ baseFile: liveFile, baseCount: rows.length, queries, metric: spec.metric, k: GT_K });
  const prefix = path.join(workDir, "live-gt");
  writeVecs(`${prefix}.ivecs`, gt.ids);
  writeVecs(`${prefix}.dist.fvecs`, gt.dists);
  const liveSpec: DatasetSpec = {
    ...spec,
    count: rows.length,
    baseFile: liveFile,
    queryCount: queries.count,
    gtIdsFile: `${prefix}.ivecs`,
    gtDistFile: `${prefix}.dist.fvecs`,
    gtK: gt.ids.dim,
  };
  return { judge: new RecallJudge(liveSpec), positionOf, seconds: (performance.now() - t0) / 1000 };
}

type Measured = Pick<ChurnRound, "status" | "groundTruthSeconds" | "recall" | "queries" | "qps" | "p50Ms" | "p99Ms" | "meanMs" | "nonLiveReturned" | "shortResults" | "loadAverage">;

/** Ground truth over the live set, then one timed search pass on one thread. */
async function measure(
  collection: Collection,
  spec: DatasetSpec,
  base: VectorMatrix,
  queries: VectorMatrix,
  live: LiveSet,
  workDir: string,
  gtCache: { judge: RecallJudge; positionOf: Int32Array; seconds: number } | null,
): Promise<{ measured: Measured; gt: { judge: RecallJudge; positionOf: Int32Array; seconds: number } }> {
  const gt = gtCache ?? (await liveGroundTruth(spec, base, queries, live, workDir));
  const q = (i: number): Float32Array => queries.data.subarray(i * spec.dim, (i + 1) * spec.dim);
  for (let i = 0; i < Math.min(20, queries.count); i++) await collection.search(q(i), { k: K });
  collectGarbage();
  const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  const ms: number[] = [];
  const results: number[][] = [];
  let nonLiveReturned = 0;
  let shortResults = 0;
  const t0 = performance.now();
  for (let i = 0; i < queries.count; i++) {
    const t = performance.now();
    const hits = await collection.search(q(i), { k: K });
    ms.push(performance.now() - t);
    results.push(hits.map((h) => Number(h.id)));
  }
  const seconds = (performance.now() - t0) / 1000;
  const mapped = results.map((ids) => {
    if (ids.length < K) shortResults++;
    return ids.map((row) => {
      const pos = Number.isInteger(row) && row >= 0 && row < gt.positionOf.length ? gt.positionOf[row]! : -1;
      if (pos < 0) nonLiveReturned++;
      return pos;
    });
  });
  return {
    gt,
    measured: {
      status: collection.indexStatus(),
      groundTruthSeconds: gtCache ? 0 : gt.seconds,
      recall: gt.judge.recall(mapped, K),
      queries: queries.count,
      qps: queries.count / seconds,
      p50Ms: percentile(ms, 50),
      p99Ms: percentile(ms, 99),
      meanMs: mean(ms),
      nonLiveReturned,
      shortResults,
      loadAverage,
    },
  };
}

/** Upserts base `rows` as records `{ id: String(row), vector }` in batches; returns seconds. */
async function upsertRows(collection: Collection, base: VectorMatrix, rows: readonly number[]): Promise<number> {
  const t0 = performance.now();
  const dim = base.dim;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH).map((row) => ({ id: String(row), vector: base.data.subarray(row * dim, (row + 1) * dim) }));
    await collection.upsert(batch);
  }
  return (performance.now() - t0) / 1000;
}

/** Deletes base `rows` in batches; returns seconds. Throws when a delete misses a record. */
async function deleteRows(collection: Collection, rows: readonly number[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const ids = rows.slice(i, i + BATCH).map(String);
    const n = await collection.delete(ids);
    if (n !== ids.length) throw new Error(`delete of ${ids.length} live ids reported ${n}`);
  }
  return (performance.now() - t0) / 1000;
}

function logRound(r: ChurnRound, log: (line: string) => void, name: string): void {
  const s = r.status;
  log(
    `[${name}] ${r.round === "reopen" ? "reopen " : `round ${String(r.round).padStart(2)}`}: live ${r.live}, recall@${K} ${r.recall.toFixed(4)}, ${r.qps.toFixed(0)} q/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ` +
      `delete ${r.deleteSeconds.toFixed(2)} s, insert ${r.insertSeconds.toFixed(2)} s, index ${r.indexSeconds.toFixed(2)} s${r.openSeconds !== undefined ? `, open ${r.openSeconds.toFixed(2)} s` : ""}, gt ${r.groundTruthSeconds.toFixed(1)} s; ` +
      `index ${s.mode} indexed/pending/deleted ${s.indexed}/${s.pending}/${s.deleted}${r.nonLiveReturned ? `, ${r.nonLiveReturned} NON-LIVE ids returned` : ""}, load ${r.loadAverage}`,
  );
}

/** Runs the churn procedure on one dataset. */
async function churnDataset(name: string, opts: ChurnOptions, nq: number): Promise<ChurnDatasetResult> {
  const spec = await resolveDataset(name, opts.paths, { n: opts.n, dim: opts.dim, queries: nq, log: opts.log });
  const base = readFvecs(spec.baseFile, 0, spec.count);
  const queries = readFvecs(spec.queryFile, 0, Math.min(nq, spec.queryCount));
  const initial = Math.floor(spec.count / (1 + opts.rounds * opts.fraction));
  const perRound = Math.round(opts.fraction * initial);
  if (initial < K || perRound < 1) throw new Error(`churn: ${spec.name} has too few rows (${spec.count}) for ${opts.rounds} rounds of ${opts.fraction}`);
  const rng = new Rng(SEED);
  const order = permutation(spec.count, rng);
  const live = new LiveSet(spec.count);
  const initialRows = Array.from(order.subarray(0, initial));
  let nextFresh = initial;
  const notes: string[] = [];
  opts.log(`\n=== churn ${spec.name}: ${spec.count} × ${spec.dim}, ${spec.metric}; initial ${initial}, ${opts.rounds} rounds of −${perRound}/+${perRound}, ${queries.count} queries, k = ${K} ===`);

  const workDir = path.join(opts.paths.cacheDir, "work", "churn", spec.name);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const dbDir = path.join(workDir, "db");
  let db = await OmenDB.open(dbDir);
  const rounds: ChurnRound[] = [];
  let judge: RecallJudge | null = null;
  try {
    let collection = await db.createCollection(COLLECTION, { dimension: spec.dim, metric: spec.metric });
    const insertSeconds = await upsertRows(collection, base, initialRows);
    for (const row of initialRows) live.add(row);
    const statusBeforeBuild = collection.indexStatus();
    let t = performance.now();
    await collection.buildIndex();
    const indexSeconds = (performance.now() - t) / 1000;
    let m = await measure(collection, spec, base, queries, live, workDir, null);
    judge = m.gt.judge;
    rounds.push({ round: 0, live: live.size, deleted: 0, inserted: initial, deleteSeconds: 0, insertSeconds, indexSeconds, statusBeforeBuild, ...m.measured });
    logRound(rounds[rounds.length - 1]!, opts.log, spec.name);

    for (let round = 1; round <= opts.rounds; round++) {
      const doomed = live.takeRandom(perRound, rng);
      const deleteSeconds = await deleteRows(collection, doomed);
      const fresh = Array.from(order.subarray(nextFresh, nextFresh + perRound));
      nextFresh += fresh.length;
      if (fresh.length < perRound) notes.push(`round ${round}: the pool ran out (${fresh.length} of ${perRound} fresh vectors)`);
      const insertSeconds = await upsertRows(collection, base, fresh);
      for (const row of fresh) live.add(row);
      const statusBeforeBuild = collection.indexStatus();
      t = performance.now();
      await collection.buildIndex();
      const indexSeconds = (performance.now() - t) / 1000;
      judge.close();
      m = await measure(collection, spec, base, queries, live, workDir, null);
      judge = m.gt.judge;
      const r: ChurnRound = { round, live: live.size, deleted: doomed.length, inserted: fresh.length, deleteSeconds, insertSeconds, indexSeconds, statusBeforeBuild, ...m.measured };
      rounds.push(r);
      if (r.status.deleted !== 0) notes.push(`round ${round}: ${r.status.deleted} deleted nodes still in the graph after buildIndex()`);
      if (r.status.pending !== 0) notes.push(`round ${round}: ${r.status.pending} records not indexed after buildIndex()`);
      logRound(r, opts.log, spec.name);
    }

    // The persisted index after churn: close (checkpoint), open, same ground truth.
    await db.close();
    collectGarbage();
    t = performance.now();
    db = await OmenDB.open(dbDir);
    collection = db.getCollection(COLLECTION);
    const openSeconds = (performance.now() - t) / 1000;
    if ((await collection.count()) !== live.size) notes.push(`reopen: count() ${await collection.count()}, expected ${live.size}`);
    m = await measure(collection, spec, base, queries, live, workDir, m.gt);
    rounds.push({ round: "reopen", live: live.size, deleted: 0, inserted: 0, deleteSeconds: 0, insertSeconds: 0, indexSeconds: 0, openSeconds, statusBeforeBuild: null, ...m.measured });
    logRound(rounds[rounds.length - 1]!, opts.log, spec.name);
  } finally {
    judge?.close();
    await db.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  const first = rounds[0]!;
  const last = rounds.filter((r) => r.round !== "reopen").at(-1)!;
  const reopened = rounds.at(-1)!;
  const dropPoints = (first.recall - last.recall) * 100;
  const reopenDropPoints = (first.recall - reopened.recall) * 100;
  const nonLive = rounds.reduce((s, r) => s + r.nonLiveReturned, 0);
  if (nonLive > 0) notes.push(`${nonLive} returned ids over all measurements were not live records (deleted ones must never be returned)`);
  const pass = dropPoints <= CHURN_MAX_DROP_POINTS && nonLive === 0;
  opts.log(`[${spec.name}] recall@${K} ${first.recall.toFixed(4)} → ${last.recall.toFixed(4)} after ${last.round} rounds (drop ${dropPoints.toFixed(2)} points, bar ≤ ${CHURN_MAX_DROP_POINTS}: ${pass ? "PASS" : "FAIL"}); after reopen ${reopened.recall.toFixed(4)}`);
  return {
    dataset: { name: spec.name, kind: spec.kind, description: spec.description, metric: spec.metric, count: spec.count, dim: spec.dim },
    initial,
    pool: spec.count - initial,
    perRound,
    rounds,
    dropPoints,
    reopenDropPoints,
    pass,
    notes,
  };
}

/** Runs the churn benchmark over `opts.datasets` and writes `<date>-churn.json`; returns its path. */
export async function runChurnBenchmark(opts: ChurnOptions): Promise<string> {
  if (!(opts.fraction > 0 && opts.fraction < 1)) throw new Error(`--fraction ${opts.fraction}: expected a share between 0 and 1`);
  const nq = opts.queries ?? (opts.smoke ? 100 : 1000);
  const machine = machineInfo(opts.paths.repoRoot, ["churn", ...opts.argv.filter((a) => a !== "churn")]);
  if (machine.loadAverage[0]! > machine.cores / 2) {
    opts.log(`warning: load average ${machine.loadAverage.join(" / ")} on ${machine.cores} cores — other work on this machine will skew the timings (not the recall)`);
  }
  const results: ChurnResultsFile = {
    schema: RESULTS_SCHEMA,
    type: "churn",
    machine,
    k: K,
    queries: nq,
    roundsRequested: opts.rounds,
    fraction: opts.fraction,
    seed: SEED,
    maxDropPoints: CHURN_MAX_DROP_POINTS,
    procedure:
      `A seeded permutation splits the base into an initial set of n / (1 + ${opts.rounds} × ${opts.fraction}) rows and a pool of fresh vectors (never inserted before). ` +
      `Default collection settings and durability; upsert in batches of ${BATCH}, \`buildIndex()\`. Each round deletes ${opts.fraction * 100}% of the initial count (seeded random live records), upserts as many pool vectors under new ids, and awaits \`buildIndex()\`, which inserts the new records and consolidates the deleted nodes before resolving. ` +
      `After each round: exact top-${GT_K} ground truth over the live records, then one pass of \`search(q, { k: ${K} })\` per query at the default efSearch on one thread. Finally close + open and the same measurement on the reopened folder.`,
    datasets: [],
    smoke: opts.smoke,
  };
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${machine.date.slice(0, 10)}-churn.json`);
  for (const name of opts.datasets) {
    results.datasets.push(await churnDataset(name, opts, nq));
    writeJson(file, results);
  }
  opts.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}
