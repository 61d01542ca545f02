/**
 * Loads the WebAssembly SIMD distance kernels (compiled from `kernels.wat` into `wasm/kernels.wasm`
 * by `scripts/build-wasm.mjs`). The module is read and compiled once per process, synchronously (it is
 * about 1 KB), and instantiated once per WebAssembly memory: each vector arena owns one memory
 * and one instance.
 *
 * Calling convention: every pointer is a byte offset into the instance's memory. Offsets at or above
 * 2^31 may be passed as ordinary numbers: JavaScript wraps them to i32 and WebAssembly reads addresses
 * as unsigned, so the whole 4 GiB range works. Vectors need no alignment.
 */
import fs from "node:fs";
import { ioError } from "../errors.js";

/**
 * A WebAssembly linear memory: the subset OmenDB uses. (The compiler options of this repository
 * include no WebAssembly type declarations, so the few shapes needed are declared here.)
 */
export interface WasmMemory {
  /** The current bytes; replaced (the old buffer detached) by every `grow`. */
  readonly buffer: ArrayBuffer;
  /** Adds `deltaPages` 64 KiB pages; returns the previous size in pages. Throws `RangeError` past the maximum. */
  grow(deltaPages: number): number;
}

interface WasmModule {
  readonly __wasmModule?: never;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: unknown };
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Size of a WebAssembly page in bytes. */
export const WASM_PAGE_BYTES = 65536;

/** The most pages a wasm32 memory can have: 65,536 pages = 4 GiB. */
export const WASM_MAX_PAGES = 65536;

/** A new WebAssembly memory of `initialPages` pages that may grow to `maximumPages` (default 4 GiB). */
export function createMemory(initialPages: number, maximumPages: number = WASM_MAX_PAGES): WasmMemory {
  return new wasm.Memory({ initial: initialPages, maximum: maximumPages });
}

/** The functions exported by `kernels.wasm`; see `kernels.wat` for the exact arithmetic. */
export interface DistanceKernels {
  /** a · b over `dim` floats at byte offsets `a` and `b`. */
  dot(a: number, b: number, dim: number): number;
  /** |a − b|² over `dim` floats at byte offsets `a` and `b`. */
  l2sq(a: number, b: number, dim: number): number;
  /** out[j] = 1 − q·v_j for the `n` consecutive vectors v_j starting at `base` (stride `dim` floats). */
  dist_ip_range(q: number, base: number, dim: number, n: number, out: number): void;
  /** out[j] = min(2, max(0, 1 − q·v_j)) (cosine distance of unit vectors), consecutive v_j as above. */
  dist_cos_range(q: number, base: number, dim: number, n: number, out: number): void;
  /** out[j] = |q − v_j|² for the `n` consecutive vectors v_j starting at `base` (stride `dim` floats). */
  dist_l2_range(q: number, base: number, dim: number, n: number, out: number): void;
  /** out[j] = 1 − q·v_j for v_j at `base + slots[j]·dim·4`; `slots` points at `n` u32 values. */
  dist_ip_list(q: number, base: number, dim: number, slots: number, n: number, out: number): void;
  /** out[j] = min(2, max(0, 1 − q·v_j)) for v_j at `base + slots[j]·dim·4`. */
  dist_cos_list(q: number, base: number, dim: number, slots: number, n: number, out: number): void;
  /** out[j] = |q − v_j|² for v_j at `base + slots[j]·dim·4`; `slots` points at `n` u32 values. */
  dist_l2_list(q: number, base: number, dim: number, slots: number, n: number, out: number): void;
}

/** Where the build puts the compiled kernels; the same relative path works from `src/` and `dist/`. */
const WASM_URL = new URL("../../wasm/kernels.wasm", import.meta.url);

let cachedModule: WasmModule | undefined;

/**
 * The compiled kernel module, compiled on first use and cached for the life of the process.
 * @throws OmenDBError code `IO` when `wasm/kernels.wasm` is missing or unreadable (run
 *   `pnpm --filter @omendb/core build`); a `WebAssembly.CompileError` if the runtime lacks SIMD.
 */
function kernelModule(): WasmModule {
  if (cachedModule === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(WASM_URL);
    } catch (err) {
      throw ioError(`reading the WebAssembly kernels ${WASM_URL.pathname} (build them with \`pnpm --filter @omendb/core build\`)`, err);
    }
    cachedModule = new wasm.Module(bytes);
  }
  return cachedModule;
}

/**
 * Instantiates the kernels over `memory` (synchronously; the module is compiled once per process).
 * The memory must have at least one page.
 * @throws OmenDBError code `IO` when `wasm/kernels.wasm` is missing or unreadable (build it with
 *   `pnpm --filter @omendb/core build`); `WebAssembly.CompileError` when the runtime lacks SIMD.
 */
export function instantiateKernels(memory: WasmMemory): DistanceKernels {
  const instance = new wasm.Instance(kernelModule(), { env: { memory } });
  return instance.exports as unknown as DistanceKernels;
}
