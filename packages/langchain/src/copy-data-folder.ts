/**
 * Copies an open OmenDB data folder to another place, for `OmenDBVectorStore.save`.
 *
 * The copy runs synchronously from start to end, so no write of this process can be applied while
 * it is taken: SQLite (`omendb.sqlite` and its `-wal`), the vector files and the WAL segments are
 * copied in one consistent state. A WAL append still in flight on the thread pool may leave a torn
 * tail in the copy; recovery ignores a torn tail, exactly as after a crash, and that write was not
 * yet acknowledged. Left out: `LOCK` (the copy is not open) and SQLite's `-shm` index (rebuilt on
 * open).
 *
 * The copy is first written to a staging folder beside the target and renamed into place, so the
 * target is never half-written. An existing target is replaced only when it is empty or is itself
 * an OmenDB data folder that nobody holds open; anything else is refused.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ErrorCode, ValidationError } from "@omendb/core";

/** The SQLite file every OmenDB data folder holds. */
const CATALOGUE_FILE = "omendb.sqlite";
/** The lock file of an open data folder. */
const LOCK_FILE = "LOCK";

/**
 * Copies the data folder `source` to `target` (created, or replaced when it is an unused data folder).
 * @throws ValidationError code INVALID_OPTION when `target` is inside `source` (or the reverse), is a
 *   file, is a non-empty folder that is not an OmenDB data folder, or is an open data folder.
 */
export function copyDataFolder(source: string, target: string): void {
  const from = path.resolve(source);
  const to = path.resolve(target);
  if (isInside(to, from) || isInside(from, to)) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `save: ${to} and the open data folder ${from} must not contain each other`);
  }
  const state = inspectTarget(to);
  const tag = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const staging = `${to}.saving-${tag}`;
  try {
    copyTree(from, staging, true);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (state === "missing") {
    fs.renameSync(staging, to);
  } else if (state === "empty") {
    fs.rmdirSync(to);
    fs.renameSync(staging, to);
  } else {
    const old = `${to}.replaced-${tag}`;
    fs.renameSync(to, old);
    fs.renameSync(staging, to);
    fs.rmSync(old, { recursive: true, force: true });
  }
}

/** True when `folder` holds an OmenDB catalogue file. */
export function isDataFolder(folder: string): boolean {
  return fs.existsSync(path.join(folder, CATALOGUE_FILE));
}

function inspectTarget(target: string): "missing" | "empty" | "database" {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      return "missing";
    }
    throw err;
  }
  if (!stat.isDirectory()) throw new ValidationError(ErrorCode.INVALID_OPTION, `save: ${target} exists and is not a folder`);
  const names = fs.readdirSync(target);
  if (names.length === 0) return "empty";
  if (names.includes(LOCK_FILE)) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `save: ${target} is an OmenDB data folder that is open (it has a LOCK file); close it first`);
  }
  if (names.includes(CATALOGUE_FILE)) return "database";
  throw new ValidationError(ErrorCode.INVALID_OPTION, `save: ${target} is a non-empty folder that is not an OmenDB data folder; refusing to overwrite it`);
}

function copyTree(from: string, to: string, top: boolean): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (top && (entry.name === LOCK_FILE || entry.name.endsWith("-shm"))) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, false);
    else if (entry.isFile()) fs.copyFileSync(src, dst);
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
