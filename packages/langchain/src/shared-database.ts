/**
 * Process-wide sharing of databases that stores open by path.
 *
 * OmenDB allows one open per data folder per process (a second `OmenDB.open` of the same folder
 * throws LockedError). LangChain code routinely builds several stores over one folder — `fromTexts`
 * and later `load`, or one store per collection — so stores configured with `path` share a single
 * `OmenDB` instance per resolved folder.
 *
 * INVARIANT: an entry's `refs` counts the stores that acquired it and have not released it; the
 * entry is removed from the map before its database is closed, so a later acquire opens afresh.
 * Options of later acquirers are ignored while an instance is open (the first open wins).
 */
import path from "node:path";
import { OmenDB } from "@omendb/core";

/** Options accepted by `OmenDB.open`. */
export type OpenOptions = NonNullable<Parameters<typeof OmenDB.open>[1]>;

interface Entry {
  readonly db: Promise<OmenDB>;
  refs: number;
}

const entries = new Map<string, Entry>();

/**
 * Opens the data folder at `folder`, or shares the instance already opened by another store of
 * this process, and counts one more user of it.
 * @throws whatever `OmenDB.open` throws (LockedError when another process holds the folder).
 */
export async function acquireDatabase(folder: string, options: OpenOptions): Promise<OmenDB> {
  const key = path.resolve(folder);
  let entry = entries.get(key);
  if (entry === undefined) {
    const created: Entry = { db: OmenDB.open(key, options), refs: 0 };
    entries.set(key, created);
    created.db.catch(() => {
      if (entries.get(key) === created) entries.delete(key);
    });
    entry = created;
  }
  entry.refs++;
  try {
    return await entry.db;
  } catch (err) {
    entry.refs--;
    throw err;
  }
}

/** Counts one user less of the folder's shared instance; the last one closes the database. */
export async function releaseDatabase(folder: string): Promise<void> {
  const key = path.resolve(folder);
  const entry = entries.get(key);
  if (entry === undefined) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entries.delete(key);
  const db = await entry.db;
  await db.close();
}

/** True when a store of this process holds the folder open through this registry. */
export function isSharedOpen(folder: string): boolean {
  return entries.has(path.resolve(folder));
}
