/**
 * Keeps a collection's DiskANN index in step with its records. Small collections are searched
 * exactly; once `threshold` records exist the quantizer is trained and records join the graph in
 * the background, in short time slices. Until a record has joined, exact search over the
 * not-yet-indexed tail keeps it visible, so an acknowledged write is found by the very next search.
 *
 * INVARIANT: while `ann` exists, every live slot is either searchable through it (`ann.has`) or in
 * `unindexed`; a slot whose vector changed leaves the graph (tombstone) and re-enters `unindexed`.
 */
import fs from "node:fs";
import { AnnIndex, type AnnIndexParams, type BuildProgress, type FilteredSearch, type FullPrecision, type IndexHits, defaultAnnIndexParams } from "../graph/ann-index.js";
import type { BuildHelpers } from "../graph/batch-build.js";
import {
  type AnnIndexSnapshot,
  type DeferredChecksums,
  mapAnnAdjacency,
  readAnnIndexFile,
  verifyDeferredChecksums,
  writeAnnIndexFile,
} from "../storage/ann-index-file.js";
import type { Metric } from "../types.js";
import type { VectorArena } from "../vector/vector-arena.js";
import type { RecordTable } from "./record-table.js";

/** Index settings of a collection. */
export interface IndexSettings {
  /** Records needed before the index is built; below it search is exact. */
  threshold: number;
  /** Overrides of the index parameters. */
  params?: Partial<AnnIndexParams>;
}

/** How {@link CollectionIndex.buildAll} coordinates with search threads. */
export interface BuildThreads {
  /** Runs a change to the live index with no search thread reading it. */
  exclusive<T>(fn: () => T): T;
  /** Threads that help plan a fresh bulk build. */
  helpers?: BuildHelpers;
}

/**
 * Index files at least this large have their checksums computed on a worker thread while the rest of
 * the folder loads ({@link CollectionIndex.verifyLoaded}); smaller ones are checked as they are read
 * (a worker's start-up would cost more). `OMENDB_INDEX_CHECK_THREAD_BYTES` overrides it (tests).
 */
const CHECK_THREAD_BYTES = 64 * 1024 * 1024;

function checkThreadBytes(): number {
  const override = process.env["OMENDB_INDEX_CHECK_THREAD_BYTES"];
  return override !== undefined && override !== "" && Number(override) >= 0 ? Number(override) : CHECK_THREAD_BYTES;
}

/** Consolidate when this share of the graph is deleted. */
const CONSOLIDATE_RATIO = 0.1;

/** The index of one collection and its maintenance. */
export class CollectionIndex {
  ann: AnnIndex | undefined;
  readonly unindexed = new Set<number>();
  private dirty = false;
  private readonly full: FullPrecision;
  /** The index the last {@link snapshotIfChanged} copied. */
  private snapshotOf: AnnIndex | undefined;
  /** Checksums {@link load} left to a worker thread, until {@link verifyLoaded}. */
  private pendingCheck: Promise<void> | undefined;

  constructor(
    private readonly dim: number,
    private readonly metric: Metric,
    private readonly arena: VectorArena,
    private readonly table: RecordTable,
    private readonly file: string,
    private readonly settings: IndexSettings,
  ) {
    this.full = {
      vector: (slot) => arena.storedVector(slot),
      fromSlot: arena,
      toQuery: (query, slots) => arena.distancesTo(query, slots),
      share: () => arena.share(),
    };
  }

  /**
   * Loads the index file written by the last checkpoint, if any (before WAL replay). A large file's
   * checksums are left to a worker thread: call {@link verifyLoaded} before trusting the index.
   */
  load(): void {
    if (!fs.existsSync(this.file)) return;
    const deferChecksums =
      fs.statSync(this.file).size >= checkThreadBytes()
        ? (pending: DeferredChecksums) => {
            this.pendingCheck = verifyDeferredChecksums(pending);
            this.pendingCheck.catch(() => undefined); // settled by verifyLoaded; not an unhandled rejection meanwhile
          }
        : undefined;
    // The neighbour lists are mapped, not read: the graph's largest part stays in the page cache.
    this.ann = AnnIndex.restore(readAnnIndexFile(this.file, { dim: this.dim, metric: this.metric }, { mapAdjacency: true, deferChecksums }), this.full);
  }

  /**
   * Waits for the checksums {@link load} left to a worker thread.
   * @throws CorruptionError when the index file fails them (as a read that computed them would).
   */
  async verifyLoaded(): Promise<void> {
    const pending = this.pendingCheck;
    this.pendingCheck = undefined;
    await pending;
  }

  /** After replay and vector loading: drop graph nodes that are gone, queue live slots not in it. */
  reconcile(): void {
    const ann = this.ann;
    if (ann === undefined) return;
    for (let s = 0; s < ann.graph.capacity; s++) {
      if (ann.graph.present[s] === 1 && this.table.idAt(s) === undefined) ann.remove(s);
    }
    this.table.forEachLive((slot) => {
      if (!ann.has(slot)) this.unindexed.add(slot);
    });
  }

  /** The vectors of `slots` changed (new or replaced records). */
  /** The record count at which the index is built. */
  get threshold(): number {
    return this.settings.threshold;
  }

  noteUpsert(slots: readonly number[]): void {
    const ann = this.ann;
    if (ann === undefined) return;
    for (const slot of slots) {
      if (ann.has(slot)) ann.remove(slot);
      this.unindexed.add(slot);
    }
    this.dirty = true;
  }

  /** The records at `slots` were deleted. */
  noteDelete(slots: readonly number[]): void {
    const ann = this.ann;
    if (ann === undefined) return;
    for (const slot of slots) {
      ann.remove(slot);
      this.unindexed.delete(slot);
    }
    this.dirty = true;
  }

  /** True while background work remains: training, joining the graph or consolidating. */
  hasWork(): boolean {
    if (this.ann === undefined) return this.table.size >= this.settings.threshold;
    return this.unindexed.size > 0 || this.needsConsolidation();
  }

  /** Does up to `budgetMs` of background work. */
  step(budgetMs: number): void {
    const deadline = performance.now() + budgetMs;
    if (this.ann === undefined) {
      if (this.table.size < this.settings.threshold) return;
      this.start();
      return; // training took this slice
    }
    const ann = this.ann;
    for (const slot of this.unindexed) {
      ann.insert(slot);
      this.unindexed.delete(slot);
      this.dirty = true;
      if (performance.now() >= deadline) return;
    }
    if (this.needsConsolidation()) {
      ann.consolidate();
      this.dirty = true;
    }
  }

  /**
   * Brings the index up to date now: a fresh bulk build when none exists (or when the graph
   * would be mostly rebuilt anyway), else joins every waiting slot and consolidates deletions.
   */
  buildAll(progress?: BuildProgress, threads: BuildThreads = { exclusive: (fn) => fn() }): void {
    if (this.table.size === 0) return;
    const live: number[] = [];
    this.table.forEachLive((slot) => live.push(slot));
    if (this.ann === undefined || this.unindexed.size > live.length / 2) {
      // A new index is private until installed: built without holding off searches of the old one.
      const ann = new AnnIndex(this.dim, this.metric, this.params(), this.full);
      ann.build(live, progress, threads.helpers);
      threads.exclusive(() => {
        this.ann?.dispose();
        this.ann = ann;
        this.unindexed.clear();
        this.dirty = true;
      });
      return;
    }
    threads.exclusive(() => {
      const ann = this.ann!;
      const total = this.unindexed.size;
      let done = 0;
      for (const slot of this.unindexed) {
        ann.insert(slot);
        if (++done % 1024 === 0) progress?.("link", done, total);
      }
      this.unindexed.clear();
      if (ann.deletedCount() > 0) ann.consolidate();
      this.dirty = true;
    });
  }

  /**
   * Nearest indexed slots to a query (unit-normalised for cosine), exact distances, ascending.
   * Slots in `unindexed` are not covered: callers scan them exactly. `filter`: see `FilteredSearch`.
   */
  search(query: Float32Array, k: number, efSearch: number | undefined, filter?: FilteredSearch): IndexHits {
    return this.ann!.search(query, k, efSearch, filter);
  }

  /** The `k` of `candidates` nearest to a query (unit-normalised for cosine), exact distances, ascending. */
  rerank(query: Float32Array, k: number, candidates: Uint32Array): IndexHits {
    return this.ann!.rerank(query, k, candidates);
  }

  /** A copy of the index for the checkpoint, or undefined when nothing changed since the last one. */
  snapshotIfChanged(): AnnIndexSnapshot | undefined {
    if (!this.dirty || this.ann === undefined || this.ann.pq === undefined) return undefined;
    this.dirty = false;
    this.snapshotOf = this.ann;
    return this.ann.snapshot();
  }

  /**
   * After {@link persist}, with no search running: the graph's lists move onto the file just written,
   * mapped copy-on-write, keeping every list as it is now (lists changed since the snapshot are copied
   * over). Lists built in this process leave private memory for the page cache, and the file mapped
   * before is let go. Nothing happens when the index was replaced since the snapshot, or without the
   * memory-map addon. Returns the number of lists copied, or undefined when nothing was mapped.
   */
  rebaseOnFile(snapshot: AnnIndexSnapshot): number | undefined {
    const ann = this.ann;
    if (ann === undefined || ann !== this.snapshotOf || snapshot.stride !== ann.graph.stride) return undefined;
    const buffer = mapAnnAdjacency(this.file, snapshot);
    return buffer === undefined ? undefined : ann.graph.rebaseAdjacency(buffer, snapshot.slotLimit);
  }

  /** Writes a snapshot taken by {@link snapshotIfChanged} (atomically replacing the old file). */
  async persist(snapshot: AnnIndexSnapshot): Promise<void> {
    try {
      await writeAnnIndexFile(this.file, snapshot);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** Releases the index's memory. */
  dispose(): void {
    this.ann?.dispose();
    this.ann = undefined;
  }

  /** Deletes the index file (the collection was deleted). */
  removeFile(): void {
    fs.rmSync(this.file, { force: true });
  }

  private start(): void {
    const live: number[] = [];
    this.table.forEachLive((slot) => live.push(slot));
    const ann = new AnnIndex(this.dim, this.metric, this.params(), this.full);
    ann.train(live);
    this.ann = ann;
    for (const slot of live) this.unindexed.add(slot);
    this.dirty = true;
  }

  private needsConsolidation(): boolean {
    const ann = this.ann;
    if (ann === undefined) return false;
    const deleted = ann.deletedCount();
    return deleted > 0 && deleted >= CONSOLIDATE_RATIO * ann.size();
  }

  private params(): AnnIndexParams {
    return { ...defaultAnnIndexParams(this.dim), ...this.settings.params };
  }
}
