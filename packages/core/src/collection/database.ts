/**
 * An OmenDB data folder: the catalogue of collections, the write-ahead log, checkpoints and recovery.
 *
 * Folder layout (every format is versioned and position-independent):
 *
 *   LOCK                  pid of the one writing process
 *   omendb.sqlite         collections, ids, documents, metadata, checkpoint LSN (SQLite, WAL mode)
 *   wal/<lsn>.wal         write-ahead log segments (checksummed records)
 *   vectors/<uuid>.vec    full-precision vectors of one collection, by slot (checksummed records)
 *
 * Write path: validate → WAL append → group commit (one fdatasync for every waiting write) → apply
 * (SQLite rows, vector file, arena) → acknowledge. Checkpoint: fsync the vector files, record the last
 * applied LSN in SQLite durably, drop WAL segments up to it. Recovery: open the files, verify their
 * checksums, replay the WAL after the checkpoint LSN (replay is idempotent).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  AlreadyExistsError,
  ClosedError,
  CorruptionError,
  ErrorCode,
  NotFoundError,
  OmenDBError,
  ValidationError,
  ioError,
  isOmenDBError,
} from "../errors.js";
import { SqliteStore, type CollectionRow } from "../metadata/sqlite-store.js";
import { acquireLock, type HeldLock } from "../storage/lock-file.js";
import type { CollectionInfo, CollectionOptions, Durability, IndexOptions, Metadata, Metric, OpenOptions } from "../types.js";
import { readWal } from "../wal/wal-reader.js";
import { WalWriter } from "../wal/wal-writer.js";
import { indexPath, vectorPath, vectorsDir } from "./folder-layout.js";
import { Collection, type CollectionHost } from "./collection.js";
import type { IndexSettings } from "./collection-index.js";
import { CollectionStore } from "./collection-store.js";
import { describe, isWellFormed, validateMetadata } from "./validate-records.js";
import { OP_DELETE, OP_UPSERT, decodeOp } from "./write-ops.js";
import { MAX_SEARCH_THREADS } from "../internal/search-threads.js";
import { SearchPool, defaultSearchThreads } from "./search-pool.js";
import type { AnnIndex } from "../graph/ann-index.js";
import { loadMemoryMap } from "../storage/memory-map.js";

const DURABILITIES: readonly Durability[] = ["fsync", "relaxed", "none"];
const METRICS: readonly Metric[] = ["cosine", "l2", "ip"];
const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** Background index work per event-loop turn. */
const MAINTENANCE_SLICE_MS = 20;
/** Background index work waits until no write has landed for this long. */
const WRITE_QUIET_MS = 50;
/**
 * Below this many bytes of vectors an exact scan is about as fast as an index search, so no index is
 * built (measured: an exact scan reads ~30 GB/s, a graph search takes 0.1–0.5 ms; bench/results).
 */
const EXACT_SCAN_BYTES = 8 * 1024 * 1024;
/** Never build an index for fewer records than this: its background build would cost more than it saves. */
const MIN_INDEX_THRESHOLD = 5_000;
/** Longest collection name, in characters. */
const MAX_NAME_LENGTH = 256;
/** Largest supported dimension. */
const MAX_DIMENSION = 65_536;

/**
 * An open OmenDB database (one data folder).
 *
 * @example
 * const db = await OmenDB.open("./data");
 * const docs = await db.getOrCreateCollection("docs", { dimension: 1536 });
 * await docs.upsert([{ id: "a", vector, document: "hello", metadata: { lang: "en" } }]);
 * const hits = await docs.search(queryVector, { k: 5, filter: { lang: "en" } });
 * await db.close();
 */
export class OmenDB {
  private readonly collections = new Map<string, Collection>();
  private closing: Promise<void> | undefined;
  private failure: unknown;
  private appliedLsn: number;
  private walBytesSinceCheckpoint = 0;
  private checkpointing: Promise<void> | undefined;
  private pendingWrites = 0;
  private maintenance: NodeJS.Timeout | undefined;
  private lastWriteAt = 0;
  private readonly host: CollectionHost;
  private pool: SearchPool | undefined;
  /** What the search threads were last sent, per collection key. */
  private readonly published = new Map<number, { ann: AnnIndex | undefined; pq: unknown; lists: SharedArrayBuffer | undefined }>();

  private constructor(
    /** The data folder. */
    readonly path: string,
    private readonly lock: HeldLock,
    private readonly sqlite: SqliteStore,
    private readonly wal: WalWriter,
    private readonly checkpointBytes: number,
    appliedLsn: number,
  ) {
    this.appliedLsn = appliedLsn;
    const db = this;
    this.host = {
      submit: (type, payload, apply) => this.submit(type, payload, apply),
      modifyCollection: (collection, changes) => this.modifyCollection(collection, changes),
      exclusive: (fn) => this.exclusive(fn),
      get searchPool() {
        return db.pool;
      },
    };
  }

  /** Runs `fn`, which changes index or vector memory, with no search thread reading it. */
  private exclusive<T>(fn: () => T): T {
    return this.pool === undefined ? fn() : this.pool.gate.write(fn);
  }

  /**
   * After every gated write: sends the search threads the shares of each collection whose index
   * changed identity or whose lists moved to another buffer (growth in place needs nothing), and
   * drops deleted ones.
   */
  private syncShares(): void {
    const pool = this.pool!;
    const seen = new Set<number>();
    for (const c of this.collections.values()) {
      const { key, index, arena } = c.store;
      seen.add(key);
      const ann = index.ann?.pq === undefined ? undefined : index.ann;
      const last = this.published.get(key);
      const lists = ann?.graph.listBuffer;
      if (last !== undefined && last.ann === ann && last.pq === ann?.pq && last.lists === lists) continue;
      this.published.set(key, { ann, pq: ann?.pq, lists });
      pool.publish(key, ann === undefined ? undefined : { ann: ann.share(), arena: arena.share() });
    }
    for (const key of this.published.keys()) {
      if (seen.has(key)) continue;
      this.published.delete(key);
      pool.publish(key, undefined);
    }
  }

  /**
   * Opens (creating if needed) the data folder at `folder`, takes its write lock, verifies its files
   * and replays the WAL after the last checkpoint.
   * @throws LockedError when another process has the folder open.
   * @throws CorruptionError when a file fails its checksum (damage before the WAL's torn tail).
   * @throws ValidationError code INVALID_OPTION for bad options.
   */
  static async open(folder: string, options: OpenOptions = {}): Promise<OmenDB> {
    if (typeof folder !== "string" || folder.length === 0) throw new TypeError(`OmenDB.open: path must be a non-empty string, got ${describe(folder)}`);
    const durability = options.durability ?? "fsync";
    if (!DURABILITIES.includes(durability)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDB.open: durability must be one of ${DURABILITIES.join(", ")}, got ${describe(durability)}`);
    }
    const checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
    if (!Number.isInteger(checkpointBytes) || checkpointBytes <= 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDB.open: checkpointBytes must be a positive integer, got ${describe(checkpointBytes)}`);
    }
    const threads = options.threads === "auto" ? defaultSearchThreads() : options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0 || threads > MAX_SEARCH_THREADS) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDB.open: threads must be "auto" or an integer from 0 to ${MAX_SEARCH_THREADS}, got ${describe(threads)}`);
    }
    const root = path.resolve(folder);
    try {
      for (const dir of [root, path.join(root, "wal"), vectorsDir(root)]) fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw ioError(`creating data folder ${root}`, err);
    }
    const lock = acquireLock(path.join(root, "LOCK"));
    let sqlite: SqliteStore | undefined;
    const stores: CollectionStore[] = [];
    try {
      sqlite = new SqliteStore(path.join(root, "omendb.sqlite"));
      const checkpointLsn = Number(sqlite.getMeta("checkpoint_lsn") ?? "0");
      const rows = sqlite.listCollections();
      const byKey = new Map<number, CollectionStore>();
      for (const row of rows) {
        const store = CollectionStore.open({
          key: row.key,
          dimension: row.dimension,
          metric: row.metric,
          sqlite,
          vectorPath: vectorPath(root, row.uuid),
          indexPath: indexPath(root, row.uuid),
          indexSettings: indexSettings(row.dimension, JSON.parse(row.options) as IndexOptions),
        });
        stores.push(store);
        byKey.set(row.key, store);
      }
      removeOrphanVectorFiles(root, rows);

      // Replay in one SQLite transaction: recovery speed is bounded by the log, not by commits.
      let replayed = 0;
      const db = sqlite;
      db.begin();
      let lastLsn: number;
      try {
        ({ lastLsn } = await readWal(path.join(root, "wal"), {
          afterLsn: checkpointLsn,
          onRecord: (lsn, type, payload) => {
            if (type !== OP_UPSERT && type !== OP_DELETE) return;
            const op = decodeOp(type, payload);
            const store = byKey.get(op.collectionKey);
            if (store === undefined) return; // the collection was deleted later
            if (op.type === OP_UPSERT) store.applyUpsert(op.records, lsn);
            else store.applyDelete(op.ids);
            replayed++;
          },
        }));
        db.commit();
      } catch (err) {
        db.rollback();
        throw err;
      }
      for (const store of stores) store.attachVectors();
      // Large index files were checksummed on worker threads meanwhile: settle those checks.
      for (const store of stores) await store.index.verifyLoaded();
      const appliedLsn = Math.max(lastLsn, checkpointLsn);
      const wal = await WalWriter.open(path.join(root, "wal"), { durability, nextLsn: appliedLsn + 1 });
      const instance = new OmenDB(root, lock, sqlite, wal, checkpointBytes, appliedLsn);
      for (const row of rows) {
        const store = byKey.get(row.key)!;
        instance.collections.set(row.name, new Collection(instance.host, infoOf(row), store));
      }
      if (threads > 0) {
        const pool = new SearchPool(threads, () => instance.syncShares());
        instance.pool = pool;
        pool.gate.write(() => undefined); // publishes the loaded indexes
      }
      // Loading freed far more than it kept (rows, read buffers, the checksum thread): return those
      // pages to the system rather than leave them in the C library's free lists.
      loadMemoryMap().trim?.();
      // Bound the next recovery, without making this open wait for it.
      if (replayed > 0) instance.runCheckpoint().catch(() => undefined);
      instance.scheduleMaintenance();
      return instance;
    } catch (err) {
      for (const store of stores) store.close();
      sqlite?.close();
      lock.release();
      throw openError(err, path.join(root, "omendb.sqlite"));
    }
  }

  /**
   * Creates a collection.
   * @throws AlreadyExistsError code COLLECTION_EXISTS when the name is taken.
   * @throws ValidationError code INVALID_NAME / INVALID_OPTION for a bad name, dimension or metric.
   */
  async createCollection(name: string, options: CollectionOptions = {}): Promise<Collection> {
    this.assertWritable();
    validateName(name);
    const { dimension, metric, metadata, index } = validateCollectionOptions(name, options);
    if (this.collections.has(name)) {
      throw new AlreadyExistsError(ErrorCode.COLLECTION_EXISTS, `collection "${name}" already exists`);
    }
    const uuid = randomUUID();
    const key = this.sqlite.insertCollection({ uuid, name, dimension, metric, metadata: JSON.stringify(metadata), options: JSON.stringify(index) });
    let store: CollectionStore;
    try {
      store = CollectionStore.open({
        key,
        dimension,
        metric,
        sqlite: this.sqlite,
        vectorPath: vectorPath(this.path, uuid),
        indexPath: indexPath(this.path, uuid),
        indexSettings: indexSettings(dimension, index),
      });
    } catch (err) {
      this.sqlite.deleteCollection(key);
      throw err;
    }
    const collection = new Collection(this.host, { name, uuid, dimension, metric, metadata }, store);
    this.collections.set(name, collection);
    return collection;
  }

  /**
   * The collection called `name`.
   * @throws NotFoundError code COLLECTION_NOT_FOUND.
   */
  getCollection(name: string): Collection {
    this.assertOpen();
    const collection = this.collections.get(name);
    if (collection === undefined) {
      throw new NotFoundError(ErrorCode.COLLECTION_NOT_FOUND, `collection "${name}" does not exist in ${this.path}`);
    }
    return collection;
  }

  /**
   * The collection called `name`, created with `options` if it does not exist.
   * @throws ValidationError code INVALID_OPTION when it exists with another dimension or metric.
   */
  async getOrCreateCollection(name: string, options: CollectionOptions = {}): Promise<Collection> {
    this.assertOpen();
    const existing = this.collections.get(name);
    if (existing === undefined) return this.createCollection(name, options);
    for (const key of ["dimension", "metric"] as const) {
      if (options[key] !== undefined && options[key] !== existing[key]) {
        throw new ValidationError(
          ErrorCode.INVALID_OPTION,
          `collection "${name}" exists with ${key} ${existing[key]}; asked for ${String(options[key])}`,
        );
      }
    }
    return existing;
  }

  /** True when a collection called `name` exists. */
  hasCollection(name: string): boolean {
    this.assertOpen();
    return this.collections.has(name);
  }

  /** Every collection's description, oldest first. */
  listCollections(): CollectionInfo[] {
    this.assertOpen();
    return [...this.collections.values()].sort((a, b) => a.store.key - b.store.key).map((c) => c.info());
  }

  /**
   * Deletes a collection and all its records once its in-flight writes have landed.
   * @throws NotFoundError code COLLECTION_NOT_FOUND.
   */
  async deleteCollection(name: string): Promise<void> {
    const collection = this.getCollection(name);
    this.assertWritable();
    collection.markClosed("it was deleted");
    await collection.idle();
    this.sqlite.deleteCollection(collection.store.key);
    this.exclusive(() => {
      this.collections.delete(collection.name);
      collection.store.close();
    });
    collection.store.index.removeFile();
    fs.rmSync(vectorPath(this.path, collection.uuid), { force: true });
  }

  /**
   * Makes everything applied so far durable in the data files and drops the WAL up to it, so that
   * the next open replays less. Runs automatically every `checkpointBytes` of WAL and on close.
   */
  async checkpoint(): Promise<void> {
    this.assertWritable();
    return this.runCheckpoint();
  }

  /**
   * Waits for in-flight writes, checkpoints, and releases the folder. Later calls throw ClosedError.
   * Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.collections.values()) c.markClosed("the database was closed");
      await Promise.all([...this.collections.values()].map((c) => c.idle()));
      try {
        if (this.failure === undefined) await this.runCheckpoint();
      } finally {
        await this.wal.close().catch(() => undefined);
        await this.pool?.close();
        this.pool = undefined;
        for (const c of this.collections.values()) c.store.close();
        this.sqlite.close();
        this.lock.release();
      }
    })();
    return this.closing;
  }

  /**
   * Runs a checkpoint that starts after any checkpoint in flight, so it covers every operation
   * applied before this call (close() and checkpoint() rely on that).
   */
  private runCheckpoint(): Promise<void> {
    const previous = this.checkpointing ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.checkpointOnce());
    this.checkpointing = next;
    const clear = () => {
      if (this.checkpointing === next) this.checkpointing = undefined;
    };
    next.then(clear, clear);
    return next;
  }

  private async checkpointOnce(): Promise<void> {
    try {
      await this.wal.rotate();
      // INVARIANT: the index snapshots and `lsn` are taken in one synchronous step, so each
      // snapshot reflects exactly the operations up to `lsn`; replay after it is idempotent.
      const lsn = this.appliedLsn;
      const snapshots = this.exclusive(() =>
        [...this.collections.values()].map((c) => ({ index: c.store.index, snapshot: c.store.index.snapshotIfChanged() })),
      );
      this.walBytesSinceCheckpoint = 0;
      for (const c of this.collections.values()) c.store.vectors.sync();
      for (const { index, snapshot } of snapshots) {
        if (snapshot === undefined) continue;
        await index.persist(snapshot);
        // The lists leave private memory for the file just written (search threads get the new
        // share); not worth it when closing.
        if (this.closing === undefined) this.exclusive(() => index.rebaseOnFile(snapshot));
      }
      this.sqlite.durably(() => this.sqlite.setMeta("checkpoint_lsn", String(lsn)));
      await this.wal.removeSegmentsUpTo(lsn);
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }


  private submit<T>(type: number, payload: Uint8Array, apply: (lsn: number) => T): Promise<T> {
    this.assertWritable();
    this.pendingWrites++;
    this.walBytesSinceCheckpoint += payload.byteLength;
    // INVARIANT: appends resolve in LSN order within one microtask run, and each `.then` below was
    // registered in append order, so operations are applied in exactly the WAL's order.
    return this.wal.append(type, payload).then(
      (lsn) => {
        this.pendingWrites--;
        if (this.failure !== undefined) throw this.failedError();
        let result: T;
        try {
          result = this.exclusive(() => apply(lsn));
        } catch (err) {
          // Durable in the WAL but not applied: stop serving writes; reopening replays it.
          this.fail(err);
          throw err;
        }
        this.appliedLsn = lsn;
        this.lastWriteAt = performance.now();
        this.scheduleMaintenance(WRITE_QUIET_MS);
        if (this.walBytesSinceCheckpoint >= this.checkpointBytes && this.checkpointing === undefined && this.closing === undefined) {
          this.runCheckpoint().catch(() => undefined);
        }
        return result;
      },
      (err: unknown) => {
        this.pendingWrites--;
        this.fail(err);
        throw err;
      },
    );
  }

  /**
   * Runs background index work (training, joining new records, consolidating deletions) in slices
   * of about 20 ms, only while writes are quiet: a write stream is never slowed by indexing (searches
   * stay correct meanwhile through the exact scan of not-yet-indexed records, and `buildIndex()`
   * does the work at once after a bulk load).
   */
  private scheduleMaintenance(delayMs = 0): void {
    if (this.maintenance !== undefined || this.closing !== undefined || this.failure !== undefined) return;
    const timer = setTimeout(() => {
      this.maintenance = undefined;
      if (this.closing !== undefined) return;
      const quietFor = performance.now() - this.lastWriteAt;
      if (this.pendingWrites > 0 || quietFor < WRITE_QUIET_MS) {
        this.scheduleMaintenance(WRITE_QUIET_MS);
        return;
      }
      let more = false;
      for (const c of this.collections.values()) {
        const index = c.store.index;
        if (!index.hasWork()) continue;
        this.exclusive(() => index.step(MAINTENANCE_SLICE_MS));
        more ||= index.hasWork();
      }
      if (more) this.scheduleMaintenance();
    }, delayMs);
    timer.unref();
    this.maintenance = timer;
  }


  private modifyCollection(collection: Collection, changes: { name?: string; metadata?: Metadata }): void {
    this.assertWritable();
    const update: { name?: string; metadata?: string } = {};
    if (changes.name !== undefined && changes.name !== collection.name) {
      validateName(changes.name);
      if (this.collections.has(changes.name)) {
        throw new AlreadyExistsError(ErrorCode.COLLECTION_EXISTS, `cannot rename "${collection.name}": collection "${changes.name}" already exists`);
      }
      update.name = changes.name;
    }
    if (changes.metadata !== undefined) update.metadata = validateMetadata(collection.name, "(collection)", changes.metadata) ?? "{}";
    if (update.name === undefined && update.metadata === undefined) return;
    this.sqlite.modifyCollection(collection.store.key, update);
    if (update.name !== undefined) {
      this.collections.delete(collection.name);
      this.collections.set(update.name, collection);
    }
    collection.setInfo({ name: update.name, metadata: update.metadata === undefined ? undefined : (JSON.parse(update.metadata) as Metadata) });
  }

  private fail(err: unknown): void {
    this.failure ??= err;
  }

  private failedError(): OmenDBError {
    return new OmenDBError(ErrorCode.IO, `database ${this.path} stopped accepting writes after an earlier failure; reopen it to recover`, {
      cause: this.failure,
    });
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`database ${this.path} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.failure !== undefined) throw this.failedError();
  }
}

/**
 * Errors from opening a folder that are not already OmenDB's: a damaged SQLite file or a JSON column
 * that no longer parses is a CorruptionError naming the database file; anything else is IO.
 */
function openError(err: unknown, sqliteFile: string): unknown {
  if (isOmenDBError(err)) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if ((typeof code === "string" && code.startsWith("SQLITE_CORRUPT")) || code === "SQLITE_NOTADB" || err instanceof SyntaxError) {
    return new CorruptionError({ file: sqliteFile, offset: 0, expected: "a readable OmenDB catalogue", actual: message, what: "damaged database", cause: err });
  }
  return ioError(`opening ${sqliteFile}`, err);
}

/** Deletes vector files of collections that no longer exist (a crash during deleteCollection). */
function removeOrphanVectorFiles(root: string, rows: readonly CollectionRow[]): void {
  const live = new Set(rows.map((r) => r.uuid));
  for (const name of fs.readdirSync(vectorsDir(root))) {
    const uuid = name.split(".")[0]!;
    if (!live.has(uuid)) fs.rmSync(path.join(vectorsDir(root), name), { force: true });
  }
}

function indexSettings(dimension: number, options: IndexOptions): IndexSettings {
  const { threshold, ...params } = options;
  return {
    threshold: threshold ?? Math.max(MIN_INDEX_THRESHOLD, Math.ceil(EXACT_SCAN_BYTES / (dimension * 4))),
    params,
  };
}

function infoOf(row: CollectionRow): CollectionInfo {
  return { name: row.name, uuid: row.uuid, dimension: row.dimension, metric: row.metric, metadata: JSON.parse(row.metadata) as Metadata };
}

function validateName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name) || !isWellFormed(name)) {
    throw new ValidationError(
      ErrorCode.INVALID_NAME,
      `collection name must be a string of 1 to ${MAX_NAME_LENGTH} characters without control characters or lone surrogates, got ${describe(name)}`,
    );
  }
}

function validateCollectionOptions(
  name: string,
  options: CollectionOptions,
): { dimension: number; metric: Metric; metadata: Metadata; index: IndexOptions } {
  if (typeof options !== "object" || options === null) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${name}": options must be an object, got ${describe(options)}`);
  }
  const dimension = options.dimension ?? 1536;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${name}": dimension must be an integer from 1 to ${MAX_DIMENSION}, got ${describe(dimension)}`);
  }
  const metric = options.metric ?? "cosine";
  if (!METRICS.includes(metric)) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${name}": metric must be one of ${METRICS.join(", ")}, got ${describe(metric)}`);
  }
  const metadataJson = validateMetadata(name, "(collection)", options.metadata);
  const index = validateIndexOptions(name, dimension, options.index ?? {});
  return { dimension, metric, metadata: metadataJson === null ? {} : (JSON.parse(metadataJson) as Metadata), index };
}

function validateIndexOptions(name: string, dimension: number, index: IndexOptions): IndexOptions {
  if (typeof index !== "object" || index === null) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${name}": index options must be an object, got ${describe(index)}`);
  }
  const ranges: Record<keyof IndexOptions, [number, number, boolean]> = {
    threshold: [0, Number.MAX_SAFE_INTEGER, true],
    maxDegree: [4, 256, true],
    buildListSize: [4, 4096, true],
    alpha: [1, 4, false],
    efSearch: [1, 65_536, true],
    pqSubspaces: [1, dimension, true],
  };
  const out: IndexOptions = {};
  for (const [key, value] of Object.entries(index)) {
    const range = ranges[key as keyof IndexOptions];
    if (range === undefined) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${name}": unknown index option "${key}"; known: ${Object.keys(ranges).join(", ")}`);
    }
    const [lo, hi, integer] = range;
    if (typeof value !== "number" || !(value >= lo && value <= hi) || (integer && !Number.isInteger(value))) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `collection "${name}": index.${key} must be ${integer ? "an integer" : "a number"} from ${lo} to ${hi}, got ${describe(value)}`,
      );
    }
    out[key as keyof IndexOptions] = value;
  }
  return out;
}
