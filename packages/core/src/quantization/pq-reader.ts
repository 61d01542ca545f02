/**
 * PQ distances from a search thread: the per-query table and batched code lookups of
 * `pq-code-store.ts`, computed by the same kernels over the owner's shared WebAssembly memory in
 * this thread's own scratch block (table, query, target list, distances).
 *
 * INVARIANTS: thread t writes only its block; codes and codebook are read, never written; results
 * equal `PQCodeStore.setQuery` + `distances` for the same query and targets. Callers hold the read
 * side of the database's gate, so no code is being written meanwhile.
 */
import type { DistanceFromQuery } from "../graph/graph-store.js";
import { THREAD_BLOCK_TARGETS } from "../internal/search-threads.js";
import { type PQKernels, instantiatePQKernels } from "../vector/wasm-kernels.js";
import { type PQShare, pqThreadBlock } from "./pq-code-store.js";

/** Every target is below this: the graph links only slots with codes, so the kernel's bound check is off. */
const NO_LIMIT = -1;

/** One search thread's PQ distances over a shared code store. */
export class PQReader {
  private readonly kernels: PQKernels;
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;
  private readonly tableByte: number;
  private readonly queryByte: number;
  private readonly listByte: number;
  private readonly outByte: number;

  /**
   * @param share the store's {@link PQShare}
   * @param thread this thread's scratch block, below `MAX_SEARCH_THREADS`
   */
  constructor(
    private readonly share: PQShare,
    thread: number,
  ) {
    this.kernels = instantiatePQKernels(share.memory);
    const block = pqThreadBlock(share.m, share.dim);
    this.tableByte = share.blockByte + thread * share.blockBytes;
    this.queryByte = this.tableByte + block.query;
    this.listByte = this.tableByte + block.list;
    this.outByte = this.tableByte + block.out;
    const end = this.tableByte + block.bytes;
    this.f32 = new Float32Array(share.memory.buffer, 0, end / 4);
    this.u32 = new Uint32Array(this.f32.buffer, 0, end / 4);
  }

  /** Computes the distance table of `query` (`"l2"` or `"ip"`, as `PQCodeStore.setQuery`). */
  setQuery(query: Float32Array, kind: "l2" | "ip"): void {
    const { cbtByte, m, dim } = this.share;
    this.f32.set(query, this.queryByte >>> 2);
    if (kind === "l2") this.kernels.pq_table_l2(cbtByte, this.queryByte, m, dim, this.tableByte);
    else this.kernels.pq_table_ip(cbtByte, this.queryByte, m, dim, this.tableByte);
  }

  /** The asymmetric distance of each of `targets[0..count)` into `out`, as `PQCodeStore.distances`. */
  readonly distances: DistanceFromQuery = (targets, count, out) => {
    const u32 = this.u32;
    const f32 = this.f32;
    const listAt = this.listByte >>> 2;
    const outAt = this.outByte >>> 2;
    for (let from = 0; from < count; from += THREAD_BLOCK_TARGETS) {
      const n = Math.min(THREAD_BLOCK_TARGETS, count - from);
      for (let j = 0; j < n; j++) u32[listAt + j] = targets[from + j]!;
      this.kernels.pq_distances(this.tableByte, this.share.codeByte, this.share.m, this.listByte, n, this.outByte, NO_LIMIT);
      for (let j = 0; j < n; j++) out[from + j] = f32[outAt + j]!;
    }
  };
}
