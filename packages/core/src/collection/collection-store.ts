/**
 * Everything one collection stores, kept in step: SQLite rows (ids, documents, metadata), the vector
 * file (full-precision vectors by slot), the in-memory record table and the vector arena that exact
 * search and re-ranking read the vector file through. `applyUpsert`/`applyDelete` are the only mutators; they run after the operation's WAL
 * record is durable, and again (idempotently) during recovery.
 *
 * INVARIANT: a slot is live in the record table ⇔ live in the arena ⇔ it has a SQLite row; its
 * vector-file record holds that row's vector once the operation is applied (written before the slot
 * turns live in the arena).
 */
import { CorruptionError } from "../errors.js";
import type { SqliteStore } from "../metadata/sqlite-store.js";
import { VectorFile } from "../storage/vector-file.js";
import type { Metadata, Metric } from "../types.js";
import { VectorArena } from "../vector/vector-arena.js";
import { FilterIndex } from "../filter/filter-index.js";
import { CollectionIndex, type IndexSettings } from "./collection-index.js";
import { RecordTable } from "./record-table.js";
import type { ValidRecord } from "./validate-records.js";

/** The storage of one collection. */
export class CollectionStore {
  readonly table = new RecordTable();
  /** Postings and sorted columns over metadata: turns any filter into its matching slots. */
  readonly filters = new FilterIndex();
  readonly arena: VectorArena;
  readonly index: CollectionIndex;

  private constructor(
    readonly key: number,
    readonly dimension: number,
    readonly metric: Metric,
    private readonly sqlite: SqliteStore,
    readonly vectors: VectorFile,
    indexFile: string,
    indexSettings: IndexSettings,
  ) {
    this.arena = new VectorArena(vectors.path, dimension, metric);
    this.index = new CollectionIndex(dimension, metric, this.arena, this.table, indexFile, indexSettings);
  }

  /**
   * Opens a collection's storage and loads its rows from SQLite. The vectors stay in the vector
   * file; {@link attachVectors} makes the live ones searchable once WAL replay has rewritten
   * whatever a crash may have left behind.
   * @throws CorruptionError when the vector file header fails a check.
   */
  static open(options: {
    key: number;
    dimension: number;
    metric: Metric;
    sqlite: SqliteStore;
    vectorPath: string;
    indexPath: string;
    indexSettings: IndexSettings;
  }): CollectionStore {
    const { key, dimension, metric, sqlite, vectorPath } = options;
    const vectors = VectorFile.openOrCreate(vectorPath, { dim: dimension, metric });
    const store = new CollectionStore(key, dimension, metric, sqlite, vectors, options.indexPath, options.indexSettings);
    try {
      store.index.load();
      const { table, filters } = store;
      sqlite.loadRecords(key, (row) => {
        const json = row[3];
        const metadata = json === null ? undefined : (JSON.parse(json) as Metadata);
        table.load(row[2], row[1], row[0], metadata, row[5] === 1);
        filters.set(row[2], metadata);
      });
      store.table.finishLoad();
      store.filters.compact();
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  /**
   * Marks every live record's slot live in the arena (reading no vector: searches read them from
   * the vector file as they need them) and brings the index in step with the records.
   * @throws CorruptionError when the vector file ends before the last live slot's record.
   */
  attachVectors(): void {
    let last = -1;
    this.table.forEachLive((slot) => {
      this.arena.setLive(slot);
      last = Math.max(last, slot);
    });
    if (last >= this.vectors.slotCapacity) {
      throw new CorruptionError({
        file: this.vectors.path,
        offset: this.vectors.byteLength,
        expected: `at least ${this.vectors.slotOffset(last + 1)} bytes (records up to slot ${last})`,
        actual: `${this.vectors.byteLength} bytes`,
        what: "vector file ends before a live slot's record",
      });
    }
    this.index.reconcile();
  }

  /**
   * Writes a batch of records (insert or replace by id), logged at `lsn`. Returns the number of new ids.
   */
  applyUpsert(records: readonly ValidRecord[], lsn: number): number {
    const table = this.table;
    const slots = new Array<number>(records.length);
    const fresh: number[] = [];
    for (let i = 0; i < records.length; i++) {
      const existing = table.slotOf(records[i]!.id);
      if (existing !== undefined) {
        slots[i] = existing;
      } else {
        slots[i] = table.allocate();
        fresh.push(slots[i]!);
      }
    }
    let seqs: number[];
    try {
      seqs = this.sqlite.transaction(() => {
        this.sqlite.adjustCount(this.key, fresh.length);
        return this.sqlite.upsertRecords(
          this.key,
          lsn,
          records.map((r, i) => ({ id: r.id, slot: slots[i]!, document: r.document, metadata: r.metadata })),
        );
      });
    } catch (err) {
      for (const s of fresh) table.unallocate(s);
      throw err;
    }
    this.vectors.writeMany(slots, records.map((r) => r.vector));
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const slot = slots[i]!;
      this.arena.setLive(slot);
      const metadata = r.metadata === null ? undefined : (JSON.parse(r.metadata) as Metadata);
      table.set(slot, r.id, seqs[i]!, metadata, r.document !== null);
      this.filters.set(slot, metadata);
    }
    this.index.noteUpsert(slots);
    return fresh.length;
  }

  /** Deletes ids; unknown ones are skipped. Returns how many were deleted. */
  applyDelete(ids: readonly string[]): number {
    const present = ids.filter((id) => this.table.slotOf(id) !== undefined);
    if (present.length === 0) return 0;
    this.sqlite.transaction(() => {
      this.sqlite.deleteRecords(this.key, present);
      this.sqlite.adjustCount(this.key, -present.length);
    });
    const slots: number[] = [];
    for (const id of present) {
      const slot = this.table.remove(id);
      if (slot === undefined) continue;
      this.arena.remove(slot);
      this.filters.remove(slot);
      slots.push(slot);
    }
    this.index.noteDelete(slots);
    return present.length;
  }

  /** The stored document of `id`. */
  document(id: string): string | null {
    return this.sqlite.getDocument(this.key, id);
  }

  /** The stored documents of `ids`, in order (one SQLite query). */
  documents(ids: readonly string[]): (string | null)[] {
    return this.sqlite.getDocuments(this.key, ids);
  }

  /** Releases memory and closes the vector file (without syncing). */
  close(): void {
    this.index.dispose();
    this.arena.dispose();
    this.vectors.close();
  }
}
