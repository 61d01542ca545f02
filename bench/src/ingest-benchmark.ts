/**
 * `pnpm bench ingest`: durable ingest into OmenDB with durability "fsync" (acknowledged = on disk),
 * 1536-d unit vectors with metadata, in three shapes:
 * - batched upserts of 1,000 records per call, awaited one after another;
 * - concurrent single-record upserts, 256 calls in flight (group commit: one fdatasync covers every
 *   waiting write);
 * - sequential single-record upserts (one in flight), the fdatasync-per-write floor, for context.
 * Each run writes into a fresh folder; vectors/s = records / time until the last acknowledgement.
 * The folder is then closed, reopened and counted. The raw fdatasync latency of the same disk is
 * measured too. Vectors come from a seeded generator and are made before timing.
 */
import fs from "node:fs";
import path from "node:path";
import { OmenDB, type RecordInput } from "@omendb/core";
import { writeJson, type CommandOptions } from "./command-options.js";
import { normalizeInPlace } from "./distance.js";
import { machineInfo } from "./machine-info.js";
import { Rng } from "./rng.js";
import { RESULTS_SCHEMA, type IngestResultsFile } from "./run-types.js";
import { mean, median } from "./stats.js";

const GOAL = 20_000;

/** Seeded records: unit vectors with a small metadata object. */
export function makeRecords(count: number, dim: number, seed: number, idPrefix: string): RecordInput[] {
  const rng = new Rng(seed);
  const out: RecordInput[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = rng.normal();
    normalizeInPlace(v);
    out[i] = { id: `${idPrefix}${i}`, vector: v, metadata: { source: "bench", group: i % 100, year: 1990 + (i % 35), tags: i % 2 === 0 ? ["even"] : ["odd"] } };
  }
  return out;
}

/** Median and mean milliseconds of `samples` 4 KiB append + fdatasync calls in `dir`. */
export function fsyncLatency(dir: string, samples: number): { p50: number; mean: number; samples: number } {
  const file = path.join(dir, "fsync-probe");
  const fd = fs.openSync(file, "w");
  const buf = Buffer.alloc(4096, 7);
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      fs.writeSync(fd, buf);
      const t = performance.now();
      fs.fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return { p50: median(ms), mean: mean(ms), samples };
}

async function timedRun(
  dir: string,
  dim: number,
  records: RecordInput[],
  batchSize: number,
  concurrency: number,
): Promise<{ seconds: number; countAfterReopen: number }> {
  fs.rmSync(dir, { recursive: true, force: true });
  const db = await OmenDB.open(dir, { durability: "fsync" });
  const collection = await db.createCollection("ingest", { dimension: dim, metric: "cosine" });
  const batches: RecordInput[][] = [];
  for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
      while (next < batches.length) await collection.upsert(batches[next++]!);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await db.close();
  const again = await OmenDB.open(dir);
  const countAfterReopen = await again.getCollection("ingest").count();
  await again.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, countAfterReopen };
}

/** Runs the ingest benchmark and writes `<date>-ingest.json`; returns its path. */
export async function runIngestBenchmark(opts: CommandOptions): Promise<string> {
  const dim = opts.dim ?? 1536;
  const batched = opts.n ?? (opts.smoke ? 2_000 : 100_000);
  const singles = opts.smoke ? 500 : Math.min(batched, 50_000);
  const sequential = opts.smoke ? 50 : 500;
  const work = path.join(opts.paths.cacheDir, "work", "ingest");
  fs.mkdirSync(work, { recursive: true });
  const machine = machineInfo(opts.paths.repoRoot, ["ingest", ...opts.argv.filter((a) => a !== "ingest")]);
  opts.log(`ingest: ${dim}-d, durability fsync; generating ${batched.toLocaleString("en-US")} records...`);
  const records = makeRecords(batched, dim, 7, "r");
  const fsyncMs = fsyncLatency(work, opts.smoke ? 20 : 200);
  opts.log(`  fdatasync (4 KiB append): p50 ${fsyncMs.p50.toFixed(3)} ms, mean ${fsyncMs.mean.toFixed(3)} ms`);
  const plan = [
    { name: "batched", description: "batched upserts, 1,000 records per call, one call at a time", records: batched, batchSize: 1000, concurrency: 1 },
    { name: "concurrent-singles", description: "single-record upserts, 256 in flight (group commit)", records: singles, batchSize: 1, concurrency: 256 },
    { name: "sequential-singles", description: "single-record upserts, one at a time (fdatasync per write)", records: sequential, batchSize: 1, concurrency: 1 },
  ];
  const results: IngestResultsFile = { schema: RESULTS_SCHEMA, type: "ingest", machine, dim, durability: "fsync", fsyncMs, runs: [], goalVectorsPerSecond: GOAL, smoke: opts.smoke };
  for (const p of plan) {
    const r = await timedRun(path.join(work, p.name), dim, records.slice(0, p.records), p.batchSize, p.concurrency);
    const vps = p.records / r.seconds;
    results.runs.push({ ...p, seconds: r.seconds, vectorsPerSecond: vps, countAfterReopen: r.countAfterReopen });
    opts.log(`  ${p.description}: ${p.records.toLocaleString("en-US")} in ${r.seconds.toFixed(2)} s = ${Math.round(vps).toLocaleString("en-US")} vectors/s (count after reopen ${r.countAfterReopen})`);
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${machine.date.slice(0, 10)}-ingest.json`);
  writeJson(file, results);
  opts.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}
