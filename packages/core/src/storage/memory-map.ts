/**
 * Loads the memory-map addon (`native/mmap.cc`, compiled by `scripts/build-native.mjs` into
 * `native/mmap.node`) once per thread. The only place that touches native code: when the addon is
 * missing or does not load, its functions are undefined and `reason` says why; vector files are then
 * read with positional reads (`vector-pages.ts`) and neighbour lists read into memory
 * (`ann-index-file.ts`).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The addon's functions, or why there are none. */
export interface MemoryMap {
  /**
   * Maps bytes [offset, offset + length) of the open file `fd` read-only and shared (`offset` a
   * multiple of the page size; Node caps one buffer at 4 GiB); unmapped when the buffer is
   * garbage-collected. The range may pass the file's end, whose pages must not be read until the
   * file has grown over them.
   */
  map?: (fd: number, offset: number, length: number) => ArrayBuffer;
  /**
   * A SharedArrayBuffer of `reserve` bytes whose bytes [0, length) start as the file's
   * [offset, offset + length) (`offset` a multiple of the page size, the range inside the file),
   * mapped copy-on-write: writes stay in this process and never reach the file; a page is private
   * memory only once written. The rest reads as zeros. Unmapped when the last buffer over it, in any
   * thread, is garbage-collected.
   */
  mapPrivate?: (fd: number, offset: number, length: number, reserve: number) => SharedArrayBuffer;
  /**
   * Copies `count` records of `length` bytes out of a file mapped by {@link map} in `segments`
   * of `segmentBytes` each: record j from file byte `positions[j]` to
   * `target[targetOffset + j·targetStride]`, prefetching a few records ahead. Throws a RangeError,
   * copying nothing, when a record is outside its (mapped) segment or a copy outside `target`.
   */
  gather?: (
    segments: readonly (ArrayBuffer | undefined)[],
    segmentBytes: number,
    positions: Float64Array,
    count: number,
    length: number,
    target: ArrayBuffer,
    targetOffset: number,
    targetStride: number,
  ) => void;
  /**
   * Hands the C library's free heap memory back to the system (glibc `malloc_trim`); false where
   * that does not exist or nothing was returned.
   */
  trim?: () => boolean;
  /** Why the functions are undefined. */
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
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Record<"map" | "mapPrivate" | "gather" | "trim", unknown>;
    loaded =
      typeof addon.map === "function" && typeof addon.mapPrivate === "function" && typeof addon.gather === "function" && typeof addon.trim === "function"
        ? {
            map: addon.map as MemoryMap["map"],
            mapPrivate: addon.mapPrivate as MemoryMap["mapPrivate"],
            gather: addon.gather as MemoryMap["gather"],
            trim: addon.trim as MemoryMap["trim"],
          }
        : { reason: `${ADDON_PATH} lacks map, mapPrivate, gather or trim (an older build: run the build again)` };
  } catch (err) {
    loaded = { reason: `${ADDON_PATH} did not load: ${(err as Error).message}` };
  }
  return loaded;
}
