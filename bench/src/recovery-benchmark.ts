/**
 * `pnpm bench recovery`: seconds to reopen an OmenDB folder whose WAL holds records that were never
 * checkpointed. A child process writes (durability "fsync", checkpointBytes = 2^52 so no checkpoint
 * runs; the collection's index threshold is out of reach, so no ANN index is trained) and reports its
 * acknowledged records; the harness then SIGKILLs it and a fresh child times
 * `OmenDB.open` (replay, then the checkpoint open performs after a replay) and checks `count()`.
 * Two shapes: 100 batched calls of 1,000 records, and 100,000 single-record calls (256 in flight),
 * i.e. one WAL record per call.
 */
import fs from "node:fs";
import path from "node:path";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { writeJson, type CommandOptions } from "./command-options.js";
import { dirBytes } from "./engines/peer-modules.js";
import { machineInfo } from "./machine-info.js";
import type { RecoveryJob, RecoveryReply } from "./recovery-child.js";
import { RESULTS_SCHEMA, type RecoveryResultsFile } from "./run-types.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs the write child until it reports, then SIGKILLs it. */
function writeThenKill(job: Extract<RecoveryJob, { mode: "write" }>): Promise<RecoveryReply> {
  return new Promise((resolve) => {
    const child = fork(path.join(here, "recovery-child.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let reply: RecoveryReply | undefined;
    child.once("message", (m: RecoveryReply) => {
      reply = m;
      child.kill("SIGKILL");
    });
    child.once("exit", (code, signal) => resolve(reply ?? { type: "error", message: `writer exited without a reply (${signal ?? code})` }));
    child.send(job);
  });
}

function reopenInChild(dir: string): Promise<RecoveryReply> {
  return new Promise((resolve) => {
    const child = fork(path.join(here, "recovery-child.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let reply: RecoveryReply | undefined;
    child.once("message", (m: RecoveryReply) => {
      reply = m;
    });
    child.once("exit", (code, signal) => resolve(reply ?? { type: "error", message: `reopen child exited without a reply (${signal ?? code})` }));
    child.send({ mode: "reopen", dir } satisfies RecoveryJob);
  });
}

/** Runs the recovery benchmark and writes `<date>-recovery.json`; returns its path. */
export async function runRecoveryBenchmark(opts: CommandOptions): Promise<string> {
  const dim = opts.dim ?? 1536;
  const records = opts.n ?? (opts.smoke ? 2_000 : 100_000);
  const machine = machineInfo(opts.paths.repoRoot, ["recovery", ...opts.argv.filter((a) => a !== "recovery")]);
  const plan = [
    { name: "batched", description: "batched upserts, 1,000 records per call", batchSize: 1000, concurrency: 1 },
    { name: "singles", description: "single-record upserts, 256 in flight (one WAL record each)", batchSize: 1, concurrency: 256 },
  ];
  const results: RecoveryResultsFile = { schema: RESULTS_SCHEMA, type: "recovery", machine, dim, runs: [], goalSecondsPer100k: 1, smoke: opts.smoke };
  opts.log(`recovery: ${records.toLocaleString("en-US")} records of ${dim}-d per run`);
  for (const p of plan) {
    const dir = path.join(opts.paths.cacheDir, "work", "recovery", p.name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const w = await writeThenKill({ mode: "write", dir, dim, records, batchSize: p.batchSize, concurrency: p.concurrency, seed: 11 });
    if (w.type !== "written") throw new Error(`recovery ${p.name}: ${w.type === "error" ? w.message : "unexpected reply"}`);
    const walBytes = dirBytes(path.join(dir, "wal"));
    const r = await reopenInChild(dir);
    if (r.type !== "reopened") throw new Error(`recovery ${p.name}: ${r.type === "error" ? r.message : "unexpected reply"}`);
    const run = {
      name: p.name,
      description: p.description,
      recordsAcknowledged: w.acknowledged,
      upsertCalls: w.calls,
      walBytes,
      openSeconds: r.openSeconds,
      countAfterOpen: r.count,
      secondsPer100kRecords: (r.openSeconds * 100_000) / w.acknowledged,
    };
    results.runs.push(run);
    opts.log(
      `  ${p.description}: ${w.acknowledged.toLocaleString("en-US")} acknowledged in ${w.calls.toLocaleString("en-US")} calls, WAL ${(walBytes / 2 ** 20).toFixed(1)} MiB; open ${r.openSeconds.toFixed(3)} s (${run.secondsPer100kRecords.toFixed(3)} s per 100k), count ${r.count}`,
    );
    if (r.count < w.acknowledged) opts.log(`  LOST RECORDS: ${w.acknowledged - r.count} acknowledged records missing after reopen`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${machine.date.slice(0, 10)}-recovery.json`);
  writeJson(file, results);
  opts.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}
