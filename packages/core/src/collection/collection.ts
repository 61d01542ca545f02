/**
 * A named set of records with one dimension and metric. Writes are validated whole, logged to the
 * WAL and applied only once durable; reads see every acknowledged write and never half a batch.
 */
import { AlreadyExistsError, ClosedError, ErrorCode, ValidationError } from "../errors.js";
import type { FilterNode, Where } from "../filter/filter-ast.js";
import type { FilterMatch } from "../filter/filter-index.js";
import { parseFilter } from "../filter/parse-filter.js";
import type {
  CollectionInfo,
  GetOptions,
  Metadata,
  Metric,
  RecordInput,
  SearchOptions,
  SearchResult,
  StoredRecord,
} from "../types.js";
import type { BuildProgress } from "../graph/ann-index.js";
import type { SearchPool } from "./search-pool.js";
import type { SearchHits } from "../graph/vamana-graph.js";
import { normalize, scoreFor } from "../vector/distance.js";
import type { CollectionStore } from "./collection-store.js";
import { describe, validateIds, validateRecords, validateVector, type ValidRecord } from "./validate-records.js";
import { OP_DELETE, OP_UPSERT, encodeDelete, encodeUpsert } from "./write-ops.js";

/** How one search was answered; see {@link Collection.explain}. */
export interface SearchPlan {
  plan: "exact" | "exact-filtered" | "index" | "index-filtered" | "exact-fallback" | "filter-empty";
  /** Records that passed the filter (all records without one). */
  matched: number;
  /** Final candidate list size of the index search. */
  efSearch?: number;
  /** Times the candidate list was widened because the filter starved it. */
  widenings?: number;
  /** Records not yet in the index that were scanned exactly. */
  tail?: number;
  /** True when a search thread of the database's pool ran the index search. */
  onPool?: boolean;
}

/** What a record predicate sees. */
export interface RecordView {
  id: string;
  document: string | null;
  metadata: Metadata;
}

/** An arbitrary test applied after `filter`, e.g. a LangChain function filter. */
export type RecordPredicate = (record: RecordView) => boolean;

/** Options that select records: a filter, a predicate, or both (both must pass). */
export interface MatchOptions {
  filter?: Where;
  predicate?: RecordPredicate;
}

/** @internal What a collection needs from the database that owns it. */
export interface CollectionHost {
  /** Logs an operation and applies it once durable; resolves with `apply`'s result. */
  submit<T>(type: number, payload: Uint8Array, apply: (lsn: number) => T): Promise<T>;
  /** Renames a collection and/or replaces its metadata in the catalogue. */
  modifyCollection(collection: Collection, changes: { name?: string; metadata?: Metadata }): void;
  /** Runs `fn` (which changes shared index or vector memory) with no search thread reading. */
  exclusive<T>(fn: () => T): T;
  /** The database's search threads, when it has any. */
  readonly searchPool: SearchPool | undefined;
}

/** A collection of records. Obtain one from `OmenDB.createCollection` / `getCollection`. */
export class Collection {
  private closedBecause: string | undefined;
  private lastPlan: SearchPlan = { plan: "exact", matched: 0 };
  private readonly pendingIds = new Map<string, number>();
  private pendingWrites = 0;
  private idleWaiters: (() => void)[] = [];

  /** @internal */
  constructor(
    private readonly host: CollectionHost,
    private readonly info_: CollectionInfo,
    /** @internal */ readonly store: CollectionStore,
  ) {}

  /** The collection's name. */
  get name(): string {
    return this.info_.name;
  }
  /** A stable unique id assigned at creation. */
  get uuid(): string {
    return this.info_.uuid;
  }
  /** Vector length. */
  get dimension(): number {
    return this.info_.dimension;
  }
  /** How vectors are compared; see {@link Metric}. */
  get metric(): Metric {
    return this.info_.metric;
  }
  /** The collection's own metadata (a copy). */
  get metadata(): Metadata {
    return structuredClone(this.info_.metadata);
  }

  /** A snapshot of the collection's description. */
  info(): CollectionInfo {
    return { ...this.info_, metadata: this.metadata };
  }

  /**
   * Inserts records, replacing any stored record with the same id (vector, document and metadata).
   * Resolves once the batch is durable (per the database's durability mode) and visible to reads.
   * @throws ValidationError (DIMENSION_MISMATCH, INVALID_VECTOR, INVALID_ID, INVALID_METADATA,
   *   INVALID_DOCUMENT) — the whole batch is rejected and nothing is written.
   * @throws ClosedError after `close()` or `deleteCollection`.
   */
  async upsert(records: readonly RecordInput[]): Promise<void> {
    this.assertOpen();
    const valid = validateRecords(this.name, this.dimension, records);
    if (valid.length === 0) return;
    await this.writeUpsert(valid);
  }

  /**
   * Inserts new records.
   * @throws AlreadyExistsError code ID_EXISTS when any id is already stored; nothing is written.
   * @throws ValidationError and ClosedError as {@link upsert}.
   */
  async add(records: readonly RecordInput[]): Promise<void> {
    this.assertOpen();
    const valid = validateRecords(this.name, this.dimension, records);
    if (valid.length === 0) return;
    // An id with a write in flight may be about to exist (or vanish): decide after it lands.
    while (valid.some((r) => this.pendingIds.has(r.id))) await this.idle();
    this.assertOpen();
    const taken = valid.find((r) => this.store.table.slotOf(r.id) !== undefined);
    if (taken !== undefined) {
      throw new AlreadyExistsError(ErrorCode.ID_EXISTS, `collection "${this.name}": id "${taken.id}" already exists; use upsert to replace it`);
    }
    await this.writeUpsert(valid);
  }

  /**
   * Reads records by id, in the order asked; ids that are not stored are skipped.
   * @throws ValidationError code INVALID_ID for a non-string or empty id.
   */
  get(ids: readonly string[], options?: { includeVector?: boolean }): Promise<StoredRecord[]>;
  /**
   * Reads the records matching a filter and/or predicate, in insertion order, after skipping
   * `offset` and up to `limit` of them.
   * @throws ValidationError code INVALID_FILTER or INVALID_OPTION.
   */
  get(options?: GetOptions & MatchOptions): Promise<StoredRecord[]>;
  async get(idsOrOptions?: readonly string[] | (GetOptions & MatchOptions), options?: { includeVector?: boolean }): Promise<StoredRecord[]> {
    this.assertOpen();
    if (Array.isArray(idsOrOptions)) {
      const ids = validateIds(this.name, idsOrOptions);
      const includeVector = readBoolean(this.name, options?.includeVector, "includeVector");
      const slots: number[] = [];
      for (const id of ids) {
        const slot = this.store.table.slotOf(id);
        if (slot !== undefined) slots.push(slot);
      }
      return this.records(slots, includeVector);
    }
    const opts = (idsOrOptions ?? {}) as GetOptions & MatchOptions;
    checkOptionsObject(this.name, opts, "get options");
    const includeVector = readBoolean(this.name, opts.includeVector, "includeVector");
    const offset = readCount(this.name, opts.offset, "offset") ?? 0;
    const limit = readCount(this.name, opts.limit, "limit") ?? Number.POSITIVE_INFINITY;
    const slots = this.matchingSlots(opts);
    slots.sort((a, b) => this.store.table.seqAt(a) - this.store.table.seqAt(b));
    return this.records(slots.slice(offset, offset + limit), includeVector);
  }

  /**
   * Deletes records by id and returns how many existed. Unknown ids are a no-op.
   */
  delete(ids: readonly string[]): Promise<number>;
  /**
   * Deletes every record matching a filter and/or predicate (evaluated when called) and returns
   * how many were deleted. An empty options object deletes nothing; use `{ filter: {} }` for all.
   */
  delete(options: MatchOptions): Promise<number>;
  async delete(idsOrOptions: readonly string[] | MatchOptions): Promise<number> {
    this.assertOpen();
    let ids: string[];
    if (Array.isArray(idsOrOptions)) {
      ids = [...new Set(validateIds(this.name, idsOrOptions))];
    } else {
      const opts = idsOrOptions as MatchOptions;
      checkOptionsObject(this.name, opts, "delete options");
      if (opts.filter === undefined && opts.predicate === undefined) return 0;
      ids = this.matchingSlots(opts).map((slot) => this.store.table.idAt(slot)!);
    }
    ids = ids.filter((id) => this.store.table.slotOf(id) !== undefined || this.pendingIds.has(id));
    if (ids.length === 0) return 0;
    return this.write(OP_DELETE, encodeDelete(this.store.key, ids), ids, () => this.store.applyDelete(ids));
  }

  /** Counts all records, or those matching a filter and/or predicate. */
  async count(options?: MatchOptions): Promise<number> {
    this.assertOpen();
    if (options === undefined || (options.filter === undefined && options.predicate === undefined)) return this.store.table.size;
    checkOptionsObject(this.name, options, "count options");
    if (options.predicate === undefined) {
      const node = parseFilter(options.filter);
      return node.kind === "all" ? this.store.table.size : this.store.filters.evaluate(node).count;
    }
    return this.matchingSlots(options).length;
  }

  /**
   * The `k` records closest to `vector`, ascending by distance (ties by insertion slot). When at
   * least `k` records match the filter/predicate, exactly `k` come back.
   * @throws ValidationError DIMENSION_MISMATCH / INVALID_VECTOR for a bad query, INVALID_FILTER,
   *   INVALID_OPTION for a bad `k`.
   */
  async search(vector: Float32Array | readonly number[], options: SearchOptions & MatchOptions = {}): Promise<SearchResult[]> {
    this.assertOpen();
    checkOptionsObject(this.name, options, "search options");
    const query = validateVector(this.name, this.dimension, vector, "query");
    const k = readCount(this.name, options.k, "k") ?? 10;
    const includeVector = readBoolean(this.name, options.includeVector, "includeVector");
    const predicate = readPredicate(this.name, options.predicate);
    const node = options.filter === undefined ? undefined : parseFilter(options.filter);
    if (k === 0 || this.store.table.size === 0) return [];
    let candidates: FilterMatch | undefined;
    if (node !== undefined && node.kind !== "all") {
      candidates = this.store.filters.evaluate(node);
      if (candidates.count === 0) {
        this.lastPlan = { plan: "filter-empty", matched: 0 };
        return [];
      }
    }
    const efSearch = readPositive(this.name, options.efSearch, "efSearch");
    const out: SearchResult[] = [];
    if (predicate === undefined) {
      const pool = this.host.searchPool;
      const ann = this.store.index.ann;
      if (pool !== undefined && candidates === undefined && ann !== undefined && ann.size() > 0) {
        return this.results(await this.nearestOnPool(pool, query, k, efSearch), includeVector);
      }
      return this.results(this.nearest(query, k, candidates, efSearch), includeVector);
    }
    // A predicate can only be tested on materialised records: widen until k pass or none are left.
    const available = candidates?.count ?? this.store.table.size;
    for (let fetch = Math.min(available, Math.max(4 * k, 64)); ; fetch = Math.min(available, fetch * 4)) {
      const hits = this.results(this.nearest(query, fetch, candidates, efSearch), includeVector);
      out.length = 0;
      for (let i = 0; i < hits.length && out.length < k; i++) {
        const hit = hits[i]!;
        if (predicate({ id: hit.id, document: hit.document, metadata: hit.metadata })) out.push(hit);
      }
      if (out.length === k || fetch >= available) return out;
    }
  }

  /**
   * Brings the DiskANN index up to date with every record now, instead of in the background: a
   * bulk build the first time, then incremental inserts and consolidation of deletions.
   * Resolves once every acknowledged record is searchable through the index. Runs on the calling
   * thread and blocks it for the duration (minutes for millions of vectors); `onProgress` reports.
   */
  async buildIndex(options: { onProgress?: BuildProgress } = {}): Promise<void> {
    this.assertOpen();
    await this.idle();
    this.assertOpen();
    this.store.index.buildAll(options.onProgress, { exclusive: (fn) => this.host.exclusive(fn), helpers: this.host.searchPool });
  }

  /**
   * Runs a search and reports how it was answered: which plan ran (`exact`, `exact-filtered`,
   * `index`, `index-filtered`, `exact-fallback`, `filter-empty`), how many records matched the
   * filter, the final candidate list size and how often it was widened, and how many not-yet-indexed
   * records were scanned exactly. With a predicate, the plan of the last widening round is reported.
   */
  async explain(vector: Float32Array | readonly number[], options: SearchOptions & MatchOptions = {}): Promise<{ results: SearchResult[]; plan: SearchPlan }> {
    this.lastPlan = { plan: "exact", matched: 0 };
    const results = await this.search(vector, options);
    return { results, plan: { ...this.lastPlan } };
  }

  /**
   * How the collection is searched right now, for diagnostics and benchmarks: records in the index,
   * records waiting to join it (searched exactly meanwhile), deleted records awaiting consolidation,
   * the mode, and `threshold`, the record count at which the index is built.
   */
  indexStatus(): { indexed: number; pending: number; deleted: number; mode: "exact" | "index"; threshold: number } {
    const index = this.store.index;
    const ann = index.ann;
    const threshold = index.threshold;
    if (ann === undefined) return { indexed: 0, pending: this.store.table.size, deleted: 0, mode: "exact", threshold };
    return { indexed: ann.size() - ann.deletedCount(), pending: index.unindexed.size, deleted: ann.deletedCount(), mode: "index", threshold };
  }

  /**
   * Renames the collection and/or replaces its metadata.
   * @throws AlreadyExistsError code COLLECTION_EXISTS when the new name is taken.
   */
  async modify(changes: { name?: string; metadata?: Metadata }): Promise<void> {
    this.assertOpen();
    this.host.modifyCollection(this, changes);
  }

  /** @internal Applies a catalogue change made by the database. */
  setInfo(changes: { name?: string; metadata?: Metadata }): void {
    if (changes.name !== undefined) this.info_.name = changes.name;
    if (changes.metadata !== undefined) this.info_.metadata = structuredClone(changes.metadata);
  }

  /** @internal Resolves once no write of this collection is in flight. */
  idle(): Promise<void> {
    if (this.pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** @internal Makes every later call throw ClosedError with `reason`. */
  markClosed(reason: string): void {
    this.closedBecause ??= reason;
  }

  private assertOpen(): void {
    if (this.closedBecause !== undefined) throw new ClosedError(`collection "${this.name}": ${this.closedBecause}`);
  }

  private writeUpsert(valid: ValidRecord[]): Promise<void> {
    const ids = valid.map((r) => r.id);
    return this.write(OP_UPSERT, encodeUpsert(this.store.key, this.dimension, valid), ids, (lsn) => {
      this.store.applyUpsert(valid, lsn);
    });
  }

  private write<T>(type: number, payload: Uint8Array, ids: readonly string[], apply: (lsn: number) => T): Promise<T> {
    for (const id of ids) this.pendingIds.set(id, (this.pendingIds.get(id) ?? 0) + 1);
    this.pendingWrites++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = this.pendingIds.get(id)! - 1;
        if (n === 0) this.pendingIds.delete(id);
        else this.pendingIds.set(id, n);
      }
      if (--this.pendingWrites === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
    let submitted: Promise<T>;
    try {
      submitted = this.host.submit(type, payload, (lsn) => {
        try {
          return apply(lsn);
        } finally {
          release();
        }
      });
    } catch (err) {
      // Refused before logging (closed or failed database): nothing is in flight.
      release();
      return Promise.reject(err);
    }
    return submitted.catch((err: unknown) => {
      release();
      throw err;
    });
  }

  /**
   * The `n` nearest live slots to `query` among `candidates` (all when absent): exact below the index
   * threshold or for selective filters, else the index plus an exact scan of the not-yet-indexed tail.
   * Records the plan it chose in {@link lastPlan}.
   */
  private nearest(query: Float32Array, n: number, candidates: FilterMatch | undefined, efSearch: number | undefined): SearchHits {
    const arena = this.store.arena;
    const index = this.store.index;
    const total = this.store.table.size;
    const matched = candidates?.count ?? total;
    if (index.ann === undefined || index.ann.size() === 0) {
      this.lastPlan = { plan: "exact", matched };
      return arena.search(query, n, candidates?.slots);
    }
    if (candidates !== undefined && preferExact(candidates.count, total, this.dimension)) {
      this.lastPlan = { plan: "exact-filtered", matched };
      return arena.search(query, n, candidates.slots);
    }
    const unit = this.metric === "cosine" ? normalize(query) : query;
    const admit = candidates === undefined ? undefined : (slot: number) => candidates.has(slot);
    const pending: number[] = [];
    for (const slot of index.unindexed) if (admit === undefined || admit(slot)) pending.push(slot);
    const tail = Uint32Array.from(pending);
    const base = efSearch ?? index.ann.params.efSearch;
    let ef = filteredListSize(base, matched, total);
    // A filter can starve the candidate list (fewer than k matches in it: widen ×4), or leave too few
    // matching candidates to re-rank (widen ×2): fewer than half of what the list holds at the
    // filter's selectivity (the query's own neighbourhood does not match), or fewer than a quarter
    // of `efSearch` (the list's growth was capped). Then fall back to an exact scan. A filtered
    // search only walks (and counts) until it stops widening, each widening resuming the last walk,
    // and re-ranks the final walk's candidates once.
    const want = Math.min(n, matched - tail.length);
    const pool = Math.min(matched - tail.length, Math.max(base / 4, Math.min(base, (ef * matched) / total) / 2));
    let hits = index.search(unit, n, ef, admit && { admit, walkOnly: true });
    let widenings = 0;
    for (; widenings < 3; widenings++) {
      const starved = Math.min(n, hits.pool) < want;
      if (!starved && (admit === undefined || hits.pool >= pool)) break;
      ef *= starved ? 4 : 2;
      hits = index.search(unit, n, ef, admit && { admit, walkOnly: true, resume: true });
    }
    if (admit !== undefined) hits = index.rerank(unit, n, hits.slots);
    if (hits.slots.length < want) {
      this.lastPlan = { plan: "exact-fallback", matched, efSearch: ef, widenings };
      return arena.search(query, n, candidates?.slots);
    }
    this.lastPlan = { plan: candidates === undefined ? "index" : "index-filtered", matched, efSearch: ef, widenings, tail: tail.length };
    if (tail.length === 0) return hits;
    return mergeHits(hits, arena.search(query, n, tail), n);
  }

  /**
   * {@link nearest} without a filter, with the index search run by a search thread. The index may
   * change while that thread searches: its hits still in the index are re-measured now and merged
   * with the exact scan of the records not yet indexed; when too few remain (or no thread could
   * answer), the search runs here instead.
   */
  private async nearestOnPool(pool: SearchPool, query: Float32Array, n: number, efSearch: number | undefined): Promise<SearchHits> {
    const unit = this.metric === "cosine" ? normalize(query) : query;
    const found = await pool.search(this.store.key, unit, n, efSearch);
    this.assertOpen();
    const index = this.store.index;
    const ann = index.ann;
    if (found === undefined || ann === undefined) return this.nearest(query, n, undefined, efSearch);
    const kept = found.slots.filter((slot) => ann.has(slot));
    const tail = Uint32Array.from(index.unindexed);
    const total = this.store.table.size;
    if (kept.length < Math.min(n, total - tail.length)) return this.nearest(query, n, undefined, efSearch);
    const exact = this.store.arena.distancesTo(unit, kept);
    const order = Array.from(exact.keys()).sort((a, b) => exact[a]! - exact[b]! || kept[a]! - kept[b]!);
    const hits = { slots: Uint32Array.from(order, (i) => kept[i]!), distances: Float32Array.from(order, (i) => exact[i]!) };
    this.lastPlan = { plan: "index", matched: total, efSearch: efSearch ?? ann.params.efSearch, widenings: 0, tail: tail.length, onPool: true };
    if (tail.length === 0) return hits;
    return mergeHits(hits, this.store.arena.search(query, n, tail), n);
  }

  private matchingSlots(options: MatchOptions): number[] {
    const predicate = readPredicate(this.name, options.predicate);
    const node = options.filter === undefined ? ({ kind: "all" } as const) : parseFilter(options.filter);
    const slots = this.filterSlots(node);
    if (predicate === undefined) return slots;
    return slots.filter((slot) => {
      const id = this.store.table.idAt(slot)!;
      const document = this.store.table.hasDocumentAt(slot) ? this.store.document(id) : null;
      return predicate({ id, document, metadata: this.store.table.metadataCopyAt(slot) });
    });
  }

  private filterSlots(node: FilterNode): number[] {
    if (node.kind !== "all") return Array.from(this.store.filters.evaluate(node).slots);
    const slots: number[] = [];
    this.store.table.forEachLive((slot) => slots.push(slot));
    return slots;
  }

  /** The stored records at `slots`, in order. */
  private records(slots: ArrayLike<number>, includeVector: boolean): StoredRecord[] {
    return this.materialize(slots, includeVector, undefined);
  }

  /** Search results for hits: their records with distance and score. */
  private results(hits: SearchHits, includeVector: boolean): SearchResult[] {
    return this.materialize(hits.slots, includeVector, hits.distances) as SearchResult[];
  }

  /** Records at `slots`, in order (with distance and score when `distances` is given): documents read in one batch, metadata copied. */
  private materialize(slots: ArrayLike<number>, includeVector: boolean, distances: Float32Array | undefined): StoredRecord[] {
    const table = this.store.table;
    const ids = Array.from(slots, (slot) => table.idAt(slot)!);
    // Only records that have a document are looked up in SQLite (ids-and-vectors collections never are).
    const documented = ids.filter((_, i) => table.hasDocumentAt(slots[i]!));
    const found = documented.length > 0 ? this.store.documents(documented) : [];
    const out = new Array<StoredRecord>(ids.length);
    for (let i = 0, next = 0; i < ids.length; i++) {
      const slot = slots[i]!;
      const id = ids[i]!;
      const document = table.hasDocumentAt(slot) ? found[next++]! : null;
      const metadata = table.metadataCopyAt(slot);
      const record: StoredRecord =
        distances === undefined ? { id, document, metadata } : ({ id, document, metadata, distance: distances[i]!, score: scoreFor(this.metric, distances[i]!) } as SearchResult);
      if (includeVector) record.vector = this.store.vectors.read(slot);
      out[i] = record;
    }
    return out;
  }
}

function checkOptionsObject(collection: string, options: unknown, what: string): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${collection}": ${what} must be an object, got ${describe(options)}`);
  }
}

function readCount(collection: string, value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${collection}": ${name} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

function readBoolean(collection: string, value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${collection}": ${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

function readPositive(collection: string, value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${collection}": ${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/**
 * The candidate list size of a filtered index search: a list of L nodes holds about L · selectivity
 * matching ones, so the list grows by 1 / selectivity to re-rank as many matching candidates as an
 * unfiltered search of `efSearch` would — at most {@link MAX_FILTER_LIST_GROWTH}×, since a walk's
 * time grows with its list (widenings take over below a third).
 */
function filteredListSize(efSearch: number, matched: number, total: number): number {
  if (matched >= total || total === 0) return efSearch;
  return Math.ceil(efSearch * Math.min(MAX_FILTER_LIST_GROWTH, total / Math.max(matched, 1)));
}

/**
 * 3, not more: on the synthetic 1536-d set at 10% selectivity (`pnpm bench:filtered`, 2026-11-27),
 * lists of up to 8 × `efSearch` gave recall@10 0.9997 at 3.4× the unfiltered p99; 3× (with the
 * quarter-of-`efSearch` floor of the widening rule) 0.990 at 2.8–2.9×, and at 5% 0.990 at 4.7×
 * instead of 0.994 at 7.1×.
 */
const MAX_FILTER_LIST_GROWTH = 3;

/**
 * Whether an exact scan of `matches` filtered records beats a filtered graph search: when the
 * filter keeps under 2% of the records, or the matching vectors total under 2M floats (8 MB).
 */
function preferExact(matches: number, total: number, dimension: number): boolean {
  return matches < total * 0.02 || matches * dimension <= 2_000_000;
}

/** The `n` best of two ascending hit lists, ties by slot. */
function mergeHits(a: SearchHits, b: SearchHits, n: number): SearchHits {
  const size = Math.min(n, a.slots.length + b.slots.length);
  const slots = new Uint32Array(size);
  const distances = new Float32Array(size);
  let i = 0;
  let j = 0;
  for (let o = 0; o < size; o++) {
    const takeA =
      j >= b.slots.length ||
      (i < a.slots.length && (a.distances[i]! < b.distances[j]! || (a.distances[i] === b.distances[j] && a.slots[i]! < b.slots[j]!)));
    if (takeA) {
      slots[o] = a.slots[i]!;
      distances[o] = a.distances[i++]!;
    } else {
      slots[o] = b.slots[j]!;
      distances[o] = b.distances[j++]!;
    }
  }
  return { slots, distances };
}

function readPredicate(collection: string, value: unknown): RecordPredicate | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `collection "${collection}": predicate must be a function, got ${describe(value)}`);
  }
  return value as RecordPredicate;
}
