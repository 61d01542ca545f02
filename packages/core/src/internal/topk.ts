/**
 * Bounded top-k selection: keeps the k smallest (distance, id) pairs seen, in a binary max-heap whose
 * root is the current worst kept pair, so a pair that cannot enter costs one comparison.
 *
 * Order: ascending by distance, ties by smaller id. NaN counts as +Infinity, so it never displaces a
 * number and the heap order stays total.
 *
 * INVARIANT: heap entries 0..size-1 live in two parallel typed arrays (distances, ids); for every
 * entry i > 0, entry (i-1)>>1 is worse than or equal to it.
 */

/** The k smallest (distance, id) pairs, sorted ascending by distance then id. */
export interface TopKResult {
  ids: Uint32Array;
  distances: Float32Array;
}

/** A reusable bounded max-heap selecting the k smallest (distance, id) pairs. */
export class TopK {
  private readonly dist: Float64Array;
  private readonly ids: Uint32Array;
  private count = 0;

  /** @param k how many pairs to keep (a non-negative integer). */
  constructor(readonly k: number) {
    this.dist = new Float64Array(k);
    this.ids = new Uint32Array(k);
  }

  /** How many pairs are held (at most k). */
  get size(): number {
    return this.count;
  }

  /** Offers one pair; it is kept when it is among the k smallest so far. */
  push(distance: number, id: number): void {
    const d = distance === distance ? distance : Infinity;
    const dist = this.dist;
    const ids = this.ids;
    if (this.count < this.k) {
      // sift up from the new leaf
      let i = this.count++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pd = dist[p]!;
        if (pd > d || (pd === d && ids[p]! > id)) break;
        dist[i] = pd;
        ids[i] = ids[p]!;
        i = p;
      }
      dist[i] = d;
      ids[i] = id;
      return;
    }
    if (this.k === 0) return;
    const top = dist[0]!;
    if (d > top || (d === top && id >= ids[0]!)) return;
    // replace the root and sift down
    const n = this.count;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      const r = l + 1;
      if (r < n && (dist[r]! > dist[l]! || (dist[r] === dist[l] && ids[r]! > ids[l]!))) c = r;
      const cd = dist[c]!;
      if (cd < d || (cd === d && ids[c]! < id)) break;
      dist[i] = cd;
      ids[i] = ids[c]!;
      i = c;
    }
    dist[i] = d;
    ids[i] = id;
  }

  /** Returns the kept pairs sorted ascending (distance, then id) and empties the heap. */
  drain(): TopKResult {
    const n = this.count;
    const ids = new Uint32Array(n);
    const distances = new Float32Array(n);
    // pop the worst into the last free position until empty
    for (let end = n - 1; end >= 0; end--) {
      ids[end] = this.ids[0]!;
      distances[end] = this.dist[0]!;
      const lastD = this.dist[end]!;
      const lastId = this.ids[end]!;
      this.count = end;
      // sift the former last entry down from the root over entries 0..end-1
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= end) break;
        let c = l;
        const r = l + 1;
        if (r < end && (this.dist[r]! > this.dist[l]! || (this.dist[r] === this.dist[l] && this.ids[r]! > this.ids[l]!))) c = r;
        const cd = this.dist[c]!;
        if (cd < lastD || (cd === lastD && this.ids[c]! < lastId)) break;
        this.dist[i] = cd;
        this.ids[i] = this.ids[c]!;
        i = c;
      }
      if (end > 0) {
        this.dist[i] = lastD;
        this.ids[i] = lastId;
      }
    }
    this.count = 0;
    return { ids, distances };
  }
}
