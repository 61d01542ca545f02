/**
 * The in-memory side of one collection: id ↔ slot, parsed metadata and insertion order per slot, and
 * the free-slot list. Loaded from SQLite at open; changed only by `apply*` in collection-store.ts.
 *
 * Layout. No JS object or string is kept per record (the typed arrays live outside the V8 heap):
 * - `pool` (a Buffer): one entry per live id, appended: a header holding `code` = code units × 2 +
 *   wide bit (one byte below 0x80, else two: `0x80 | code & 0x7f`, `code >> 7`), then the code
 *   units: one byte each when all are ≤ 0xFF ("narrow", Latin-1), else two, little-endian ("wide").
 *   The choice is canonical, so lookups compare code units without decoding, and every JS string
 *   round-trips exactly, lone surrogates included. Removed and replaced ids leave garbage; once it
 *   passes half the pool, the live entries are copied into a fresh one in slot order.
 * - per slot: `starts` (Uint32: 1 + the entry's pool position; 0 = not live), `seqs` (Float64) and
 *   `documented` (Uint8: the record has a document);
 *   grown by doubling, trimmed to `slotLimit` by `finishLoad`.
 * - `buckets` (Int32: slot + 1; 0 = empty): open addressing with linear probing, a power of two at
 *   least twice the live count (load ≤ 0.5). The home bucket comes from FNV-1a over the code units
 *   and murmur3's finaliser; deletion shifts the rest of the cluster back (no tombstones). The hash
 *   is not seeded: ids crafted to collide make lookups slow, never wrong.
 * - `metadata`: parsed objects by slot, an array created when the first record with metadata
 *   arrives (8 bytes a slot from then on, plus the objects).
 * - `free`: a stack of free slots (Int32).
 * Memory per record without metadata: id code units + 1–2 header bytes + 12 (start, seq) + 8–16
 * (buckets) + 1 (documented). Measured for the ids "0".."999999": 27.3 B a record, none of it on the V8 heap (the
 * `Map` and arrays this replaced held 84.7 B a record there); loading them takes ~0.15–0.2 s (was
 * ~0.5), `slotOf` ~250 ns and `idAt` ~30 ns at random slots.
 *
 * INVARIANTS: `slotOf(id) === s` ⇔ `idAt(s) === id`; live slots are < `slotLimit`; a slot is either
 * live or on the free list, never both; `seqAt` is strictly increasing in insertion order. After
 * runtime removes, the most recently freed slot is reused first; after `finishLoad`, the lowest hole
 * first. Between the first `load` and `finishLoad` only `load` may be called: the buckets are built
 * once, at the end.
 */
import type { Metadata } from "../types.js";

/** Longest id the table stores, in UTF-16 code units (validation caps ids far lower, at 512 UTF-8 bytes). */
export const MAX_TABLE_ID_LENGTH = 0x3fff;

const MIN_SLOTS = 16;
const MIN_BUCKETS = 16;
const MIN_POOL = 256;
/** The pool is not compacted below this many bytes in use. */
const MIN_COMPACT = 4096;
/** Narrow ids up to this length decode through a fixed-arity `String.fromCharCode` (~15 ns, against ~45 for `Buffer#toString`). */
const SHORT_ID = 8;

/** The id map and per-slot metadata of one collection. */
export class RecordTable {
  private live = 0;
  private limit = 0;
  /** Per slot: 1 + the pool position of its id's entry; 0 = not live. */
  private starts = new Uint32Array(MIN_SLOTS);
  private seqs = new Float64Array(MIN_SLOTS);
  /** Per slot: 1 when the record has a document (searches skip SQLite for records without one). */
  private documented = new Uint8Array(MIN_SLOTS);
  private metadata: (Metadata | undefined)[] | undefined;
  private pool = Buffer.allocUnsafeSlow(MIN_POOL);
  private poolUsed = 0;
  private poolGarbage = 0;
  /** Slot + 1 per bucket; 0 = empty. */
  private buckets = new Int32Array(MIN_BUCKETS);
  private free = new Int32Array(MIN_SLOTS);
  private freeCount = 0;

  /** Number of live records. */
  get size(): number {
    return this.live;
  }

  /** One past the highest slot ever used. */
  get slotLimit(): number {
    return this.limit;
  }

  /** Bytes held in typed arrays: id pool, per-slot arrays, buckets, free list (metadata objects not counted). */
  get byteLength(): number {
    return this.pool.length + this.starts.byteLength + this.seqs.byteLength + this.buckets.byteLength + this.free.byteLength;
  }

  /** The slot of `id`, if stored. */
  slotOf(id: string): number | undefined {
    const b = this.find(id, idHash(id));
    return b >= 0 ? this.buckets[b]! - 1 : undefined;
  }

  /** The id stored at `slot`, if live. */
  idAt(slot: number): string | undefined {
    if (!(slot < this.limit)) return undefined;
    const start = this.starts[slot];
    if (start === undefined || start === 0) return undefined;
    const p = this.pool;
    let o = start - 1;
    let code = p[o++]!;
    if (code >= 0x80) code = (code & 0x7f) | (p[o++]! << 7);
    const n = code >>> 1;
    if ((code & 1) === 1) return p.toString("utf16le", o, o + 2 * n);
    switch (n) {
      case 1:
        return String.fromCharCode(p[o]!);
      case 2:
        return String.fromCharCode(p[o]!, p[o + 1]!);
      case 3:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!);
      case 4:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!);
      case 5:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!, p[o + 4]!);
      case 6:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!, p[o + 4]!, p[o + 5]!);
      case 7:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!, p[o + 4]!, p[o + 5]!, p[o + 6]!);
      case SHORT_ID:
        return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!, p[o + 4]!, p[o + 5]!, p[o + 6]!, p[o + 7]!);
      default:
        return p.toString("latin1", o, o + n);
    }
  }

  /** A caller-owned copy of the metadata at `slot` (`{}` when it has none). */
  metadataCopyAt(slot: number): Metadata {
    const metadata = this.metadata?.[slot];
    return metadata === undefined ? {} : (copyJson(metadata) as Metadata);
  }

  /** True when the live record at `slot` has a document. */
  hasDocumentAt(slot: number): boolean {
    return slot < this.limit && this.documented[slot] === 1;
  }

  /** Insertion sequence number at `slot` (+Infinity past {@link slotLimit}). */
  seqAt(slot: number): number {
    return slot < this.limit ? this.seqs[slot]! : Number.POSITIVE_INFINITY;
  }

  /** A slot for a new record: the most recently freed one, else a new one at the end. */
  allocate(): number {
    if (this.freeCount > 0) return this.free[--this.freeCount]!;
    this.reserveSlots(this.limit + 1);
    return this.limit++;
  }

  /** Gives back a slot from {@link allocate} that ended up unused. */
  unallocate(slot: number): void {
    this.pushFree(slot);
  }

  /**
   * Records `id` at an allocated `slot` (replacing the id it held, if another).
   * @throws RangeError when `slot` was never allocated or `id` is empty or too long.
   * @throws Error when `id` is live at another slot.
   */
  set(slot: number, id: string, seq: number, metadata: Metadata | undefined, hasDocument: boolean): void {
    if (!(slot >= 0 && slot < this.limit)) throw new RangeError(`record table: slot ${slot} was not allocated (slot limit ${this.limit})`);
    if (this.starts[slot] === 0 || !this.holds(slot, id)) {
      const hash = idHash(id);
      let b = this.find(id, hash);
      if (b >= 0) throw new Error(`record table: id ${JSON.stringify(id)} is live at slot ${this.buckets[b]! - 1}, not ${slot}`);
      if (this.starts[slot] !== 0) {
        this.unlink(this.bucketOf(slot));
        this.dropId(slot);
        this.live--;
        b = this.find(id, hash);
      }
      this.writeId(slot, id);
      this.buckets[~b] = slot + 1;
      if (++this.live > this.buckets.length >>> 1) this.rebuildBuckets(this.buckets.length * 2, false);
    }
    this.seqs[slot] = seq;
    this.documented[slot] = hasDocument ? 1 : 0;
    this.setMetadata(slot, metadata);
  }

  /**
   * Adds a row loaded from SQLite; call {@link finishLoad} after the last one.
   * @throws RangeError when `id` is empty or too long.
   * @throws Error when `slot` was already loaded.
   */
  load(slot: number, id: string, seq: number, metadata: Metadata | undefined, hasDocument: boolean): void {
    if (slot >= this.limit) {
      this.reserveSlots(slot + 1);
      this.limit = slot + 1;
    }
    if (this.starts[slot] !== 0) throw new Error(`record table: slot ${slot} loaded twice (ids ${JSON.stringify(this.idAt(slot))} and ${JSON.stringify(id)})`);
    this.writeId(slot, id);
    this.live++;
    this.seqs[slot] = seq;
    this.documented[slot] = hasDocument ? 1 : 0;
    if (metadata !== undefined) this.setMetadata(slot, metadata);
  }

  /**
   * Builds the id index, trims the arrays to the loaded size and rebuilds the free list from the
   * holes left after {@link load}; lowest slots are reused first.
   * @throws Error when two loaded slots hold the same id.
   */
  finishLoad(): void {
    this.resizeSlots(Math.max(MIN_SLOTS, this.limit));
    if (this.pool.length > this.poolUsed + MIN_POOL) this.movePool(this.poolUsed + MIN_POOL);
    const starts = this.starts;
    let holes = 0;
    for (let s = 0; s < this.limit; s++) if (starts[s] === 0) holes++;
    this.free = new Int32Array(Math.max(MIN_SLOTS, holes));
    this.freeCount = 0;
    for (let s = this.limit - 1; s >= 0; s--) if (starts[s] === 0) this.free[this.freeCount++] = s;
    let count = MIN_BUCKETS;
    while (count < 2 * this.live) count *= 2;
    this.rebuildBuckets(count, true);
  }

  /** Removes `id`; returns its former slot. */
  remove(id: string): number | undefined {
    const b = this.find(id, idHash(id));
    if (b < 0) return undefined;
    const slot = this.buckets[b]! - 1;
    this.unlink(b);
    this.dropId(slot);
    this.live--;
    this.documented[slot] = 0;
    this.setMetadata(slot, undefined);
    this.pushFree(slot);
    return slot;
  }

  /** Calls `fn` for every live slot, in slot order. */
  forEachLive(fn: (slot: number) => void): void {
    const starts = this.starts;
    for (let s = 0; s < this.limit; s++) if (starts[s] !== 0) fn(s);
  }

  /** The bucket holding `id`, or `~b` for the empty bucket `b` where it would go. */
  private find(id: string, hash: number): number {
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    for (let b = hash & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b]!;
      if (entry === 0) return ~b;
      if (this.holds(entry - 1, id)) return b;
    }
  }

  /** The bucket holding live `slot`. */
  private bucketOf(slot: number): number {
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    let b = this.hashAt(slot) & mask;
    while (buckets[b] !== slot + 1) b = (b + 1) & mask;
    return b;
  }

  /** Empties bucket `b`, shifting later entries of its cluster back so each stays reachable from its home bucket. */
  private unlink(b: number): void {
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    let hole = b;
    for (let j = (b + 1) & mask; ; j = (j + 1) & mask) {
      const entry = buckets[j]!;
      if (entry === 0) break;
      const home = this.hashAt(entry - 1) & mask;
      // The entry stays unless the hole lies on its probe path: its home is cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        buckets[hole] = entry;
        hole = j;
      }
    }
    buckets[hole] = 0;
  }

  /** Whether live `slot` holds `id` (an id's entry is canonical, so nothing is decoded). */
  private holds(slot: number, id: string): boolean {
    const p = this.pool;
    let o = this.starts[slot]! - 1;
    let code = p[o++]!;
    if (code >= 0x80) code = (code & 0x7f) | (p[o++]! << 7);
    const n = id.length;
    if (code >>> 1 !== n) return false;
    if ((code & 1) === 0) {
      for (let i = 0; i < n; i++) if (p[o + i] !== id.charCodeAt(i)) return false;
    } else {
      for (let i = 0; i < n; i++) if ((p[o + 2 * i]! | (p[o + 2 * i + 1]! << 8)) !== id.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Whether live slots `a` and `b` hold the same id. */
  private sameId(a: number, b: number): boolean {
    const p = this.pool;
    const oa = this.starts[a]! - 1;
    const ob = this.starts[b]! - 1;
    const bytes = entryBytes(p, oa);
    for (let i = 0; i < bytes; i++) if (p[oa + i] !== p[ob + i]) return false;
    return true;
  }

  /** {@link idHash} of the id stored at live `slot`. */
  private hashAt(slot: number): number {
    const p = this.pool;
    let o = this.starts[slot]! - 1;
    let code = p[o++]!;
    if (code >= 0x80) code = (code & 0x7f) | (p[o++]! << 7);
    const n = code >>> 1;
    let h = FNV_OFFSET;
    if ((code & 1) === 0) {
      for (let i = 0; i < n; i++) h = Math.imul(h ^ p[o + i]!, FNV_PRIME);
    } else {
      for (let i = 0; i < n; i++) h = Math.imul(h ^ (p[o + 2 * i]! | (p[o + 2 * i + 1]! << 8)), FNV_PRIME);
    }
    return finalizeHash(h);
  }

  /** Appends an entry for `id` to the pool and points `slot` at it (narrow when it can be, else wide). */
  private writeId(slot: number, id: string): void {
    const n = id.length;
    if (n === 0 || n > MAX_TABLE_ID_LENGTH) throw new RangeError(`record table: id length ${n} outside 1..${MAX_TABLE_ID_LENGTH}`);
    let wide = 0;
    for (let i = 0; i < n; i++) {
      if (id.charCodeAt(i) > 0xff) {
        wide = 1;
        break;
      }
    }
    const code = (n << 1) | wide;
    const header = code < 0x80 ? 1 : 2;
    const bytes = header + (n << wide);
    if (this.poolUsed + bytes > this.pool.length) this.reservePool(bytes);
    const p = this.pool;
    const start = this.poolUsed;
    let o = start;
    if (header === 1) {
      p[o++] = code;
    } else {
      p[o++] = 0x80 | (code & 0x7f);
      p[o++] = code >>> 7;
    }
    if (wide === 0) {
      for (let i = 0; i < n; i++) p[o + i] = id.charCodeAt(i);
    } else {
      for (let i = 0; i < n; i++) {
        const c = id.charCodeAt(i);
        p[o + 2 * i] = c & 0xff;
        p[o + 2 * i + 1] = c >>> 8;
      }
    }
    this.poolUsed = start + bytes;
    this.starts[slot] = start + 1;
  }

  /** Marks live `slot`'s entry as garbage (its bucket is already unlinked); compacts the pool past half garbage. */
  private dropId(slot: number): void {
    this.poolGarbage += entryBytes(this.pool, this.starts[slot]! - 1);
    this.starts[slot] = 0;
    if (this.poolUsed >= MIN_COMPACT && this.poolGarbage * 2 > this.poolUsed) this.movePool(2 * (this.poolUsed - this.poolGarbage));
  }

  /** Makes room for `bytes` more in the pool: compacts it when half is garbage, else doubles it. */
  private reservePool(bytes: number): void {
    const inUse = this.poolUsed - this.poolGarbage;
    this.movePool(this.poolGarbage * 2 > this.poolUsed ? 2 * inUse + bytes : Math.max(2 * this.pool.length, this.poolUsed + bytes));
  }

  /** Copies the live entries into a new pool of `capacity` bytes (at least what they need): compacted in slot order when there is garbage. */
  private movePool(capacity: number): void {
    const from = this.pool;
    const to = Buffer.allocUnsafeSlow(Math.max(MIN_POOL, capacity, this.poolUsed - this.poolGarbage));
    if (this.poolGarbage === 0) {
      from.copy(to, 0, 0, this.poolUsed);
      this.pool = to;
      return;
    }
    const starts = this.starts;
    let w = 0;
    for (let s = 0; s < this.limit; s++) {
      const start = starts[s]!;
      if (start === 0) continue;
      const o = start - 1;
      const bytes = entryBytes(from, o);
      for (let i = 0; i < bytes; i++) to[w + i] = from[o + i]!;
      starts[s] = w + 1;
      w += bytes;
    }
    this.pool = to;
    this.poolUsed = w;
    this.poolGarbage = 0;
  }

  /** Rebuilds the buckets at `count` (a power of two) from the live slots; with `checkUnique`, throws on a repeated id. */
  private rebuildBuckets(count: number, checkUnique: boolean): void {
    const buckets = new Int32Array(count);
    const mask = count - 1;
    const starts = this.starts;
    for (let s = 0; s < this.limit; s++) {
      if (starts[s] === 0) continue;
      let b = this.hashAt(s) & mask;
      for (let entry = buckets[b]!; entry !== 0; entry = buckets[b]!) {
        if (checkUnique && this.sameId(entry - 1, s)) {
          throw new Error(`record table: id ${JSON.stringify(this.idAt(s))} loaded at slots ${entry - 1} and ${s}`);
        }
        b = (b + 1) & mask;
      }
      buckets[b] = s + 1;
    }
    this.buckets = buckets;
  }

  /** Grows the per-slot arrays (by doubling) to hold at least `count` slots. */
  private reserveSlots(count: number): void {
    if (count > this.starts.length) this.resizeSlots(Math.max(count, 2 * this.starts.length));
  }

  /** Reallocates the per-slot arrays to `capacity` slots (≥ {@link slotLimit}). */
  private resizeSlots(capacity: number): void {
    if (capacity === this.starts.length) return;
    const n = Math.min(this.limit, capacity);
    const starts = new Uint32Array(capacity);
    starts.set(this.starts.subarray(0, n));
    this.starts = starts;
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs.subarray(0, n));
    this.seqs = seqs;
    const documented = new Uint8Array(capacity);
    documented.set(this.documented.subarray(0, n));
    this.documented = documented;
    const metadata = this.metadata;
    if (metadata !== undefined) {
      if (capacity < metadata.length) metadata.length = capacity;
      while (metadata.length < capacity) metadata.push(undefined);
    }
  }

  private setMetadata(slot: number, metadata: Metadata | undefined): void {
    if (this.metadata === undefined) {
      if (metadata === undefined) return;
      this.metadata = new Array<Metadata | undefined>(this.starts.length).fill(undefined);
    }
    this.metadata[slot] = metadata;
  }

  private pushFree(slot: number): void {
    if (this.freeCount === this.free.length) {
      const free = new Int32Array(2 * this.free.length);
      free.set(this.free);
      this.free = free;
    }
    this.free[this.freeCount++] = slot;
  }
}

/** Size in bytes of the pool entry at `o`: its header and its code units. */
function entryBytes(p: Uint8Array, o: number): number {
  const first = p[o]!;
  const code = first < 0x80 ? first : (first & 0x7f) | (p[o + 1]! << 7);
  return (first < 0x80 ? 1 : 2) + ((code >>> 1) << (code & 1));
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * Hash of a string's UTF-16 code units (unsigned 32-bit): FNV-1a, then murmur3's finaliser so the
 * low bits, which pick the bucket, mix well. Exported for tests that need colliding ids.
 */
export function idHash(id: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), FNV_PRIME);
  return finalizeHash(h);
}

function finalizeHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
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
