/**
 * An in-memory index over records' metadata that turns any parsed filter ({@link FilterNode}) into the
 * exact, ascending set of matching live slots with set algebra, with the semantics of
 * `evaluate-filter.ts` (stated at the top of `filter-ast.ts`): for every filter and every record,
 * `index.evaluate(node).slots` holds a slot iff `evaluateFilter(node, metadata)` is true.
 *
 * Layout. One {@link KeyIndex} per path a record resolves: every own top-level key, and below every
 * top-level key without a dot, every nested key without a dot (`"a.b.c"`), unless a top-level key
 * spelled like the whole path holds a defined value (that key wins, as in `resolvePath`). Per path:
 * - `present`: slots whose value at the path is defined (an explicit `null`, an object, `[]` included);
 * - `arrays`: slots whose value is an array (`$contains` is membership there, substring elsewhere);
 * - `num` / `str`: a {@link Column} of `(value, slot)` pairs sorted by value then slot, one pair per
 *   distinct number (string) the value holds: the value itself, or each distinct array element;
 * - `t` / `f` / `nul`: postings of slots holding `true` / `false` / `null` (as value or element).
 * Nested objects and non-scalar array elements add presence only: they equal no literal.
 *
 * INVARIANTS
 * - Every structure holds only live slots; `live` holds exactly the slots passed to `set` and not
 *   since removed, whatever their metadata (so `$ne`, `$not` and missing-key rules can complement).
 * - The index keeps a reference to each record's metadata object (to remove its entries and to test
 *   small candidate sets with the compiled predicate); callers must not mutate it after `set`.
 * - `-0` is indexed as `0` (`===`, `<` and `includes` cannot tell them apart).
 * - A {@link Posting} is a sorted `Uint32Array` prefix while it holds fewer than `limit / 32` slots
 *   (4 bytes a slot), else a bitmap of `limit` bits; it converts back below `limit / 64`.
 * - A {@link Column} is a sorted base (`keys[i]`, `slots[i]`: 12 bytes a pair; a string's key is its
 *   rank in the column's sorted dictionary of distinct strings), `dead[i]` tombstones for removed
 *   pairs, and an unsorted buffer of pending pairs; it is compacted (radix-sorted, merged) when the
 *   buffer plus tombstones outgrow `max(4096, n / 2)` on writes, or 1024 before a query reads it.
 *
 * Query results are {@link SlotSet}s: sorted duplicate-free `Uint32Array`s, or bitmaps once more than
 * `limit / 512` slots arrive out of slot order (scattering into a bitmap and extracting beats sorting
 * there). `and` intersects cheapest first, subtracts negated children instead of complementing them,
 * folds range bounds on one array-free path into one interval, and tests the rest with the compiled
 * predicate once few candidates remain; `or` unions; `not` subtracts from the live set. `$contains`
 * of a string tests each distinct string of the path's dictionary once.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import { compileFilter } from "./evaluate-filter.js";
import type { CompareOp, FilterLiteral, FilterNode } from "./filter-ast.js";

type Meta = Record<string, unknown> | null | undefined;
type Scalar = FilterLiteral | null;
type RangeOp = "gt" | "gte" | "lt" | "lte";

/** The exact result of {@link FilterIndex.evaluate}. */
export interface FilterMatch {
  /** Always `true`: `slots` is exactly the matching set, never a superset. */
  readonly exact: true;
  /** Number of matching slots (known without materialising {@link slots}). */
  readonly count: number;
  /**
   * Matching live slots, ascending, without duplicates. Built on first access when the result is a
   * bitmap (about 1-3 ns per slot); later writes to the index do not change it.
   */
  readonly slots: Uint32Array;
  /** Tells whether `slot` matches, in O(1) (builds a bitmap on first call when the result has none). */
  has(slot: number): boolean;
}

// ---------------------------------------------------------------------------------------------------
// Tuning constants (chosen by measuring 1M-record sets).

/** Pending pairs plus tombstones a column tolerates before a query compacts it. */
const QUERY_PENDING_LIMIT = 1024;
/** Minimum pending pairs plus tombstones before a write compacts a column. */
const WRITE_PENDING_MIN = 4096;
/** Below this many pending pairs a compaction sorts with a comparator instead of radix passes. */
const RADIX_MIN = 2048;
/** In an `$and`, test the remaining children with the compiled predicate on each candidate once the
 *  candidates are this many times fewer than the next child's estimated matches. */
const PREDICATE_RATIO = 16;
/** A result becomes a bitmap once it holds more than `words / DENSE_DIVISOR` slots. */
const DENSE_DIVISOR = 16;

// ---------------------------------------------------------------------------------------------------
// Slot sets: sorted arrays or bitmaps

interface SparseSet {
  readonly dense: false;
  /** Ascending, no duplicates. Never mutated once built. */
  readonly slots: Uint32Array;
  /** True when `slots` is a view into a posting (copy it before handing it out). */
  readonly borrowed?: true;
}

interface DenseSet {
  readonly dense: true;
  /** Bit `s & 31` of word `s >>> 5` is set iff slot `s` is in the set; may be longer than needed. */
  readonly words: Uint32Array;
  readonly count: number;
  /** True when `words` belongs to this query alone and may be changed in place. */
  readonly owned: boolean;
}

type SlotSet = SparseSet | DenseSet;

const EMPTY_SET: SparseSet = { dense: false, slots: new Uint32Array(0) };

function sizeOf(set: SlotSet): number {
  return set.dense ? set.count : set.slots.length;
}

function sparse(slots: Uint32Array): SparseSet {
  return { dense: false, slots };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function countBits(words: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w !== 0) count += popcount(w);
  }
  return count;
}

function extractBits(words: Uint32Array, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = 0; i < words.length && k < count; i++) {
    let w = words[i]!;
    const base = i * 32;
    while (w !== 0) {
      const low = w & -w;
      out[k++] = base + 31 - Math.clz32(low);
      w ^= low;
    }
  }
  return out;
}

function testBit(words: Uint32Array, slot: number): boolean {
  const i = slot >>> 5;
  return i < words.length && (words[i]! & (1 << (slot & 31))) !== 0;
}

function toSlots(set: SlotSet): Uint32Array {
  return set.dense ? extractBits(set.words, set.count) : set.slots;
}

/** Index of the first element of `a[from, to)` that is >= `x`. */
function lowerBoundU32(a: Uint32Array, x: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function intersectSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Uint32Array(a.length);
  let k = 0;
  if (a.length * 32 < b.length) {
    // Galloping: binary-search each element of the small side in the rest of the large side.
    let from = 0;
    for (let i = 0; i < a.length && from < b.length; i++) {
      const x = a[i]!;
      from = lowerBoundU32(b, x, from, b.length);
      if (from < b.length && b[from] === x) out[k++] = x;
    }
  } else {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      if (x < y) i++;
      else if (y < x) j++;
      else {
        out[k++] = x;
        i++;
        j++;
      }
    }
  }
  return k * 2 < out.length ? out.slice(0, k) : out.subarray(0, k);
}

function differenceSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  let k = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out[k++] = x;
  }
  return k * 2 < out.length ? out.slice(0, k) : out.subarray(0, k);
}

function unionSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[k++] = x;
      i++;
    } else if (y < x) {
      out[k++] = y;
      j++;
    } else {
      out[k++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out.subarray(0, k);
}

/** Sorts `a` in place and drops duplicates; returns the duplicate-free prefix. */
function sortUnique(a: Uint32Array): Uint32Array {
  if (a.length < 2) return a;
  a.sort();
  let k = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[k - 1]) a[k++] = a[i]!;
  return a.subarray(0, k);
}

function filterByBits(slots: Uint32Array, words: Uint32Array, keep: boolean): Uint32Array {
  const out = new Uint32Array(slots.length);
  let k = 0;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (testBit(words, s) === keep) out[k++] = s;
  }
  return k * 2 < out.length ? out.slice(0, k) : out.subarray(0, k);
}

function intersect(a: SlotSet, b: SlotSet): SlotSet {
  if (sizeOf(a) === 0) return a;
  if (sizeOf(b) === 0) return b;
  if (!a.dense) return b.dense ? sparse(filterByBits(a.slots, b.words, true)) : sparse(intersectSorted(a.slots, b.slots));
  if (!b.dense) return sparse(filterByBits(b.slots, a.words, true));
  const n = Math.min(a.words.length, b.words.length);
  const target = a.owned ? a.words : b.owned ? b.words : new Uint32Array(n);
  const aw = a.words;
  const bw = b.words;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const w = aw[i]! & bw[i]!;
    target[i] = w;
    if (w !== 0) count += popcount(w);
  }
  target.fill(0, n);
  return { dense: true, words: target, count, owned: true };
}

/** `a` without the slots of `b`. */
function difference(a: SlotSet, b: SlotSet): SlotSet {
  if (sizeOf(a) === 0 || sizeOf(b) === 0) return a;
  if (!a.dense) return b.dense ? sparse(filterByBits(a.slots, b.words, false)) : sparse(differenceSorted(a.slots, b.slots));
  const target = a.owned ? a.words : a.words.slice();
  let count = a.count;
  if (!b.dense) {
    const s = b.slots;
    for (let i = 0; i < s.length; i++) {
      const slot = s[i]!;
      const w = slot >>> 5;
      if (w >= target.length) continue;
      const m = 1 << (slot & 31);
      if ((target[w]! & m) !== 0) {
        target[w] = target[w]! & ~m;
        count--;
      }
    }
  } else {
    const n = Math.min(target.length, b.words.length);
    const bw = b.words;
    for (let i = 0; i < n; i++) target[i] = target[i]! & ~bw[i]!;
    count = countBits(target);
  }
  return { dense: true, words: target, count, owned: true };
}

/** Union of `sets`; `words` is the query's bitmap length (enough for every slot below the limit). */
function union(sets: SlotSet[], words: number): SlotSet {
  const parts = sets.filter((s) => sizeOf(s) > 0);
  if (parts.length === 0) return EMPTY_SET;
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  let anyDense = false;
  for (const p of parts) {
    total += sizeOf(p);
    if (p.dense) anyDense = true;
  }
  if (!anyDense && total * DENSE_DIVISOR <= words) {
    if (parts.length === 2) return sparse(unionSorted((parts[0] as SparseSet).slots, (parts[1] as SparseSet).slots));
    const all = new Uint32Array(total);
    let k = 0;
    for (const p of parts) {
      all.set((p as SparseSet).slots, k);
      k += (p as SparseSet).slots.length;
    }
    return sparse(sortUnique(all));
  }
  let length = words;
  let target: Uint32Array | undefined;
  for (const p of parts) {
    if (!p.dense) continue;
    length = Math.max(length, p.words.length);
    if (p.owned && target === undefined) target = p.words;
  }
  if (target === undefined || target.length < length) {
    const fresh = new Uint32Array(length);
    if (target !== undefined) fresh.set(target);
    target = fresh;
  }
  for (const p of parts) {
    if (p.dense) {
      if (p.words === target) continue;
      const w = p.words;
      for (let i = 0; i < w.length; i++) target[i] = target[i]! | w[i]!;
    } else {
      const s = p.slots;
      for (let i = 0; i < s.length; i++) {
        const slot = s[i]!;
        target[slot >>> 5] = target[slot >>> 5]! | (1 << (slot & 31));
      }
    }
  }
  return { dense: true, words: target, count: countBits(target), owned: true };
}

/**
 * Accumulates slots in any order: a growing array while the pushes are ascending or few, a bitmap
 * once more than `denseAt` arrive out of order. `finish` sorts and de-duplicates the array form only
 * when pushes were not strictly ascending.
 */
class Collector {
  private buf = new Uint32Array(16);
  private n = 0;
  private last = -1;
  private ascending = true;
  private words: Uint32Array | undefined;
  private count = 0;

  constructor(
    private readonly wordCount: number,
    private readonly denseAt: number,
  ) {}

  push(slot: number): void {
    const words = this.words;
    if (words !== undefined) {
      const i = slot >>> 5;
      const m = 1 << (slot & 31);
      const w = words[i]!;
      if ((w & m) === 0) {
        words[i] = w | m;
        this.count++;
      }
      return;
    }
    if (this.n === this.buf.length) {
      if (this.n >= this.denseAt && (!this.ascending || slot <= this.last)) {
        this.toDense();
        this.push(slot);
        return;
      }
      this.grow(this.n + 1);
    }
    if (slot <= this.last) this.ascending = false;
    this.last = slot;
    this.buf[this.n++] = slot;
  }

  /** Pushes `src[from, to)`, which is ascending: one copy when it extends an ascending buffer. */
  pushRun(src: Uint32Array, from: number, to: number): void {
    if (from >= to) return;
    if (this.words !== undefined || !this.ascending || src[from]! <= this.last) {
      for (let i = from; i < to; i++) this.push(src[i]!);
      return;
    }
    const n = this.n + (to - from);
    if (n > this.buf.length) this.grow(n);
    this.buf.set(src.subarray(from, to), this.n);
    this.n = n;
    this.last = src[to - 1]!;
  }

  private grow(atLeast: number): void {
    const grown = new Uint32Array(Math.max(atLeast, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
  }

  private toDense(): void {
    const words = new Uint32Array(this.wordCount);
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      const slot = this.buf[i]!;
      const w = words[slot >>> 5]!;
      const m = 1 << (slot & 31);
      if ((w & m) === 0) {
        words[slot >>> 5] = w | m;
        count++;
      }
    }
    this.words = words;
    this.count = count;
    this.buf = new Uint32Array(0);
    this.n = 0;
  }

  finish(): SlotSet {
    if (this.words === undefined && !this.ascending && this.n >= this.denseAt) this.toDense();
    if (this.words !== undefined) return { dense: true, words: this.words, count: this.count, owned: true };
    if (this.n === 0) return EMPTY_SET;
    const slots = this.n * 2 < this.buf.length ? this.buf.slice(0, this.n) : this.buf.subarray(0, this.n);
    return sparse(this.ascending ? slots : sortUnique(slots));
  }
}

// ---------------------------------------------------------------------------------------------------
// Posting: a mutable slot set (sorted array, or bitmap once large)

/** A mutable set of slots: a sorted `Uint32Array` prefix while small, a bitmap once large. */
class Posting {
  size = 0;
  private arr: Uint32Array | undefined;
  private words: Uint32Array | undefined;

  /** Adds `slot` (no-op when present); `limit` is one past the highest slot in the index. */
  add(slot: number, limit: number): void {
    const words = this.words;
    if (words !== undefined) {
      const i = slot >>> 5;
      if (i >= words.length) {
        const grown = new Uint32Array(Math.max(i + 1, words.length * 2));
        grown.set(words);
        this.words = grown;
      }
      const w = this.words![i]!;
      const m = 1 << (slot & 31);
      if ((w & m) === 0) {
        this.words![i] = w | m;
        this.size++;
      }
      return;
    }
    let arr = this.arr;
    const n = this.size;
    let at = n;
    if (arr === undefined) {
      arr = this.arr = new Uint32Array(2);
    } else if (n > 0 && arr[n - 1]! >= slot) {
      at = lowerBoundU32(arr, slot, 0, n);
      if (arr[at] === slot) return;
    }
    if (n + 1 > 64 && (n + 1) * 32 > limit) {
      this.toDense(limit);
      this.add(slot, limit);
      return;
    }
    if (n === arr.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(arr);
      arr = this.arr = grown;
    }
    if (at < n) arr.copyWithin(at + 1, at, n);
    arr[at] = slot;
    this.size = n + 1;
  }

  /** Removes `slot` (no-op when absent). */
  remove(slot: number, limit: number): void {
    const words = this.words;
    if (words !== undefined) {
      const i = slot >>> 5;
      const m = 1 << (slot & 31);
      if (i >= words.length || (words[i]! & m) === 0) return;
      words[i] = words[i]! & ~m;
      this.size--;
      if (this.size * 64 < limit) this.toSparse();
      return;
    }
    const arr = this.arr;
    if (arr === undefined) return;
    const n = this.size;
    const at = lowerBoundU32(arr, slot, 0, n);
    if (at === n || arr[at] !== slot) return;
    arr.copyWithin(at, at + 1, n);
    this.size = n - 1;
    if (this.size * 4 < arr.length && arr.length > 8) this.arr = arr.slice(0, Math.max(2, this.size * 2));
  }

  has(slot: number): boolean {
    if (this.words !== undefined) return testBit(this.words, slot);
    if (this.arr === undefined) return false;
    const at = lowerBoundU32(this.arr, slot, 0, this.size);
    return at < this.size && this.arr[at] === slot;
  }

  /** A read-only view for one query (valid until the next write). */
  view(): SlotSet {
    if (this.size === 0) return EMPTY_SET;
    if (this.words !== undefined) return { dense: true, words: this.words, count: this.size, owned: false };
    return { dense: false, slots: this.arr!.subarray(0, this.size), borrowed: true };
  }

  /** Approximate bytes held by the backing arrays. */
  bytes(): number {
    return (this.arr?.byteLength ?? 0) + (this.words?.byteLength ?? 0);
  }

  private toDense(limit: number): void {
    const words = new Uint32Array(Math.max(1, (limit + 31) >>> 5));
    const arr = this.arr!;
    for (let i = 0; i < this.size; i++) {
      const slot = arr[i]!;
      words[slot >>> 5] = words[slot >>> 5]! | (1 << (slot & 31));
    }
    this.words = words;
    this.arr = undefined;
  }

  private toSparse(): void {
    this.arr = extractBits(this.words!, this.size);
    if (this.arr.length === 0) this.arr = undefined;
    this.words = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Column: (value, slot) pairs sorted by value then slot, with pending writes

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * All `(value, slot)` pairs of one type (numbers or strings) at one path.
 *
 * Base: `keys`/`slots` hold `n` pairs sorted by key, then slot; `dead[i]` marks removed ones. A key
 * is the number itself, or for strings the value's rank in `dict`, the sorted distinct strings of the
 * base (a superset of the live ones until the next compaction), so every base search is numeric.
 * Pending: `addV`/`addS` hold pairs in arrival order. A live pair is in exactly one of the two.
 */
class Column {
  n = 0;
  keys = new Float64Array(0);
  slots = new Uint32Array(0);
  dead: Uint8Array | undefined;
  deadCount = 0;
  addV: (number | string)[] = [];
  addS: number[] = [];
  /** Strings only: sorted distinct base values; key `r` stands for `dict[r]`. */
  dict: string[] | undefined;

  constructor(numeric: boolean) {
    if (!numeric) this.dict = [];
  }

  /** Live pairs. */
  get size(): number {
    return this.n - this.deadCount + this.addS.length;
  }

  insert(value: number | string, slot: number): void {
    this.addV.push(value);
    this.addS.push(slot);
    if (this.addS.length + this.deadCount > Math.max(WRITE_PENDING_MIN, this.n >>> 1)) this.compact();
  }

  /** Removes the pair `(value, slot)`, which must be live. */
  delete(value: number | string, slot: number): void {
    const key = this.keyOf(value);
    const at = key === undefined ? -1 : this.find(key, slot);
    if (at >= 0 && (this.dead === undefined || this.dead[at] === 0)) {
      this.dead ??= new Uint8Array(this.n);
      this.dead[at] = 1;
      this.deadCount++;
      if (this.addS.length + this.deadCount > Math.max(WRITE_PENDING_MIN, this.n >>> 1)) this.compact();
      return;
    }
    const addS = this.addS;
    const addV = this.addV;
    if (addS.length > WRITE_PENDING_MIN) {
      this.compact();
      this.delete(value, slot);
      return;
    }
    for (let i = addS.length - 1; i >= 0; i--) {
      if (addS[i] === slot && addV[i] === value) {
        addS[i] = addS[addS.length - 1]!;
        addV[i] = addV[addV.length - 1]!;
        addS.pop();
        addV.pop();
        return;
      }
    }
  }

  /** Compacts when a query would otherwise scan many pending pairs or tombstones. */
  prepare(): void {
    if (this.addS.length + this.deadCount > QUERY_PENDING_LIMIT) this.compact();
  }

  /** The base key of `value`, or `undefined` when no base pair can hold it. */
  keyOf(value: number | string): number | undefined {
    const dict = this.dict;
    if (dict === undefined) return value as number;
    const r = lowerBoundStr(dict, value as string);
    return r < dict.length && dict[r] === value ? r : undefined;
  }

  /** Base index of the pair `(key, slot)`, or -1. */
  private find(key: number, slot: number): number {
    const from = this.lower(key);
    if (from === this.n || this.keys[from] !== key) return -1;
    const to = this.upper(key, from);
    const at = lowerBoundU32(this.slots, slot, from, to);
    return at < to && this.slots[at] === slot ? at : -1;
  }

  /** First base index whose key is >= `key`. */
  lower(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First base index whose key is > `key`, galloping forward from `from`. */
  upper(key: number, from = 0): number {
    const keys = this.keys;
    let lo = from;
    let step = 1;
    while (lo + step < this.n && !(keys[lo + step]! > key)) {
      lo += step;
      step *= 2;
    }
    let hi = Math.min(this.n, lo + step);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! > key) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Base index range of the pairs whose value is `value`. */
  eqSpan(value: number | string): [number, number] {
    const key = this.keyOf(value);
    if (key === undefined) return [0, 0];
    const from = this.lower(key);
    return from < this.n && this.keys[from] === key ? [from, this.upper(key, from)] : [from, from];
  }

  /** Base index range of the pairs whose value lies in `iv` (whose bounds have this column's type). */
  span(iv: Interval): [number, number] {
    let lo: number | undefined;
    let loInclusive = iv.loInclusive;
    let hi: number | undefined;
    let hiInclusive = iv.hiInclusive;
    const dict = this.dict;
    if (dict === undefined) {
      lo = iv.lo as number | undefined;
      hi = iv.hi as number | undefined;
    } else {
      // Map string bounds to rank bounds: ranks >= lo (or > lo), ranks < hi (or <= hi).
      if (iv.lo !== undefined) {
        lo = iv.loInclusive ? lowerBoundStr(dict, iv.lo as string) : upperBoundStr(dict, iv.lo as string);
        loInclusive = true;
      }
      if (iv.hi !== undefined) {
        hi = iv.hiInclusive ? upperBoundStr(dict, iv.hi as string) : lowerBoundStr(dict, iv.hi as string);
        hiInclusive = false;
      }
    }
    const from = lo === undefined ? 0 : loInclusive ? this.lower(lo) : this.upper(lo);
    const to = hi === undefined ? this.n : hiInclusive ? this.upper(hi) : this.lower(hi);
    return [from, Math.max(from, to)];
  }

  /** Pushes the live slots of base pairs `[from, to)`; `oneKey` when they share a key (so ascend). */
  collect(from: number, to: number, out: Collector, oneKey: boolean): void {
    const slots = this.slots;
    const dead = this.dead;
    if (dead === undefined && oneKey) {
      out.pushRun(slots, from, to);
    } else if (dead === undefined) {
      for (let i = from; i < to; i++) out.push(slots[i]!);
    } else {
      for (let i = from; i < to; i++) if (dead[i] === 0) out.push(slots[i]!);
    }
  }

  /** Merges pending pairs into the base and drops tombstones (and unused dictionary strings). */
  compact(): void {
    const m = this.addS.length;
    if (m === 0 && this.deadCount === 0) return;
    const pendingKeys = this.dict === undefined ? undefined : this.rerank();
    const order = sortPending(this.addV, this.addS, pendingKeys);
    const total = this.n - this.deadCount + m;
    const addK = new Float64Array(m);
    const addS = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      const j = order[i]!;
      addK[i] = pendingKeys === undefined ? (this.addV[j] as number) : pendingKeys[j]!;
      addS[i] = this.addS[j]!;
    }
    const keys = new Float64Array(total);
    const slots = new Uint32Array(total);
    mergePairs(this.keys, this.slots, this.n, this.dead, addK, addS, keys, slots);
    this.keys = keys;
    this.slots = slots;
    this.n = total;
    this.dead = undefined;
    this.deadCount = 0;
    this.addV = [];
    this.addS = [];
  }

  /**
   * Strings: rebuilds `dict` from the live base strings and the pending ones, renumbers the base keys
   * in place (the renumbering keeps their order) and returns the pending pairs' new keys.
   */
  private rerank(): Uint32Array {
    const old = this.dict!;
    const counts = new Uint32Array(old.length);
    const keys = this.keys;
    const dead = this.dead;
    for (let p = 0; p < this.n; p++) if (dead === undefined || dead[p] === 0) counts[keys[p]!]!++;
    // One hash lookup per pending string: number the distinct ones, then sort those.
    const addV = this.addV as string[];
    const ids = new Map<string, number>();
    const idOf = new Uint32Array(addV.length);
    for (let k = 0; k < addV.length; k++) {
      let id = ids.get(addV[k]!);
      if (id === undefined) ids.set(addV[k]!, (id = ids.size));
      idOf[k] = id;
    }
    const fresh = [...ids.keys()];
    const freshOrder = fresh.map((_, id) => id).sort((x, y) => (fresh[x]! < fresh[y]! ? -1 : 1));
    const freshRank = new Uint32Array(fresh.length);
    const dict: string[] = [];
    const remap = new Uint32Array(old.length);
    let i = 0;
    let j = 0;
    while (i < old.length || j < fresh.length) {
      const a = i < old.length ? old[i]! : undefined;
      const b = j < fresh.length ? fresh[freshOrder[j]!]! : undefined;
      if (b === undefined || (a !== undefined && a < b)) {
        if (counts[i]! > 0) {
          remap[i] = dict.length;
          dict.push(a!);
        }
        i++;
      } else {
        if (a === b) {
          remap[i] = dict.length;
          i++;
        }
        freshRank[freshOrder[j]!] = dict.length;
        dict.push(b);
        j++;
      }
    }
    for (let p = 0; p < this.n; p++) keys[p] = remap[keys[p]!]!;
    this.dict = dict;
    for (let k = 0; k < idOf.length; k++) idOf[k] = freshRank[idOf[k]!]!;
    return idOf;
  }

  bytes(): number {
    return this.keys.byteLength + this.slots.byteLength + (this.dead?.byteLength ?? 0) + this.addS.length * 16 + (this.dict?.length ?? 0) * 8;
  }
}

function lowerBoundStr(a: string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBoundStr(a: string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Merges live base pairs with sorted pending pairs into `keys`/`slots` (sized for the result). */
function mergePairs(
  baseK: Float64Array,
  baseS: Uint32Array,
  n: number,
  dead: Uint8Array | undefined,
  addK: Float64Array,
  addS: Uint32Array,
  keys: Float64Array,
  slots: Uint32Array,
): void {
  const m = addK.length;
  let k = 0;
  let q = 0;
  for (let p = 0; p < n; p++) {
    if (dead !== undefined && dead[p] === 1) continue;
    const v = baseK[p]!;
    const s = baseS[p]!;
    while (q < m && (addK[q]! < v || (addK[q] === v && addS[q]! < s))) {
      keys[k] = addK[q]!;
      slots[k++] = addS[q++]!;
    }
    keys[k] = v;
    slots[k++] = s;
  }
  while (q < m) {
    keys[k] = addK[q]!;
    slots[k++] = addS[q++]!;
  }
}

/**
 * A permutation of the pending pairs sorting them by key, then slot: `ranks` are the keys of string
 * pairs; number pairs use their values.
 */
function sortPending(values: (number | string)[], slots: number[], ranks: Uint32Array | undefined): Uint32Array {
  const m = values.length;
  const perm = new Uint32Array(m);
  for (let i = 0; i < m; i++) perm[i] = i;
  if (m < 2) return perm;
  if (m < RADIX_MIN) {
    if (ranks !== undefined) return perm.sort((a, b) => ranks[a]! - ranks[b]! || slots[a]! - slots[b]!);
    return perm.sort((a, b) => (values[a] as number) - (values[b] as number) || slots[a]! - slots[b]!);
  }
  // LSD radix sort, stable: by slot (skipped when already ascending), then by the key's words.
  const keySlots = Uint32Array.from(slots);
  let ascending = true;
  for (let i = 1; i < m && ascending; i++) if (keySlots[i - 1]! > keySlots[i]!) ascending = false;
  let cur: Uint32Array = perm;
  let tmp: Uint32Array = new Uint32Array(m);
  const run = (key: Uint32Array): void => {
    [cur, tmp] = radixPasses(cur, tmp, key);
  };
  if (!ascending) run(keySlots);
  if (ranks !== undefined) {
    run(ranks);
    return cur;
  }
  const lo = new Uint32Array(m);
  const hi = new Uint32Array(m);
  const loIndex = LITTLE_ENDIAN ? 0 : 1;
  for (let i = 0; i < m; i++) {
    f64[0] = values[i] as number;
    let h = f64Words[1 - loIndex]!;
    let l = f64Words[loIndex]!;
    // Order-preserving map from IEEE 754 to unsigned: flip all bits of negatives, the sign of others.
    if (h >>> 31 === 1) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    lo[i] = l;
    hi[i] = h;
  }
  run(lo);
  run(hi);
  return cur;
}

/** Stable LSD passes of 11 bits over `key[perm[i]]`; returns [sorted, scratch]. */
function radixPasses(perm: Uint32Array, tmp: Uint32Array, key: Uint32Array): [Uint32Array, Uint32Array] {
  const m = perm.length;
  const counts = new Uint32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < m; i++) counts[(key[perm[i]!]! >>> shift) & 2047]!++;
    let trivial = false;
    for (let d = 0; d < 2048; d++) {
      if (counts[d] === m) trivial = true;
      if (counts[d] !== 0) break;
    }
    if (trivial) continue;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const p = perm[i]!;
      tmp[counts[(key[p]! >>> shift) & 2047]!++] = p;
    }
    const swap = perm;
    perm = tmp;
    tmp = swap;
  }
  return [perm, tmp];
}

// ---------------------------------------------------------------------------------------------------
// Per-path index and the record walk

/** Everything indexed under one path. */
interface KeyIndex {
  present: Posting;
  arrays: Posting | undefined;
  num: Column | undefined;
  str: Column | undefined;
  t: Posting | undefined;
  f: Posting | undefined;
  nul: Posting | undefined;
}

const hasOwn = Object.prototype.hasOwnProperty;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Calls `fn(path, value)` for every path at which `metadata` resolves to a defined value, exactly as
 * `resolvePath` in evaluate-filter.ts would resolve it.
 */
function forEachPath(metadata: Record<string, unknown>, fn: (path: string, value: unknown) => void): void {
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value === undefined) continue;
    fn(key, value);
    if (isObject(value) && !key.includes(".")) descend(metadata, key, value, fn);
  }
}

function descend(root: Record<string, unknown>, prefix: string, object: Record<string, unknown>, fn: (path: string, value: unknown) => void): void {
  for (const key of Object.keys(object)) {
    // A nested key with a dot is unreachable: paths are split at every dot.
    if (key.includes(".")) continue;
    const value = object[key];
    if (value === undefined) continue;
    const path = `${prefix}.${key}`;
    // A top-level key spelled like the whole path wins when it holds a defined value.
    if (!(hasOwn.call(root, path) && root[path] !== undefined)) fn(path, value);
    if (isObject(value)) descend(root, path, value, fn);
  }
}

/** Distinct scalar elements of an array, `-0` folded into `0`; non-scalars are dropped. */
function distinctScalars(items: readonly unknown[]): Scalar[] {
  const out: Scalar[] = [];
  for (const item of items) {
    let v: unknown = item;
    if (typeof v === "number") v = v + 0;
    else if (!(typeof v === "string" || typeof v === "boolean" || v === null)) continue;
    if (!out.includes(v as Scalar)) out.push(v as Scalar);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The index

/**
 * The metadata filter index of one collection, kept in step with its writes.
 *
 * Call {@link set} for every live record (with `undefined` metadata for records without any, so that
 * negations see them), {@link remove} when a record goes; then {@link evaluate} turns any parsed
 * filter into the exact ascending set of matching live slots, and {@link estimate} gives a cheap upper
 * bound on its size for planning. Not thread-safe; a query must not interleave with writes.
 *
 * @example
 * const index = new FilterIndex();
 * index.set(0, { year: 2020, party: "D", tags: ["a", "b"] });
 * index.set(1, { year: 1999, party: "R" });
 * index.evaluate(parseFilter({ year: { $gte: 2000 } })).slots; // Uint32Array [0]
 */
export class FilterIndex {
  private readonly keys = new Map<string, KeyIndex>();
  private live = new Posting();
  private metas: Meta[] = [];
  /** One past the highest slot ever set. */
  private limit = 0;

  /** Number of live records. */
  get size(): number {
    return this.live.size;
  }

  /** Number of distinct indexed paths. */
  get pathCount(): number {
    return this.keys.size;
  }

  /** Whether `slot` holds a live record. */
  has(slot: number): boolean {
    return this.live.has(slot);
  }

  /**
   * Inserts the record at `slot`, or replaces its metadata when the slot is live.
   *
   * The index keeps a reference to `metadata`: do not mutate it afterwards. `null`/`undefined`
   * metadata makes a live record with no keys.
   * @throws ValidationError INVALID_OPTION when `slot` is not an integer in [0, 2^32 - 1).
   */
  set(slot: number, metadata: Record<string, unknown> | null | undefined): void {
    checkSlot(slot);
    if (this.live.has(slot)) this.unindex(slot);
    if (slot >= this.limit) this.limit = slot + 1;
    while (this.metas.length < slot) this.metas.push(undefined);
    this.metas[slot] = metadata ?? undefined;
    this.live.add(slot, this.limit);
    if (metadata !== null && metadata !== undefined) {
      forEachPath(metadata, (path, value) => this.indexValue(path, value, slot));
    }
  }

  /** Removes the record at `slot`; a no-op when the slot is not live. */
  remove(slot: number): void {
    if (!this.live.has(slot)) return;
    this.unindex(slot);
    this.metas[slot] = undefined;
    this.live.remove(slot, this.limit);
  }

  /** Removes every record. */
  clear(): void {
    this.keys.clear();
    this.metas = [];
    this.live = new Posting();
    this.limit = 0;
  }

  /**
   * The exact set of live slots whose metadata satisfies `node` (as `evaluateFilter` would decide
   * it), ascending. `node` must come from `parseFilter` (or obey its invariants).
   */
  evaluate(node: FilterNode): FilterMatch {
    return new SlotMatch(this.evalNode(node));
  }

  /**
   * An upper bound on the number of live slots matching `node`, from posting and column sizes: binary
   * searches plus a scan of at most 1024 pending pairs per column read (a column with more pending
   * writes is compacted first). Exact for equality, `$in`, `$exists` and ranges on paths without
   * arrays when no removal is pending; `$contains` of a string counts every string at the path.
   */
  estimate(node: FilterNode): number {
    return this.bounds(node)[1];
  }

  /**
   * Merges every pending write into the sorted columns. Optional: queries do it for the columns they
   * read; call it after a bulk load (e.g. at open) so the first query does not pay for it.
   */
  compact(): void {
    for (const k of this.keys.values()) {
      k.num?.compact();
      k.str?.compact();
    }
  }

  /** Approximate bytes held by the index's typed arrays and buffers (not counting JS object overhead). */
  approximateBytes(): number {
    let bytes = this.live.bytes() + this.metas.length * 8;
    for (const [path, k] of this.keys) {
      bytes += path.length * 2 + 64;
      bytes += k.present.bytes() + (k.arrays?.bytes() ?? 0) + (k.t?.bytes() ?? 0) + (k.f?.bytes() ?? 0) + (k.nul?.bytes() ?? 0);
      bytes += (k.num?.bytes() ?? 0) + (k.str?.bytes() ?? 0);
    }
    return bytes;
  }

  // -------------------------------------------------------------------------------------------------
  // Writes

  private unindex(slot: number): void {
    const metadata = this.metas[slot];
    if (metadata === null || metadata === undefined) return;
    forEachPath(metadata, (path, value) => this.unindexValue(path, value, slot));
  }

  private indexValue(path: string, value: unknown, slot: number): void {
    let k = this.keys.get(path);
    if (k === undefined) {
      k = { present: new Posting(), arrays: undefined, num: undefined, str: undefined, t: undefined, f: undefined, nul: undefined };
      this.keys.set(path, k);
    }
    const limit = this.limit;
    k.present.add(slot, limit);
    if (Array.isArray(value)) {
      (k.arrays ??= new Posting()).add(slot, limit);
      for (const item of distinctScalars(value)) this.indexScalar(k, item, slot);
    } else if (typeof value === "number") {
      this.indexScalar(k, value + 0, slot);
    } else if (typeof value === "string" || typeof value === "boolean" || value === null) {
      this.indexScalar(k, value, slot);
    }
  }

  private indexScalar(k: KeyIndex, value: Scalar, slot: number): void {
    const limit = this.limit;
    if (typeof value === "number") {
      // NaN (not JSON, but possible in a caller's object) equals and orders with nothing: presence only.
      if (value === value) (k.num ??= new Column(true)).insert(value, slot);
    } else if (typeof value === "string") {
      (k.str ??= new Column(false)).insert(value, slot);
    } else if (value === true) {
      (k.t ??= new Posting()).add(slot, limit);
    } else if (value === false) {
      (k.f ??= new Posting()).add(slot, limit);
    } else {
      (k.nul ??= new Posting()).add(slot, limit);
    }
  }

  private unindexValue(path: string, value: unknown, slot: number): void {
    const k = this.keys.get(path);
    if (k === undefined) return;
    const limit = this.limit;
    k.present.remove(slot, limit);
    if (k.present.size === 0) {
      this.keys.delete(path);
      return;
    }
    if (Array.isArray(value)) {
      k.arrays?.remove(slot, limit);
      for (const item of distinctScalars(value)) this.unindexScalar(k, item, slot);
    } else if (typeof value === "number") {
      this.unindexScalar(k, value + 0, slot);
    } else if (typeof value === "string" || typeof value === "boolean" || value === null) {
      this.unindexScalar(k, value, slot);
    }
  }

  private unindexScalar(k: KeyIndex, value: Scalar, slot: number): void {
    const limit = this.limit;
    if (typeof value === "number") {
      if (value === value) k.num?.delete(value, slot);
    } else if (typeof value === "string") {
      k.str?.delete(value, slot);
    } else if (value === true) {
      k.t?.remove(slot, limit);
    } else if (value === false) {
      k.f?.remove(slot, limit);
    } else {
      k.nul?.remove(slot, limit);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Evaluation

  private get wordCount(): number {
    return (this.limit + 31) >>> 5;
  }

  private collector(): Collector {
    return new Collector(this.wordCount, Math.max(64, this.wordCount / DENSE_DIVISOR));
  }

  private evalNode(node: FilterNode): SlotSet {
    switch (node.kind) {
      case "all":
        return this.live.view();
      case "not":
        return difference(this.live.view(), this.evalNode(node.child));
      case "or":
        return union(
          node.children.map((c) => this.evalNode(c)),
          this.wordCount,
        );
      case "and":
        return this.evalAnd(node.children);
      case "compare":
        return this.evalCompare(node.path, node.op, node.value, (node as unknown as IntervalNode).interval);
    }
  }

  /**
   * Intersects the positive children, cheapest first, then subtracts the positive form of each negated
   * child (`$ne` → `$eq`, `$not` → its child, ...), so no complement of the live set is built. Once the
   * candidates are few next to the cost of the next child's set, the remaining children are tested
   * on each candidate with the compiled predicate instead.
   */
  private evalAnd(children: FilterNode[]): SlotSet {
    if (children.length === 0) return this.live.view();
    const steps = this.mergeRanges(children).map((node) => {
      const positive = positiveOf(node);
      return { node, positive, cost: this.cost(positive ?? node) };
    });
    const positives = steps.filter((s) => s.positive === undefined).sort((a, b) => a.cost - b.cost);
    const negatives = steps.filter((s) => s.positive !== undefined).sort((a, b) => a.cost - b.cost);
    const order = [...positives, ...negatives];
    let set = positives.length > 0 ? this.evalNode(order.shift()!.node) : this.live.view();
    for (let i = 0; i < order.length; i++) {
      const size = sizeOf(set);
      if (size === 0) return EMPTY_SET;
      const step = order[i]!;
      if (size * PREDICATE_RATIO < step.cost) {
        const rest = order.slice(i).map((r) => plain(r.node));
        return this.filterByPredicate(set, rest.length === 1 ? rest[0]! : { kind: "and", children: rest });
      }
      set = step.positive === undefined ? intersect(set, this.evalNode(step.node)) : difference(set, this.evalNode(step.positive));
    }
    return set;
  }

  /** Rough work to build `node`'s set, in slots touched (postings are free views). */
  private cost(node: FilterNode): number {
    switch (node.kind) {
      case "all":
        return 0;
      case "not":
        return this.cost(node.child);
      case "and":
      case "or": {
        let sum = 0;
        for (const c of node.children) sum += this.cost(c);
        return sum;
      }
      case "compare": {
        const op = node.op as CompareOp | "interval";
        if (op === "exists") return 0;
        if (op === "eq" || op === "ne") {
          const v = node.value;
          if (v === null || typeof v === "boolean") return 0;
        }
        if (op === "ne" || op === "nin" || op === "not_contains") return this.bounds(positiveOf(node)!)[1];
        return this.bounds(node)[1];
      }
    }
  }

  private filterByPredicate(set: SlotSet, node: FilterNode): SlotSet {
    const test = compileFilter(node);
    const metas = this.metas;
    const slots = toSlots(set);
    const out = new Uint32Array(slots.length);
    let k = 0;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (test(metas[s])) out[k++] = s;
    }
    return sparse(out.subarray(0, k));
  }

  /**
   * Folds several range comparisons on the same path and bound type into one interval node when no
   * record holds an array there (with arrays, each bound may be met by a different element).
   */
  private mergeRanges(children: FilterNode[]): FilterNode[] {
    const groups = new Map<string, IntervalNode>();
    const out: FilterNode[] = [];
    for (const child of children) {
      if (child.kind === "compare" && isRangeOp(child.op)) {
        const k = this.keys.get(child.path);
        if (k !== undefined && (k.arrays === undefined || k.arrays.size === 0)) {
          const bound = child.value as number | string;
          const id = `${typeof bound}\u0000${child.path}`;
          let group = groups.get(id);
          if (group === undefined) {
            group = {
              kind: "compare",
              path: child.path,
              op: "interval",
              value: null,
              interval: { lo: undefined, loInclusive: false, hi: undefined, hiInclusive: false },
              parts: [],
            };
            groups.set(id, group);
            out.push(group as unknown as FilterNode);
          }
          tighten(group.interval, child.op, bound);
          group.parts.push(child);
          continue;
        }
      }
      out.push(child);
    }
    return out;
  }

  private evalCompare(path: string, op: CompareOp | "interval", value: unknown, interval?: Interval): SlotSet {
    if (op === "interval") return this.intervalSet(path, interval!);
    const k = this.keys.get(path);
    switch (op) {
      case "eq":
        return k === undefined ? EMPTY_SET : this.eqSet(k, value as Scalar);
      case "ne":
        return k === undefined ? this.live.view() : difference(this.live.view(), this.eqSet(k, value as Scalar));
      case "in":
        return k === undefined ? EMPTY_SET : this.inSet(k, value as Scalar[]);
      case "nin":
        return k === undefined ? this.live.view() : difference(this.live.view(), this.inSet(k, value as Scalar[]));
      case "gt":
      case "gte":
      case "lt":
      case "lte": {
        const iv: Interval = { lo: undefined, loInclusive: false, hi: undefined, hiInclusive: false };
        tighten(iv, op, value as number | string);
        return this.intervalSet(path, iv);
      }
      case "exists":
        if (value === true) return k === undefined ? EMPTY_SET : k.present.view();
        return k === undefined ? this.live.view() : difference(this.live.view(), k.present.view());
      case "contains":
        return k === undefined ? EMPTY_SET : this.containsSet(k, value as FilterLiteral);
      case "not_contains":
        return k === undefined ? this.live.view() : difference(this.live.view(), this.containsSet(k, value as FilterLiteral));
    }
  }

  private columnFor(k: KeyIndex, value: number | string): Column | undefined {
    const column = typeof value === "number" ? k.num : k.str;
    column?.prepare();
    return column;
  }

  private eqSet(k: KeyIndex, value: Scalar): SlotSet {
    if (value === true) return k.t?.view() ?? EMPTY_SET;
    if (value === false) return k.f?.view() ?? EMPTY_SET;
    if (value === null) return k.nul?.view() ?? EMPTY_SET;
    const column = this.columnFor(k, value);
    if (column === undefined) return EMPTY_SET;
    const out = this.collector();
    this.collectEq(column, value, out);
    return out.finish();
  }

  private collectEq(column: Column, value: number | string, out: Collector): void {
    const [from, to] = column.eqSpan(value);
    if (from < to) column.collect(from, to, out, true);
    const addV = column.addV;
    for (let i = 0; i < addV.length; i++) if (addV[i] === value) out.push(column.addS[i]!);
  }

  private inSet(k: KeyIndex, list: Scalar[]): SlotSet {
    const sets: SlotSet[] = [];
    const out = this.collector();
    let columnValues = 0;
    for (const value of distinctScalars(list)) {
      if (typeof value === "number" || typeof value === "string") {
        const column = this.columnFor(k, value);
        if (column !== undefined) {
          this.collectEq(column, value, out);
          columnValues++;
        }
      } else {
        sets.push(this.eqSet(k, value));
      }
    }
    if (columnValues > 0) sets.push(out.finish());
    return union(sets, this.wordCount);
  }

  private intervalSet(path: string, iv: Interval): SlotSet {
    const k = this.keys.get(path);
    const bound = iv.lo ?? iv.hi;
    if (k === undefined || bound === undefined) return EMPTY_SET;
    const column = this.columnFor(k, bound);
    if (column === undefined) return EMPTY_SET;
    const out = this.collector();
    const [from, to] = column.span(iv);
    if (from < to) column.collect(from, to, out, false);
    const addV = column.addV;
    for (let i = 0; i < addV.length; i++) if (inInterval(addV[i]!, iv)) out.push(column.addS[i]!);
    return out.finish();
  }

  private containsSet(k: KeyIndex, value: FilterLiteral): SlotSet {
    const arrays = k.arrays !== undefined && k.arrays.size > 0 ? k.arrays.view() : undefined;
    const members = arrays === undefined ? EMPTY_SET : intersect(this.eqSet(k, value), arrays);
    if (typeof value !== "string") return members;
    // Substring on scalar strings: test each distinct string once, take its run of slots.
    const column = this.columnFor(k, value);
    if (column === undefined) return members;
    const out = this.collector();
    const dict = column.dict!;
    for (let r = 0; r < dict.length; r++) {
      if (!dict[r]!.includes(value)) continue;
      const from = column.lower(r);
      column.collect(from, column.upper(r, from), out, true);
    }
    const addV = column.addV as string[];
    for (let i = 0; i < addV.length; i++) if (addV[i]!.includes(value)) out.push(column.addS[i]!);
    let substrings = out.finish();
    if (arrays !== undefined) substrings = difference(substrings, arrays);
    return union([members, substrings], this.wordCount);
  }

  // -------------------------------------------------------------------------------------------------
  // Estimates: [lower, upper] bounds on the match count

  private bounds(node: FilterNode): [number, number] {
    const live = this.live.size;
    switch (node.kind) {
      case "all":
        return [live, live];
      case "not": {
        const [lo, hi] = this.bounds(node.child);
        return [live - hi, live - lo];
      }
      case "and": {
        let lo = 0;
        let hi = live;
        const parts = this.mergeRanges(node.children);
        for (const c of parts) {
          const [l, h] = this.bounds(c);
          lo += l;
          hi = Math.min(hi, h);
        }
        return [Math.max(0, lo - (parts.length - 1) * live), hi];
      }
      case "or": {
        let lo = 0;
        let hi = 0;
        for (const c of node.children) {
          const [l, h] = this.bounds(c);
          lo = Math.max(lo, l);
          hi += h;
        }
        return [lo, Math.min(live, hi)];
      }
      case "compare":
        return this.compareBounds(node.path, node.op, node.value, (node as unknown as IntervalNode).interval);
    }
  }

  private compareBounds(path: string, op: CompareOp | "interval", value: unknown, interval: Interval | undefined): [number, number] {
    const live = this.live.size;
    const k = this.keys.get(path);
    const negate = ([lo, hi]: [number, number]): [number, number] => [live - hi, live - lo];
    switch (op) {
      case "eq":
        return k === undefined ? [0, 0] : this.eqBounds(k, value as Scalar);
      case "ne":
        return k === undefined ? [live, live] : negate(this.eqBounds(k, value as Scalar));
      case "in":
      case "nin": {
        let lo = 0;
        let hi = 0;
        if (k !== undefined) {
          const arrays = k.arrays !== undefined && k.arrays.size > 0;
          for (const v of distinctScalars(value as Scalar[])) {
            const [l, h] = this.eqBounds(k, v);
            lo = arrays ? Math.max(lo, l) : lo + l;
            hi += h;
          }
        }
        const b: [number, number] = [Math.min(lo, live), Math.min(hi, live)];
        return op === "in" ? b : negate(b);
      }
      case "gt":
      case "gte":
      case "lt":
      case "lte":
      case "interval": {
        let iv = interval;
        if (op !== "interval") {
          iv = { lo: undefined, loInclusive: false, hi: undefined, hiInclusive: false };
          tighten(iv, op, value as number | string);
        }
        const bound = iv!.lo ?? iv!.hi;
        if (k === undefined || bound === undefined) return [0, 0];
        const column = this.columnFor(k, bound);
        if (column === undefined) return [0, 0];
        const [from, to] = column.span(iv!);
        let pending = 0;
        for (let i = 0; i < column.addV.length; i++) if (inInterval(column.addV[i]!, iv!)) pending++;
        const hi = Math.min(live, to - from + pending);
        const certain = Math.max(0, to - from - column.deadCount) + pending;
        const lo = k.arrays !== undefined && k.arrays.size > 0 ? Math.min(1, certain) : Math.min(certain, live);
        return [lo, hi];
      }
      case "exists": {
        const n = k?.present.size ?? 0;
        return value === true ? [n, n] : [live - n, live - n];
      }
      case "contains":
      case "not_contains": {
        let hi = 0;
        if (k !== undefined) {
          const arrays = k.arrays?.size ?? 0;
          hi = Math.min(arrays, this.eqBounds(k, value as Scalar)[1]);
          if (typeof value === "string") hi += k.str?.size ?? 0;
        }
        const b: [number, number] = [0, Math.min(hi, live)];
        return op === "contains" ? b : negate(b);
      }
    }
  }

  private eqBounds(k: KeyIndex, value: Scalar): [number, number] {
    if (value === true || value === false || value === null) {
      const n = (value === true ? k.t : value === false ? k.f : k.nul)?.size ?? 0;
      return [n, n];
    }
    const column = this.columnFor(k, value);
    if (column === undefined) return [0, 0];
    const [from, to] = column.eqSpan(value);
    let pending = 0;
    for (let i = 0; i < column.addV.length; i++) if (column.addV[i] === value) pending++;
    return [Math.max(0, to - from - column.deadCount) + pending, to - from + pending];
  }
}

// ---------------------------------------------------------------------------------------------------
// Intervals (merged range comparisons)

interface Interval {
  lo: number | string | undefined;
  loInclusive: boolean;
  hi: number | string | undefined;
  hiInclusive: boolean;
}

/** An internal compare node for an interval of one bound type on one path. */
interface IntervalNode {
  kind: "compare";
  path: string;
  op: "interval";
  value: null;
  interval: Interval;
  /** The comparisons folded in, for the compiled-predicate path. */
  parts: FilterNode[];
}

const POSITIVE_OP: Partial<Record<CompareOp, CompareOp>> = { ne: "eq", nin: "in", not_contains: "contains" };

/** The filter `node` negates (`$ne` → `$eq`, `$exists: false` → `$exists: true`, `$not` → its child), if any. */
function positiveOf(node: FilterNode): FilterNode | undefined {
  if (node.kind === "not") return node.child;
  if (node.kind !== "compare") return undefined;
  if (node.op === "exists") return node.value === false ? { ...node, value: true } : undefined;
  const op = POSITIVE_OP[node.op];
  return op === undefined ? undefined : { ...node, op };
}

/** `node` with interval nodes turned back into the comparisons they fold. */
function plain(node: FilterNode): FilterNode {
  const iv = node as unknown as IntervalNode;
  if (iv.kind !== "compare" || iv.op !== "interval") return node;
  return iv.parts.length === 1 ? iv.parts[0]! : { kind: "and", children: iv.parts };
}

function isRangeOp(op: CompareOp): op is RangeOp {
  return op === "gt" || op === "gte" || op === "lt" || op === "lte";
}

/** Narrows `iv` by one more bound of the same type. */
function tighten(iv: Interval, op: RangeOp, bound: number | string): void {
  if (op === "gt" || op === "gte") {
    const inclusive = op === "gte";
    if (iv.lo === undefined || bound > iv.lo || (bound === iv.lo && !inclusive)) {
      iv.lo = bound;
      iv.loInclusive = inclusive;
    }
  } else {
    const inclusive = op === "lte";
    if (iv.hi === undefined || bound < iv.hi || (bound === iv.hi && !inclusive)) {
      iv.hi = bound;
      iv.hiInclusive = inclusive;
    }
  }
}

function inInterval(v: number | string, iv: Interval): boolean {
  if (iv.lo !== undefined && (iv.loInclusive ? !(v >= iv.lo) : !(v > iv.lo))) return false;
  if (iv.hi !== undefined && (iv.hiInclusive ? !(v <= iv.hi) : !(v < iv.hi))) return false;
  return true;
}

/** A {@link FilterMatch} over a bitmap or a sorted array, converting lazily to the other form. */
class SlotMatch implements FilterMatch {
  readonly exact = true;
  readonly count: number;
  private sorted: Uint32Array | undefined;
  private words: Uint32Array | undefined;

  constructor(set: SlotSet) {
    if (set.dense) {
      // A posting's own bitmap changes with later writes: keep a copy.
      this.words = set.owned ? set.words : set.words.slice();
      this.count = set.count;
    } else {
      this.sorted = set.borrowed === true ? set.slots.slice() : set.slots;
      this.count = this.sorted.length;
    }
  }

  get slots(): Uint32Array {
    return (this.sorted ??= extractBits(this.words!, this.count));
  }

  has(slot: number): boolean {
    if (this.words === undefined) {
      const slots = this.sorted!;
      const words = new Uint32Array(slots.length === 0 ? 0 : (slots[slots.length - 1]! >>> 5) + 1);
      for (let i = 0; i < slots.length; i++) words[slots[i]! >>> 5] = words[slots[i]! >>> 5]! | (1 << (slots[i]! & 31));
      this.words = words;
    }
    return testBit(this.words, slot);
  }
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= 0xffffffff) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `filter index: slot must be an integer in [0, 2^32 - 1), got ${String(slot)}`);
  }
}
