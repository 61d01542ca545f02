/**
 * The WAL reader: replays the records of a WAL folder after a given LSN, verifying everything it reads,
 * and truncates a torn tail. Byte layouts are in `wal-record.ts`.
 *
 * What it checks, segment by segment in LSN order:
 * - the segment header (size, magic, checksum, version) and that its first LSN matches the file name;
 * - that segments continue each other: a segment starts one past the previous segment's last LSN. A
 *   gap is allowed only when every missing LSN is ≤ `afterLsn` (the checkpoint already covers them:
 *   that happens when a crash lost unsynced `"relaxed"`/`"none"` records the checkpoint had applied).
 *   The first segment may not start after `afterLsn + 1`;
 * - every record's length and CRC-32C, and that LSNs inside a segment are dense from the header's.
 *
 * The torn-tail rule. Only the LAST segment can end in a torn record: the writer fdatasyncs a segment
 * before it creates the next. In the last segment, when the record at offset P is incomplete (the
 * file ends inside it), has an impossible length, or fails its checksum, the reader looks for any
 * valid record (good length, plausible LSN, matching CRC) starting after P:
 * - none, i.e. only zeros, garbage or EOF follow: a torn tail, from a write that a crash cut short
 *   (such records were never acknowledged in `"fsync"` mode). The file is truncated to P (ftruncate +
 *   fsync) and the bytes dropped are reported as `truncatedBytes`. This includes a last record with a
 *   flipped payload byte and nothing after it: it cannot be told apart from a torn write;
 * - one: the damage is not at the tail, so it is a CorruptionError.
 * In any other segment every bad or incomplete record is a CorruptionError. A record whose checksum
 * matches but whose LSN breaks the sequence is a CorruptionError anywhere. Damaged data is never
 * skipped silently.
 *
 * Known limit: a storage stack that persists the pages of one unsynced write out of order could leave a
 * hole followed by valid records at the tail; that is reported as corruption, not truncated.
 *
 * INVARIANT: a segment's records are delivered only after the whole segment has been verified (and its
 * torn tail truncated), so `onRecord` never sees a record of a segment that turns out damaged. Records
 * of earlier segments may already have been delivered when a later segment throws.
 */
import type { FileHandle } from "node:fs/promises";
import { open as openFile, readdir } from "node:fs/promises";
import path from "node:path";
import { CorruptionError, ioError } from "../errors.js";
import { crc32c } from "../internal/crc32c.js";
import {
  MAX_RECORD_PAYLOAD_BYTES,
  RECORD_FRAME_BYTES,
  RECORD_LSN_TYPE_BYTES,
  RECORD_OVERHEAD_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_FIRST_LSN_OFFSET,
  type RecordProblem,
  decodeRecord,
  decodeSegmentHeader,
  formatCrc,
  parseSegmentFileName,
  readU32,
  readU64,
  segmentFileName,
} from "./wal-record.js";

/** Options of {@link readWal}. */
export interface ReadWalOptions {
  /** Deliver only records with a greater LSN: the checkpoint LSN, or 0 for all. A safe integer ≥ 0. */
  afterLsn: number;
  /**
   * Called for each record with LSN > `afterLsn`, in LSN order. `payload` is a view into the segment's
   * read buffer (no copy): it stays valid, but keeping it keeps the whole segment buffer alive, so copy
   * what you keep. An exception thrown here stops the read and is rethrown as is.
   */
  onRecord(lsn: number, type: number, payload: Uint8Array): void;
}

/** What {@link readWal} found. */
export interface ReadWalResult {
  /**
   * The highest LSN the WAL or the checkpoint covers: max(`afterLsn`, last record's LSN, the last
   * segment's first LSN - 1). Open the writer at `lastLsn + 1`.
   */
  lastLsn: number;
  /** Bytes cut from the end of the last segment as a torn tail (0 when the WAL ended cleanly). */
  truncatedBytes: number;
}

/**
 * Reads the WAL folder `dir`, calls `onRecord` for every record after `afterLsn`, and truncates a torn
 * tail of the last segment (see the module comment for the exact rule). A missing folder is an empty
 * WAL. Files other than segments are ignored.
 * @throws RangeError when `afterLsn` is not a safe integer ≥ 0; TypeError when `onRecord` is not a function.
 * @throws CorruptionError (with file and offset) for a damaged segment header, a bad or incomplete record
 *   before the tail or in a non-last segment, or a break in the LSN sequence.
 * @throws OmenDBError code UNSUPPORTED_FORMAT for a segment of another format version.
 * @throws OmenDBError code IO when reading, truncating or syncing a file fails.
 */
export async function readWal(dir: string, options: ReadWalOptions): Promise<ReadWalResult> {
  const { afterLsn, onRecord } = options;
  if (!Number.isSafeInteger(afterLsn) || afterLsn < 0) throw new RangeError(`afterLsn must be a safe integer >= 0, got ${String(afterLsn)}`);
  if (typeof onRecord !== "function") throw new TypeError("onRecord must be a function");

  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { lastLsn: afterLsn, truncatedBytes: 0 };
    throw ioError(`listing WAL folder ${dir}`, error);
  }
  const segments = names.map(parseSegmentFileName).filter((lsn): lsn is number => lsn !== undefined);
  segments.sort((a, b) => a - b);

  /** Last LSN of the previous segment (its first LSN - 1 when it held no records). */
  let previousLast: number | undefined;
  let truncatedBytes = 0;
  const fileOf = (i: number) => path.join(dir, segmentFileName(segments[i]!));
  // The read of the next segment runs on the thread pool while this one is verified on the main thread.
  let nextRead = segments.length > 0 ? await startRead(fileOf(0)) : undefined;
  for (let i = 0; i < segments.length; i++) {
    const nameLsn = segments[i]!;
    const file = fileOf(i);
    const isLast = i === segments.length - 1;
    const bytes = await nextRead!.bytes;
    nextRead = isLast ? undefined : await startRead(fileOf(i + 1));
    // If this segment throws, the prefetch's own failure must not surface as an unhandled rejection.
    nextRead?.bytes.catch(() => undefined);
    const { firstLsn } = decodeSegmentHeader(bytes, file);
    if (firstLsn !== nameLsn) {
      throw new CorruptionError({ file, offset: SEGMENT_HEADER_FIRST_LSN_OFFSET, what: "WAL segment first LSN", expected: String(nameLsn), actual: String(firstLsn) });
    }
    checkContinuity({ file, firstLsn, previousLast, afterLsn });

    const { end, nextLsn, problem } = verifyRecords(bytes, file, firstLsn);
    if (problem !== undefined) {
      const damageIsAtTail = isLast && findValidRecord(bytes, end + 1, nextLsn) === -1;
      if (!damageIsAtTail) throw recordCorruption(file, end, problem);
      await truncateFile(file, end);
      truncatedBytes += bytes.length - end;
    }
    deliver(bytes, end, afterLsn, onRecord);
    previousLast = nextLsn - 1;
  }
  return { lastLsn: Math.max(afterLsn, previousLast ?? afterLsn), truncatedBytes };
}

function checkContinuity(at: { file: string; firstLsn: number; previousLast: number | undefined; afterLsn: number }): void {
  const { file, firstLsn, previousLast, afterLsn } = at;
  // A gap is harmless when every missing LSN is covered by the checkpoint (≤ afterLsn).
  const gapCovered = firstLsn - 1 <= afterLsn;
  if (previousLast === undefined) {
    if (firstLsn > afterLsn + 1) {
      throw new CorruptionError({ file, offset: SEGMENT_HEADER_FIRST_LSN_OFFSET, what: "WAL LSN gap before the first segment", expected: `first LSN <= ${afterLsn + 1}`, actual: String(firstLsn) });
    }
    return;
  }
  if (firstLsn <= previousLast) {
    throw new CorruptionError({ file, offset: SEGMENT_HEADER_FIRST_LSN_OFFSET, what: "WAL segment overlaps the previous one", expected: String(previousLast + 1), actual: String(firstLsn) });
  }
  if (firstLsn > previousLast + 1 && !gapCovered) {
    throw new CorruptionError({ file, offset: SEGMENT_HEADER_FIRST_LSN_OFFSET, what: "WAL LSN gap between segments", expected: String(previousLast + 1), actual: String(firstLsn) });
  }
}

/**
 * Verifies the records of one segment from the header on. Returns the offset where valid records end,
 * the LSN the next record should have, and the problem found at `end` if the file does not end there.
 * @throws CorruptionError when a record with a valid checksum has the wrong LSN.
 */
function verifyRecords(bytes: Uint8Array, file: string, firstLsn: number): { end: number; nextLsn: number; problem?: RecordProblem } {
  let offset = SEGMENT_HEADER_BYTES;
  let expectedLsn = firstLsn;
  while (offset < bytes.length) {
    const record = decodeRecord(bytes, offset);
    if (!record.ok) return { end: offset, nextLsn: expectedLsn, problem: record };
    if (record.lsn !== expectedLsn) {
      throw new CorruptionError({ file, offset, what: "WAL record LSN out of sequence", expected: String(expectedLsn), actual: String(record.lsn) });
    }
    expectedLsn++;
    offset += record.size;
  }
  return { end: offset, nextLsn: expectedLsn };
}

/**
 * The offset of the first valid record that starts at or after `from`, or -1. Valid: a possible length
 * that fits in the file, an LSN that could follow `expectedLsn` in the remaining bytes, a matching CRC.
 */
function findValidRecord(bytes: Uint8Array, from: number, expectedLsn: number): number {
  const end = bytes.length;
  const maxLsn = expectedLsn + Math.ceil((end - from) / RECORD_OVERHEAD_BYTES) + 1;
  for (let q = from; q + RECORD_OVERHEAD_BYTES <= end; q++) {
    const length = readU32(bytes, q);
    if (length < RECORD_LSN_TYPE_BYTES || length > RECORD_LSN_TYPE_BYTES + MAX_RECORD_PAYLOAD_BYTES) continue;
    if (q + RECORD_FRAME_BYTES + length > end) continue;
    const lsn = readU64(bytes, q + 8);
    if (lsn < expectedLsn || lsn > maxLsn) continue;
    if (crc32c(bytes.subarray(q + RECORD_FRAME_BYTES, q + RECORD_FRAME_BYTES + length)) === readU32(bytes, q + 4)) return q;
  }
  return -1;
}

function recordCorruption(file: string, offset: number, problem: RecordProblem): CorruptionError {
  switch (problem.reason) {
    case "incomplete":
      return new CorruptionError({ file, offset, what: "WAL record cut short", expected: `${problem.expected} bytes`, actual: `${problem.actual} bytes` });
    case "bad-length":
      return new CorruptionError({
        file,
        offset,
        what: "WAL record length",
        expected: `${RECORD_LSN_TYPE_BYTES}..${RECORD_LSN_TYPE_BYTES + MAX_RECORD_PAYLOAD_BYTES}`,
        actual: String(problem.actual),
      });
    case "bad-checksum":
      return new CorruptionError({ file, offset, what: "WAL record checksum", expected: formatCrc(problem.expected), actual: formatCrc(problem.actual) });
    case "bad-lsn":
      return new CorruptionError({ file, offset, what: "WAL record LSN", expected: "a safe integer >= 1", actual: String(problem.actual) });
  }
}

/** Calls `onRecord` for each already-verified record in `bytes` before `end` with LSN > `afterLsn`. */
function deliver(bytes: Uint8Array, end: number, afterLsn: number, onRecord: ReadWalOptions["onRecord"]): void {
  let offset = SEGMENT_HEADER_BYTES;
  while (offset < end) {
    const size = RECORD_FRAME_BYTES + readU32(bytes, offset);
    const lsn = readU64(bytes, offset + 8);
    if (lsn > afterLsn) onRecord(lsn, bytes[offset + 16]!, bytes.subarray(offset + RECORD_OVERHEAD_BYTES, offset + size));
    offset += size;
  }
}

/**
 * Opens `file` and starts reading all of it into a new buffer. Resolves once the read is issued, so
 * the caller can work while the thread pool reads; `bytes` resolves when the read is done.
 */
async function startRead(file: string): Promise<{ bytes: Promise<Uint8Array> }> {
  let handle: FileHandle | undefined;
  let size: number;
  try {
    handle = await openFile(file, "r");
    size = (await handle.stat()).size;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw ioError(`reading WAL segment ${file}`, error);
  }
  return { bytes: readAllFrom(handle, file, size) };
}

async function readAllFrom(handle: FileHandle, file: string, size: number): Promise<Uint8Array> {
  try {
    const bytes = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? bytes : bytes.subarray(0, done);
  } catch (error) {
    throw ioError(`reading WAL segment ${file}`, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function truncateFile(file: string, length: number): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await openFile(file, "r+");
    await handle.truncate(length);
    await handle.sync();
  } catch (error) {
    throw ioError(`truncating the torn tail of WAL segment ${file}`, error);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
