/**
 * The product-quantization codes of one index, slot-indexed in one WebAssembly memory, with the
 * per-query distance table beside them so a graph search computes a batch of asymmetric distances
 * in one kernel call (`pq-kernels.wat`). The pure-TypeScript oracle is `product-quantizer.ts`.
 *
 * Memory layout (byte offsets; `m` bytes a code, `dim` = 0 until a quantizer is set):
 *
 *   [0, m·1024)                 distance table: m × 256 f32, entry [s][c] at s·1024 + c·4
 *   [R, R + 1024)               scratch row (encoding), R = m·1024
 *   [H, H + m·1024)             |c|²/2 of every centroid (f32), sub-space s from H + s·1024, H = R + 1024
 *   [X, X + align16(m·4))       the maximum of those per sub-space (f32), X = H + m·1024
 *   [Q, Q + align16(dim·4))     scratch vector (query or vector to encode)
 *   [T, T + dim·1024)           codebook transposed: component j of centroid c of sub-space s at
 *                               T + (lo(s) + j)·1024 + c·4 (the kernels' SIMD form)
 *   [A, A + dim·1024)           codebook as `ProductQuantizer.centroids` (exact re-checks)
 *   [W, W + threads·block)      scratch of search thread t < MAX_SEARCH_THREADS (`pq-reader.ts`),
 *                               W = A + dim·1024, block = align16(m·1024) + align16(dim·4) + 8·256:
 *                               its table, its query, a target list and its distances
 *   [B, B + capacity·m)         codes: slot t at B + t·m, B = W + threads·block
 *   [L, L + 4·listCap)          scratch: target slots (u32), L = align16(B + capacity·m)
 *   [L + 4·listCap, +4·listCap) scratch: one f32 distance per target
 *                               (`encodeMany` uses [L, L + 8·listCap) for a chunk of vectors and slots)
 *
 * INVARIANTS
 * - `count` is one past the highest slot written (by `setCode`, `encode`, `encodeMany` or
 *   `loadCodes`); slots below it that were never written hold the all-zero code. Bytes of slots in
 *   [count, capacity) are zero, so raising `count` exposes zero codes.
 * - Scratch and the list region move whenever the capacity or the quantizer changes; views
 *   returned by `codes()` are invalidated by any later call that can grow memory.
 * - The memory never shrinks and stays at most 4 GiB. Bytes at or past `endByte()` (the end of the
 *   distances region) have never been written: every region only moves to higher addresses.
 * - `distances` reads only slots below `count` and only after a table was set.
 * - Once a quantizer is set the codes never move (growth only extends them), so search threads
 *   read them through {@link PQCodeStore.share} while the owner appends, under the database's
 *   read/write gate.
 */
import type { DistanceFromQuery } from "../graph/graph-store.js";
import { ClosedError, ErrorCode, OmenDBError, ValidationError } from "../errors.js";
import {
  createMemory,
  instantiatePQKernels,
  type PQKernels,
  WASM_MAX_PAGES as MAX_PAGES,
  WASM_PAGE_BYTES as PAGE,
  type WasmMemory,
  growMemory,
} from "../vector/wasm-kernels.js";
import { MAX_SEARCH_THREADS, THREAD_BLOCK_TARGETS } from "../internal/search-threads.js";
import { PQ_CENTROIDS, type ProductQuantizer, subspaceOffsets } from "./product-quantizer.js";

const TABLE_ROW_BYTES = PQ_CENTROIDS * 4;
const INITIAL_LIST = 256;
/** Batches up to this size are copied in and out of WebAssembly memory by a loop, larger by `set`. */
const COPY_LOOP_MAX = 32;
const MIN_CAPACITY = 1024;
/** `encodeMany` works through its vectors in chunks of at most this many vectors and bytes. */
const ENCODE_CHUNK_MAX = 256;
const ENCODE_CHUNK_BYTES = 512 * 1024;
const MIN_PAGES = 16; // 1 MiB

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** What a search thread needs to compute PQ distances over a store's codes (see `pq-reader.ts`). */
export interface PQShare {
  memory: WasmMemory;
  m: number;
  dim: number;
  /** Byte offset of the transposed codebook. */
  cbtByte: number;
  /** Byte offset of slot 0's code. */
  codeByte: number;
  /** Byte offset of thread 0's scratch block; thread t's starts `t·blockBytes` later. */
  blockByte: number;
  blockBytes: number;
}

/**
 * The layout of one search thread's scratch block for `m` sub-spaces of a `dim`-dimensional
 * quantizer: byte offsets from the block's start of its table, query, target list and distances.
 */
export function pqThreadBlock(m: number, dim: number): { query: number; list: number; out: number; bytes: number } {
  const query = align16(m * TABLE_ROW_BYTES);
  const list = query + align16(dim * 4);
  const out = list + 4 * THREAD_BLOCK_TARGETS;
  return { query, list, out, bytes: out + 4 * THREAD_BLOCK_TARGETS };
}

/**
 * PQ codes of one index in WebAssembly memory, with the per-query table and batched lookups.
 * One query at a time: `setQuery`/`setTable` replace the table every later `distances` call reads,
 * so interleaved searches over one store must each set their table before their batches.
 */
export class PQCodeStore {
  /** Bytes per code (sub-spaces). */
  readonly m: number;
  private memory: WasmMemory | undefined;
  private readonly kernels: PQKernels;
  private u8: Uint8Array;
  private f32: Float32Array;
  private u32: Uint32Array;
  private cap = 0;
  private used = 0;
  private dim = 0;
  private tableReady = false;
  private listCap = INITIAL_LIST;
  // byte offsets, see the layout above
  private readonly rowByte: number;
  private readonly halfNormByte: number;
  private readonly maxHalfNormByte: number;
  private readonly queryByte: number;
  private cbtByte: number;
  private cbByte: number;
  private codeByte: number;
  private listByte = 0;
  private outByte = 0;

  /**
   * @param m bytes per code (the quantizer's sub-spaces), an integer in [1, 65536].
   * @throws ValidationError code `INVALID_OPTION` for a bad `m`.
   */
  constructor(m: number) {
    if (!Number.isInteger(m) || m < 1 || m > 65536) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: m must be an integer in [1, 65536], got ${m}`);
    }
    this.m = m;
    this.rowByte = m * TABLE_ROW_BYTES;
    this.halfNormByte = this.rowByte + TABLE_ROW_BYTES;
    this.maxHalfNormByte = this.halfNormByte + m * TABLE_ROW_BYTES;
    this.queryByte = this.maxHalfNormByte + align16(m * 4);
    this.cbtByte = this.cbByte = this.codeByte = this.queryByte;
    this.placeList();
    const memory = createMemory(Math.max(MIN_PAGES, Math.ceil(this.endByte() / PAGE)), MAX_PAGES, true);
    this.memory = memory;
    this.kernels = instantiatePQKernels(memory);
    this.u8 = new Uint8Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
  }

  /** Slots that fit without growing the memory region of the codes. */
  get capacity(): number {
    return this.cap;
  }

  /** One past the highest slot written (0 when none): the codes `codes()` covers. */
  get count(): number {
    return this.used;
  }

  /** The vector dimension of the quantizer set by {@link setQuantizer} (0 when none). */
  get dimension(): number {
    return this.dim;
  }

  /** The bytes of WebAssembly memory currently held (table, codebook, codes, scratch, slack). */
  get memoryBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /**
   * Makes room for slots [0, slots) so later writes below it do not grow the memory.
   * @throws ValidationError code `INVALID_OPTION` for a negative or non-integer count.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  reserve(slots: number): void {
    this.assertOpen();
    if (!Number.isInteger(slots) || slots < 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: reserve expects a non-negative integer, got ${slots}`);
    }
    if (slots > this.cap) this.resize(slots);
  }

  /**
   * Stores the `m`-byte `code` at `slot` (growing in large steps as needed).
   * @throws ValidationError code `INVALID_OPTION` for a bad slot or a code of the wrong length.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  setCode(slot: number, code: Uint8Array): void {
    this.assertOpen();
    this.checkSlot(slot);
    if (code.length !== this.m) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: a code has ${this.m} bytes, got ${code.length}`);
    }
    this.ensureSlot(slot);
    this.u8.set(code, this.codeByte + slot * this.m);
    if (slot >= this.used) this.used = slot + 1;
  }

  /**
   * A copy of the code at `slot` (all zeros for a slot below `count` never written).
   * @throws ValidationError code `INVALID_OPTION` for a slot at or beyond `count`.
   */
  getCode(slot: number): Uint8Array {
    this.assertOpen();
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.used) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: slot ${slot} is not below the stored count ${this.used}`);
    }
    const at = this.codeByte + slot * this.m;
    return this.u8.slice(at, at + this.m);
  }

  /**
   * The stored codes, `count × m` bytes in slot order, as a view into WebAssembly memory (for
   * persistence: write it out, do not keep it; any later call that grows memory invalidates it).
   */
  codes(): Uint8Array {
    this.assertOpen();
    return this.u8.subarray(this.codeByte, this.codeByte + this.used * this.m);
  }

  /**
   * Replaces every code with the first `count × m` bytes of `bytes` (slot order, as `codes()`).
   * @throws ValidationError code `INVALID_OPTION` for a bad count or too few bytes.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  loadCodes(bytes: Uint8Array, count: number): void {
    this.assertOpen();
    if (!Number.isInteger(count) || count < 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: count must be a non-negative integer, got ${count}`);
    }
    if (bytes.length < count * this.m) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `PQ code store: ${count} codes of ${this.m} bytes need ${count * this.m} bytes, got ${bytes.length}`,
      );
    }
    if (count > this.cap) this.resize(count);
    const at = this.codeByte;
    this.u8.set(count * this.m === bytes.length ? bytes : bytes.subarray(0, count * this.m), at);
    if (this.used > count) this.u8.fill(0, at + count * this.m, at + this.used * this.m);
    this.used = count;
  }

  /**
   * Installs the trained quantizer whose codebook {@link setQuery} and {@link encode} use (copied
   * into WebAssembly memory, in both the transposed and the original layout).
   * @throws ValidationError code `INVALID_OPTION` when `pq.m` differs from this store's `m` or the
   *   quantizer's shape is inconsistent.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  setQuantizer(pq: ProductQuantizer): void {
    this.assertOpen();
    if (pq.m !== this.m) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: quantizer has m = ${pq.m}, the store ${this.m}`);
    }
    const dim = pq.dim;
    const expected = Number.isInteger(dim) && dim >= this.m ? subspaceOffsets(dim, this.m) : undefined;
    if (
      expected === undefined ||
      pq.centroids.length !== dim * PQ_CENTROIDS ||
      pq.offsets.length !== expected.length ||
      expected.some((v, i) => pq.offsets[i] !== v)
    ) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: quantizer of dimension ${dim} has an inconsistent shape`);
    }
    if (dim !== this.dim) this.relayout(dim);
    const f32 = this.f32;
    const cbt = this.cbtByte / 4;
    const hn = this.halfNormByte / 4;
    const maxHn = this.maxHalfNormByte / 4;
    f32.set(pq.centroids, this.cbByte / 4);
    // per sub-space: transpose [c][j] -> [j][c]; half squared norms and their maximum
    for (let s = 0; s < this.m; s++) {
      const lo = expected[s]!;
      const width = expected[s + 1]! - lo;
      const base = lo * PQ_CENTROIDS;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < PQ_CENTROIDS; c++) {
        let norm = 0;
        for (let j = 0; j < width; j++) {
          const v = pq.centroids[base + c * width + j]!;
          f32[cbt + base + j * PQ_CENTROIDS + c] = v;
          norm += v * v;
        }
        f32[hn + s * PQ_CENTROIDS + c] = norm / 2;
        max = Math.max(max, f32[hn + s * PQ_CENTROIDS + c]!);
      }
      f32[maxHn + s] = max;
    }
    this.tableReady = false;
  }

  /**
   * Computes the distance table of `query` for the kind `"l2"` or `"ip"` (as `distanceTable` in
   * `product-quantizer.ts`, up to f32 rounding) straight into the table `distances` reads.
   * @throws ValidationError code `INVALID_OPTION` before a quantizer is set or for an unknown
   *   kind, `DIMENSION_MISMATCH` for a query of the wrong length.
   */
  setQuery(query: Float32Array, kind: "l2" | "ip"): void {
    this.assertOpen();
    this.checkVector(query, "query");
    this.f32.set(query, this.queryByte / 4);
    if (kind === "l2") this.kernels.pq_table_l2(this.cbtByte, this.queryByte, this.m, this.dim, 0);
    else if (kind === "ip") this.kernels.pq_table_ip(this.cbtByte, this.queryByte, this.m, this.dim, 0);
    else throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: table kind must be "l2" or "ip", got ${String(kind)}`);
    this.tableReady = true;
  }

  /**
   * Copies a distance table (`m × 256` floats, as `distanceTable` returns) in for `distances`.
   * @throws ValidationError code `INVALID_OPTION` for a table of the wrong length.
   */
  setTable(table: Float32Array): void {
    this.assertOpen();
    if (table.length !== this.m * PQ_CENTROIDS) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `PQ code store: a table has ${this.m * PQ_CENTROIDS} floats, got ${table.length}`,
      );
    }
    this.f32.set(table, 0);
    this.tableReady = true;
  }

  /** A copy of the current distance table (`m × 256` floats; zeros before any was set). */
  getTable(): Float32Array {
    this.assertOpen();
    return this.f32.slice(0, this.m * PQ_CENTROIDS);
  }

  /**
   * Encodes `vector` with the installed quantizer and stores its code at `slot` (the same code as
   * `encodeVector` in `product-quantizer.ts`, bit for bit).
   * @throws ValidationError code `INVALID_OPTION` before a quantizer is set or for a bad slot,
   *   `DIMENSION_MISMATCH` for a vector of the wrong length.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  encode(slot: number, vector: Float32Array): void {
    this.assertOpen();
    this.checkSlot(slot);
    this.checkVector(vector, "vector");
    this.ensureSlot(slot);
    this.f32.set(vector, this.queryByte / 4);
    this.kernels.pq_encode(
      this.cbtByte, this.cbByte, this.halfNormByte, this.maxHalfNormByte, this.m, this.dim,
      this.queryByte, this.rowByte, this.codeByte + slot * this.m,
    );
    if (slot >= this.used) this.used = slot + 1;
  }

  /**
   * Encodes `slots.length` vectors stored one after another in `vectors` (`slots.length × dimension`
   * floats) and stores the code of vector i at `slots[i]`: the same codes as {@link encode}, faster
   * for bulk loads (1.3–1.7× measured: each sub-space's codebook stays in cache across a chunk).
   * @throws ValidationError code `INVALID_OPTION` before a quantizer is set or for a bad slot,
   *   `DIMENSION_MISMATCH` when `vectors` is not `slots.length × dimension` long.
   * @throws OmenDBError code `CAPACITY` beyond WebAssembly's 4 GiB memory.
   */
  encodeMany(slots: Uint32Array, vectors: Float32Array): void {
    this.assertOpen();
    if (this.dim === 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "PQ code store: no quantizer; call setQuantizer first");
    }
    const n = slots.length;
    const dim = this.dim;
    if (vectors.length !== n * dim) {
      throw new ValidationError(
        ErrorCode.DIMENSION_MISMATCH,
        `PQ code store: ${n} vectors of dimension ${dim} need ${n * dim} floats, got ${vectors.length}`,
      );
    }
    if (n === 0) return;
    let highest = 0;
    for (let i = 0; i < n; i++) highest = Math.max(highest, slots[i]!);
    this.checkSlot(highest);
    this.ensureSlot(highest);
    const chunk = Math.max(1, Math.min(n, ENCODE_CHUNK_MAX, Math.floor(ENCODE_CHUNK_BYTES / (dim * 4))));
    const scratchEntries = Math.ceil((chunk * dim * 4 + chunk * 4) / 8);
    if (scratchEntries > this.listCap) this.growList(scratchEntries);
    const vecByte = this.listByte;
    const slotByte = vecByte + chunk * dim * 4;
    for (let i = 0; i < n; i += chunk) {
      const count = Math.min(chunk, n - i);
      this.f32.set(vectors.subarray(i * dim, (i + count) * dim), vecByte >>> 2);
      this.u32.set(slots.subarray(i, i + count), slotByte >>> 2);
      this.kernels.pq_encode_many(
        this.cbtByte, this.cbByte, this.halfNormByte, this.maxHalfNormByte, this.m, dim,
        vecByte, count, this.rowByte, this.codeByte, slotByte,
      );
    }
    if (highest >= this.used) this.used = highest + 1;
  }

  /**
   * Writes the asymmetric distance of each of `targets[0..count)` (the sum of its `m` table
   * lookups, before the `1 +` of the ip kind) into `out[0..count)`: one WebAssembly call. Bound
   * to the store, so it can be passed as the graph's `DistanceFromQuery`.
   * @throws ValidationError code `INVALID_OPTION` before a table is set, for a target at or beyond
   *   `count`, or when `count` exceeds `targets` or `out`.
   */
  readonly distances: DistanceFromQuery = (targets, count, out) => {
    if (!this.tableReady || count > targets.length || count > out.length) this.badCall(targets, count, out);
    if (count > this.listCap) this.growList(count);
    const listAt = this.listByte >>> 2;
    const outAt = this.outByte >>> 2;
    // Small batches copy element by element; large ones with `set` (its views cost ~30 ns each).
    if (count <= COPY_LOOP_MAX) {
      const u32 = this.u32;
      for (let j = 0; j < count; j++) u32[listAt + j] = targets[j]!;
    } else {
      this.u32.set(count === targets.length ? targets : targets.subarray(0, count), listAt);
    }
    const done = this.kernels.pq_distances(0, this.codeByte, this.m, this.listByte, count, this.outByte, this.used);
    if (done !== count) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: target slot ${targets[done]} is not below the stored count ${this.used}`);
    }
    if (count <= COPY_LOOP_MAX) {
      const f32 = this.f32;
      for (let j = 0; j < count; j++) out[j] = f32[outAt + j]!;
    } else {
      out.set(this.f32.subarray(outAt, outAt + count));
    }
  };

  /**
   * The shared memory and layout a search thread computes PQ distances through.
   * @throws ValidationError code `INVALID_OPTION` before a quantizer is set.
   */
  share(): PQShare {
    this.assertOpen();
    if (this.dim === 0) throw new ValidationError(ErrorCode.INVALID_OPTION, "PQ code store: no quantizer; call setQuantizer first");
    const blockBytes = pqThreadBlock(this.m, this.dim).bytes;
    const blockByte = this.codeByte - MAX_SEARCH_THREADS * blockBytes;
    return { memory: this.memory!, m: this.m, dim: this.dim, cbtByte: this.cbtByte, codeByte: this.codeByte, blockByte, blockBytes };
  }

  /** Releases the WebAssembly memory; any later call throws `ClosedError`. */
  dispose(): void {
    this.memory = undefined;
    this.tableReady = false;
    this.u8 = new Uint8Array(0);
    this.f32 = new Float32Array(0);
    this.u32 = new Uint32Array(0);
    this.cap = 0;
    this.used = 0;
  }

  // ---------------------------------------------------------------- internals

  private assertOpen(): void {
    if (this.memory === undefined) throw new ClosedError("PQ code store was disposed");
  }

  private badCall(targets: Uint32Array, count: number, out: Float32Array): never {
    this.assertOpen();
    if (!this.tableReady) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "PQ code store: no distance table; call setTable or setQuery first");
    }
    throw new ValidationError(
      ErrorCode.INVALID_OPTION,
      `PQ code store: count ${count} exceeds the targets (${targets.length}) or the output (${out.length})`,
    );
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xfffffffe) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `PQ code store: slot must be a non-negative integer, got ${slot}`);
    }
  }

  private checkVector(vector: Float32Array, what: string): void {
    if (this.dim === 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "PQ code store: no quantizer; call setQuantizer first");
    }
    if (vector.length !== this.dim) {
      throw new ValidationError(ErrorCode.DIMENSION_MISMATCH, `PQ code store: expected a ${what} of dimension ${this.dim}, got ${vector.length}`);
    }
  }

  /** Grows the capacity (geometrically) so `slot` fits. */
  private ensureSlot(slot: number): void {
    if (slot < this.cap) return;
    const wanted = Math.max(slot + 1, MIN_CAPACITY, this.cap + (this.cap >> 1));
    // Prefer the geometric step, but settle for the exact need near the 4 GiB limit.
    if (wanted > slot + 1 && this.bytesFor(this.codeByte, wanted, this.listCap) > MAX_PAGES * PAGE) this.resize(slot + 1);
    else this.resize(wanted);
  }

  /** Sets the capacity to `slots` (never below the written count), zeroing new code bytes. */
  private resize(slots: number): void {
    const need = this.bytesFor(this.codeByte, slots, this.listCap);
    if (need > MAX_PAGES * PAGE) {
      throw new OmenDBError(
        ErrorCode.CAPACITY,
        `PQ code store: ${slots} codes of ${this.m} bytes need ${need} bytes, over WebAssembly's 4 GiB memory limit`,
      );
    }
    this.ensureBytes(need);
    const old = this.cap;
    const written = this.endByte();
    this.cap = slots;
    this.placeList();
    // The new code slots must read as zero: only the part the old list and distances occupied can
    // hold anything (memory past endByte() was never written), so fresh pages are not touched here.
    if (slots > old) this.u8.fill(0, this.codeByte + old * this.m, Math.min(written, this.codeByte + slots * this.m));
  }

  /** Moves the codes to make room for a codebook of dimension `dim`. */
  private relayout(dim: number): void {
    const cbt = this.queryByte + align16(dim * 4);
    const cb = cbt + dim * TABLE_ROW_BYTES;
    const codes = cb + dim * TABLE_ROW_BYTES + MAX_SEARCH_THREADS * pqThreadBlock(this.m, dim).bytes;
    const need = this.bytesFor(codes, this.cap, this.listCap);
    if (need > MAX_PAGES * PAGE) {
      throw new OmenDBError(ErrorCode.CAPACITY, `PQ code store: a codebook of dimension ${dim} and ${this.cap} codes exceed 4 GiB`);
    }
    this.ensureBytes(need);
    this.u8.copyWithin(codes, this.codeByte, this.codeByte + this.cap * this.m);
    this.dim = dim;
    this.cbtByte = cbt;
    this.cbByte = cb;
    this.codeByte = codes;
    this.placeList();
  }

  private growList(count: number): void {
    const listCap = Math.max(count, this.listCap * 2);
    const need = this.bytesFor(this.codeByte, this.cap, listCap);
    if (need > MAX_PAGES * PAGE) {
      throw new OmenDBError(ErrorCode.CAPACITY, `PQ code store: a batch of ${count} targets does not fit in 4 GiB`);
    }
    this.ensureBytes(need);
    this.listCap = listCap;
    this.placeList();
  }

  private bytesFor(codeByte: number, slots: number, listCap: number): number {
    return align16(codeByte + slots * this.m) + 8 * listCap;
  }

  private endByte(): number {
    return this.outByte + 4 * this.listCap;
  }

  private placeList(): void {
    this.listByte = align16(this.codeByte + this.cap * this.m);
    this.outByte = this.listByte + 4 * this.listCap;
  }

  /** Grows the memory to hold at least `bytes` (in large steps, never beyond 4 GiB). */
  private ensureBytes(bytes: number): void {
    if (!growMemory(this.memory!, bytes, "PQ code store")) return;
    const buffer = this.memory!.buffer;
    this.u8 = new Uint8Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }

}
