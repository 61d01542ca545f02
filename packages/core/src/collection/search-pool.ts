/**
 * Worker threads that answer index searches over the owner's shared memory, so several cores search
 * one database at once (the owner keeps writes, filters and documents). Each worker holds, per
 * collection, an `AnnReader` over the shares the owner published; the read/write gate keeps a
 * search from overlapping a write.
 *
 * Protocol. Jobs go out with `postMessage` and come back with transferred result arrays. Shares go
 * out on a second port per worker: the owner posts them inside a write and then bumps the gate's
 * epoch; a worker that sees a new epoch after entering the gate drains that port synchronously
 * (`receiveMessageOnPort`), so it never searches with outdated shares.
 *
 * INVARIANTS: a job is answered exactly once (hits, or `undefined` when the worker has no reader
 * for the collection or failed: the caller then searches on its own thread); workers are referenced
 * (keep the process alive) only while jobs are in flight.
 */
import os from "node:os";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { ErrorCode, ValidationError } from "../errors.js";
import type { AnnShare, IndexHits } from "../graph/ann-index.js";
import type { BuildHelpers, BuildJob } from "../graph/batch-build.js";
import { MAX_SEARCH_THREADS } from "../internal/search-threads.js";
import type { VectorShare } from "../vector/vector-reader.js";
import { ReadWriteGate, createGateState } from "./read-write-gate.js";

/** What a worker needs to search one collection. */
export interface CollectionShare {
  ann: AnnShare;
  arena: VectorShare;
}

/** A search job as the worker receives it. */
export interface SearchJob {
  id: number;
  key: number;
  query: Float32Array;
  k: number;
  efSearch: number | undefined;
}

/** A worker's answer; `slots` is absent when it could not search (no reader, or an error). */
export interface SearchAnswer {
  id: number;
  slots?: Uint32Array;
  distances?: Float32Array;
  pool?: number;
  error?: string;
}

/** A share update on the side port. */
export interface ShareUpdate {
  epoch: number;
  key: number;
  share: CollectionShare | undefined;
}

/** The worker script, compiled: the same relative path works from `src/` and `dist/`. */
const WORKER_URL = new URL("../../dist/collection/search-worker.js", import.meta.url);

/** The default pool size: one search thread per core, at most {@link MAX_SEARCH_THREADS}. */
export function defaultSearchThreads(): number {
  return Math.min(MAX_SEARCH_THREADS, os.availableParallelism());
}

interface PoolWorker {
  worker: Worker;
  thread: number;
  side: MessagePort;
  inFlight: number;
  failed: boolean;
}

/** A pool of search worker threads for one database; they also help plan bulk index builds. */
export class SearchPool implements BuildHelpers {
  readonly gate: ReadWriteGate;
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, { resolve: (hits: IndexHits | undefined) => void; worker: PoolWorker }>();
  private nextId = 1;
  private inFlight = 0;

  /**
   * Starts `threads` workers. `afterWrite` runs at the end of each outermost gated write (the
   * owner publishes changed shares there).
   * @throws ValidationError code `INVALID_OPTION` unless 1 ≤ threads ≤ {@link MAX_SEARCH_THREADS}.
   */
  constructor(threads: number, afterWrite: () => void) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_SEARCH_THREADS) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `search pool: threads must be an integer from 1 to ${MAX_SEARCH_THREADS}, got ${threads}`);
    }
    const state = createGateState(threads);
    this.gate = new ReadWriteGate(state, afterWrite);
    for (let thread = 0; thread < threads; thread++) {
      const channel = new MessageChannel();
      const worker = new Worker(WORKER_URL, { workerData: { thread, state, side: channel.port2 }, transferList: [channel.port2] });
      const entry: PoolWorker = { worker, side: channel.port1, inFlight: 0, failed: false, thread };
      worker.on("message", (answer: SearchAnswer) => this.settle(answer));
      const fail = () => this.retire(entry);
      worker.on("error", fail);
      worker.on("exit", fail);
      worker.unref();
      this.workers.push(entry);
    }
  }

  /** Number of worker threads still running. */
  get size(): number {
    return this.workers.filter((w) => !w.failed).length;
  }

  /** Sends a bulk build to every worker (see `batch-build.ts`); each serves its batches until it ends. */
  attach(job: BuildJob): void {
    for (const w of this.workers) if (!w.failed) w.worker.postMessage(job);
  }

  /**
   * Sends a collection's shares (or `undefined`: it has no index, or is gone) to every worker and
   * publishes a new epoch. Must run inside `gate.write`.
   */
  publish(key: number, share: CollectionShare | undefined): void {
    this.gate.publish((epoch) => {
      const update: ShareUpdate = { epoch, key, share };
      for (const w of this.workers) if (!w.failed) w.side.postMessage(update);
    });
  }

  /**
   * Searches collection `key`'s index on the least busy worker. Resolves `undefined` when no worker
   * could answer (the caller searches on its own thread instead).
   */
  search(key: number, query: Float32Array, k: number, efSearch: number | undefined): Promise<IndexHits | undefined> {
    let target: PoolWorker | undefined;
    for (const w of this.workers) if (!w.failed && (target === undefined || w.inFlight < target.inFlight)) target = w;
    if (target === undefined) return Promise.resolve(undefined);
    const id = this.nextId++;
    const job: SearchJob = { id, key, query, k, efSearch };
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, worker: target });
      target.inFlight++;
      if (this.inFlight++ === 0) for (const w of this.workers) w.worker.ref();
      target.worker.postMessage(job);
    });
  }

  /** Stops every worker; searches in flight resolve `undefined`. */
  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const w of workers) w.failed = true;
    for (const [id, job] of this.pending) this.finish(id, job, undefined);
    await Promise.all(workers.map((w) => { w.side.close(); return w.worker.terminate(); }));
  }

  private settle(answer: SearchAnswer): void {
    const job = this.pending.get(answer.id);
    if (job === undefined) return;
    const hits = answer.slots === undefined ? undefined : { slots: answer.slots, distances: answer.distances!, pool: answer.pool! };
    this.finish(answer.id, job, hits);
  }

  private finish(id: number, job: { resolve: (hits: IndexHits | undefined) => void; worker: PoolWorker }, hits: IndexHits | undefined): void {
    this.pending.delete(id);
    job.worker.inFlight--;
    if (--this.inFlight === 0) for (const w of this.workers) w.worker.unref();
    job.resolve(hits);
  }

  /** A worker died: its jobs resolve `undefined`, it takes no more, and it no longer holds off writes. */
  private retire(entry: PoolWorker): void {
    entry.failed = true;
    this.gate.releaseDeadReader(entry.thread);
    for (const [id, job] of this.pending) if (job.worker === entry) this.finish(id, job, undefined);
  }
}
