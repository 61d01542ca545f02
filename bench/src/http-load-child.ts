/**
 * The load generator of `pnpm bench http`, run in its own process (forked by the harness with IPC) so
 * that its CPU is not the server's: it keeps `concurrency` query requests in flight against a running
 * OmenDB server for a fixed time and reports requests/s, latency percentiles, errors, and the CPU time
 * the server process and the generator itself used over the timed window.
 *
 * Requests are `POST …/collections/{id}/query` with one query embedding as a JSON number array (as
 * the `chromadb` client sends it), `n_results = k` and `include: ["distances"]`; every body is serialised before timing, and sent
 * over a keep-alive Agent with one socket per in-flight request (Node `http`, no dependency). Each of
 * the `concurrency` loops sends its next request as soon as the previous answer is read; query i of
 * the run is query row `i mod queryCount`. A response counts as an error unless its status is 200.
 * Latency = request start → last response byte. Requests/s = successful responses / window, where the
 * window runs from the first request to the last answer (requests still in flight at the deadline are
 * awaited and counted).
 *
 * The server's CPU time comes from `/proc/<pid>/stat` (utime + stime, all threads) read at both ends of
 * the window; cores used = CPU seconds / window seconds. Linux only: elsewhere the figure is null.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { percentile, mean } from "./stats.js";
import { readFvecs } from "./vector-files.js";

/** The Chroma v2 path prefix of the default tenant and database. */
export const DEFAULT_DATABASE_PATH = "/api/v2/tenants/default_tenant/databases/default_database";

/** What the harness sends the load child. */
export interface HttpLoadJob {
  /** Server base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  collectionId: string;
  queryFile: string;
  queryCount: number;
  k: number;
  concurrency: number;
  /** Timed seconds. */
  seconds: number;
  /** Untimed seconds of the same load first (connections opened, JIT warm). */
  warmupSeconds: number;
  /** The server process, for its CPU time. */
  serverPid: number;
}

/** What the load child sends back (one message). */
export interface HttpLoadResult {
  status: "ok" | "error";
  reason?: string;
  concurrency: number;
  /** Successful (200) responses in the window. */
  requests: number;
  errors: number;
  /** The first error (status and body start, or the exception), when any. */
  firstError?: string;
  windowSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Server process CPU seconds over the window (null off Linux). */
  serverCpuSeconds: number | null;
  /** serverCpuSeconds / windowSeconds: how many cores the server kept busy. */
  serverCores: number | null;
  /** The load generator's own CPU seconds over the window. */
  clientCpuSeconds: number;
  /** 1/5/15-minute load averages when the window started. */
  loadAverage: number[];
}

/** The query route of a collection. */
export function queryPath(collectionId: string): string {
  return `${DEFAULT_DATABASE_PATH}/collections/${encodeURIComponent(collectionId)}/query`;
}

/** The JSON body of a one-embedding query (numbers as float32 values print, so they decode exactly). */
export function queryBody(vector: Float32Array, k: number): Buffer {
  return Buffer.from(JSON.stringify({ query_embeddings: [Array.from(vector)], n_results: k, include: ["distances"] }));
}

/** A response: status and body text. */
export interface HttpReply {
  status: number;
  body: string;
}

/**
 * Sends one request and reads the whole answer. `body` (JSON) makes it a POST, else a GET.
 * Rejects on a socket error, never on an HTTP status.
 */
export function request(agent: http.Agent, url: URL, body?: Buffer): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        agent,
        method: body ? "POST" : "GET",
        headers: body ? { "content-type": "application/json", "content-length": body.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system, all threads) a process has used, from `/proc/<pid>/stat`; null when
 * unavailable (not Linux, process gone).
 */
export function processCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Fields after the parenthesised command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return Number.isFinite(ticks) ? ticks / clockTicks : null;
}

/** Runs one load level; see the module comment. */
export async function runLoad(job: HttpLoadJob): Promise<HttpLoadResult> {
  const queries = readFvecs(job.queryFile, 0, job.queryCount);
  const bodies: Buffer[] = [];
  for (let i = 0; i < queries.count; i++) bodies.push(queryBody(queries.data.subarray(i * queries.dim, (i + 1) * queries.dim), job.k));
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(queryPath(job.collectionId), job.url);
  let next = 0;
  const drive = async (until: number, latencies: number[] | null, tally: { ok: number; errors: number; firstError?: string }): Promise<void> => {
    const loop = async (): Promise<void> => {
      while (performance.now() < until) {
        const body = bodies[next++ % bodies.length]!;
        const t = performance.now();
        try {
          const r = await request(agent, url, body);
          if (r.status === 200) {
            tally.ok++;
            latencies?.push(performance.now() - t);
          } else {
            tally.errors++;
            tally.firstError ??= `HTTP ${r.status}: ${r.body.slice(0, 200)}`;
          }
        } catch (err) {
          tally.errors++;
          tally.firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  };
  try {
    await drive(performance.now() + job.warmupSeconds * 1000, null, { ok: 0, errors: 0 });
    const latencies: number[] = [];
    const tally: { ok: number; errors: number; firstError?: string } = { ok: 0, errors: 0 };
    const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);
    const server0 = processCpuSeconds(job.serverPid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await drive(t0 + job.seconds * 1000, latencies, tally);
    const windowSeconds = (performance.now() - t0) / 1000;
    const server1 = processCpuSeconds(job.serverPid);
    const client = process.cpuUsage(client0);
    const serverCpuSeconds = server0 === null || server1 === null ? null : server1 - server0;
    return {
      status: "ok",
      concurrency: job.concurrency,
      requests: tally.ok,
      errors: tally.errors,
      ...(tally.firstError === undefined ? {} : { firstError: tally.firstError }),
      windowSeconds,
      requestsPerSecond: tally.ok / windowSeconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      meanMs: mean(latencies),
      serverCpuSeconds,
      serverCores: serverCpuSeconds === null ? null : serverCpuSeconds / windowSeconds,
      clientCpuSeconds: (client.user + client.system) / 1e6,
      loadAverage,
    };
  } finally {
    agent.destroy();
  }
}

/** A failed level, in the shape of a result. */
export function failedLoad(concurrency: number, reason: string): HttpLoadResult {
  return {
    status: "error",
    reason,
    concurrency,
    requests: 0,
    errors: 0,
    windowSeconds: 0,
    requestsPerSecond: 0,
    p50Ms: NaN,
    p99Ms: NaN,
    meanMs: NaN,
    serverCpuSeconds: null,
    serverCores: null,
    clientCpuSeconds: 0,
    loadAverage: [],
  };
}

// Entry point when forked by the harness (the module is also imported for its helpers).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  process.once("message", (job: HttpLoadJob) => {
    void runLoad(job)
      .catch((err: unknown) => failedLoad(job.concurrency, err instanceof Error ? (err.stack ?? err.message) : String(err)))
      .then((result) => process.send!(result, () => process.exit(0)));
  });
}
