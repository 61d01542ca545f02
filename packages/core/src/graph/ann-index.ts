/**
 * The DiskANN index of one collection: a Vamana graph searched over product-quantized codes, with
 * the best candidates re-ranked at full precision (Subramanya et al., 2019, §3: "beam search over
 * PQ distances, then re-rank with full vectors").
 *
 * Full-precision vectors are not owned here: the caller supplies them through the `FullPrecision`
 * callbacks (the vector arena today, a memory-mapped file for collections larger than RAM).
 *
 * INVARIANTS: a slot is in the graph ⇔ it has a PQ code; cosine collections hand in unit vectors,
 * so the PQ "ip" table approximates the cosine distance as `1 + Σ table`.
 */
import type { Metric } from "../types.js";
import { mulberry32 } from "../internal/seeded-random.js";
import {
  type ProductQuantizer,
  defaultSubspaces,
  distanceTable,
  encodeVector,
  tableDistance,
  trainProductQuantizer,
} from "../quantization/product-quantizer.js";
import type { DistanceFromSlot } from "./graph-store.js";
import { DEFAULT_VAMANA_PARAMS, type SearchHits, VamanaGraph, type VamanaParams } from "./vamana-graph.js";

/** Tuning knobs of the index; every field has a default. */
export interface AnnIndexParams extends VamanaParams {
  /** PQ sub-spaces (bytes per vector); default `ceil(dim / 8)`. */
  pqSubspaces: number;
  /** Default candidate list size of a search (L). */
  efSearch: number;
  /** Vectors sampled to train the quantizer. */
  pqSampleSize: number;
  /** Seed of every random choice (sampling, k-means, insertion order). */
  seed: number;
}

/** Defaults chosen to reach recall@10 ≥ 0.95 on the benchmark sets (see bench/results). */
export function defaultAnnIndexParams(dim: number): AnnIndexParams {
  return { ...DEFAULT_VAMANA_PARAMS, pqSubspaces: defaultSubspaces(dim), efSearch: 100, pqSampleSize: 20_000, seed: 42 };
}

/** Full-precision access to the collection's vectors. */
export interface FullPrecision {
  /** The stored vector of a slot (unit-normalised for cosine). */
  vector(slot: number): Float32Array;
  /** Distances between stored vectors, batched. */
  fromSlot: DistanceFromSlot;
  /** Exact distances from a query to slots (re-ranking). */
  toQuery(query: Float32Array, slots: Uint32Array): Float32Array;
}

/** Progress callback of a bulk build: `done` of `total` steps in `phase`. */
export type BuildProgress = (phase: "train" | "encode" | "link" | "refine", done: number, total: number) => void;

/** A Vamana graph over PQ codes with full-precision re-ranking. */
export class AnnIndex {
  readonly graph: VamanaGraph;
  pq: ProductQuantizer | undefined;
  private codes = new Uint8Array(0);
  private readonly tableKind: "l2" | "ip";

  constructor(
    readonly dim: number,
    readonly metric: Metric,
    readonly params: AnnIndexParams,
    private readonly full: FullPrecision,
  ) {
    this.graph = new VamanaGraph(params);
    this.tableKind = metric === "l2" ? "l2" : "ip";
  }

  /** True when `slot` is searchable through the graph. */
  has(slot: number): boolean {
    return slot < this.graph.capacity && this.graph.present[slot] === 1 && this.graph.deleted[slot] !== 1;
  }

  /** Number of deleted slots awaiting {@link consolidate}. */
  deletedCount(): number {
    let n = 0;
    for (let s = 0; s < this.graph.capacity; s++) n += this.graph.deleted[s]!;
    return n;
  }

  /**
   * Trains the quantizer on a sample of `slots` and builds the graph over all of them in two passes
   * (α = 1, then α = `params.alpha`), starting from the medoid. Replaces any previous content.
   */
  build(slots: readonly number[], progress?: BuildProgress): void {
    const random = mulberry32(this.params.seed);
    const order = [...slots];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const sampleSize = Math.min(order.length, this.params.pqSampleSize);
    const sample = new Float32Array(sampleSize * this.dim);
    for (let i = 0; i < sampleSize; i++) sample.set(this.full.vector(order[i]!), i * this.dim);
    progress?.("train", 0, 1);
    this.pq = trainProductQuantizer(sample, this.dim, { m: this.params.pqSubspaces, random });
    progress?.("train", 1, 1);
    const limit = order.reduce((a, b) => Math.max(a, b + 1), 0);
    this.graph.reserve(limit);
    this.reserveCodes(limit);
    for (let i = 0; i < order.length; i++) {
      encodeVector(this.pq, this.full.vector(order[i]!), this.codes, order[i]! * this.pq.m);
      if (i % 4096 === 0) progress?.("encode", i, order.length);
    }
    const medoid = this.medoid(sample, sampleSize, order);
    this.graph.insert(medoid, this.full.fromSlot, 1);
    this.graph.setEntry(medoid);
    for (let i = 0; i < order.length; i++) {
      if (order[i] !== medoid) this.graph.insert(order[i]!, this.full.fromSlot, 1);
      if (i % 1024 === 0) progress?.("link", i, order.length);
    }
    if (this.params.alpha > 1) {
      for (let i = 0; i < order.length; i++) {
        this.graph.relink(order[i]!, this.full.fromSlot, this.params.alpha);
        if (i % 1024 === 0) progress?.("refine", i, order.length);
      }
    }
  }

  /** Adds (or re-adds, after its vector changed) one slot. Requires a trained quantizer. */
  insert(slot: number): void {
    const pq = this.pq!;
    this.reserveCodes(slot + 1);
    encodeVector(pq, this.full.vector(slot), this.codes, slot * pq.m);
    this.graph.insert(slot, this.full.fromSlot);
  }

  /** Marks `slot` deleted; it is never returned and is unlinked by {@link consolidate}. */
  remove(slot: number): void {
    this.graph.markDeleted(slot);
  }

  /** Unlinks deleted nodes, repairing their neighbours' edges. */
  consolidate(): number[] {
    return this.graph.consolidate(this.full.fromSlot);
  }

  /**
   * The `k` nearest indexed slots to `query` (unit-normalised for cosine): beam search with a list of
   * `efSearch` over PQ distances, then exact distances for the whole list. `admit` restricts results.
   */
  search(query: Float32Array, k: number, efSearch = this.params.efSearch, admit?: (slot: number) => boolean): SearchHits {
    const pq = this.pq;
    if (pq === undefined || this.graph.entry < 0 || k === 0) return { slots: new Uint32Array(0), distances: new Float32Array(0) };
    const table = distanceTable(pq, query, this.tableKind);
    const codes = this.codes;
    const m = pq.m;
    const L = Math.max(k, efSearch);
    const candidates = this.graph.search(
      (targets, count, out) => {
        for (let i = 0; i < count; i++) out[i] = tableDistance(table, codes, targets[i]! * m, m);
      },
      L,
      L,
      admit === undefined ? {} : { admit },
    );
    if (candidates.slots.length === 0) return candidates;
    const exact = this.full.toQuery(query, candidates.slots);
    const order = Array.from(exact.keys()).sort((a, b) => exact[a]! - exact[b]! || candidates.slots[a]! - candidates.slots[b]!);
    const n = Math.min(k, order.length);
    const slots = new Uint32Array(n);
    const distances = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      slots[i] = candidates.slots[order[i]!]!;
      distances[i] = exact[order[i]!]!;
    }
    return { slots, distances };
  }

  private reserveCodes(limit: number): void {
    const m = this.pq?.m ?? this.params.pqSubspaces;
    if (this.codes.length >= limit * m) return;
    let cap = Math.max(1024, this.codes.length / m);
    while (cap < limit) cap *= 2;
    const next = new Uint8Array(cap * m);
    next.set(this.codes);
    this.codes = next;
  }

  /** The slot nearest the sample mean: a central entry point (DiskANN starts at the medoid). */
  private medoid(sample: Float32Array, sampleSize: number, order: readonly number[]): number {
    const mean = new Float32Array(this.dim);
    for (let i = 0; i < sampleSize; i++) for (let j = 0; j < this.dim; j++) mean[j]! += sample[i * this.dim + j]! / sampleSize;
    const probe = Uint32Array.from(order.slice(0, Math.min(order.length, 4096)));
    const d = this.full.toQuery(mean, probe);
    let best = 0;
    for (let i = 1; i < d.length; i++) if (d[i]! < d[best]!) best = i;
    return probe[best]!;
  }
}
