/**
 * The DiskANN index of one collection: a Vamana graph searched over product-quantized codes, with
 * the best candidates re-ranked at full precision (Subramanya et al., 2019, §3: "beam search over
 * PQ distances, then re-rank with full vectors").
 *
 * Full-precision vectors are not owned here: the caller supplies them through the `FullPrecision`
 * callbacks (the vector arena: the collection's vector file, read through a memory map).
 *
 * INVARIANTS: a slot is in the graph ⇔ it has a PQ code; cosine collections hand in unit vectors.
 * PQ distances only order the graph walks (a build's and a search's); the distances returned are
 * exact. Cosine walks on the "l2" table, |q − x̂|² with x̂ the decoded vector, not the "ip" table's
 * 1 − q·x̂: for unit q and x it is 2(1 − cos) up to the code's error, and it ranks candidates
 * better because it also counts how far x̂ fell short of the unit sphere (`pnpm bench`, synthetic
 * 1536-d 100k at efSearch 96: recall@10 0.937 with "ip", 0.955 with "l2"; sotu-512 at 24: 0.925, 0.961).
 */
import { ErrorCode, ValidationError } from "../errors.js";
import type { Metric } from "../types.js";
import { mulberry32 } from "../internal/seeded-random.js";
import { isGrowable } from "../internal/growable-shared-buffer.js";
import { TopK } from "../internal/topk.js";
import { PQCodeStore, type PQShare } from "../quantization/pq-code-store.js";
import { trainProductQuantizerFast } from "../quantization/pq-train-fast.js";
import { type ProductQuantizer, defaultSubspaces } from "../quantization/product-quantizer.js";
import type { VectorShare } from "../vector/vector-reader.js";
import type { AnnIndexSnapshot } from "../storage/ann-index-file.js";
import { BatchPlanner, type BuildHelpers, type PlanNode } from "./batch-build.js";
import type { DistanceFromQuery, SlotDistances } from "./graph-store.js";
import { DEFAULT_VAMANA_PARAMS, type GraphShare, type SearchHits, SettledLists, VamanaGraph, type VamanaParams } from "./vamana-graph.js";

/** Tuning knobs of the index; every field has a default. */
export interface AnnIndexParams extends VamanaParams {
  /** PQ sub-spaces (bytes per vector); default dim / 8, at least 64, at most dim / 2. */
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
  return { ...DEFAULT_VAMANA_PARAMS, pqSubspaces: defaultSubspaces(dim), efSearch: 150, pqSampleSize: 20_000, seed: 42 };
}

/** Full-precision access to the collection's vectors. */
export interface FullPrecision {
  /** The stored vector of a slot (unit-normalised for cosine). */
  vector(slot: number): Float32Array;
  /** Distances between stored vectors, batched. */
  fromSlot: SlotDistances;
  /** Exact distances from a query to slots (re-ranking). */
  toQuery(query: Float32Array, slots: Uint32Array): Float32Array;
  /** How helper threads of a bulk build read the vectors (none: the build uses this thread only). */
  share?(): VectorShare;
}

/** The result of {@link AnnIndex.search}: the hits, and how many admitted candidates were re-ranked. */
export interface IndexHits extends SearchHits {
  pool: number;
}

/** The shared parts of an index, for a search thread (see `ann-reader.ts`). */
export interface AnnShare {
  tableKind: "l2" | "ip";
  efSearch: number;
  graph: GraphShare;
  pq: PQShare;
}

/**
 * What makes an index search filtered: `admit` restricts the results (the walk still goes through
 * every node). A filtered search can widen cheaply: `resume` continues the previous filtered
 * search of the same graph (same query and `admit`, nothing searched since) with a longer list,
 * instead of walking again from the entry point (see `SearchOptions.resume`); `walkOnly` skips the
 * exact re-rank and returns the list's admitted candidates by their PQ estimates, for a caller that
 * only counts them before deciding to widen, and then re-ranks the last ones ({@link rerank}).
 */
export interface FilteredSearch {
  admit: (slot: number) => boolean;
  resume?: boolean;
  walkOnly?: boolean;
}

/**
 * One index search, shared by the owning thread and search threads: beam search with a list of
 * max(k, `efSearch`) over PQ distances from the entry point, then exact distances (`toQuery`) for the
 * whole list, ascending (ties by slot); `pool` is how many candidates the list held (admitted ones,
 * when filtered).
 */
export function searchGraph(
  graph: VamanaGraph,
  setQuery: (query: Float32Array) => void,
  pqDistances: DistanceFromQuery,
  toQuery: FullPrecision["toQuery"],
  query: Float32Array,
  k: number,
  efSearch: number,
  filter?: FilteredSearch,
): IndexHits {
  if (graph.entry < 0 || k === 0) return { slots: new Uint32Array(0), distances: new Float32Array(0), pool: 0 };
  if (filter?.resume !== true) setQuery(query);
  const L = Math.max(k, efSearch);
  const candidates = graph.search(pqDistances, L, L, filter === undefined ? {} : { admit: filter.admit, resumable: true, resume: filter.resume });
  if (filter?.walkOnly === true) return { ...candidates, pool: candidates.slots.length };
  return rerank(toQuery, query, k, candidates.slots);
}

/** The `k` of `candidates` nearest to `query` by exact distance (`toQuery`), ascending (ties by slot); `pool` = all candidates. */
export function rerank(toQuery: FullPrecision["toQuery"], query: Float32Array, k: number, candidates: Uint32Array): IndexHits {
  if (candidates.length === 0) return { slots: candidates, distances: new Float32Array(0), pool: 0 };
  const exact = toQuery(query, candidates);
  const best = new TopK(k);
  for (let i = 0; i < exact.length; i++) best.push(exact[i]!, candidates[i]!);
  const { ids, distances } = best.drain();
  return { slots: ids, distances, pool: candidates.length };
}

/** A bulk build encodes its vectors this many at a time (at most ENCODE_CHUNK_BYTES of them). */
const ENCODE_CHUNK = 256;
const ENCODE_CHUNK_BYTES = 1024 * 1024;

/** The largest batch of a bulk build (nodes planned against one state of the graph). */
const BUILD_BATCH_MAX = 256;

/** Progress callback of a bulk build: `done` of `total` steps in `phase`. */
export type BuildProgress = (phase: "train" | "encode" | "link", done: number, total: number) => void;

/** A Vamana graph over PQ codes with full-precision re-ranking. */
export class AnnIndex {
  readonly graph: VamanaGraph;
  pq: ProductQuantizer | undefined;
  /** PQ codes by slot and the per-query distance table, in WebAssembly memory. */
  private codes: PQCodeStore | undefined;
  private readonly tableKind: "l2" | "ip";

  constructor(
    readonly dim: number,
    readonly metric: Metric,
    readonly params: AnnIndexParams,
    private readonly full: FullPrecision,
  ) {
    this.graph = new VamanaGraph(params);
    this.tableKind = metric === "ip" ? "ip" : "l2";
  }

  /** True when `slot` is searchable through the graph. */
  has(slot: number): boolean {
    return slot < this.graph.capacity && this.graph.present[slot] === 1 && this.graph.deleted[slot] !== 1;
  }

  /** Number of deleted slots awaiting {@link consolidate}. */
  deletedCount(): number {
    return this.graph.deletedCount;
  }

  /**
   * Trains the quantizer on a sample of `slots` and builds the graph over all of them in one pass at
   * α = `params.alpha` from the medoid, then prunes lists grown into the back-edge slack. The pass
   * goes in batches planned against one state of the graph (`batch-build.ts`): by this thread alone,
   * or with `helpers` (the search threads) — the same graph either way. Replaces any previous content.
   *
   * One pass, not the DiskANN paper's two (α = 1, then α): measured side by side (bench, 100k sets),
   * the second pass cost more than it gave — synthetic 1536-d recall@10 at efSearch 150 0.977 with
   * one pass vs 0.963 with two, glove-100 and sotu-512 equal or better QPS at recall 0.95, builds
   * 1.07–1.6× faster.
   */
  build(slots: readonly number[], progress?: BuildProgress, helpers?: BuildHelpers): void {
    progress?.("train", 0, 1);
    this.train(slots);
    progress?.("train", 1, 1);
    const codes = this.codes!;
    const random = mulberry32(this.params.seed + 1);
    const order = [...slots];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const limit = order.reduce((a, b) => Math.max(a, b + 1), 0);
    this.graph.reserve(limit);
    codes.reserve(limit);
    const chunk = Math.max(1, Math.min(ENCODE_CHUNK, Math.floor(ENCODE_CHUNK_BYTES / (this.dim * 4))));
    const vectors = new Float32Array(chunk * this.dim);
    for (let i = 0; i < order.length; i += chunk) {
      const slots = Uint32Array.from(order.slice(i, i + chunk));
      for (let j = 0; j < slots.length; j++) vectors.set(this.full.vector(slots[j]!), j * this.dim);
      codes.encodeMany(slots, vectors.subarray(0, slots.length * this.dim));
      progress?.("encode", Math.min(order.length, i + chunk), order.length);
    }
    const medoid = this.medoid(order);
    this.graph.insert(medoid, this.full.fromSlot, 1);
    this.graph.setEntry(medoid);
    const rest = order.filter((slot) => slot !== medoid);
    const batchMax = Math.max(1, Math.min(BUILD_BATCH_MAX, Math.ceil(order.length / 100)));
    const alpha = this.params.alpha;
    const settled = new SettledLists(new SharedArrayBuffer(SettledLists.bytes(limit)));
    const shared = helpers !== undefined && helpers.size > 0 && this.full.share !== undefined ? { ann: this.share(), arena: this.full.share() } : undefined;
    const planner = new BatchPlanner(this.params.maxDegree, batchMax, shared === undefined ? undefined : { ...shared, alpha, settled, helpers: helpers! });
    const plan: PlanNode = (slot, mode, out, extra) =>
      this.graph.plan(slot, mode, out, { fromSlot: this.full.fromSlot, alpha, guide: mode === "insert" ? this.guideFrom(slot) : undefined, extra, settled });
    try {
      // One pass at α, batches doubling from 1 up to batchMax so early nodes see a connected graph.
      // Each batch's nodes get their edges, then their back-edges; a neighbour whose list the
      // back-edges overflow is re-pruned once with all of its new ones (a "merge" plan).
      for (let at = 0; at < rest.length; ) {
        const batch = rest.slice(at, at + Math.min(batchMax, at + 1));
        planner.plan(batch, "insert", plan);
        const overflow = new Map<number, number[]>();
        for (let i = 0; i < batch.length; i++) {
          this.graph.applyPlan(batch[i]!, planner.edgesOf(i));
          this.graph.addBackEdgesDeferred(batch[i]!, overflow);
        }
        const full = [...overflow.keys()].sort((a, b) => a - b);
        for (let m = 0; m < full.length; m += batchMax) {
          const nodes = full.slice(m, m + batchMax);
          planner.plan(nodes, "merge", plan, nodes.map((nb) => overflow.get(nb)!));
          for (let i = 0; i < nodes.length; i++) this.graph.applyPlan(nodes[i]!, planner.edgesOf(i));
        }
        at += batch.length;
        progress?.("link", at, rest.length);
      }
      // Lists grown into the back-edge slack are pruned back to maxDegree (independent per node).
      const overfull = this.graph.overfull();
      for (let at = 0; at < overfull.length; at += batchMax) {
        const batch = overfull.slice(at, at + batchMax);
        planner.plan(batch, "trim", plan);
        for (let i = 0; i < batch.length; i++) this.graph.applyPlan(batch[i]!, planner.edgesOf(i));
      }
    } finally {
      planner.finish();
    }
  }

  /** Adds (or re-adds, after its vector changed) one slot. Requires a trained quantizer. */
  insert(slot: number): void {
    this.codes!.encode(slot, this.full.vector(slot));
    this.graph.insert(slot, this.full.fromSlot, this.params.alpha, this.guideFrom(slot));
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
   * `efSearch` over PQ distances, then exact distances for the whole list; `filter` restricts results
   * (see {@link FilteredSearch}).
   */
  search(query: Float32Array, k: number, efSearch = this.params.efSearch, filter?: FilteredSearch): IndexHits {
    const codes = this.codes;
    if (codes === undefined) return { slots: new Uint32Array(0), distances: new Float32Array(0), pool: 0 };
    return searchGraph(this.graph, (q) => codes.setQuery(q, this.tableKind), codes.distances, this.full.toQuery, query, k, efSearch, filter);
  }

  /** The `k` of `candidates` (e.g. a `walkOnly` search's) nearest to `query`, measured exactly. */
  rerank(query: Float32Array, k: number, candidates: Uint32Array): IndexHits {
    return rerank(this.full.toQuery, query, k, candidates);
  }

  /**
   * What a search thread needs to search this index in place (`ann-reader.ts`); the vectors are
   * shared separately by the collection's arena (its vector file).
   * @throws ValidationError code `INVALID_OPTION` before a quantizer is trained.
   */
  share(): AnnShare {
    if (this.codes === undefined) throw new ValidationError(ErrorCode.INVALID_OPTION, "ANN index: no quantizer to share; train or build first");
    return { tableKind: this.tableKind, efSearch: this.params.efSearch, graph: this.graph.share(), pq: this.codes.share() };
  }

  /** Number of slots present in the graph (live or awaiting consolidation). */
  size(): number {
    return this.graph.presentCount;
  }

  /**
   * A self-contained copy of the index for a checkpoint (arrays trimmed to the highest slot). Lists
   * grown into the back-edge slack are pruned to `maxDegree` first.
   */
  snapshot(): AnnIndexSnapshot {
    const pq = this.pq!;
    this.graph.trim(this.full.fromSlot);
    let slotLimit = 0;
    for (let s = this.graph.capacity - 1; s >= 0; s--) {
      if (this.graph.present[s] === 1) {
        slotLimit = s + 1;
        break;
      }
    }
    const R = this.params.maxDegree;
    const p = this.params;
    return {
      dim: this.dim,
      metric: this.metric,
      maxDegree: R,
      buildListSize: p.buildListSize,
      alpha: p.alpha,
      efSearch: p.efSearch,
      pqSampleSize: p.pqSampleSize,
      seed: p.seed,
      pq: { m: pq.m, offsets: pq.offsets.slice(), centroids: pq.centroids.slice() },
      slotLimit,
      entry: this.graph.entry,
      present: this.graph.present.slice(0, slotLimit),
      deleted: this.graph.deleted.slice(0, slotLimit),
      degrees: this.graph.degrees.slice(0, slotLimit),
      stride: this.graph.stride,
      adjacency: this.graph.adjacencyCopy(slotLimit),
      codes: this.codes!.codes().slice(0, slotLimit * pq.m),
    };
  }

  /** Rebuilds an index from a {@link snapshot}. */
  static restore(snapshot: AnnIndexSnapshot, full: FullPrecision): AnnIndex {
    const params: AnnIndexParams = {
      maxDegree: snapshot.maxDegree,
      buildListSize: snapshot.buildListSize,
      alpha: snapshot.alpha,
      efSearch: snapshot.efSearch,
      pqSampleSize: snapshot.pqSampleSize,
      seed: snapshot.seed,
      pqSubspaces: snapshot.pq.m,
    };
    const index = new AnnIndex(snapshot.dim, snapshot.metric, params, full);
    index.setQuantizer({ dim: snapshot.dim, m: snapshot.pq.m, offsets: snapshot.pq.offsets, centroids: snapshot.pq.centroids });
    const n = snapshot.slotLimit;
    const lists = snapshot.adjacency;
    // Lists mapped from the index file in this graph's layout are taken as they are (copy-on-write:
    // they stay file pages until a node's list changes); anything else is copied.
    const mapped = lists.buffer instanceof SharedArrayBuffer && !isGrowable(lists.buffer) && snapshot.stride === index.graph.stride;
    if (mapped) index.graph.adoptAdjacency(lists.buffer as SharedArrayBuffer);
    index.graph.reserve(Math.max(n, 1));
    index.graph.present.set(snapshot.present);
    index.graph.deleted.set(snapshot.deleted);
    index.graph.degrees.set(snapshot.degrees);
    if (!mapped) index.graph.loadAdjacency(lists, snapshot.stride, n);
    index.graph.entry = snapshot.entry;
    index.graph.recount();
    index.codes!.loadCodes(snapshot.codes, n);
    return index;
  }

  /**
   * Trains the quantizer on up to `pqSampleSize` of `slots` (seeded sample), leaving the graph empty
   * so slots can be added one by one with {@link insert}.
   */
  train(slots: readonly number[]): void {
    const random = mulberry32(this.params.seed);
    const sampleSize = Math.min(slots.length, this.params.pqSampleSize);
    const picked = [...slots];
    for (let i = 0; i < sampleSize; i++) {
      const j = i + Math.floor(random() * (picked.length - i));
      [picked[i], picked[j]] = [picked[j]!, picked[i]!];
    }
    const sample = new Float32Array(sampleSize * this.dim);
    for (let i = 0; i < sampleSize; i++) sample.set(this.full.vector(picked[i]!), i * this.dim);
    this.setQuantizer(trainProductQuantizerFast(sample, this.dim, { m: this.params.pqSubspaces, random }));
  }

  /**
   * PQ distances from the stored vector of `slot`: the cheap guide a build search walks on (the
   * visited set is then measured at full precision for pruning, as DiskANN's PQ-based build does).
   */
  private guideFrom(slot: number): DistanceFromQuery {
    const codes = this.codes!;
    codes.setQuery(this.full.vector(slot), this.tableKind);
    return codes.distances;
  }

  /** Releases the WebAssembly memory of the codes. */
  dispose(): void {
    this.codes?.dispose();
    this.codes = undefined;
  }

  private setQuantizer(pq: ProductQuantizer): void {
    this.codes?.dispose();
    this.pq = pq;
    this.codes = new PQCodeStore(pq.m);
    this.codes.setQuantizer(pq);
  }

  /** The slot nearest the mean of a sample: a central entry point (DiskANN starts at the medoid). */
  private medoid(order: readonly number[]): number {
    const probe = Uint32Array.from(order.slice(0, Math.min(order.length, 4096)));
    const mean = new Float32Array(this.dim);
    for (const slot of probe) {
      const v = this.full.vector(slot);
      for (let j = 0; j < this.dim; j++) mean[j]! += v[j]! / probe.length;
    }
    const d = this.full.toQuery(mean, probe);
    let best = 0;
    for (let i = 1; i < d.length; i++) if (d[i]! < d[best]!) best = i;
    return probe[best]!;
  }
}
