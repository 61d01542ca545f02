/**
 * One thread's exact distances over a collection's vector file: vectors are copied from the file
 * (`VectorPages`: a memory map, or positional reads) into a staging area of this reader's own
 * WebAssembly memory, then measured by the SIMD kernels of `kernels.wat`, a chunk at a time. The
 * owner's `VectorArena` and every search or build thread each have their own reader; none holds the
 * vectors in its own memory.
 *
 * Memory layout (byte offsets; `stride` = the file's record size, `dim * 4 + 8`):
 *
 *   [0, Q)                       the query (unit-normalised for cosine), Q = align16(dim * 4)
 *   [Q, Q + CHUNK·stride)        staging: CHUNK vectors (or records) at `stride` apart
 *   [.., .. + 4·CHUNK)           one f32 distance per staged vector
 *
 * INVARIANTS
 * - Distances: cosine 1 − q̂·v/|v| clamped to [0, 2] (vectors are stored as given, queries are
 *   normalised here), ip 1 − q·v, l2 |q − v|², as `distance.ts` computes them.
 * - Every call rebuilds the scratch it uses; nothing survives between calls.
 */
import { ClosedError } from "../errors.js";
import { type VectorReads, VectorPages } from "../storage/vector-pages.js";
import type { Metric } from "../types.js";
import { normalizeInto } from "./distance.js";
import { createMemory, type DistanceKernels, instantiateKernels, WASM_PAGE_BYTES } from "./wasm-kernels.js";

/** What a thread needs to read a collection's vectors: the file and how to read it. */
export interface VectorShare {
  path: string;
  dim: number;
  metric: Metric;
  reads: VectorReads;
}

/** Bytes of vectors staged per kernel call (a chunk fits in L2 alongside the query). */
const STAGING_BYTES = 128 * 1024;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Exact distances from queries to the vectors of one vector file, by slot. Not shared across threads. */
export class VectorReader {
  readonly dim: number;
  readonly metric: Metric;
  /** Vectors per kernel call. */
  readonly chunk: number;
  private readonly pages: VectorPages;
  private readonly kernel: DistanceKernels["dist_l2_range"];
  private readonly stride: number;
  private readonly stageByte: number;
  private readonly outByte: number;
  private readonly u8: Uint8Array;
  private readonly f32: Float32Array;
  private readonly unit: Float32Array;
  private closed = false;

  /** @throws OmenDBError code `IO` when the file cannot be opened (or mapped). */
  constructor(readonly share: VectorShare) {
    this.dim = share.dim;
    this.metric = share.metric;
    this.pages = new VectorPages(share.path, share.dim, share.reads);
    this.stride = this.pages.stride;
    this.chunk = Math.max(1, Math.floor(STAGING_BYTES / this.stride));
    this.stageByte = align16(this.dim * 4);
    this.outByte = align16(this.stageByte + this.chunk * this.stride);
    const pages = Math.ceil((this.outByte + 4 * this.chunk) / WASM_PAGE_BYTES);
    const memory = createMemory(pages, pages);
    const k = instantiateKernels(memory);
    this.kernel = share.metric === "l2" ? k.dist_l2_range : share.metric === "ip" ? k.dist_ip_range : k.dist_cos_range;
    this.u8 = new Uint8Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
    this.unit = new Float32Array(this.dim);
  }

  /** The vector stored at `slot` (unit-normalised for cosine), in a fresh array. */
  storedVector(slot: number): Float32Array {
    this.assertOpen();
    this.pages.copyVector(slot, this.u8, this.stageByte);
    const vector = this.f32.slice(this.stageByte / 4, this.stageByte / 4 + this.dim);
    return this.metric === "cosine" ? normalizeInto(vector, vector) : vector;
  }

  /** The distance from `query` to each of `slots` (same order, a fresh array). */
  distancesTo(query: Float32Array, slots: Uint32Array): Float32Array {
    const out = new Float32Array(slots.length);
    this.placeQuery(query);
    this.measureSlots(slots, slots.length, out);
    return out;
  }

  /**
   * The distance from the stored vector of `from` to each of `targets[0..count)`, into `out`
   * (graph construction's inner loop).
   */
  distancesFromSlot(from: number, targets: Uint32Array, count: number, out: Float32Array): void {
    this.assertOpen();
    this.pages.copyVector(from, this.u8, 0);
    if (this.metric === "cosine") {
      const q = this.f32.subarray(0, this.dim);
      normalizeInto(q, q);
    }
    this.measureSlots(targets, count, out);
  }

  /**
   * The distance from `query` to every slot in [first, first + count) into `out[0 .. count)`,
   * reading the records as runs (a full scan). Every slot in the range must have been written.
   */
  distancesToRange(query: Float32Array, first: number, count: number, out: Float32Array): void {
    this.placeQuery(query);
    const f32 = this.f32;
    for (let done = 0; done < count; done += this.chunk) {
      const n = Math.min(this.chunk, count - done);
      this.pages.copyRecords(first + done, n, this.u8, this.stageByte);
      this.kernel(0, this.stageByte, this.dim, this.stride, n, this.outByte);
      out.set(f32.subarray(this.outByte / 4, this.outByte / 4 + n), done);
    }
  }

  /** Closes the file; later calls throw `ClosedError`. Idempotent. */
  close(): void {
    this.closed = true;
    this.pages.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`vector reader of ${this.share.path} was closed`);
  }

  /** Writes `query` into scratch, unit-normalised for cosine. */
  private placeQuery(query: Float32Array): void {
    this.assertOpen();
    if (this.metric === "cosine") this.f32.set(normalizeInto(query, this.unit), 0);
    else this.f32.set(query, 0);
  }

  /** Distances from the placed query to `slots[0..count)` into `out`, staging a chunk at a time. */
  private measureSlots(slots: Uint32Array, count: number, out: Float32Array): void {
    const { pages, u8, f32, stride, stageByte, outByte } = this;
    for (let done = 0; done < count; done += this.chunk) {
      const n = Math.min(this.chunk, count - done);
      for (let j = 0; j < n; j++) pages.copyVector(slots[done + j]!, u8, stageByte + j * stride);
      this.kernel(0, stageByte, this.dim, stride, n, outByte);
      out.set(f32.subarray(outByte / 4, outByte / 4 + n), done);
    }
  }
}
