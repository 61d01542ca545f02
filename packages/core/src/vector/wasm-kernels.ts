/**
 * Loads the WebAssembly SIMD kernels compiled by `scripts/build-wasm.mjs`: the distance kernels
 * (`kernels.wat` into `wasm/kernels.wasm`) and the product-quantization kernels
 * (`src/quantization/pq-kernels.wat` into `wasm/pq-kernels.wasm`). Each module is read and compiled
 * once per process, synchronously (each is a few KB), and instantiated once per WebAssembly memory:
 * each vector reader (`vector-reader.ts`) and each PQ code store owns one memory and one instance.
 *
 * The distance kernels' memory is private to one thread (vectors are copied into it from the vector
 * file). The PQ kernels' memory is shared (a `SharedArrayBuffer` underneath, declared `shared` by
 * the module), so search threads (`search-pool.ts`) can instantiate the same kernels over it: growth
 * by the owning thread is visible to every instance at once, and each thread computes in its own
 * scratch block.
 *
 * Calling convention: every pointer is a byte offset into the instance's memory. Offsets at or above
 * 2^31 may be passed as ordinary numbers: JavaScript wraps them to i32 and WebAssembly reads addresses
 * as unsigned, so the whole 4 GiB range works. Vectors need no alignment.
 */
import fs from "node:fs";
import { ErrorCode, OmenDBError, ioError } from "../errors.js";

/**
 * A WebAssembly linear memory: the subset OmenDB uses. (The compiler options of this repository
 * include no WebAssembly type declarations, so the few shapes needed are declared here.)
 */
export interface WasmMemory {
  /** The current bytes; a new, longer buffer after every `grow` (views over the old one stay valid but short). */
  readonly buffer: SharedArrayBuffer;
  /** Adds `deltaPages` 64 KiB pages; returns the previous size in pages. Throws `RangeError` past the maximum. */
  grow(deltaPages: number): number;
}

interface WasmModule {
  readonly __wasmModule?: never;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: unknown };
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Size of a WebAssembly page in bytes. */
export const WASM_PAGE_BYTES = 65536;

/** The most pages a wasm32 memory can have: 65,536 pages = 4 GiB. */
export const WASM_MAX_PAGES = 65536;

/**
 * A new WebAssembly memory of `initialPages` pages that may grow to `maximumPages` (default 4 GiB):
 * shared (for the PQ kernels, whose memory search threads read) or private to one thread (for the
 * distance kernels: copies into a private memory are plain memcpy, into a shared one they are not).
 */
export function createMemory(initialPages: number, maximumPages: number = WASM_MAX_PAGES, shared = false): WasmMemory {
  return new wasm.Memory({ initial: initialPages, maximum: maximumPages, shared });
}

/** The functions exported by `kernels.wasm`; see `kernels.wat` for the exact arithmetic. */
export interface DistanceKernels {
  /** a · b over `dim` floats at byte offsets `a` and `b`. */
  dot(a: number, b: number, dim: number): number;
  /** |a − b|² over `dim` floats at byte offsets `a` and `b`. */
  l2sq(a: number, b: number, dim: number): number;
  /** out[j] = 1 − q·v_j for the `n` vectors v_j at `base + j·stride` (bytes). */
  dist_ip_range(q: number, base: number, dim: number, stride: number, n: number, out: number): void;
  /**
   * out[j] = min(2, max(0, 1 − q·v_j/|v_j|)) for a unit query `q` and vectors as stored (1 for a zero
   * vector), v_j at `base + j·stride`.
   */
  dist_cos_range(q: number, base: number, dim: number, stride: number, n: number, out: number): void;
  /** out[j] = |q − v_j|² for the `n` vectors v_j at `base + j·stride` (bytes). */
  dist_l2_range(q: number, base: number, dim: number, stride: number, n: number, out: number): void;
  /** As `dist_ip_range` for v_j at `base + list[j]·stride`; `list` points at `n` u32 values. */
  dist_ip_list(q: number, base: number, dim: number, stride: number, list: number, n: number, out: number): void;
  /** min(2, max(0, 1 − q·v_j)) for unit (or zero) q and v_j at `base + list[j]·stride`. */
  dist_cosunit_list(q: number, base: number, dim: number, stride: number, list: number, n: number, out: number): void;
  /** As `dist_l2_range` for v_j at `base + list[j]·stride`. */
  dist_l2_list(q: number, base: number, dim: number, stride: number, list: number, n: number, out: number): void;
  /**
   * The first j in [0, n) whose distance as `dist_ip_list` computes it is ≤ `limit`, or −1 (a prune's
   * cover test, stopping at the first cover). Likewise `first_within_l2_list`, `first_within_cosunit_list`.
   */
  first_within_ip_list(q: number, base: number, dim: number, stride: number, list: number, n: number, limit: number): number;
  first_within_l2_list(q: number, base: number, dim: number, stride: number, list: number, n: number, limit: number): number;
  first_within_cosunit_list(q: number, base: number, dim: number, stride: number, list: number, n: number, limit: number): number;
  /** Multiplies the `dim` floats at `p` by `f` in place. */
  scale(p: number, dim: number, f: number): void;
}

/** Where the build puts the compiled kernels; the same relative path works from `src/` and `dist/`. */
const WASM_URL = new URL("../../wasm/kernels.wasm", import.meta.url);
/** The product-quantization kernels (compiled from `src/quantization/pq-kernels.wat`). */
const PQ_WASM_URL = new URL("../../wasm/pq-kernels.wasm", import.meta.url);

const cachedModules = new Map<string, WasmModule>();

/**
 * The compiled module at `url`, compiled on first use and cached for the life of the process.
 * @throws OmenDBError code `IO` when the file is missing or unreadable (run
 *   `pnpm --filter @omendb/core build`); a `WebAssembly.CompileError` if the runtime lacks SIMD.
 */
function compiledModule(url: URL): WasmModule {
  let module = cachedModules.get(url.href);
  if (module === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(url);
    } catch (err) {
      throw ioError(`reading the WebAssembly kernels ${url.pathname} (build them with \`pnpm --filter @omendb/core build\`)`, err);
    }
    module = new wasm.Module(bytes);
    cachedModules.set(url.href, module);
  }
  return module;
}

/**
 * Instantiates the kernels over `memory` (synchronously; the module is compiled once per process).
 * The memory must have at least one page.
 * @throws OmenDBError code `IO` when `wasm/kernels.wasm` is missing or unreadable (build it with
 *   `pnpm --filter @omendb/core build`); `WebAssembly.CompileError` when the runtime lacks SIMD.
 */
export function instantiateKernels(memory: WasmMemory): DistanceKernels {
  const instance = new wasm.Instance(compiledModule(WASM_URL), { env: { memory } });
  return instance.exports as unknown as DistanceKernels;
}

/**
 * The functions exported by `pq-kernels.wasm`; see `src/quantization/pq-kernels.wat` for the memory
 * layouts (table, codes, both codebook forms) and the exactness guarantees. Pointers are byte offsets.
 */
export interface PQKernels {
  /**
   * out[j] = sum over s < m of table[s·256 + codes[targets[j]·m + s]] for j < n (f32 sums). Stops
   * at the first target ≥ `limit`; returns how many distances were written.
   */
  pq_distances(table: number, codes: number, m: number, targets: number, n: number, out: number, limit: number): number;
  /** The `"l2"` distance table (m × 256 f32) of the query at `query`, from the transposed codebook. */
  pq_table_l2(codebookT: number, query: number, m: number, dim: number, out: number): void;
  /** The `"ip"` distance table (minus the sub-space dot products), from the transposed codebook. */
  pq_table_ip(codebookT: number, query: number, m: number, dim: number, out: number): void;
  /**
   * Writes the m-byte code of the vector at `vector` to `out` (equal to `encodeVector`), given the
   * centroids' half squared norms (m × 256 f32) and their per-sub-space maxima; `row`: 1 KiB scratch.
   */
  pq_encode(
    codebookT: number, codebook: number, halfNorms: number, maxHalfNorms: number, m: number, dim: number,
    vector: number, row: number, out: number,
  ): void;
  /**
   * `pq_encode` for `n` consecutive vectors at `vectors`, the code of vector i written to
   * `codes + slots[i]·m` (`slots`: n u32), sub-space by sub-space.
   */
  pq_encode_many(
    codebookT: number, codebook: number, halfNorms: number, maxHalfNorms: number, m: number, dim: number,
    vectors: number, n: number, row: number, codes: number, slots: number,
  ): void;
  /** k-means assignment of `n` points of width `w`; returns how many changed (all when `first` ≠ 0). */
  kmeans_assign(
    points: number, n: number, w: number, centroidsT: number, centroids: number, halfNorms: number,
    maxHalfNorm: number, k: number, kpad: number, row: number, assign: number, best: number, first: number,
  ): number;
  /** Per-cluster f64 sums and i32 counts of the assigned points (in point order). */
  kmeans_sums(points: number, n: number, w: number, assign: number, k: number, sums: number, counts: number): void;
  /**
   * k-means++: lowers d2 (f64) by the distances to the centroid at `centroid`; returns their sum.
   * `splat`: w × 16 bytes of scratch.
   */
  kpp_update(pointsT: number, n: number, w: number, centroid: number, d2: number, splat: number): number;
  /** k-means++: the index the running subtraction of d2 from `r` first reaches ≤ 0 at (else n − 1). */
  kpp_pick(d2: number, n: number, r: number): number;
}

/**
 * Instantiates the product-quantization kernels over `memory` (synchronously; compiled once per
 * process). The memory must have at least one page.
 * @throws OmenDBError code `IO` when `wasm/pq-kernels.wasm` is missing or unreadable (build it with
 *   `pnpm --filter @omendb/core build`); `WebAssembly.CompileError` when the runtime lacks SIMD.
 */
export function instantiatePQKernels(memory: WasmMemory): PQKernels {
  const instance = new wasm.Instance(compiledModule(PQ_WASM_URL), { env: { memory } });
  return instance.exports as unknown as PQKernels;
}

/** Smallest growth step: 16 MiB. */
const MIN_GROW_PAGES = 256;
/** Largest growth step: 256 MiB. */
const MAX_GROW_PAGES = 4096;

/**
 * Grows `memory` so it holds at least `bytes`, in large steps (half its current size, between 16 and
 * 256 MiB) so that repeated small growths stay cheap. Returns true when it grew: typed-array views
 * over the old buffer stay valid but short, and must be recreated to reach the new bytes.
 * @throws OmenDBError code `CAPACITY` when `bytes` exceeds WebAssembly's 4 GiB or the grow fails.
 */
export function growMemory(memory: WasmMemory, bytes: number, what: string): boolean {
  const have = memory.buffer.byteLength / WASM_PAGE_BYTES;
  const need = Math.ceil(bytes / WASM_PAGE_BYTES);
  if (need <= have) return false;
  const target = Math.min(WASM_MAX_PAGES, Math.max(need, have + Math.min(MAX_GROW_PAGES, Math.max(MIN_GROW_PAGES, have >> 1))));
  try {
    if (need > WASM_MAX_PAGES) throw new RangeError(`${bytes} bytes exceed the 4 GiB limit`);
    memory.grow(target - have);
  } catch (err) {
    throw new OmenDBError(ErrorCode.CAPACITY, `${what}: could not grow WebAssembly memory to ${bytes} bytes`, { cause: err });
  }
  return true;
}
