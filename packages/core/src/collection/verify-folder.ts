/**
 * `verifyFolder`: checks every file of a closed OmenDB data folder and, on request, repairs what can
 * be rebuilt from the records. Used by `omendb verify`.
 *
 * What is checked (with the same readers and checksums `OmenDB.open` uses):
 *
 *   omendb.sqlite        `PRAGMA integrity_check`; every record row's CRC-32C (id, slot, metadata) and
 *                        document CRC-32C; metadata JSON; each collection's record count; slots
 *                        unique within a collection
 *   wal/<lsn>.wal        every segment header and record checksum, LSN continuity, and the torn-tail
 *                        rule of `wal-reader.ts` (a torn tail is normal after a crash: it was never
 *                        acknowledged, and the next open cuts it)
 *   vectors/<uuid>.vec   the header (dim, metric, checksum) and the slot record (CRC-32C, reserved
 *                        word) of every live record, except records the WAL rewrites on the next open
 *   vectors/<uuid>.ann   the DiskANN index snapshot: header, section checksums, contents
 *
 * Primary data (SQLite rows, vector slots, WAL records before the tail) exists nowhere else: damage
 * to it is reported with the file and offset and is never "repaired" by dropping data. Derived data
 * is rebuilt: a damaged `.ann` file is moved aside to `<name>.ann.damaged-<timestamp>` (never
 * deleted), and the next open rebuilds the index from the records in the background (or at once with
 * `collection.buildIndex()`). The filter index lives in memory only and is rebuilt at every open, so
 * there is nothing on disk to repair.
 *
 * INVARIANT: without `repair`, nothing in the folder is opened for writing except the LOCK file
 * (taken as `OmenDB.open` takes it, so a running database is never verified under its feet). SQLite
 * is opened read-only; it may create its empty `-wal`/`-shm` side files, as any reader does. The WAL
 * is checked on a scratch view of the segments (the last one copied, the others linked), because the
 * WAL reader truncates a torn tail in place.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { ErrorCode, OmenDBError, isOmenDBError } from "../errors.js";
import { type CollectionRow, documentChecksum, rowChecksum } from "../metadata/sqlite-store.js";
import { readAnnIndexFile } from "../storage/ann-index-file.js";
import { HEADER_SIZE } from "../storage/file-header.js";
import { syncDirectorySync } from "../storage/directory-sync.js";
import { acquireLock } from "../storage/lock-file.js";
import { VectorFile } from "../storage/vector-file.js";
import type { Metric } from "../types.js";
import { readWal } from "../wal/wal-reader.js";
import { parseSegmentFileName } from "../wal/wal-record.js";
import { indexPath, vectorPath, vectorsDir } from "./folder-layout.js";
import { OP_DELETE, OP_UPSERT, decodeOp } from "./write-ops.js";

/** What kind of damage a {@link VerifyProblem} is. */
export type VerifyProblemCode =
  /** `omendb.sqlite` is missing, cannot be opened, or a query on it failed. */
  | "SQLITE_UNREADABLE"
  /** `PRAGMA integrity_check` reported damage. */
  | "SQLITE_INTEGRITY"
  /** A collection row holds JSON that no longer parses. */
  | "COLLECTION_ROW"
  /** A record row fails its CRC-32C (id, slot, metadata) or its metadata JSON does not parse. */
  | "RECORD_CHECKSUM"
  /** A record's document fails its CRC-32C. */
  | "DOCUMENT_CHECKSUM"
  /** A collection holds another number of readable rows than its catalogue count (rows lost). */
  | "RECORD_COUNT"
  /** Two records of a collection claim one vector slot. */
  | "DUPLICATE_SLOT"
  /** A collection with live records has no vector file. */
  | "VECTOR_FILE_MISSING"
  /** The vector file's header is damaged or describes another dim/metric. */
  | "VECTOR_FILE_HEADER"
  /** A live record's vector slot fails its checksum or lies beyond the end of the file. */
  | "VECTOR_SLOT"
  /** The index file (`.ann`) fails a check. Derived: repair moves it aside. */
  | "INDEX_DAMAGED"
  /** A WAL segment is damaged before its tail (or its header, or the LSN sequence is broken). */
  | "WAL_CORRUPT"
  /** A file was written by a newer format version. */
  | "UNSUPPORTED_FORMAT"
  /** A file could not be read for another reason (see the message). */
  | "IO";

/** One thing wrong with the folder. */
export interface VerifyProblem {
  /** Absolute path of the damaged file. */
  file: string;
  code: VerifyProblemCode;
  /** Byte offset of the damage in `file` (for SQLite record checks: the record's seq). */
  offset?: number;
  /** What was expected and found, naming the record where one is known. */
  message: string;
  /**
   * `"primary"`: the data exists nowhere else (SQLite rows, vector slots, WAL records); repair leaves
   * it as found. `"derived"`: rebuilt from the records (the index file); repair moves it aside.
   */
  data: "primary" | "derived";
  /** The collection the file belongs to, when it belongs to one. */
  collection?: string;
  /** What repair did about it; absent when nothing was done (the problem remains). */
  repaired?: string;
}

/** The findings for one collection. */
export interface CollectionVerifyReport {
  name: string;
  uuid: string;
  dimension: number;
  metric: Metric;
  /** Readable record rows in SQLite. */
  records: number;
  /** Live vector slots whose record was read and verified. */
  vectorsChecked: number;
  /** Live records not checked in the vector file because the next open rewrites them from the WAL. */
  rewrittenByWal: number;
  /** State of the index file: none yet, verified, or damaged (and moved aside by repair). */
  index: "none" | "ok" | "damaged" | "moved-aside";
  /** This collection's problems (also listed in {@link VerifyReport.problems}). */
  problems: VerifyProblem[];
  /** What repair did for this collection, in words. */
  repairs: string[];
}

/** What {@link verifyFolder} found and did. */
export interface VerifyReport {
  /** The data folder, absolute. */
  path: string;
  /** True when no problem remains (none was found, or repair dealt with every one). */
  ok: boolean;
  /** True when run with `repair: true`. */
  repair: boolean;
  /** The checkpoint LSN recorded in SQLite (WAL records after it are replayed at open). */
  checkpointLsn: number | undefined;
  wal: {
    segments: number;
    /** Records after the checkpoint, which the next open replays. */
    recordsToReplay: number;
    /** Bytes of a torn tail the next open cuts (0 when the WAL ends cleanly). */
    tornTailBytes: number;
  };
  collections: CollectionVerifyReport[];
  /** Every problem, folder-level and per collection. */
  problems: VerifyProblem[];
  /** Facts that are not problems (a torn tail, leftover temporary files, in-memory structures). */
  notes: string[];
}

/** Options of {@link verifyFolder}. */
export interface VerifyOptions {
  /**
   * Rebuild derived files: a damaged index file is moved aside (`<name>.ann.damaged-<timestamp>`) so
   * that the next open rebuilds the index. Primary data is never changed. Default false.
   */
  repair?: boolean;
  /** Most problems listed per file; the rest are summed up in one more problem. Default 100. */
  maxProblemsPerFile?: number;
}

interface CatalogueRow extends CollectionRow {
  record_count: number;
}

interface RecordRow {
  seq: number;
  id: string;
  slot: number;
  document: string | null;
  metadata: string | null;
  crc: number;
  doc_crc: number;
}

/**
 * Checks every file of the data folder at `folder` and reports what is damaged; with `repair`,
 * moves damaged index files aside so that the next `OmenDB.open` rebuilds them from the records.
 * Takes the folder's LOCK for the duration, like `OmenDB.open`.
 *
 * A folder that `verifyFolder` reports `ok` opens; after a repair that leaves `ok` true, `OmenDB.open`
 * succeeds and every record reads back.
 *
 * @throws LockedError (code LOCKED) when a process (this one included) has the folder open.
 * @throws OmenDBError code IO when `folder` is not a directory or the lock cannot be taken.
 */
export async function verifyFolder(folder: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const root = path.resolve(folder);
  const repair = options.repair === true;
  const cap = options.maxProblemsPerFile ?? 100;
  let isDirectory = false;
  try {
    isDirectory = fs.statSync(root).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw new OmenDBError(ErrorCode.IO, `verify: ${root} is not a directory (no OmenDB data folder there)`);
  const lock = acquireLock(path.join(root, "LOCK"));
  try {
    return await verifyLocked(root, repair, cap);
  } finally {
    lock.release();
  }
}

async function verifyLocked(root: string, repair: boolean, cap: number): Promise<VerifyReport> {
  const report: VerifyReport = {
    path: root,
    ok: true,
    repair,
    checkpointLsn: undefined,
    wal: { segments: 0, recordsToReplay: 0, tornTailBytes: 0 },
    collections: [],
    problems: [],
    notes: [],
  };
  const sqliteFile = path.join(root, "omendb.sqlite");
  const folder = vectorsDir(root);

  // 1. SQLite: integrity, catalogue, every row.
  const catalogue = readCatalogue(sqliteFile, report, cap);

  // 2. WAL: checksums and the ids the next open rewrites (they excuse damage in their vector slots).
  const touched = await checkWal(path.join(root, "wal"), report);

  // 3. Per collection: vector file (every live slot), index file.
  const liveUuids = new Set<string>();
  for (const entry of catalogue) {
    const { row } = entry;
    liveUuids.add(row.uuid);
    const collection: CollectionVerifyReport = {
      name: row.name,
      uuid: row.uuid,
      dimension: row.dimension,
      metric: row.metric,
      records: entry.records.length,
      vectorsChecked: 0,
      rewrittenByWal: 0,
      index: "none",
      problems: entry.problems,
      repairs: [],
    };
    report.collections.push(collection);
    checkVectors(vectorPath(root, row.uuid), row, entry.records, touched.get(row.key), collection, cap);
    checkIndex(indexPath(root, row.uuid), row, collection, repair);
    if (repair && collection.problems.some((p) => p.data === "primary")) {
      collection.repairs.push("primary data damage left as found (records are never dropped): restore the listed files from a backup, or export what still reads");
    }
  }
  noteOtherFiles(folder, liveUuids, report);
  report.notes.push("the filter index is kept in memory and rebuilt from the records at every open: nothing on disk to check or repair");

  for (const c of report.collections) report.problems.push(...c.problems);
  report.ok = report.problems.every((p) => p.repaired !== undefined);
  return report;
}

/** Reads the catalogue and every record row read-only, recording problems; never throws. */
function readCatalogue(
  file: string,
  report: VerifyReport,
  cap: number,
): { row: CatalogueRow; records: RecordRow[]; problems: VerifyProblem[] }[] {
  const problem = (code: VerifyProblemCode, message: string, offset?: number): VerifyProblem => ({ file, code, message, data: "primary", ...(offset === undefined ? {} : { offset }) });
  if (!fs.existsSync(file)) {
    report.problems.push(problem("SQLITE_UNREADABLE", "omendb.sqlite is missing: the catalogue and every record's id, document and metadata live there"));
    return [];
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    report.problems.push(problem("SQLITE_UNREADABLE", `cannot open: ${messageOf(err)}`));
    return [];
  }
  const out: { row: CatalogueRow; records: RecordRow[]; problems: VerifyProblem[] }[] = [];
  try {
    try {
      const lines = (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check);
      if (!(lines.length === 1 && lines[0] === "ok")) {
        report.problems.push(problem("SQLITE_INTEGRITY", `PRAGMA integrity_check: ${lines.slice(0, 10).join("; ")}${lines.length > 10 ? ` (and ${lines.length - 10} more)` : ""}`));
      }
    } catch (err) {
      report.problems.push(problem("SQLITE_INTEGRITY", `PRAGMA integrity_check failed: ${messageOf(err)}`));
    }
    let rows: CatalogueRow[];
    try {
      const lsn = (db.prepare("SELECT value FROM meta WHERE key = 'checkpoint_lsn'").get() as { value: string } | undefined)?.value;
      report.checkpointLsn = lsn === undefined ? 0 : Number(lsn);
      if (!Number.isSafeInteger(report.checkpointLsn) || report.checkpointLsn < 0) {
        report.problems.push(problem("SQLITE_UNREADABLE", `meta checkpoint_lsn is ${JSON.stringify(lsn)}, not an LSN`));
        report.checkpointLsn = undefined;
      }
      rows = db.prepare("SELECT key, uuid, name, dimension, metric, metadata, options, record_count FROM collections ORDER BY key").all() as CatalogueRow[];
    } catch (err) {
      report.problems.push(problem("SQLITE_UNREADABLE", `reading the catalogue failed: ${messageOf(err)}`));
      return out;
    }
    const records = db.prepare("SELECT seq, id, slot, document, metadata, crc, doc_crc FROM records WHERE collection = ? ORDER BY seq");
    for (const row of rows) {
      const problems: VerifyProblem[] = [];
      const add = (code: VerifyProblemCode, message: string, offset?: number): void => {
        problems.push({ ...problem(code, message, offset), collection: row.name });
      };
      for (const column of ["metadata", "options"] as const) {
        try {
          JSON.parse(row[column]);
        } catch {
          add("COLLECTION_ROW", `collection ${JSON.stringify(row.name)}: ${column} is not valid JSON`);
        }
      }
      const list: RecordRow[] = [];
      let bad = 0;
      const slots = new Map<number, string>();
      try {
        for (const r of records.iterate(row.key) as IterableIterator<RecordRow>) {
          let damaged = false;
          const what = `record ${JSON.stringify(r.id)} (seq ${r.seq})`;
          if (rowChecksum(r.id, r.slot, r.metadata) !== r.crc) {
            damaged = true;
            if (bad++ < cap) add("RECORD_CHECKSUM", `${what}: id/slot/metadata fail their CRC-32C`, r.seq);
          } else if (r.metadata !== null && !isJson(r.metadata)) {
            damaged = true;
            if (bad++ < cap) add("RECORD_CHECKSUM", `${what}: metadata is not valid JSON`, r.seq);
          }
          if (documentChecksum(r.document) !== r.doc_crc) {
            damaged = true;
            if (bad++ < cap) add("DOCUMENT_CHECKSUM", `${what}: document fails its CRC-32C`, r.seq);
          }
          if (!damaged) {
            const other = slots.get(r.slot);
            if (other !== undefined) {
              if (bad++ < cap) add("DUPLICATE_SLOT", `${what} and record ${JSON.stringify(other)} both claim vector slot ${r.slot}`, r.seq);
            } else {
              slots.set(r.slot, r.id);
            }
          }
          // Documents are not kept: the vector check needs only id and slot.
          list.push({ ...r, document: null });
        }
      } catch (err) {
        add("SQLITE_UNREADABLE", `reading the records of collection ${JSON.stringify(row.name)} failed after ${list.length} rows: ${messageOf(err)}`);
      }
      if (bad > cap) add(problems[problems.length - 1]!.code, `${bad - cap} more damaged rows in collection ${JSON.stringify(row.name)} not listed`);
      if (row.record_count !== list.length) {
        add("RECORD_COUNT", `collection ${JSON.stringify(row.name)}: the catalogue counts ${row.record_count} records, ${list.length} rows are readable`);
      }
      out.push({ row, records: list, problems });
    }
    try {
      const orphans = db.prepare("SELECT COUNT(*) AS n FROM records WHERE collection NOT IN (SELECT key FROM collections)").get() as { n: number };
      if (orphans.n > 0) report.notes.push(`${orphans.n} record rows belong to no collection (ignored by open)`);
    } catch {
      // integrity_check already reported the damage behind this.
    }
  } finally {
    db.close();
  }
  return out;
}

/**
 * Reads the WAL as the next open would, without changing it: the last segment is copied and the
 * others linked into a scratch folder, since the reader truncates a torn tail in place. Returns, per
 * collection key, the ids the replay rewrites or deletes.
 */
async function checkWal(walDir: string, report: VerifyReport): Promise<Map<number, Set<string>>> {
  const touched = new Map<number, Set<string>>();
  let names: string[];
  try {
    names = fs.readdirSync(walDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      report.problems.push({ file: walDir, code: "IO", message: `listing the WAL folder failed: ${messageOf(err)}`, data: "primary" });
    }
    return touched;
  }
  const segments = names.filter((n) => parseSegmentFileName(n) !== undefined).sort((a, b) => parseSegmentFileName(a)! - parseSegmentFileName(b)!);
  report.wal.segments = segments.length;
  if (segments.length === 0) return touched;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-verify-wal-"));
  try {
    segments.forEach((name, i) => {
      const from = path.join(walDir, name);
      const to = path.join(scratch, name);
      if (i === segments.length - 1) fs.copyFileSync(from, to);
      else {
        try {
          fs.symlinkSync(from, to);
        } catch {
          fs.copyFileSync(from, to);
        }
      }
    });
    // Without a readable checkpoint LSN, check checksums only: every LSN gap counts as covered.
    const afterLsn = report.checkpointLsn ?? Number.MAX_SAFE_INTEGER - 1;
    const { truncatedBytes } = await readWal(scratch, {
      afterLsn,
      onRecord: (_lsn, type, payload) => {
        if (type !== OP_UPSERT && type !== OP_DELETE) return;
        report.wal.recordsToReplay++;
        const op = decodeOp(type, payload);
        let ids = touched.get(op.collectionKey);
        if (ids === undefined) touched.set(op.collectionKey, (ids = new Set()));
        if (op.type === OP_UPSERT) for (const r of op.records) ids.add(r.id);
        else for (const id of op.ids) ids.add(id);
      },
    });
    report.wal.tornTailBytes = truncatedBytes;
    if (truncatedBytes > 0) {
      report.notes.push(
        `the last WAL segment ${path.join(walDir, segments[segments.length - 1]!)} ends in a torn tail of ${truncatedBytes} bytes (a write cut short by a crash, never acknowledged); the next open cuts it`,
      );
    }
  } catch (err) {
    const file = isOmenDBError(err) && "file" in err ? String((err as { file: string }).file).replace(scratch, walDir) : walDir;
    const offset = isOmenDBError(err) && "offset" in err ? Number((err as { offset: number }).offset) : undefined;
    const code: VerifyProblemCode = !isOmenDBError(err) ? "WAL_CORRUPT" : err.code === ErrorCode.UNSUPPORTED_FORMAT ? "UNSUPPORTED_FORMAT" : err.code === ErrorCode.IO ? "IO" : "WAL_CORRUPT";
    report.problems.push({
      file,
      code,
      ...(offset === undefined ? {} : { offset }),
      message: `${messageOf(err).split(scratch).join(walDir)}: acknowledged writes after this point cannot be replayed`,
      data: "primary",
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return touched;
}

/** Verifies the slot of every live record that the WAL does not rewrite. */
function checkVectors(
  file: string,
  row: CatalogueRow,
  records: readonly RecordRow[],
  rewritten: Set<string> | undefined,
  report: CollectionVerifyReport,
  cap: number,
): void {
  const idOf = new Map<number, string>();
  for (const r of records) {
    if (rewritten?.has(r.id) === true) report.rewrittenByWal++;
    else idOf.set(r.slot, r.id);
  }
  const problem = (code: VerifyProblemCode, message: string, offset?: number): VerifyProblem => ({
    file,
    code,
    message,
    data: "primary",
    collection: row.name,
    ...(offset === undefined ? {} : { offset }),
  });
  if (!fs.existsSync(file)) {
    if (idOf.size > 0) report.problems.push(problem("VECTOR_FILE_MISSING", `the vector file of collection ${JSON.stringify(row.name)} is missing; ${idOf.size} live records have their vectors only there`));
    return;
  }
  let vectors: VectorFile;
  try {
    vectors = VectorFile.open(file, { dim: row.dimension, metric: row.metric }, { readOnly: true });
  } catch (err) {
    const code = isOmenDBError(err) && err.code === ErrorCode.UNSUPPORTED_FORMAT ? "UNSUPPORTED_FORMAT" : isOmenDBError(err) && err.code === ErrorCode.IO ? "IO" : "VECTOR_FILE_HEADER";
    report.problems.push(problem(code, messageOf(err), offsetOf(err)));
    return;
  }
  try {
    const slots = [...idOf.keys()].sort((a, b) => a - b);
    const capacity = vectors.slotCapacity;
    const inFile = slots.filter((s) => s < capacity);
    const beyond = slots.length - inFile.length;
    let bad = 0;
    if (beyond > 0) {
      const first = slots[inFile.length]!;
      bad += beyond;
      report.problems.push(
        problem(
          "VECTOR_SLOT",
          `${beyond} live records have slots beyond the end of the file (${vectors.byteLength} bytes, ${capacity} slots), first record ${JSON.stringify(idOf.get(first))} at slot ${first}: the file was cut short`,
          vectors.slotOffset(first),
        ),
      );
    }
    let from = 0;
    while (from < inFile.length) {
      try {
        vectors.scan(inFile.slice(from), () => {
          report.vectorsChecked++;
        });
        break;
      } catch (err) {
        const offset = offsetOf(err);
        if (offset === undefined) throw err;
        const slot = Math.floor((offset - HEADER_SIZE) / vectors.stride);
        if (bad++ < cap) report.problems.push(problem("VECTOR_SLOT", `record ${JSON.stringify(idOf.get(slot))}, slot ${slot}: ${messageOf(err)}`, offset));
        // The scan stopped at `slot`: go on with the slots after it.
        let next = from;
        while (next < inFile.length && inFile[next]! <= slot) next++;
        if (next === from) next++;
        from = next;
      }
    }
    if (bad > cap) report.problems.push(problem("VECTOR_SLOT", `${bad - cap} more damaged live slots not listed`));
  } catch (err) {
    report.problems.push(problem("IO", `reading the vector file failed: ${messageOf(err)}`));
  } finally {
    vectors.close();
  }
}

/** Verifies the index file, moving it aside when damaged and `repair` is set. */
function checkIndex(file: string, row: CatalogueRow, report: CollectionVerifyReport, repair: boolean): void {
  if (!fs.existsSync(file)) return;
  try {
    readAnnIndexFile(file, { dim: row.dimension, metric: row.metric });
    report.index = "ok";
    return;
  } catch (err) {
    report.index = "damaged";
    const found: VerifyProblem = {
      file,
      code: "INDEX_DAMAGED",
      message: `${messageOf(err)} (derived data: the index can be rebuilt from the records)`,
      data: "derived",
      collection: row.name,
      ...(offsetOf(err) === undefined ? {} : { offset: offsetOf(err)! }),
    };
    report.problems.push(found);
    if (!repair) return;
    const aside = `${file}.damaged-${new Date().toISOString().replace(/[-:.]/g, "")}`;
    try {
      fs.renameSync(file, aside);
      syncDirectorySync(path.dirname(file));
    } catch (renameErr) {
      report.repairs.push(`could not move the damaged index file aside: ${messageOf(renameErr)}`);
      return;
    }
    report.index = "moved-aside";
    found.repaired = `moved aside to ${aside}; the next open rebuilds the index from the records`;
    report.repairs.push(found.repaired);
  }
}

/** Notes files in vectors/ that open ignores or removes. */
function noteOtherFiles(dir: string, liveUuids: ReadonlySet<string>, report: VerifyReport): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const uuid = name.split(".")[0]!;
    const file = path.join(dir, name);
    if (!liveUuids.has(uuid)) report.notes.push(`${file} belongs to no collection (a crash during deleteCollection); the next open removes it`);
    else if (name.includes(".ann.damaged-")) report.notes.push(`${file} is a damaged index file moved aside by an earlier repair; delete it when no longer needed`);
    else if (name.endsWith(".tmp") || name.endsWith(".creating")) report.notes.push(`${file} is a leftover of an interrupted write; open ignores it`);
  }
}


function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function offsetOf(err: unknown): number | undefined {
  const offset = (err as { offset?: unknown } | undefined)?.offset;
  return typeof offset === "number" ? offset : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
