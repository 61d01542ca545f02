/**
 * Loads the memory-map addon (`native/mmap.c`, compiled by `scripts/build-native.mjs` into
 * `native/mmap.node`) once per thread. The only place that touches native code: when the addon is
 * missing or does not load, `map` is undefined and `reason` says why, and vector files are read
 * with positional reads instead (`vector-pages.ts`).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The addon's one function, or why there is none. */
export interface MemoryMap {
  /**
   * Maps bytes [offset, offset + length) of the open file `fd` read-only and shared (`offset` a
   * multiple of the page size; Node caps one buffer at 4 GiB); unmapped when the buffer is
   * garbage-collected. The range may pass the file's end, whose pages must not be read until the
   * file has grown over them.
   */
  map?: (fd: number, offset: number, length: number) => ArrayBuffer;
  /** Why `map` is undefined. */
  reason?: string;
}

/** The same relative path works from `src/` and `dist/`. */
const ADDON_PATH = fileURLToPath(new URL("../../native/mmap.node", import.meta.url));

let loaded: MemoryMap | undefined;

/** The addon, loaded on first use (never throws: a failure is reported in `reason`). */
export function loadMemoryMap(): MemoryMap {
  if (loaded !== undefined) return loaded;
  if (!fs.existsSync(ADDON_PATH)) {
    loaded = { reason: `${ADDON_PATH} is not built (the build prints why)` };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as { map?: unknown };
    loaded = typeof addon.map === "function" ? { map: addon.map as MemoryMap["map"] } : { reason: `${ADDON_PATH} has no map function` };
  } catch (err) {
    loaded = { reason: `${ADDON_PATH} did not load: ${(err as Error).message}` };
  }
  return loaded;
}
