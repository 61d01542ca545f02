/**
 * The bounded, sorted candidate list of a greedy graph search (the "L" of Vamana, `efSearch` of
 * HNSW): at most `capacity` (slot, distance) pairs, ascending by distance, each marked once it has
 * been expanded. Insertion is a binary search plus a shift, which beats a heap at these sizes.
 * With a spill, the pairs that do not fit (refused, or pushed out by closer ones) are kept aside, so
 * the list can later {@link grow} into what a longer list would have held.
 *
 * INVARIANT: `distances[0..size)` is non-decreasing; a slot appears at most once, in the list or in
 * the spill.
 */
export class CandidateList {
  slots: Uint32Array;
  distances: Float32Array;
  expanded: Uint8Array;
  size = 0;
  /** Every index below this is expanded. */
  private cursor = 0;
  /** While spilling (see {@link reset}): the `spilled` pairs that did not fit. */
  private spilling = false;
  private spillSlots = new Uint32Array(0);
  private spillDistances = new Float32Array(0);
  private spilled = 0;

  constructor(public capacity: number) {
    this.slots = new Uint32Array(capacity + 1);
    this.distances = new Float32Array(capacity + 1);
    this.expanded = new Uint8Array(capacity + 1);
  }

  /**
   * Empties the list and sets its capacity, reusing the arrays when they are large enough. With
   * `spill`, pairs that do not fit are kept for {@link grow}.
   */
  reset(capacity = this.capacity, spill = false): void {
    if (capacity + 1 > this.slots.length) {
      this.slots = new Uint32Array(capacity + 1);
      this.distances = new Float32Array(capacity + 1);
      this.expanded = new Uint8Array(capacity + 1);
    }
    this.capacity = capacity;
    this.size = 0;
    this.cursor = 0;
    this.spilling = spill;
    this.spilled = 0;
  }

  /**
   * Raises the capacity to `capacity` (≥ the current one), keeping the list, and takes back the
   * spilled pairs that now rank within it (unexpanded). Requires a spilling list.
   */
  grow(capacity: number): void {
    if (!this.spilling) throw new Error("CandidateList.grow: the list was reset without a spill");
    if (capacity === this.capacity) return;
    if (capacity + 1 > this.slots.length) {
      const slots = new Uint32Array(capacity + 1);
      const distances = new Float32Array(capacity + 1);
      const expanded = new Uint8Array(capacity + 1);
      slots.set(this.slots.subarray(0, this.size));
      distances.set(this.distances.subarray(0, this.size));
      expanded.set(this.expanded.subarray(0, this.size));
      this.slots = slots;
      this.distances = distances;
      this.expanded = expanded;
    }
    this.capacity = capacity;
    // Take the spill back through push, which spills again what still does not fit.
    const slots = this.spillSlots.slice(0, this.spilled);
    const distances = this.spillDistances.slice(0, this.spilled);
    this.spilled = 0;
    for (let i = 0; i < slots.length; i++) this.push(slots[i]!, distances[i]!);
  }

  /** The largest distance that could still enter, or +∞ while not full. */
  get bound(): number {
    return this.size < this.capacity ? Number.POSITIVE_INFINITY : this.distances[this.size - 1]!;
  }

  /** Inserts a pair if it ranks within the capacity; returns whether it did. */
  push(slot: number, distance: number): boolean {
    if (this.size === this.capacity && !(distance < this.distances[this.size - 1]!)) {
      if (this.spilling) this.keepAside(slot, distance);
      return false;
    }
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.distances[mid]! <= distance) lo = mid + 1;
      else hi = mid;
    }
    if (this.size === this.capacity && this.spilling) this.keepAside(this.slots[this.size - 1]!, this.distances[this.size - 1]!);
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

  /** Appends a pair to the spill, doubling its arrays when full. */
  private keepAside(slot: number, distance: number): void {
    if (this.spilled === this.spillDistances.length) {
      const room = Math.max(1024, this.spilled * 2);
      const slots = new Uint32Array(room);
      const distances = new Float32Array(room);
      slots.set(this.spillSlots.subarray(0, this.spilled));
      distances.set(this.spillDistances.subarray(0, this.spilled));
      this.spillSlots = slots;
      this.spillDistances = distances;
    }
    this.spillSlots[this.spilled] = slot;
    this.spillDistances[this.spilled++] = distance;
  }

  /** Index of the closest unexpanded candidate, marked expanded; -1 when all are expanded. */
  next(): number {
    while (this.cursor < this.size && this.expanded[this.cursor] === 1) this.cursor++;
    if (this.cursor >= this.size) return -1;
    this.expanded[this.cursor] = 1;
    return this.cursor;
  }
}
