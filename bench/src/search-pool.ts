/**
 * The all-cores measurement: one reader process per core, each opening the index from the same folder
 * (or a copy, for engines that allow one opener per folder), answering its share of the queries.
 * Processes rather than worker threads, because some native peers (faiss-node) are not safe to load
 * in several threads of one process. Engines with their own worker threads (`threadsInProcess`:
 * omendb) get one reader process opened with `threads` = cores and 4 searches per thread in flight
 * instead — one copy of the index in memory, not one per core. Queries/s = queries answered by all
 * readers / wall time from the common start to the last reader's finish. Opening and configuring
 * readers is not timed.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DatasetSpec } from "./datasets.js";
import type { SearchSetting } from "./engines/engine.js";

/** What each reader process is told at start. */
export interface SearchWorkerInit {
  type: "init";
  engine: string;
  dir: string;
  spec: DatasetSpec;
  worker: number;
  workers: number;
  queryCount: number;
  k: number;
  /** Engine worker threads of this reader (0: none; searches one at a time). */
  threads: number;
}

/** Messages from a reader process. */
export type WorkerReply = { type: "ready" } | { type: "configured" } | { type: "done"; count: number } | { type: "error"; message: string };

/** Messages to a reader process. Reader i answers query numbers i, i + workers, ... below `target`. */
export type WorkerCommand = SearchWorkerInit | { type: "configure"; setting: SearchSetting } | { type: "run"; target: number; budgetMs: number } | { type: "close" };

class ReaderProcess {
  private waiting: ((m: WorkerReply) => void) | null = null;
  private failure: Error | null = null;

  constructor(readonly child: ChildProcess) {
    child.on("message", (m: WorkerReply) => {
      const w = this.waiting;
      this.waiting = null;
      if (m.type === "error") this.failure = new Error(m.message);
      w?.(m);
    });
    child.on("exit", (code, signal) => {
      if (!this.failure) this.failure = new Error(`reader process exited (${signal ?? `code ${code}`})`);
      const w = this.waiting;
      this.waiting = null;
      w?.({ type: "error", message: this.failure.message });
    });
  }

  /** Sends `cmd` (if any) and waits for the next reply; rejects on an error reply or exit. */
  next(cmd?: WorkerCommand): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (m) => (m.type === "error" ? reject(new Error(m.message)) : resolve(m));
      if (cmd) this.child.send(cmd);
    });
  }
}

/** A started pool of reader processes. */
export class SearchPool {
  private constructor(
    private readonly readers: ReaderProcess[],
    /** Cores the readers use: one each, or the one reader's worker threads. */
    readonly threads: number,
  ) {}

  /** Starts `threads` reader processes that each open the index in `dir`; resolves when all are open. */
  static async start(
    engine: string,
    dir: string,
    spec: DatasetSpec,
    queryCount: number,
    k: number,
    threads: number,
    env: Record<string, string> = {},
    threadsInProcess = false,
  ): Promise<SearchPool> {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "search-worker.js");
    const readers: ReaderProcess[] = [];
    const processes = threadsInProcess ? 1 : threads;
    for (let i = 0; i < processes; i++) {
      const child = fork(file, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, ...env } });
      readers.push(new ReaderProcess(child));
    }
    const pool = new SearchPool(readers, threads);
    try {
      const engineThreads = threadsInProcess ? threads : 0;
      await Promise.all(readers.map((r, worker) => r.next({ type: "init", engine, dir, spec, worker, workers: processes, queryCount, k, threads: engineThreads })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Runs `target` queries split across the readers (or until `budgetMs`); returns count and queries/s. */
  async run(setting: SearchSetting, target: number, budgetMs: number): Promise<{ queries: number; qps: number }> {
    await Promise.all(this.readers.map((r) => r.next({ type: "configure", setting })));
    const t0 = performance.now();
    const replies = await Promise.all(this.readers.map((r) => r.next({ type: "run", target, budgetMs })));
    const seconds = (performance.now() - t0) / 1000;
    const queries = replies.reduce((s, r) => s + (r.type === "done" ? r.count : 0), 0);
    return { queries, qps: queries / seconds };
  }

  /** Closes every reader and ends the processes. */
  async close(): Promise<void> {
    await Promise.all(
      this.readers.map(async (r) => {
        try {
          await r.next({ type: "close" });
        } catch {
          // already gone
        }
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
      }),
    );
  }
}
