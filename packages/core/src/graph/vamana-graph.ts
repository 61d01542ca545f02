/**
 * A Vamana proximity graph (Subramanya et al., "DiskANN", NeurIPS 2019, §2) with the incremental
 * insert and delete consolidation of Fresh-DiskANN (Singh et al., 2021, §4).
 *
 * The graph sees vectors only through distance callbacks (`graph-store.ts`), so the same code builds
 * with full-precision distances and searches over PQ codes.
 *
 * INVARIANTS: every node has at most `stride` out-edges (`maxDegree` plus slack, see
 * {@link SLACK_SHARE}) and at most `maxDegree` after {@link VamanaGraph.trim}; no self-loops; no
 * duplicate edges; after `consolidate()` no live node points at a deleted one; the entry point is a
 * live node whenever any node is live.
 *
 * Sharing: the adjacency, degrees, flags and entry point live in shared buffers, so search threads
 * search the owner's graph in place ({@link VamanaGraph.share}, {@link VamanaGraph.attach}) while
 * the owner changes it under the database's read/write gate. Each thread has its own visited stamps
 * and candidate list. The adjacency buffer is growable, or (after {@link VamanaGraph.adoptAdjacency})
 * a fixed buffer as long as the graph can ever need: the index file's lists mapped copy-on-write.
 */
import { ErrorCode, OmenDBError } from "../errors.js";
import { type GrowableSharedBuffer, growableSharedBuffer, isGrowable, wholeUnitBytes } from "../internal/growable-shared-buffer.js";
import { CandidateList } from "./candidate-list.js";
import type { DistanceFromQuery, SlotDistances } from "./graph-store.js";

/** Graph construction parameters. */
export interface VamanaParams {
  /** Most out-edges per node (R). Default 64. */
  maxDegree: number;
  /** Candidate list size while inserting (L). Default 100. */
  buildListSize: number;
  /** Pruning slack (α ≥ 1); larger keeps longer edges. Default 1.2. */
  alpha: number;
}

/**
 * Share of a full neighbour list that robust pruning fills with the farthest surviving candidates
 * instead of the nearest. Where distances concentrate (tight clusters in high dimensions), α-pruning
 * removes almost nothing inside a cluster, so truncating to the R nearest keeps only in-cluster edges
 * and every back-edge into a newly reached cluster is dropped: clusters larger than R become islands
 * no search can leave. Reserving the tail for long edges keeps them connected; on data where pruning
 * already leaves fewer than R edges it changes nothing.
 */
const LONG_EDGE_SHARE = 1 / 8;

/**
 * Back-edges may grow a list this share past `maxDegree` before it is pruned back to `maxDegree`
 * (DiskANN's slack factor). Without it, once lists are full every back-edge re-prunes its node, and
 * those prunes were 80% of a 1536-d build's distance computations.
 */
const SLACK_SHARE = 0.3;

/** What {@link VamanaGraph.plan} plans for a node: its first links, a trim of its own list, or a merge of back-edges into it. */
export type PlanMode = "insert" | "trim" | "merge";

/** What {@link VamanaGraph.plan} needs besides the node: distances, α, and the node's own extras. */
export interface PlanInputs {
  fromSlot: SlotDistances;
  alpha: number;
  /** Cheap distances from the node (mode `"insert"`): the search walks on them. */
  guide?: DistanceFromQuery | undefined;
  /** Back-edges to merge into the node's list (mode `"merge"`). */
  extra?: Uint32Array | undefined;
  /** The build's record of each node's last prune. */
  settled?: SettledLists | undefined;
}

/** How many of a candidate list's first entries one earlier prune kept: `near` nearest, `all` in all. */
interface Settled {
  near: number;
  all: number;
}

const NOTHING_SETTLED: Settled = { near: 0, all: 0 };
/** A prune candidate's standing: in the earlier prune's near share, or among its far survivors. */
const NEAR_SETTLED = 2;
const SETTLED = 1;

/**
 * What a bulk build remembers of each node's last prune, so the next prune of that node (a merge
 * of back-edges, or the final trim) skips the cover tests already known to fail. A prune leaves a
 * list of `near` kept nodes, each of which no earlier one covered, then the far survivors, which no
 * near one covered (see {@link LONG_EDGE_SHARE}); back-edges are appended after them. Measured at
 * the same α, "x does not cover y" for a nearer y implies "y does not cover x" (α·d(x, y) >
 * d(p, y) ≥ d(p, x)), so the next prune of the same node need not test any of those entries
 * against its `near` first ones again, only against what is new. The graph is exactly the same
 * either way. In a 20k × 1536 build the merges then measure 2.8× and the final trim 5.1× fewer
 * distances in cover tests, half of all the build's cover distances (181M → 90M).
 *
 * Valid only while every change to a list is a plan recorded here or an appended back-edge, all at
 * one α, over vectors that do not change: one bulk build. Shared by the build's threads: a node's
 * plan records its own entry, which no other plan of the same batch reads, and the build applies
 * every plan it makes.
 */
export class SettledLists {
  private readonly counts: Uint16Array;

  /** `buffer`: 4 bytes per slot, zeroed (nothing settled); see {@link SettledLists.bytes}. */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.counts = new Uint16Array(buffer);
  }

  /** Bytes of the buffer for slots below `slotLimit`. */
  static bytes(slotLimit: number): number {
    return slotLimit * 4;
  }

  /** What `slot`'s last recorded prune left at the start of its list. */
  of(slot: number): Settled {
    return { near: this.counts[2 * slot]!, all: this.counts[2 * slot + 1]! };
  }

  /** Records that `slot`'s list is now the `all` nodes of a prune, the first `near` of them its near share. */
  record(slot: number, near: number, all: number): void {
    this.counts[2 * slot] = near;
    this.counts[2 * slot + 1] = all;
  }
}

/** Defaults from the DiskANN paper's experiments. */
export const DEFAULT_VAMANA_PARAMS: VamanaParams = { maxDegree: 64, buildListSize: 100, alpha: 1.2 };

/** The result of a search: slots ascending by distance. */
export interface SearchHits {
  slots: Uint32Array;
  distances: Float32Array;
}

/** Options of {@link VamanaGraph.search}. */
export interface SearchOptions {
  /** Receives every expanded node with its distance (Vamana's visited set V). */
  visited?: { slots: number[]; distances: number[] };
  /** Only these slots are returned (all are still walked through). */
  admit?: (slot: number) => boolean;
  /** Where the walk starts (default the entry point). */
  start?: number;
  /** Keep what did not fit in the list, so a next search can resume this one. */
  resumable?: boolean;
  /**
   * Continue the previous search of this graph — resumable, same query and `admit`, nothing else
   * searched in between — with the longer list `listSize`: the list keeps what it holds, takes back
   * what the shorter list could not keep, and the walk goes on from there instead of from the start.
   */
  resume?: boolean;
}

/** The shared buffers of a graph, for {@link VamanaGraph.attach} in a search thread. */
export interface GraphShare {
  params: VamanaParams;
  /** Growable, or fixed at the most the graph can hold ({@link VamanaGraph.adoptAdjacency}). */
  adjacency: SharedArrayBuffer;
  degrees: GrowableSharedBuffer;
  present: GrowableSharedBuffer;
  deleted: GrowableSharedBuffer;
  /** Int32 [entry]. */
  meta: SharedArrayBuffer;
}

/** A growable Vamana graph over dense slots. */
export class VamanaGraph {
  /** `stride` neighbour slots per node: node s's out-edges at [s·stride, s·stride + degrees[s]). */
  adjacency: Uint32Array;
  /** Room per node: `maxDegree` plus the back-edge slack. */
  readonly stride: number;
  /** Out-degree per node. */
  degrees: Uint16Array;
  /** 1 for a node present in the graph (inserted and not yet consolidated away). */
  present: Uint8Array;
  /** 1 for a deleted node not yet consolidated (still traversed, never returned). */
  deleted: Uint8Array;
  /** Where every search starts; -1 while the graph is empty. */
  get entry(): number {
    return this.meta[0]!;
  }

  set entry(slot: number) {
    this.meta[0] = slot;
  }

  /** Nodes present (live or deleted-awaiting-consolidation). */
  presentCount = 0;
  /** Nodes marked deleted and not yet consolidated. */
  deletedCount = 0;
  private visitedStamp: Uint32Array;
  private stamp = 0;
  private scratchSlots: Uint32Array;
  private scratchDistances: Float32Array;
  /** Reused by every search (searches never overlap: the graph is used from one thread). */
  private readonly list = new CandidateList(128);
  /** Scratch of {@link setPruned}, grown on demand. */
  private prune = {
    slots: new Uint32Array(256),
    dists: new Float32Array(256),
    order: new Uint32Array(256),
    settled: new Uint8Array(256),
    targets: new Uint32Array(256),
    unsettled: new Uint32Array(256),
    kept: new Uint32Array(0),
    nearCount: 0,
  };

  private readonly buffers: Omit<GraphShare, "params" | "adjacency"> & { adjacency: SharedArrayBuffer };
  private readonly meta: Int32Array;
  /** Slots the adjacency buffer can ever hold (4 GiB of lists). */
  private readonly maxSlots: number;

  /**
   * An empty graph with room for `capacity` slots, or (with `share`) a view of another thread's
   * graph for searching: see {@link VamanaGraph.attach}.
   */
  constructor(readonly params: VamanaParams, capacity = 1024, share?: GraphShare) {
    this.stride = params.maxDegree + Math.ceil(params.maxDegree * SLACK_SHARE);
    this.prune.kept = new Uint32Array(params.maxDegree);
    this.maxSlots = wholeUnitBytes(this.stride * 4) / (this.stride * 4);
    if (share === undefined) {
      const meta = new SharedArrayBuffer(4);
      new Int32Array(meta)[0] = -1;
      this.buffers = {
        adjacency: growableSharedBuffer(capacity * this.stride * 4, this.maxSlots * this.stride * 4),
        degrees: growableSharedBuffer(capacity * 2, this.maxSlots * 2),
        present: growableSharedBuffer(capacity, this.maxSlots),
        deleted: growableSharedBuffer(capacity, this.maxSlots),
        meta,
      };
    } else {
      this.buffers = share;
      capacity = share.degrees.byteLength / 2;
    }
    this.meta = new Int32Array(this.buffers.meta);
    this.adjacency = new Uint32Array(this.buffers.adjacency, 0, capacity * this.stride);
    this.degrees = new Uint16Array(this.buffers.degrees, 0, capacity);
    this.present = new Uint8Array(this.buffers.present, 0, capacity);
    this.deleted = new Uint8Array(this.buffers.deleted, 0, capacity);
    this.visitedStamp = new Uint32Array(capacity);
    const scratch = Math.max(this.stride, params.buildListSize) * 4 + this.stride;
    this.scratchSlots = new Uint32Array(scratch);
    this.scratchDistances = new Float32Array(scratch);
  }

  /** Number of slots the arrays can hold before growing. */
  get capacity(): number {
    return this.degrees.length;
  }

  /** The shared buffers a search thread attaches to (see {@link VamanaGraph.attach}). */
  share(): GraphShare {
    return { params: this.params, ...this.buffers };
  }

  /**
   * A search-only view of the graph behind `share` (another thread's): {@link search} works, the
   * mutating methods must not be called. Call {@link refresh} before each search to follow growth.
   */
  static attach(share: GraphShare): VamanaGraph {
    return new VamanaGraph(share.params, 0, share);
  }

  /** Follows the owner's growth of the shared buffers (cheap when nothing grew). */
  refresh(): void {
    const capacity = this.buffers.degrees.byteLength / 2;
    if (capacity !== this.capacity) this.view(capacity);
  }

  /**
   * Makes room for slots below `limit`.
   * @throws OmenDBError code `CAPACITY` beyond the 4 GiB of neighbour lists a graph can hold.
   */
  reserve(limit: number): void {
    if (limit <= this.capacity) return;
    if (limit > this.maxSlots) {
      throw new OmenDBError(ErrorCode.CAPACITY, `graph: ${limit} nodes of ${this.stride} neighbour slots exceed the 4 GiB a graph can hold (${this.maxSlots} nodes)`);
    }
    let cap = Math.max(this.capacity, 1);
    while (cap < limit) cap *= 2;
    cap = Math.min(cap, this.maxSlots);
    const b = this.buffers;
    // `degrees` last: its length is the capacity attached views follow. An adopted adjacency buffer
    // already spans every slot the graph can hold.
    if (isGrowable(b.adjacency)) b.adjacency.grow(cap * this.stride * 4);
    b.present.grow(cap);
    b.deleted.grow(cap);
    b.degrees.grow(cap * 2);
    this.view(cap);
  }

  /** Recreates the fixed-length views (fast in hot loops) over `capacity` slots. */
  private view(capacity: number): void {
    const b = this.buffers;
    this.adjacency = new Uint32Array(b.adjacency, 0, capacity * this.stride);
    this.degrees = new Uint16Array(b.degrees, 0, capacity);
    this.present = new Uint8Array(b.present, 0, capacity);
    this.deleted = new Uint8Array(b.deleted, 0, capacity);
    const stamps = new Uint32Array(capacity);
    stamps.set(this.visitedStamp.subarray(0, Math.min(capacity, this.visitedStamp.length)));
    this.visitedStamp = stamps;
  }

  /** The out-neighbours of `slot` (a view; valid until the graph changes). */
  neighbors(slot: number): Uint32Array {
    const base = slot * this.stride;
    return this.adjacency.subarray(base, base + this.degrees[slot]!);
  }

  /**
   * Greedy beam search from the entry point (DiskANN Algorithm 1). Returns up to `k` present,
   * non-deleted slots ascending by distance. `listSize` (L) ≥ k trades speed for recall.
   * When `visited` is given, every expanded node and its distance are appended to it (Vamana's V).
   * `admit`, when given, must also hold for a slot to be returned (it is still traversed).
   */
  search(
    distances: DistanceFromQuery,
    k: number,
    listSize: number,
    options: SearchOptions = {},
  ): SearchHits {
    const start = options.start ?? this.entry;
    if (start < 0 || k === 0) return { slots: new Uint32Array(0), distances: new Float32Array(0) };
    const L = Math.max(listSize, k);
    const list = this.list;
    const stride = this.stride;
    const ids = this.scratchSlots;
    const ds = this.scratchDistances;
    let stampOf = this.stamp;
    if (options.resume === true) {
      list.grow(Math.max(L, list.capacity));
    } else {
      list.reset(L, options.resumable === true);
      stampOf = this.nextStamp();
      ids[0] = start;
      distances(ids, 1, ds);
      list.push(start, ds[0]!);
      this.visitedStamp[start] = stampOf;
    }
    const visited = options.visited;
    for (let i = list.next(); i >= 0; i = list.next()) {
      const node = list.slots[i]!;
      if (visited !== undefined) {
        visited.slots.push(node);
        visited.distances.push(list.distances[i]!);
      }
      const base = node * stride;
      const degree = this.degrees[node]!;
      let count = 0;
      for (let j = 0; j < degree; j++) {
        const nb = this.adjacency[base + j]!;
        if (this.visitedStamp[nb] === stampOf) continue;
        this.visitedStamp[nb] = stampOf;
        ids[count++] = nb;
      }
      if (count === 0) continue;
      distances(ids, count, ds);
      for (let j = 0; j < count; j++) list.push(ids[j]!, ds[j]!);
    }
    const outSlots: number[] = [];
    const outDistances: number[] = [];
    for (let i = 0; i < list.size && outSlots.length < k; i++) {
      const s = list.slots[i]!;
      if (this.deleted[s] === 1) continue;
      if (options.admit !== undefined && !options.admit(s)) continue;
      outSlots.push(s);
      outDistances.push(list.distances[i]!);
    }
    return { slots: Uint32Array.from(outSlots), distances: Float32Array.from(outDistances) };
  }

  /**
   * Inserts `slot` (Fresh-DiskANN insert): search for it with full-precision distances, prune the
   * visited set into its out-edges, and add back-edges, pruning any neighbour that overflows.
   */
  insert(slot: number, fromSlot: SlotDistances, alpha = this.params.alpha, guide?: DistanceFromQuery): void {
    this.reserve(slot + 1);
    // Re-inserting the entry point: its edges are about to go, so start from one of its neighbours.
    let start = this.entry;
    let former: Uint32Array | undefined;
    if (this.present[slot] === 1) {
      if (slot === this.entry) start = this.neighbors(slot)[0] ?? this.anyOther(slot);
      former = Uint32Array.from(this.neighbors(slot));
      this.unlink(slot);
      this.deletedCount -= this.deleted[slot]!;
    } else {
      this.presentCount++;
    }
    this.present[slot] = 1;
    this.deleted[slot] = 0;
    this.degrees[slot] = 0;
    if (start < 0 || start === slot) {
      this.entry = slot;
      return;
    }
    const candidates = this.candidatesFor(slot, fromSlot, guide, start);
    this.setPruned(slot, candidates.slots, candidates.distances, fromSlot, alpha);
    this.addBackEdges(slot, fromSlot, alpha);
    if (former !== undefined && former.length > 0) this.rehome(slot, former, fromSlot, alpha);
  }

  /**
   * The out-edges `slot` would get from {@link insert} (mode `"insert"`: a node not yet in the
   * graph), {@link trim} (`"trim"`: its own list pruned back to `maxDegree`) or a prune of its list
   * plus the back-edges `inputs.extra` that did not fit (`"merge"`), written to `out` (length ≥
   * `maxDegree`); returns how many. Reads the graph and never writes it, so search threads plan a
   * batch of nodes at once against one state of the graph (`batch-build.ts`); {@link applyPlan}
   * then links them in order. With `inputs.settled`, the plan skips cover tests that `slot`'s
   * last prune already measured and records this prune there (see {@link SettledLists}).
   */
  plan(slot: number, mode: PlanMode, out: Uint32Array, inputs: PlanInputs): number {
    const { fromSlot, alpha, settled } = inputs;
    const candidates = mode === "insert" ? this.candidatesFor(slot, fromSlot, inputs.guide, this.entry) : { slots: [] as number[], distances: [] as number[] };
    if (mode !== "insert") {
      let current = this.neighbors(slot);
      const extra = mode === "merge" ? inputs.extra : undefined;
      if (extra !== undefined) {
        const both = new Uint32Array(current.length + extra.length);
        both.set(current);
        both.set(extra, current.length);
        current = both;
      }
      if (current.length > 0) {
        const d = new Float32Array(current.length);
        fromSlot.distancesFromSlot(slot, current, current.length, d);
        for (let i = 0; i < current.length; i++) {
          candidates.slots.push(current[i]!);
          candidates.distances.push(d[i]!);
        }
      }
    }
    // An inserted node's list is new; a trimmed or merged one starts with its last prune's result.
    const known = settled !== undefined && mode !== "insert" ? settled.of(slot) : NOTHING_SETTLED;
    const degree = this.selectPruned(slot, candidates.slots, candidates.distances, fromSlot, alpha, false, known);
    settled?.record(slot, this.prune.nearCount, degree);
    out.set(this.prune.kept.subarray(0, degree));
    return degree;
  }

  /**
   * Gives `slot` the out-edges `edges` (from {@link plan}); a slot not yet in the graph joins it.
   * Back-edges are the caller's ({@link addBackEdgesDeferred}).
   */
  applyPlan(slot: number, edges: Uint32Array): void {
    this.reserve(slot + 1);
    if (this.present[slot] !== 1) {
      this.present[slot] = 1;
      this.deleted[slot] = 0;
      this.presentCount++;
    }
    this.adjacency.set(edges, slot * this.stride);
    this.degrees[slot] = edges.length;
  }

  /**
   * Adds `slot`'s back-edges where they fit (new edges beyond a full list go to `overflow`, by the
   * neighbour they point from, for one prune per neighbour — a `"merge"` plan — after the batch).
   */
  addBackEdgesDeferred(slot: number, overflow: Map<number, number[]>): void {
    for (const nb of this.neighbors(slot)) {
      const deg = this.degrees[nb]!;
      const base = nb * this.stride;
      let present = false;
      for (let j = 0; j < deg && !present; j++) present = this.adjacency[base + j] === slot;
      if (present) continue;
      if (deg < this.stride) {
        this.adjacency[base + deg] = slot;
        this.degrees[nb] = deg + 1;
        continue;
      }
      let list = overflow.get(nb);
      if (list === undefined) overflow.set(nb, (list = []));
      list.push(slot);
    }
  }

  /** The nodes whose lists grew past `maxDegree` into the back-edge slack (what {@link trim} prunes). */
  overfull(): number[] {
    const R = this.params.maxDegree;
    const out: number[] = [];
    for (let s = 0; s < this.capacity; s++) if (this.degrees[s]! > R) out.push(s);
    return out;
  }

  /**
   * The nodes a search for `slot`'s own vector expands (Vamana's visited set V), with exact
   * distances. With `guide` (cheap approximate distances from `slot`, e.g. PQ) the search walks on
   * the guide and only V is measured exactly, in one batch.
   */
  private candidatesFor(
    slot: number,
    fromSlot: SlotDistances,
    guide: DistanceFromQuery | undefined,
    start: number,
  ): { slots: number[]; distances: number[] } {
    const visited = { slots: [] as number[], distances: [] as number[] };
    const walk: DistanceFromQuery = guide ?? ((targets, count, out) => fromSlot.distancesFromSlot(slot, targets, count, out));
    this.search(walk, 1, this.params.buildListSize, { visited, start });
    if (guide !== undefined && visited.slots.length > 0) {
      const targets = Uint32Array.from(visited.slots);
      const exact = new Float32Array(targets.length);
      fromSlot.distancesFromSlot(slot, targets, targets.length, exact);
      visited.distances = Array.from(exact);
    }
    return visited;
  }

  /** Marks `slot` deleted: still traversed, never returned, repaired by {@link consolidate}. */
  markDeleted(slot: number): void {
    if (slot < this.capacity && this.present[slot] === 1 && this.deleted[slot] === 0) {
      this.deleted[slot] = 1;
      this.deletedCount++;
    }
  }

  /**
   * Removes every deleted node (Fresh-DiskANN Algorithm 4): each live node that pointed at one is
   * re-pruned over its live neighbours plus the deleted neighbours' live neighbours. Returns the
   * slots removed, which may then be reused.
   */
  consolidate(fromSlot: SlotDistances): number[] {
    const removed: number[] = [];
    for (let s = 0; s < this.capacity; s++) if (this.deleted[s] === 1) removed.push(s);
    if (removed.length === 0) return removed;
    // A deleted entry point hands over to its nearest live out-neighbour (lists are kept nearest
    // first), so searches keep starting near the centre rather than at the lowest live slot.
    let heir = -1;
    if (this.entry >= 0 && this.deleted[this.entry] === 1) {
      for (const nb of this.neighbors(this.entry)) {
        if (this.deleted[nb] !== 1 && this.present[nb] === 1) {
          heir = nb;
          break;
        }
      }
    }
    for (let p = 0; p < this.capacity; p++) {
      if (this.present[p] !== 1 || this.deleted[p] === 1) continue;
      const nbs = this.neighbors(p);
      let touches = false;
      for (let j = 0; j < nbs.length; j++) if (this.deleted[nbs[j]!] === 1) touches = true;
      if (!touches) continue;
      const candidates = new Set<number>();
      for (let j = 0; j < nbs.length; j++) {
        const nb = nbs[j]!;
        if (this.deleted[nb] !== 1) candidates.add(nb);
        else for (const second of this.neighbors(nb)) if (this.deleted[second] !== 1 && second !== p) candidates.add(second);
      }
      const slots = Uint32Array.from(candidates);
      const d = new Float32Array(slots.length);
      if (slots.length > 0) fromSlot.distancesFromSlot(p, slots, slots.length, d);
      this.setPruned(p, slots, d, fromSlot, this.params.alpha, true);
    }
    for (const s of removed) {
      this.present[s] = 0;
      this.deleted[s] = 0;
      this.degrees[s] = 0;
    }
    this.presentCount -= removed.length;
    this.deletedCount = 0;
    if (this.entry >= 0 && this.present[this.entry] !== 1) this.entry = heir >= 0 && this.present[heir] === 1 ? heir : this.anyLive();
    return removed;
  }

  /**
   * Prunes every list longer than `maxDegree` (grown by back-edges into the slack) back to it, as
   * DiskANN does at the end of a build. Returns the number of nodes pruned.
   */
  trim(fromSlot: SlotDistances, alpha = this.params.alpha): number {
    const R = this.params.maxDegree;
    let pruned = 0;
    for (let s = 0; s < this.capacity; s++) {
      if (this.degrees[s]! <= R) continue;
      const candidates = Uint32Array.from(this.neighbors(s));
      const d = new Float32Array(candidates.length);
      fromSlot.distancesFromSlot(s, candidates, candidates.length, d);
      this.setPruned(s, candidates, d, fromSlot, alpha);
      pruned++;
    }
    return pruned;
  }

  /**
   * A copy of the lists of slots below `slotLimit`, {@link stride} entries a node (the index file's
   * layout); entries past a node's degree are whatever they hold (the file writes them as 0).
   */
  adjacencyCopy(slotLimit: number): Uint32Array {
    return this.adjacency.slice(0, slotLimit * this.stride);
  }

  /** Loads lists of `stride` entries a node for slots below `slotLimit` (degrees set first). */
  loadAdjacency(lists: Uint32Array, stride: number, slotLimit: number): void {
    this.reserve(Math.max(slotLimit, 1));
    if (stride === this.stride) {
      this.adjacency.set(lists.subarray(0, slotLimit * stride));
      return;
    }
    for (let s = 0; s < slotLimit; s++) this.adjacency.set(lists.subarray(s * stride, s * stride + this.degrees[s]!), s * this.stride);
  }

  /**
   * Takes `buffer` as the adjacency: {@link stride} entries a node, as long as the most slots the
   * graph can hold (so it never grows), e.g. the index file's lists mapped copy-on-write
   * (`readAnnIndexFile` with `mapAdjacency`). Only on an owner graph before any node is added; the
   * buffer's content becomes the lists (degrees and flags are loaded separately).
   * @throws RangeError when the buffer is growable or shorter than {@link reserve} allows.
   */
  adoptAdjacency(buffer: SharedArrayBuffer): void {
    this.checkListBuffer(buffer, "adoptAdjacency");
    if (this.presentCount !== 0) throw new RangeError("adoptAdjacency: the graph already has nodes");
    this.buffers.adjacency = buffer;
    this.view(this.capacity);
  }

  /**
   * Moves the lists onto `buffer` (as {@link adoptAdjacency} requires: fixed, spanning every slot the
   * graph can hold) whose first `fileSlots` lists are expected to equal this graph's — the lists a
   * checkpoint just wrote, mapped copy-on-write. Every list is kept exactly as it is now: one that
   * differs from the buffer's (changed since the checkpoint, or past `fileSlots`) is copied over, so
   * only those pages become private. Owner graph only, with no search running.
   * @returns the number of lists copied.
   * @throws RangeError when the buffer is growable or too short.
   */
  rebaseAdjacency(buffer: SharedArrayBuffer, fileSlots: number): number {
    this.checkListBuffer(buffer, "rebaseAdjacency");
    const stride = this.stride;
    const current = this.adjacency;
    const next = new Uint32Array(buffer, 0, this.capacity * stride);
    let copied = 0;
    for (let s = 0; s < this.capacity; s++) {
      const degree = this.degrees[s]!;
      if (degree === 0) continue; // entries past a degree are never read
      const base = s * stride;
      let same = s < fileSlots;
      for (let j = base; same && j < base + degree; j++) same = next[j] === current[j];
      if (same) continue;
      next.set(current.subarray(base, base + degree), base);
      copied++;
    }
    this.buffers.adjacency = buffer;
    this.view(this.capacity);
    return copied;
  }

  /** The buffer the lists live in (another one after {@link adoptAdjacency} or {@link rebaseAdjacency}). */
  get listBuffer(): SharedArrayBuffer {
    return this.buffers.adjacency;
  }

  /** @throws RangeError unless `buffer` is fixed and spans every slot the graph can hold. */
  private checkListBuffer(buffer: SharedArrayBuffer, what: string): void {
    const bytes = this.maxSlots * this.stride * 4;
    if (isGrowable(buffer) || buffer.byteLength < bytes) {
      throw new RangeError(`${what}: needs a fixed buffer of at least ${bytes} bytes, got ${isGrowable(buffer) ? "a growable one" : `${buffer.byteLength} bytes`}`);
    }
  }

  /** Recomputes the counters after the arrays were loaded wholesale. */
  recount(): void {
    this.presentCount = 0;
    this.deletedCount = 0;
    for (let s = 0; s < this.capacity; s++) {
      this.presentCount += this.present[s]!;
      this.deletedCount += this.deleted[s]!;
    }
  }

  /** Sets the entry point (the medoid after a bulk build). */
  setEntry(slot: number): void {
    this.entry = slot;
  }

  private anyOther(slot: number): number {
    for (let s = 0; s < this.capacity; s++) if (s !== slot && this.present[s] === 1) return s;
    return -1;
  }

  private anyLive(): number {
    for (let s = 0; s < this.capacity; s++) if (this.present[s] === 1 && this.deleted[s] !== 1) return s;
    return -1;
  }

  /** Drops `slot`'s out-edges (before re-inserting it with a new vector). In-edges heal on consolidation. */
  private unlink(slot: number): void {
    this.degrees[slot] = 0;
  }

  private addBackEdges(slot: number, fromSlot: SlotDistances, alpha: number): void {
    for (const nb of Array.from(this.neighbors(slot))) this.addEdge(nb, slot, fromSlot, alpha);
  }

  /** Adds the edge from → to unless present, re-pruning `from` when it is full. */
  private addEdge(from: number, to: number, fromSlot: SlotDistances, alpha: number): void {
    const deg = this.degrees[from]!;
    const base = from * this.stride;
    for (let j = 0; j < deg; j++) if (this.adjacency[base + j] === to) return;
    if (deg < this.stride) {
      this.adjacency[base + deg] = to;
      this.degrees[from] = deg + 1;
      return;
    }
    const candidates = Uint32Array.from([...this.neighbors(from), to]);
    const d = new Float32Array(candidates.length);
    fromSlot.distancesFromSlot(from, candidates, candidates.length, d);
    this.setPruned(from, candidates, d, fromSlot, alpha);
  }

  /**
   * After `slot` was re-linked, each former out-neighbour it no longer points at may have lost its
   * only in-edge: give it one from the new neighbour of `slot` closest to it (the one that "covered"
   * it in pruning), as Fresh-DiskANN hands an updated point's old edges on.
   */
  private rehome(slot: number, former: Uint32Array, fromSlot: SlotDistances, alpha: number): void {
    const kept = Uint32Array.from(this.neighbors(slot));
    if (kept.length === 0) return;
    const keptSet = new Set(kept);
    const d = new Float32Array(kept.length);
    for (const n of former) {
      if (n === slot || keptSet.has(n) || this.present[n] !== 1) continue;
      fromSlot.distancesFromSlot(n, kept, kept.length, d);
      let best = 0;
      for (let i = 1; i < kept.length; i++) if (d[i]! < d[best]!) best = i;
      this.addEdge(kept[best]!, n, fromSlot, alpha);
    }
  }


  /**
   * RobustPrune (DiskANN Algorithm 2): from candidates sorted by distance to `p`, keep the closest,
   * drop every candidate it "covers" (α·d(kept, c) ≤ d(p, c)), repeat until R are kept. Deleted
   * nodes stay eligible until consolidation (they are still traversed), so a node inserted while
   * tombstones are all it can reach is not left without edges; consolidation excludes them.
   */
  private setPruned(
    p: number,
    slots: ArrayLike<number>,
    dists: ArrayLike<number>,
    fromSlot: SlotDistances,
    alpha: number,
    excludeDeleted = false,
  ): void {
    const degree = this.selectPruned(p, slots, dists, fromSlot, alpha, excludeDeleted);
    this.adjacency.set(this.prune.kept.subarray(0, degree), p * this.stride);
    this.degrees[p] = degree;
  }

  /**
   * Robust prune (DiskANN Algorithm 2, with the long-edge share): chooses `p`'s out-edges from the
   * candidates into `this.prune.kept[0, degree)`, the first `this.prune.nearCount` of them the near
   * share, and returns the degree. `known`: the first entries of `slots` are an earlier prune's
   * result at this α (see {@link SettledLists}). Reads the graph, never writes it.
   */
  private selectPruned(
    p: number,
    slots: ArrayLike<number>,
    dists: ArrayLike<number>,
    fromSlot: SlotDistances,
    alpha: number,
    excludeDeleted: boolean,
    known: Settled = NOTHING_SETTLED,
  ): number {
    const R = this.params.maxDegree;
    if (this.prune.slots.length < slots.length) {
      const n = slots.length * 2;
      this.prune = {
        slots: new Uint32Array(n),
        dists: new Float32Array(n),
        order: new Uint32Array(n),
        settled: new Uint8Array(n),
        targets: new Uint32Array(n),
        unsettled: new Uint32Array(n),
        kept: this.prune.kept,
        nearCount: 0,
      };
    }
    const { slots: cand, dists: candD, order, settled, targets, unsettled, kept } = this.prune;
    // Unique, live candidates other than p (the visited stamps double as a "seen" set here).
    const seen = this.nextStamp();
    this.visitedStamp[p] = seen;
    let n = 0;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (this.visitedStamp[s] === seen || (excludeDeleted && this.deleted[s] === 1)) continue;
      this.visitedStamp[s] = seen;
      cand[n] = s;
      candD[n] = dists[i]!;
      settled[n] = i < known.near ? NEAR_SETTLED : i < known.all ? SETTLED : 0;
      order[n] = n;
      n++;
    }
    const sorted = order.subarray(0, n).sort((a, b) => candD[a]! - candD[b]! || cand[a]! - cand[b]!);
    const near = R - Math.floor(R * LONG_EDGE_SHARE);
    // The kept nodes so far are `targets[0, degree)`, those not in the earlier prune's near share
    // `unsettled[0, fresh)`, both latest first. A candidate is kept unless a kept node covers it
    // (DiskANN's rule), checked lazily as in HNSW's heuristic: candidates past the point where the
    // list is full are never measured, and a check stops at the first covering node. A settled
    // candidate is tested only against the unsettled kept nodes (the others are known not to cover
    // it). Latest first: a covered candidate's cover then turns up after half the distances it took
    // nearest first (the nodes kept last are about as far from p as the candidate; 20k × 1536 build).
    const covered = (ci: number, keptCount: number, freshCount: number): boolean => {
      const limit = candD[ci]! / alpha;
      if (settled[ci] !== 0) return freshCount > 0 && fromSlot.firstWithin(cand[ci]!, unsettled, freshCount, limit) >= 0;
      return keptCount > 0 && fromSlot.firstWithin(cand[ci]!, targets, keptCount, limit) >= 0;
    };
    let degree = 0;
    let fresh = 0;
    let i = 0;
    for (; i < n && degree < near; i++) {
      const ci = sorted[i]!;
      if (covered(ci, degree, fresh)) continue;
      targets.copyWithin(1, 0, degree);
      targets[0] = cand[ci]!;
      if (settled[ci] !== NEAR_SETTLED) {
        unsettled.copyWithin(1, 0, fresh++);
        unsettled[0] = cand[ci]!;
      }
      kept[degree++] = cand[ci]!;
    }
    // Survivors beyond the near share: keep the farthest, not the nearest (see LONG_EDGE_SHARE).
    const nearCount = degree;
    const nearFresh = fresh;
    for (let j = n - 1; j >= i && degree < R; j--) {
      const ci = sorted[j]!;
      if (!covered(ci, nearCount, nearFresh)) kept[degree++] = cand[ci]!;
    }
    this.prune.nearCount = nearCount;
    return degree;
  }

  private nextStamp(): number {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.visitedStamp.fill(0);
      this.stamp = 1;
    }
    return this.stamp;
  }
}
