/**
 * Batch-parallel graph construction (the prefix-doubling batches of ParlayANN, Manohar et al.,
 * 2024): the nodes of one batch are planned — searched for and pruned into out-edges — against one
 * state of the graph, by this thread and any search threads taking items from a shared cursor; then
 * this thread links them in batch order (out-edges, back-edges). A node's plan depends only on the
 * graph before its batch, so the graph is the same whichever thread planned what, and with or
 * without helpers.
 *
 * Shared state (all SharedArrayBuffers, written by the owner between batches only):
 *   control  Int32 [GEN, STOP, COUNT, CURSOR, DONE, MODE, FAILED, PARKED]
 *   slots    u32 × batchMax            the batch
 *   edges    u32 × batchMax × maxDegree   item i's out-edges at [i·maxDegree, +degrees[i])
 *   degrees  i32 × batchMax
 *   extras   u32 × batchMax × maxDegree   item i's extra candidates ("merge") at [starts[i], starts[i+1])
 *   starts   i32 × (batchMax + 1)
 *   settled  the build's {@link SettledLists} (each plan records its own node's entry)
 * α comes with the job, as a number: every thread prunes at exactly the owner's α (a rounded copy
 * once decided a cover test differently on a helper, so the graph depended on who planned what).
 * Protocol: the owner fills slots/COUNT/MODE, zeroes CURSOR and DONE, bumps GEN and
 * notifies; everyone takes items with Atomics.add(CURSOR) until COUNT; each finished item adds to
 * DONE; a helper that finds the cursor past COUNT adds to PARKED; the owner waits for DONE = COUNT
 * and PARKED = helpers, so no helper is still touching the cursor when the next batch resets it.
 * STOP ends the helpers' loop.
 */
import type { VectorShare } from "../vector/vector-reader.js";
import { VectorReader } from "../vector/vector-reader.js";
import { PQReader } from "../quantization/pq-reader.js";
import type { AnnShare } from "./ann-index.js";
import type { DistanceFromQuery } from "./graph-store.js";
import { type PlanMode, SettledLists, VamanaGraph } from "./vamana-graph.js";

const GEN = 0;
const STOP = 1;
const COUNT = 2;
const CURSOR = 3;
const DONE = 4;
const MODE = 5;
const FAILED = 6;
const PARKED = 7;
const CONTROL_INTS = 8;

/** Everything a helper needs for one build (posted to it once). */
export interface BuildJob {
  type: "build";
  ann: AnnShare;
  arena: VectorShare;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  edges: SharedArrayBuffer;
  degrees: SharedArrayBuffer;
  extras: SharedArrayBuffer;
  starts: SharedArrayBuffer;
  settled: SharedArrayBuffer;
  alpha: number;
}

/** Threads that help plan batches: the search pool's workers. */
export interface BuildHelpers {
  /** Number of helper threads. */
  readonly size: number;
  /** Sends `job` to every helper; each then serves batches until STOP. */
  attach(job: BuildJob): void;
}

/** This thread's planning of one node: writes its out-edges to `out`, returns how many. */
export type PlanNode = (slot: number, mode: PlanMode, out: Uint32Array, extra: Uint32Array | undefined) => number;

const MODES: readonly PlanMode[] = ["insert", "trim", "merge"];

/** Plans batches on this thread and, when given, on helper threads. */
export class BatchPlanner {
  private readonly control: Int32Array;
  private readonly slotList: Uint32Array;
  private readonly edgeList: Uint32Array;
  private readonly degreeList: Int32Array;
  private readonly extraList: Uint32Array;
  private readonly starts: Int32Array;
  private readonly helpers: number;

  /**
   * @param maxDegree R: room per item's out-edges
   * @param batchMax the largest batch
   * @param helped the index being built, its vectors, the build's α and settled lists, which the
   *   helpers attach to, and the helpers
   */
  constructor(
    private readonly maxDegree: number,
    readonly batchMax: number,
    helped?: { ann: AnnShare; arena: VectorShare; alpha: number; settled: SettledLists; helpers: BuildHelpers },
  ) {
    const job = {
      type: "build" as const,
      control: new SharedArrayBuffer(CONTROL_INTS * 4),
      slots: new SharedArrayBuffer(batchMax * 4),
      edges: new SharedArrayBuffer(batchMax * maxDegree * 4),
      degrees: new SharedArrayBuffer(batchMax * 4),
      extras: new SharedArrayBuffer(batchMax * maxDegree * 4),
      starts: new SharedArrayBuffer((batchMax + 1) * 4),
    };
    this.control = new Int32Array(job.control);
    this.slotList = new Uint32Array(job.slots);
    this.edgeList = new Uint32Array(job.edges);
    this.degreeList = new Int32Array(job.degrees);
    this.extraList = new Uint32Array(job.extras);
    this.starts = new Int32Array(job.starts);
    this.helpers = helped?.helpers.size ?? 0;
    if (helped !== undefined && this.helpers > 0) helped.helpers.attach({ ...job, ann: helped.ann, arena: helped.arena, alpha: helped.alpha, settled: helped.settled.buffer });
  }

  /**
   * Plans `slots` (at most `batchMax`) against the graph as it is now; `extras[i]` are item i's
   * extra candidates (mode `"merge"`; at most `batchMax × maxDegree` in all). Afterwards
   * {@link edgesOf} gives each item's out-edges.
   * @throws Error when a helper failed on an item (the build cannot continue consistently).
   */
  plan(slots: ArrayLike<number>, mode: PlanMode, self: PlanNode, extras?: readonly (readonly number[])[]): void {
    const c = this.control;
    const count = slots.length;
    for (let i = 0; i < count; i++) this.slotList[i] = slots[i]!;
    this.starts[0] = 0;
    for (let i = 0, at = 0; i < count; i++) {
      const extra = extras?.[i] ?? [];
      for (let j = 0; j < extra.length; j++) this.extraList[at++] = extra[j]!;
      this.starts[i + 1] = at;
    }
    Atomics.store(c, COUNT, count);
    Atomics.store(c, MODE, MODES.indexOf(mode));
    Atomics.store(c, CURSOR, 0);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, PARKED, 0);
    if (this.helpers > 0) {
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
    }
    const R = this.maxDegree;
    for (let i = Atomics.add(c, CURSOR, 1); i < count; i = Atomics.add(c, CURSOR, 1)) {
      const extra = this.starts[i + 1]! > this.starts[i]! ? this.extraList.subarray(this.starts[i]!, this.starts[i + 1]!) : undefined;
      this.degreeList[i] = self(this.slotList[i]!, mode, this.edgeList.subarray(i * R, (i + 1) * R), extra);
      Atomics.add(c, DONE, 1);
    }
    for (let done = Atomics.load(c, DONE); done < count; done = Atomics.load(c, DONE)) Atomics.wait(c, DONE, done, 50);
    for (let parked = Atomics.load(c, PARKED); parked < this.helpers; parked = Atomics.load(c, PARKED)) Atomics.wait(c, PARKED, parked, 50);
    if (Atomics.load(c, FAILED) !== 0) throw new Error("batch build: a helper thread failed to plan a node");
  }

  /** The out-edges planned for item `i` of the last batch. */
  edgesOf(i: number): Uint32Array {
    return this.edgeList.subarray(i * this.maxDegree, i * this.maxDegree + this.degreeList[i]!);
  }

  /** Releases the helpers (they return to serving searches). */
  finish(): void {
    if (this.helpers === 0) return;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
  }
}

/**
 * A helper thread's side: attaches to the index and vectors of `job` and plans items of each batch
 * until the owner stops the build. Blocks this thread meanwhile (the owner is blocked too).
 */
export function serveBuild(job: BuildJob, thread: number): void {
  const c = new Int32Array(job.control);
  const slots = new Uint32Array(job.slots);
  const edges = new Uint32Array(job.edges);
  const degrees = new Int32Array(job.degrees);
  const extras = new Uint32Array(job.extras);
  const starts = new Int32Array(job.starts);
  const graph = VamanaGraph.attach(job.ann.graph);
  const settled = new SettledLists(job.settled);
  const pq = new PQReader(job.ann.pq, thread);
  const arena = new VectorReader(job.arena);
  const R = job.ann.graph.params.maxDegree;
  const kind = job.ann.tableKind;
  const guide = (slot: number): DistanceFromQuery => {
    pq.setQuery(arena.storedVector(slot), kind);
    return pq.distances;
  };
  let gen = 0; // GEN's value when the job was made: a batch posted before this thread got here is still seen
  for (;;) {
    Atomics.wait(c, GEN, gen);
    gen = Atomics.load(c, GEN);
    if (Atomics.load(c, STOP) === 1) {
      arena.close();
      return;
    }
    arena.forgetAll(); // records written between batches must be read again
    graph.refresh();
    const count = Atomics.load(c, COUNT);
    const mode = MODES[Atomics.load(c, MODE)]!;
    for (let i = Atomics.add(c, CURSOR, 1); i < count; i = Atomics.add(c, CURSOR, 1)) {
      try {
        const slot = slots[i]!;
        const extra = starts[i + 1]! > starts[i]! ? extras.subarray(starts[i]!, starts[i + 1]!) : undefined;
        const guided = mode === "insert" ? guide(slot) : undefined;
        degrees[i] = graph.plan(slot, mode, edges.subarray(i * R, (i + 1) * R), { fromSlot: arena, alpha: job.alpha, guide: guided, extra, settled });
      } catch {
        Atomics.store(c, FAILED, 1);
      }
      if (Atomics.add(c, DONE, 1) + 1 === count) Atomics.notify(c, DONE);
    }
    Atomics.add(c, PARKED, 1);
    Atomics.notify(c, PARKED);
  }
}
