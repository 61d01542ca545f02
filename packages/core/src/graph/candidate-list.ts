/**
 * The bounded, sorted candidate list of a greedy graph search (the "L" of Vamana, `efSearch` of
 * HNSW): at most `capacity` (slot, distance) pairs, ascending by distance, each marked once it has
 * been expanded. Insertion is a binary search plus a shift, which beats a heap at these sizes.
 *
 * INVARIANT: `distances[0..size)` is non-decreasing; a slot appears at most once.
 */
export class CandidateList {
  slots: Uint32Array;
  distances: Float32Array;
  expanded: Uint8Array;
  size = 0;
  /** Every index below this is expanded. */
  private cursor = 0;

  constructor(public capacity: number) {
    this.slots = new Uint32Array(capacity + 1);
    this.distances = new Float32Array(capacity + 1);
    this.expanded = new Uint8Array(capacity + 1);
  }

  /** Empties the list and sets its capacity, reusing the arrays when they are large enough. */
  reset(capacity = this.capacity): void {
    if (capacity + 1 > this.slots.length) {
      this.slots = new Uint32Array(capacity + 1);
      this.distances = new Float32Array(capacity + 1);
      this.expanded = new Uint8Array(capacity + 1);
    }
    this.capacity = capacity;
    this.size = 0;
    this.cursor = 0;
  }

  /** The largest distance that could still enter, or +∞ while not full. */
  get bound(): number {
    return this.size < this.capacity ? Number.POSITIVE_INFINITY : this.distances[this.size - 1]!;
  }

  /** Inserts a pair if it ranks within the capacity; returns whether it did. */
  push(slot: number, distance: number): boolean {
    if (this.size === this.capacity && !(distance < this.distances[this.size - 1]!)) return false;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.distances[mid]! <= distance) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(this.size, this.capacity - 1);
    this.slots.copyWithin(lo + 1, lo, end);
    this.distances.copyWithin(lo + 1, lo, end);
    this.expanded.copyWithin(lo + 1, lo, end);
    this.slots[lo] = slot;
    this.distances[lo] = distance;
    this.expanded[lo] = 0;
    if (this.size < this.capacity) this.size++;
    if (lo < this.cursor) this.cursor = lo;
    return true;
  }

  /** Index of the closest unexpanded candidate, marked expanded; -1 when all are expanded. */
  next(): number {
    while (this.cursor < this.size && this.expanded[this.cursor] === 1) this.cursor++;
    if (this.cursor >= this.size) return -1;
    this.expanded[this.cursor] = 1;
    return this.cursor;
  }
}
