/**
 * Child process of `bench recovery`. Mode "write": opens a data folder with durability "fsync" and
 * checkpoints pushed out of reach, upserts the records, reports how many were acknowledged, then idles
 * until the harness kills it with SIGKILL (so nothing is checkpointed or closed). Mode "reopen": times
 * `OmenDB.open` on that folder (WAL replay plus the checkpoint that follows it) and counts the records.
 */
import { OmenDB } from "@omendb/core";
import { makeRecords } from "./ingest-benchmark.js";

/** Jobs of the recovery child. */
export type RecoveryJob =
  | { mode: "write"; dir: string; dim: number; records: number; batchSize: number; concurrency: number; seed: number }
  | { mode: "reopen"; dir: string };

/** Replies of the recovery child. */
export type RecoveryReply =
  | { type: "written"; acknowledged: number; calls: number }
  | { type: "reopened"; openSeconds: number; count: number }
  | { type: "error"; message: string };

const COLLECTION = "recovery";

async function write(job: Extract<RecoveryJob, { mode: "write" }>): Promise<RecoveryReply> {
  const records = makeRecords(job.records, job.dim, job.seed, "w");
  const db = await OmenDB.open(job.dir, { durability: "fsync", checkpointBytes: 2 ** 52 });
  // No ANN index (threshold out of reach): the reopen measures WAL replay, not index training.
  const collection = await db.createCollection(COLLECTION, { dimension: job.dim, metric: "cosine", index: { threshold: Number.MAX_SAFE_INTEGER } });
  let next = 0;
  let acknowledged = 0;
  let calls = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < records.length) {
        const start = next;
        next += job.batchSize;
        const batch = records.slice(start, start + job.batchSize);
        await collection.upsert(batch);
        acknowledged += batch.length;
        calls++;
      }
    }),
  );
  return { type: "written", acknowledged, calls };
}

async function reopen(job: Extract<RecoveryJob, { mode: "reopen" }>): Promise<RecoveryReply> {
  const t0 = performance.now();
  const db = await OmenDB.open(job.dir);
  const openSeconds = (performance.now() - t0) / 1000;
  const count = await db.getCollection(COLLECTION).count();
  await db.close();
  return { type: "reopened", openSeconds, count };
}

process.once("message", (job: RecoveryJob) => {
  const run = job.mode === "write" ? write(job) : reopen(job);
  void run
    .catch((err: unknown): RecoveryReply => ({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
    .then((reply) => {
      process.send!(reply, () => {
        // The writer stays alive (un-checkpointed) until the harness kills it.
        if (job.mode === "write" && reply.type === "written") setInterval(() => {}, 1 << 30);
        else process.exit(0);
      });
    });
});
