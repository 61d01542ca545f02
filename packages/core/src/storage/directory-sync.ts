/**
 * fsync of a directory, so that files created, renamed or deleted in it survive a power loss. On
 * Windows a directory cannot be opened for fsync and NTFS orders its metadata itself: a no-op there.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";

/** fsyncs `dir` (synchronously). */
export function syncDirectorySync(dir: string): void {
  if (process.platform === "win32") return;
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncs `dir`. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await fsp.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
