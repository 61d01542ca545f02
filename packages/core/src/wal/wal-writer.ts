/**
 * The WAL writer: appends records to segment files with group commit.
 *
 * Byte layouts are in `wal-record.ts`. How this module uses them:
 *
 * - LSNs are dense and assigned synchronously in `append` call order, starting at `nextLsn`. An append
 *   that fails validation throws before it takes an LSN, so a rejected argument never leaves a gap.
 * - Group commit. Appends are encoded (payload copied, CRC computed) straight into an in-memory batch.
 *   One I/O loop drains batches: each batch is written with one positional `write` (two only if the OS
 *   writes short) and, in `"fsync"` mode, made durable with one `fdatasync`, then every append in it
 *   resolves, in LSN order. Appends that arrive while a write or sync is in flight, or in the same tick
 *   as the first one (the loop starts on `setImmediate`), join the next batch. A batch holds at most
 *   MAX_BATCH_BYTES (16 MiB) unless one record alone is larger.
 * - Acknowledgement by durability mode: `"fsync"` after `fdatasync`; `"relaxed"` after `write`, with an
 *   `fdatasync` at most RELAXED_SYNC_DELAY_MS (100 ms) after the first unsynced write; `"none"` after
 *   `write`, never synced by the writer (except by `sync`, `rotate` and `close`).
 * - INVARIANT: an append is never acknowledged unless its bytes reached the file (and, in `"fsync"`
 *   mode, a later `fdatasync` returned). The first failed `write` or `fdatasync` rejects every waiting
 *   append, `sync` and `rotate` with one OmenDBError (code IO, the fs error as `cause`) and leaves the
 *   writer failed: later calls reject with that same error. A failed fsync is never retried, because
 *   the kernel may already have dropped the dirty pages.
 * - Segments are created atomically: the header is written to `<name>.tmp`, fdatasync'ed, renamed to
 *   `<name>` and the directory fsync'ed, so a segment file always has a complete header. Leftover
 *   `.tmp` files are deleted by `open`. A segment is fdatasync'ed before the next one is created, so
 *   only the last segment can end in a torn record.
 * - The writer never writes into a segment it did not create in this session, except an existing
 *   header-only segment named `nextLsn`, which it reuses. Run `readWal` first (it truncates a torn
 *   tail) and open the writer at `lastLsn + 1`.
 */
import type { FileHandle } from "node:fs/promises";
import { mkdir, open as openFile, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { ClosedError, ErrorCode, OmenDBError, ValidationError, ioError } from "../errors.js";
import type { Durability } from "../types.js";
import {
  MAX_RECORD_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  recordSize,
  segmentFileName,
  writeRecord,
} from "./wal-record.js";

/** The longest a `"relaxed"` writer leaves written records unsynced, in milliseconds. */
export const RELAXED_SYNC_DELAY_MS = 100;
/** Default size at which the writer starts a new segment (64 MiB). */
export const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/** The most bytes one group-commit batch holds, unless a single record is larger. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const MAX_SEGMENT_BYTES_LIMIT = 1024 * 1024 * 1024;
const INITIAL_BATCH_BYTES = 64 * 1024;
const TMP_SUFFIX = ".tmp";

/**
 * The file operations the writer performs on the active segment after creating it. A `FileHandle`
 * satisfies it. Exists so tests can wrap the real handle to inject I/O failures.
 */
export interface SegmentFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link WalWriter.open}. */
export interface WalWriterOptions {
  /** When an append is acknowledged: `"fsync"`, `"relaxed"` or `"none"` (see {@link Durability}). */
  durability: Durability;
  /** The LSN of the next record: `readWal(dir).lastLsn + 1`, or 1 for a new WAL. A safe integer ≥ 1. */
  nextLsn: number;
  /**
   * Start a new segment once the active one reaches this many bytes, between batches.
   * Default DEFAULT_MAX_SEGMENT_BYTES (64 MiB); at most 1 GiB.
   */
  maxSegmentBytes?: number;
  /**
   * Wraps each segment file the writer opens. For fault-injection tests only; omit it in production.
   * @internal
   */
  wrapFile?: (file: SegmentFile, filePath: string) => SegmentFile;
}

/** How much work the writer did; tests use it to prove group commit. */
export interface WalWriterCounters {
  /** Records appended (accepted and given an LSN). */
  appends: number;
  /** `write` calls on segment files for records. */
  writes: number;
  /** `fdatasync` calls on segment files (group commits, timer, `sync`, `rotate`, `close`). */
  syncs: number;
}

interface Waiter {
  resolve(lsn: number): void;
  reject(error: unknown): void;
}

interface Batch {
  bytes: Uint8Array;
  length: number;
  firstLsn: number;
  waiters: Waiter[];
}

/** A `sync` or `rotate` request: done once every record up to `target` is written (and synced). */
interface Barrier {
  target: number;
  kind: "sync" | "rotate";
  resolve(value: number): void;
  reject(error: unknown): void;
}

const DURABILITIES: readonly Durability[] = ["fsync", "relaxed", "none"];

/**
 * Appends records to the write-ahead log in `dir`, one process at a time (the caller holds the lock).
 *
 * @example
 * const { lastLsn } = await readWal(dir, { afterLsn: checkpointLsn, onRecord: apply });
 * const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: lastLsn + 1 });
 * const lsn = await wal.append(1, payload); // on disk once this resolves
 * await wal.close();
 */
export class WalWriter {
  readonly #dir: string;
  readonly #durability: Durability;
  readonly #maxSegmentBytes: number;
  readonly #wrapFile: WalWriterOptions["wrapFile"];
  readonly #counters: WalWriterCounters = { appends: 0, writes: 0, syncs: 0 };

  /** First LSNs of the segment files, ascending; the last one is the active segment. */
  readonly #segments: number[];
  #file: SegmentFile | undefined;
  #filePath: string;
  #position: number;

  #nextLsn: number;
  #writtenLsn: number;
  #syncedLsn: number;

  readonly #pending: Batch[] = [];
  /** The batch being written; its appends are rejected if the write or its sync fails. */
  #inFlight: Batch | undefined;
  #spare: Uint8Array | undefined;
  #barriers: Barrier[] = [];
  #syncDue = false;
  #syncTimer: NodeJS.Timeout | undefined;

  #scheduled = false;
  /** True while the I/O loop runs; `#running` is its promise. */
  #draining = false;
  #running: Promise<void> = Promise.resolve();
  #failure: OmenDBError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #removal: Promise<unknown> = Promise.resolve();

  private constructor(init: {
    dir: string;
    options: WalWriterOptions;
    maxSegmentBytes: number;
    segments: number[];
    file: SegmentFile;
    filePath: string;
  }) {
    this.#dir = init.dir;
    this.#durability = init.options.durability;
    this.#maxSegmentBytes = init.maxSegmentBytes;
    this.#wrapFile = init.options.wrapFile;
    this.#segments = init.segments;
    this.#file = init.file;
    this.#filePath = init.filePath;
    this.#position = SEGMENT_HEADER_BYTES;
    this.#nextLsn = init.options.nextLsn;
    this.#writtenLsn = init.options.nextLsn - 1;
    this.#syncedLsn = init.options.nextLsn - 1;
  }

  /**
   * Opens the WAL folder `dir` for appending (creating it if needed) and starts a segment at `nextLsn`,
   * or reuses an existing header-only segment of that name. Deletes leftover `.tmp` segment files.
   *
   * `nextLsn` must be one past the last LSN in the folder, as `readWal` reports it; call `readWal` first
   * so a torn tail is truncated. Records past `nextLsn - 1` already on disk are not detected here; the
   * next `readWal` reports them as corruption.
   * @throws ValidationError code INVALID_OPTION for an unknown durability, a `nextLsn` that is not a safe
   *   integer ≥ 1 or is below the last segment's first LSN, a segment named `nextLsn` that already holds
   *   records, or a bad `maxSegmentBytes`.
   * @throws CorruptionError when the segment to reuse has a damaged header.
   * @throws OmenDBError code IO when a file-system call fails.
   */
  static async open(dir: string, options: WalWriterOptions): Promise<WalWriter> {
    const { durability, nextLsn } = options;
    if (!DURABILITIES.includes(durability)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `durability must be "fsync", "relaxed" or "none", got ${String(durability)}`);
    }
    if (!Number.isSafeInteger(nextLsn) || nextLsn < 1) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `nextLsn must be a safe integer >= 1, got ${String(nextLsn)}`);
    }
    const maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    if (!Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes <= SEGMENT_HEADER_BYTES || maxSegmentBytes > MAX_SEGMENT_BYTES_LIMIT) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `maxSegmentBytes must be an integer in ${SEGMENT_HEADER_BYTES + 1}..${MAX_SEGMENT_BYTES_LIMIT}, got ${String(maxSegmentBytes)}`,
      );
    }

    let created: string | undefined;
    try {
      created = await mkdir(dir, { recursive: true });
    } catch (error) {
      throw ioError(`creating WAL folder ${dir}`, error);
    }
    if (created !== undefined) await syncDirectory(path.dirname(path.resolve(dir)));

    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw ioError(`listing WAL folder ${dir}`, error);
    }
    const segments: number[] = [];
    let removedTmp = false;
    for (const name of names) {
      const first = parseSegmentFileName(name);
      if (first !== undefined) segments.push(first);
      else if (name.endsWith(TMP_SUFFIX) && parseSegmentFileName(name.slice(0, -TMP_SUFFIX.length)) !== undefined) {
        try {
          await unlink(path.join(dir, name));
        } catch (error) {
          throw ioError(`deleting leftover WAL file ${path.join(dir, name)}`, error);
        }
        removedTmp = true;
      }
    }
    if (removedTmp) await syncDirectory(dir);
    segments.sort((a, b) => a - b);

    const last = segments.at(-1);
    if (last !== undefined && last > nextLsn) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `nextLsn ${nextLsn} is below the first LSN ${last} of the last WAL segment in ${dir}; open at readWal(...).lastLsn + 1`,
      );
    }
    const filePath = path.join(dir, segmentFileName(nextLsn));
    let handle: FileHandle;
    if (last === nextLsn) {
      handle = await reopenEmptySegment(filePath, nextLsn);
    } else {
      handle = await createSegment(dir, nextLsn);
      segments.push(nextLsn);
    }
    const file = options.wrapFile ? options.wrapFile(handle, filePath) : handle;
    return new WalWriter({ dir, options, maxSegmentBytes, segments, file, filePath });
  }

  /** The LSN given to the most recent append (acknowledged or not); `nextLsn - 1` before any. */
  get lastLsn(): number {
    return this.#nextLsn - 1;
  }

  /** A snapshot of the work counters. */
  get counters(): WalWriterCounters {
    return { ...this.#counters };
  }

  /** The durability mode the writer was opened with. */
  get durability(): Durability {
    return this.#durability;
  }

  /**
   * Appends one record and resolves with its LSN once it is acknowledged per the durability mode.
   * The LSN is assigned synchronously, in call order; promises resolve in LSN order. `payload` is copied
   * before `append` returns, so the caller may reuse it at once.
   * @throws TypeError when `payload` is not a Uint8Array; RangeError when `type` is not an integer
   *   0..255 or the payload exceeds MAX_RECORD_PAYLOAD_BYTES (rejected promises; no LSN is used).
   * @throws ClosedError after `close()`.
   * @throws OmenDBError code IO when the write or fdatasync failed (for this or an earlier append).
   */
  append(type: number, payload: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new ClosedError(`WAL writer for ${this.#dir} is closed`));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!(payload instanceof Uint8Array)) return Promise.reject(new TypeError("WAL payload must be a Uint8Array"));
    if (!Number.isInteger(type) || type < 0 || type > 255) {
      return Promise.reject(new RangeError(`WAL record type must be an integer 0..255, got ${String(type)}`));
    }
    if (payload.length > MAX_RECORD_PAYLOAD_BYTES) {
      return Promise.reject(new RangeError(`WAL payload has ${payload.length} bytes; the limit is ${MAX_RECORD_PAYLOAD_BYTES}`));
    }
    const lsn = this.#nextLsn++;
    const batch = this.#batchFor(recordSize(payload.length), lsn);
    batch.length += writeRecord(batch.bytes, batch.length, { lsn, type, payload });
    this.#counters.appends++;
    const promise = new Promise<number>((resolve, reject) => {
      batch.waiters.push({ resolve, reject });
    });
    this.#schedule();
    return promise;
  }

  /**
   * Resolves once every record appended before the call is written and fdatasync'ed, in any mode.
   * @throws ClosedError after `close()`.
   * @throws OmenDBError code IO when a write or fdatasync failed.
   */
  async sync(): Promise<void> {
    if (this.#closed) throw new ClosedError(`WAL writer for ${this.#dir} is closed`);
    await this.#barrier("sync");
  }

  /**
   * Makes every record appended before the call durable in the active segment, closes it and starts a
   * new segment at the next LSN. Resolves with the new segment's first LSN. Does nothing (and resolves
   * with the same first LSN) when the active segment holds no records yet.
   * @throws ClosedError after `close()`.
   * @throws OmenDBError code IO when a file-system call fails; the writer is then failed.
   */
  async rotate(): Promise<number> {
    if (this.#closed) throw new ClosedError(`WAL writer for ${this.#dir} is closed`);
    return this.#barrier("rotate");
  }

  /**
   * Deletes every segment whose records all have LSN ≤ `lsn` (because the checkpoint covers them), in
   * order, then fsyncs the folder. The active segment is never deleted. Resolves with the count deleted.
   * @throws RangeError when `lsn` is not a safe integer ≥ 0.
   * @throws ClosedError after `close()`.
   * @throws OmenDBError code IO when deleting or the folder fsync fails.
   */
  async removeSegmentsUpTo(lsn: number): Promise<number> {
    if (this.#closed) throw new ClosedError(`WAL writer for ${this.#dir} is closed`);
    if (!Number.isSafeInteger(lsn) || lsn < 0) throw new RangeError(`lsn must be a safe integer >= 0, got ${String(lsn)}`);
    const run = this.#removal.then(() => this.#removeNow(lsn));
    this.#removal = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes and fdatasyncs everything appended (in every durability mode), then closes the segment.
   * Appends after `close()` reject with ClosedError. Calling it again returns the same promise.
   * @throws OmenDBError code IO when the writer failed (now or earlier): some appended records may not
   *   be durable. The file is closed anyway.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  async #closeNow(): Promise<void> {
    this.#closed = true;
    if (this.#failure === undefined) {
      try {
        await this.#barrier("sync");
      } catch {
        // #failure holds the error; reported below after the file is closed.
      }
    }
    this.#clearTimer();
    while (this.#draining) await this.#running;
    await this.#removal;
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) {
      try {
        await file.close();
      } catch (error) {
        this.#failure ??= ioError(`closing WAL segment ${this.#filePath}`, error);
      }
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The batch the next record of `size` bytes goes into, grown or started as needed. */
  #batchFor(size: number, lsn: number): Batch {
    let batch = this.#pending.at(-1);
    if (batch === undefined || (batch.length > 0 && batch.length + size > MAX_BATCH_BYTES)) {
      let bytes = this.#spare;
      this.#spare = undefined;
      if (bytes === undefined || bytes.length < size) bytes = Buffer.allocUnsafeSlow(Math.max(INITIAL_BATCH_BYTES, size));
      batch = { bytes, length: 0, firstLsn: lsn, waiters: [] };
      this.#pending.push(batch);
    } else if (batch.length + size > batch.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(batch.bytes.length * 2, batch.length + size));
      grown.set(batch.bytes.subarray(0, batch.length));
      batch.bytes = grown;
    }
    return batch;
  }

  #barrier(kind: "sync" | "rotate"): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const promise = new Promise<number>((resolve, reject) => {
      this.#barriers.push({ target: this.#nextLsn - 1, kind, resolve, reject });
    });
    this.#schedule();
    return promise;
  }

  #schedule(): void {
    if (this.#scheduled || this.#draining) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#draining) return;
      this.#draining = true;
      this.#running = this.#drain();
    });
  }

  /**
   * The I/O loop: one operation at a time until nothing is pending. Each turn writes the oldest batch,
   * then serves the `sync`/`rotate` barriers it completed and a due relaxed-mode sync, so a steady
   * stream of appends cannot starve them.
   */
  async #drain(): Promise<void> {
    try {
      for (;;) {
        if (this.#failure !== undefined || this.#file === undefined) return;
        const batch = this.#pending.shift();
        if (batch !== undefined) {
          this.#inFlight = batch;
          await this.#writeBatch(batch);
          this.#inFlight = undefined;
        }
        const ready = this.#barriers.filter((b) => b.target <= this.#writtenLsn);
        const syncDue = this.#syncDue;
        if (ready.length > 0 || syncDue) {
          this.#barriers = this.#barriers.filter((b) => b.target > this.#writtenLsn);
          this.#syncDue = false;
          try {
            await this.#syncData();
            let active = this.#segments.at(-1)!;
            if (ready.some((b) => b.kind === "rotate")) active = await this.#switchSegment();
            for (const b of ready) b.resolve(b.kind === "rotate" ? active : b.target);
          } catch (error) {
            this.#fail(error);
            for (const b of ready) b.reject(this.#failure);
            return;
          }
        }
        // INVARIANT: no await between the queue checks above and this return when nothing was done.
        if (batch === undefined && ready.length === 0 && !syncDue) return;
        if (this.#position >= this.#maxSegmentBytes) await this.#switchSegment();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      // INVARIANT: cleared in the same synchronous step as the loop's last look at the queues, so an
      // append that comes later sees the loop stopped and schedules a new one.
      this.#draining = false;
    }
  }

  async #writeBatch(batch: Batch): Promise<void> {
    const file = this.#file!;
    let done = 0;
    while (done < batch.length) {
      this.#counters.writes++;
      const { bytesWritten } = await file.write(batch.bytes, done, batch.length - done, this.#position + done);
      if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} bytes`);
      done += bytesWritten;
    }
    this.#position += batch.length;
    this.#writtenLsn = batch.firstLsn + batch.waiters.length - 1;
    if (this.#durability === "fsync") await this.#syncData();
    else if (this.#durability === "relaxed") this.#armTimer();
    if (batch.bytes.length <= MAX_BATCH_BYTES) this.#spare = batch.bytes;
    // INVARIANT: waiters are in LSN order, so the promises resolve in LSN order.
    for (let i = 0; i < batch.waiters.length; i++) batch.waiters[i]!.resolve(batch.firstLsn + i);
  }

  /** fdatasyncs the active segment if it holds written records not yet synced. */
  async #syncData(): Promise<void> {
    if (this.#syncedLsn >= this.#writtenLsn) return;
    const target = this.#writtenLsn;
    this.#counters.syncs++;
    await this.#file!.datasync();
    this.#syncedLsn = target;
  }

  /** Syncs and closes the active segment and creates the next; returns the active segment's first LSN. */
  async #switchSegment(): Promise<number> {
    const first = this.#writtenLsn + 1;
    if (first === this.#segments.at(-1)) return first;
    await this.#syncData();
    const old = this.#file!;
    this.#file = undefined;
    await old.close();
    const handle = await createSegment(this.#dir, first);
    const filePath = path.join(this.#dir, segmentFileName(first));
    this.#file = this.#wrapFile ? this.#wrapFile(handle, filePath) : handle;
    this.#filePath = filePath;
    this.#position = SEGMENT_HEADER_BYTES;
    this.#segments.push(first);
    return first;
  }

  #armTimer(): void {
    if (this.#syncTimer !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      if (this.#closed || this.#failure !== undefined) return;
      this.#syncDue = true;
      this.#schedule();
    }, RELAXED_SYNC_DELAY_MS);
    this.#syncTimer.unref();
  }

  #clearTimer(): void {
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
  }

  /** Marks the writer failed and rejects everything waiting. Never acknowledges what it could not write. */
  #fail(cause: unknown): void {
    const error =
      cause instanceof OmenDBError && cause.code === ErrorCode.IO ? cause : ioError(`writing WAL segment ${this.#filePath}`, cause);
    this.#failure ??= error;
    this.#clearTimer();
    const batches = this.#pending.splice(0);
    if (this.#inFlight !== undefined) batches.unshift(this.#inFlight);
    this.#inFlight = undefined;
    for (const batch of batches) for (const w of batch.waiters) w.reject(this.#failure);
    const barriers = this.#barriers;
    this.#barriers = [];
    for (const b of barriers) b.reject(this.#failure);
  }

  async #removeNow(lsn: number): Promise<number> {
    const doomed: number[] = [];
    // INVARIANT: segment i holds only LSNs below segments[i + 1], and the last segment is active.
    for (let i = 0; i + 1 < this.#segments.length; i++) {
      if (this.#segments[i + 1]! - 1 > lsn) break;
      doomed.push(this.#segments[i]!);
    }
    if (doomed.length === 0) return 0;
    for (const first of doomed) {
      const file = path.join(this.#dir, segmentFileName(first));
      try {
        await unlink(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(`deleting WAL segment ${file}`, error);
      }
      this.#segments.shift();
    }
    await syncDirectory(this.#dir);
    return doomed.length;
  }
}

/** fsyncs a directory so created, renamed and deleted entries in it are durable. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await openFile(dir, "r");
    await handle.sync();
  } catch (error) {
    throw ioError(`fsyncing directory ${dir}`, error);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Creates the segment starting at `firstLsn` atomically (tmp file, fdatasync, rename, dir fsync). */
async function createSegment(dir: string, firstLsn: number): Promise<FileHandle> {
  const finalPath = path.join(dir, segmentFileName(firstLsn));
  const tmpPath = finalPath + TMP_SUFFIX;
  let handle: FileHandle | undefined;
  try {
    handle = await openFile(tmpPath, "w");
    const header = encodeSegmentHeader(firstLsn);
    await handle.write(header, 0, header.length, 0);
    await handle.datasync();
    await rename(tmpPath, finalPath);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw ioError(`creating WAL segment ${finalPath}`, error);
  }
  try {
    await syncDirectory(dir);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

/** Opens an existing segment named `firstLsn` for appending; it must hold a valid header and no records. */
async function reopenEmptySegment(filePath: string, firstLsn: number): Promise<FileHandle> {
  let handle: FileHandle;
  let size: number;
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  try {
    handle = await openFile(filePath, "r+");
  } catch (error) {
    throw ioError(`opening WAL segment ${filePath}`, error);
  }
  try {
    size = (await handle.stat()).size;
    await handle.read(header, 0, SEGMENT_HEADER_BYTES, 0);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw ioError(`reading WAL segment ${filePath}`, error);
  }
  try {
    const decoded = decodeSegmentHeader(header.subarray(0, Math.min(size, SEGMENT_HEADER_BYTES)), filePath);
    if (decoded.firstLsn !== firstLsn) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `WAL segment ${filePath} says its first LSN is ${decoded.firstLsn}`);
    }
    if (size !== SEGMENT_HEADER_BYTES) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `WAL segment ${filePath} already holds records from LSN ${firstLsn} (${size} bytes); open at readWal(...).lastLsn + 1`,
      );
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}
