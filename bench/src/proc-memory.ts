/**
 * Resident memory of this process split into private (anonymous) and file-backed pages, from
 * /proc/self/status and /proc/self/smaps_rollup. A memory-mapped index file counts as file-backed:
 * the OS can drop those pages and they are shared with the page cache, so "private RAM per vector"
 * uses RssAnon only. Values are bytes; on systems without /proc every field is 0.
 */
import fs from "node:fs";

/** A snapshot of resident memory, in bytes. */
export interface MemorySnapshot {
  /** Anonymous resident pages: heap, native allocations, copied data. Private to the process. */
  rssAnon: number;
  /** Resident pages backed by files (memory maps, shared libraries). */
  rssFile: number;
  rssShmem: number;
  /** Private_Clean + Private_Dirty from smaps_rollup (anonymous and file-backed private pages). */
  privateBytes: number;
  /** Peak resident set size so far (VmHWM). */
  peakRss: number;
  /** V8 heap in use, for context. */
  heapUsed: number;
}

function kbField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

function readOr(path: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Reads the current memory snapshot. Call `global.gc()` first (run with --expose-gc) to reduce noise. */
export function memorySnapshot(): MemorySnapshot {
  const status = readOr("/proc/self/status");
  const rollup = readOr("/proc/self/smaps_rollup");
  return {
    rssAnon: kbField(status, "RssAnon"),
    rssFile: kbField(status, "RssFile"),
    rssShmem: kbField(status, "RssShmem"),
    privateBytes: kbField(rollup, "Private_Clean") + kbField(rollup, "Private_Dirty"),
    peakRss: kbField(status, "VmHWM"),
    heapUsed: process.memoryUsage().heapUsed,
  };
}

/** Runs the garbage collector when exposed (`--expose-gc`), a few times so weak callbacks settle. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
}

/** Difference `after - before` field by field. */
export function memoryDelta(before: MemorySnapshot, after: MemorySnapshot): MemorySnapshot {
  return {
    rssAnon: after.rssAnon - before.rssAnon,
    rssFile: after.rssFile - before.rssFile,
    rssShmem: after.rssShmem - before.rssShmem,
    privateBytes: after.privateBytes - before.privateBytes,
    peakRss: after.peakRss,
    heapUsed: after.heapUsed - before.heapUsed,
  };
}
