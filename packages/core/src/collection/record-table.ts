/**
 * The in-memory side of one collection: id ↔ slot, parsed metadata and insertion order per slot, and
 * the free-slot list. Loaded from SQLite at open; changed only by `apply*` in collection-store.ts.
 *
 * INVARIANTS: `slotOf(id) === s` ⇔ `idAt(s) === id`; live slots are < `slotLimit`; a slot is either
 * live or on the free list, never both; `seqAt` is strictly increasing in insertion order.
 */
import type { Metadata } from "../types.js";

/** The id map and per-slot metadata of one collection. */
export class RecordTable {
  private readonly slots = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private metadata: (Metadata | undefined)[] = [];
  private seqs: number[] = [];
  private free: number[] = [];

  /** Number of live records. */
  get size(): number {
    return this.slots.size;
  }

  /** One past the highest slot ever used. */
  get slotLimit(): number {
    return this.ids.length;
  }

  /** The slot of `id`, if stored. */
  slotOf(id: string): number | undefined {
    return this.slots.get(id);
  }

  /** The id stored at `slot`, if live. */
  idAt(slot: number): string | undefined {
    return this.ids[slot];
  }

  /** A caller-owned copy of the metadata at `slot` (`{}` when it has none). */
  metadataCopyAt(slot: number): Metadata {
    const metadata = this.metadata[slot];
    return metadata === undefined ? {} : (copyJson(metadata) as Metadata);
  }

  /** Insertion sequence number at `slot`. */
  seqAt(slot: number): number {
    return this.seqs[slot] ?? Number.POSITIVE_INFINITY;
  }

  /** A slot for a new record: the most recently freed one, else a new one at the end. */
  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    this.ids.push(undefined);
    this.metadata.push(undefined);
    this.seqs.push(0);
    return this.ids.length - 1;
  }

  /** Gives back a slot from {@link allocate} that ended up unused. */
  unallocate(slot: number): void {
    this.free.push(slot);
  }

  /** Records `id` at an allocated `slot`. */
  set(slot: number, id: string, seq: number, metadata: Metadata | undefined): void {
    this.ids[slot] = id;
    this.metadata[slot] = metadata;
    this.seqs[slot] = seq;
    this.slots.set(id, slot);
  }

  /** Adds a row loaded from SQLite; call {@link finishLoad} after the last one. */
  load(slot: number, id: string, seq: number, metadata: Metadata | undefined): void {
    while (this.ids.length <= slot) {
      this.ids.push(undefined);
      this.metadata.push(undefined);
      this.seqs.push(0);
    }
    this.set(slot, id, seq, metadata);
  }

  /** Rebuilds the free list from the holes left after {@link load}; lowest slots are reused first. */
  finishLoad(): void {
    this.free = [];
    for (let s = this.ids.length - 1; s >= 0; s--) if (this.ids[s] === undefined) this.free.push(s);
  }

  /** Removes `id`; returns its former slot. */
  remove(id: string): number | undefined {
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    this.slots.delete(id);
    this.ids[slot] = undefined;
    this.metadata[slot] = undefined;
    this.free.push(slot);
    return slot;
  }

  /** Calls `fn` for every live slot, in slot order. */
  forEachLive(fn: (slot: number, id: string, metadata: Metadata | undefined) => void): void {
    for (let s = 0; s < this.ids.length; s++) {
      const id = this.ids[s];
      if (id !== undefined) fn(s, id, this.metadata[s]);
    }
  }
}

/**
 * A deep copy of a JSON value (metadata is parsed JSON: objects, arrays, strings, numbers, booleans,
 * null). Several times faster than `structuredClone` on the small objects records carry.
 */
function copyJson(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out;
}
