import { describe, expect, it } from "vitest";
import { ClosedError, ErrorCode, ValidationError } from "../errors.js";
import { gaussianVector, mulberry32, randomInt, type RandomSource } from "../internal/seeded-random.js";
import { PQCodeStore } from "./pq-code-store.js";
import {
  distanceTable,
  encodeVector,
  PQ_CENTROIDS,
  type ProductQuantizer,
  subspaceOffsets,
  tableDistance,
  trainProductQuantizer,
} from "./product-quantizer.js";

const EPS32 = 2 ** -24;
/** (dim, m) pairs: uneven widths, one-wide sub-spaces, the 1536-d default, and m not a multiple of 8. */
const SHAPES: Array<[number, number]> = [
  [7, 7],
  [100, 13],
  [1536, 192],
  [384, 48],
  [10, 3],
];

/** A quantizer with Gaussian centroids: every table, code and distance path works on it. */
function randomQuantizer(rand: RandomSource, dim: number, m: number): ProductQuantizer {
  return { dim, m, offsets: subspaceOffsets(dim, m), centroids: gaussianVector(rand, dim * PQ_CENTROIDS) };
}

function randomCode(rand: RandomSource, m: number): Uint8Array {
  const code = new Uint8Array(m);
  for (let s = 0; s < m; s++) code[s] = randomInt(rand, 256);
  return code;
}

/** Sum of |terms| of one table entry, for the f32 error bound. */
function entryMagnitude(pq: ProductQuantizer, query: Float32Array, s: number, c: number, kind: "l2" | "ip"): number {
  const lo = pq.offsets[s]!;
  const width = pq.offsets[s + 1]! - lo;
  let sum = 0;
  for (let j = 0; j < width; j++) {
    const x = query[lo + j]!;
    const y = pq.centroids[lo * PQ_CENTROIDS + c * width + j]!;
    sum += kind === "l2" ? (x - y) ** 2 : Math.abs(x * y);
  }
  return sum;
}

function expectTableClose(pq: ProductQuantizer, query: Float32Array, got: Float32Array, kind: "l2" | "ip"): void {
  const want = distanceTable(pq, query, kind);
  expect(got.length).toBe(want.length);
  for (let s = 0; s < pq.m; s++) {
    const width = pq.offsets[s + 1]! - pq.offsets[s]!;
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      const i = s * PQ_CENTROIDS + c;
      const bound = 2 * EPS32 * (width + 4) * entryMagnitude(pq, query, s, c, kind) + 1e-30;
      if (!(Math.abs(got[i]! - want[i]!) <= bound)) {
        throw new Error(`table [${s}][${c}] (${kind}): got ${got[i]}, want ${want[i]} ± ${bound}`);
      }
    }
  }
}

/** Checks `store.distances` for `targets` against `tableDistance` over the store's own table. */
function expectDistancesClose(store: PQCodeStore, codesBySlot: Map<number, Uint8Array>, targets: Uint32Array): void {
  const m = store.m;
  const table = store.getTable();
  const out = new Float32Array(targets.length);
  store.distances(targets, targets.length, out);
  for (let j = 0; j < targets.length; j++) {
    const code = codesBySlot.get(targets[j]!) ?? new Uint8Array(m);
    const want = tableDistance(table, code, 0, m);
    let magnitude = 0;
    for (let s = 0; s < m; s++) magnitude += Math.abs(table[s * PQ_CENTROIDS + code[s]!]!);
    const bound = 2 * EPS32 * (Math.ceil(m / 4) + 8) * magnitude + 1e-30;
    if (!(Math.abs(out[j]! - want) <= bound)) {
      throw new Error(`distance of slot ${targets[j]}: got ${out[j]}, want ${want} ± ${bound}`);
    }
  }
}

describe("PQCodeStore tables", () => {
  for (const [dim, m] of SHAPES) {
    it(`builds l2 and ip tables as distanceTable does (dim ${dim}, m ${m})`, () => {
      const rand = mulberry32(dim * 1000 + m);
      const pq = randomQuantizer(rand, dim, m);
      const store = new PQCodeStore(m);
      store.setQuantizer(pq);
      expect(store.dimension).toBe(dim);
      for (let q = 0; q < 3; q++) {
        const query = gaussianVector(rand, dim);
        for (const kind of ["l2", "ip"] as const) {
          store.setQuery(query, kind);
          expectTableClose(pq, query, store.getTable(), kind);
        }
      }
    });
  }

  it("gives a zero l2 entry where the query equals a centroid", () => {
    const rand = mulberry32(5);
    const pq = randomQuantizer(rand, 100, 13);
    const store = new PQCodeStore(13);
    store.setQuantizer(pq);
    const code = randomCode(rand, 13);
    const query = new Float32Array(100);
    for (let s = 0; s < 13; s++) {
      const lo = pq.offsets[s]!;
      const width = pq.offsets[s + 1]! - lo;
      query.set(pq.centroids.subarray(lo * 256 + code[s]! * width, lo * 256 + (code[s]! + 1) * width), lo);
    }
    store.setQuery(query, "l2");
    const table = store.getTable();
    for (let s = 0; s < 13; s++) expect(table[s * 256 + code[s]!]).toBe(0);
  });
});

describe("PQCodeStore encode", () => {
  for (const [dim, m] of SHAPES) {
    it(`encodes exactly as encodeVector (dim ${dim}, m ${m})`, () => {
      const rand = mulberry32(dim * 7 + m);
      const pq = randomQuantizer(rand, dim, m);
      const store = new PQCodeStore(m);
      store.setQuantizer(pq);
      const want = new Uint8Array(m);
      for (let i = 0; i < 20; i++) {
        const v = gaussianVector(rand, dim);
        store.encode(i, v);
        encodeVector(pq, v, want);
        expect(store.getCode(i)).toEqual(want);
      }
      expect(store.count).toBe(20);
    });
  }

  it("encodes many vectors at once as encode does one at a time", () => {
    const rand = mulberry32(15);
    for (const [dim, m] of [[100, 13], [1536, 192], [7, 7]] as Array<[number, number]>) {
      const pq = randomQuantizer(rand, dim, m);
      const one = new PQCodeStore(m);
      const many = new PQCodeStore(m);
      one.setQuantizer(pq);
      many.setQuantizer(pq);
      const n = dim === 1536 ? 150 : 700; // several chunks
      const vectors = gaussianVector(rand, n * dim);
      const slots = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % 1009 + 3 * i);
      many.encodeMany(slots, vectors);
      for (let i = 0; i < n; i++) one.encode(slots[i]!, vectors.subarray(i * dim, (i + 1) * dim));
      expect(many.count).toBe(one.count);
      expect(many.codes()).toEqual(one.codes());
    }
    const store = new PQCodeStore(2);
    store.setQuantizer(randomQuantizer(rand, 4, 2));
    expect(() => store.encodeMany(Uint32Array.of(0, 1), new Float32Array(4))).toThrow(ValidationError);
    store.encodeMany(new Uint32Array(0), new Float32Array(0));
    expect(store.count).toBe(0);
  });

  it("breaks ties toward the lower centroid, as encodeVector", () => {
    const rand = mulberry32(8);
    const dim = 12;
    const m = 4;
    const pq = randomQuantizer(rand, dim, m);
    // sub-space 0: centroids 3, 40 and 200 identical; sub-space 1: 0 and 255 identical
    const w = 3;
    for (const c of [40, 200]) pq.centroids.set(pq.centroids.subarray(3 * w, 4 * w), c * w);
    pq.centroids.copyWithin(3 * 256 + 255 * w, 3 * 256, 3 * 256 + w);
    const store = new PQCodeStore(m);
    store.setQuantizer(pq);
    const v = new Float32Array(dim);
    v.set(pq.centroids.subarray(40 * w, 41 * w), 0);
    v.set(pq.centroids.subarray(3 * 256 + 255 * w, 3 * 256 + 256 * w), 3);
    const want = new Uint8Array(m);
    encodeVector(pq, v, want);
    store.encode(0, v);
    expect(store.getCode(0)).toEqual(want);
    expect(store.getCode(0)[0]).toBe(3);
    expect(store.getCode(0)[1]).toBe(0);
  });

  it("matches encodeVector on near-ties (points halfway between two centroids)", () => {
    const rand = mulberry32(9);
    const dim = 16;
    const m = 2;
    const pq = randomQuantizer(rand, dim, m);
    const store = new PQCodeStore(m);
    store.setQuantizer(pq);
    const want = new Uint8Array(m);
    for (let i = 0; i < 200; i++) {
      const v = new Float32Array(dim);
      for (let s = 0; s < m; s++) {
        const a = randomInt(rand, 256);
        const b = randomInt(rand, 256);
        for (let j = 0; j < 8; j++) v[s * 8 + j] = (pq.centroids[s * 8 * 256 + a * 8 + j]! + pq.centroids[s * 8 * 256 + b * 8 + j]!) / 2;
      }
      store.encode(i, v);
      encodeVector(pq, v, want);
      expect(store.getCode(i)).toEqual(want);
    }
  });

  it("matches encodeVector at extreme scales and on NaN input", () => {
    const rand = mulberry32(11);
    const dim = 20;
    const m = 5;
    const want = new Uint8Array(m);
    // huge values overflow f32 squares (the kernel then re-checks every centroid in f64); tiny
    // values are subnormal in f32
    for (const scale of [1e19, 1e30, 1e-20, 1e-42]) {
      const pq = randomQuantizer(rand, dim, m);
      for (let i = 0; i < pq.centroids.length; i++) pq.centroids[i] = pq.centroids[i]! * scale;
      const store = new PQCodeStore(m);
      store.setQuantizer(pq);
      for (let i = 0; i < 10; i++) {
        const v = gaussianVector(rand, dim).map((x) => x * scale);
        store.encode(i, v);
        encodeVector(pq, v, want);
        expect(store.getCode(i)).toEqual(want);
      }
      const mixed = gaussianVector(rand, dim);
      mixed[3] = 1e25;
      store.encode(10, mixed);
      encodeVector(pq, mixed, want);
      expect(store.getCode(10)).toEqual(want);
    }
    const pq = randomQuantizer(rand, dim, m);
    const store = new PQCodeStore(m);
    store.setQuantizer(pq);
    const v = gaussianVector(rand, dim);
    v[0] = Number.NaN; // sub-space 0 has no comparable distance: centroid 0, as encodeVector
    store.encode(0, v);
    encodeVector(pq, v, want);
    expect(store.getCode(0)).toEqual(want);
    expect(want[0]).toBe(0);
  });

  it("encodes vectors of a trained quantizer's sample as encodeVector", () => {
    const rand = mulberry32(10);
    const dim = 24;
    const n = 400;
    const sample = gaussianVector(rand, n * dim);
    const pq = trainProductQuantizer(sample, dim, { random: mulberry32(3), iterations: 4 });
    const store = new PQCodeStore(pq.m);
    store.setQuantizer(pq);
    const want = new Uint8Array(pq.m);
    for (let i = 0; i < n; i++) {
      const v = sample.subarray(i * dim, (i + 1) * dim);
      store.encode(i, v);
      encodeVector(pq, v, want);
      expect(store.getCode(i)).toEqual(want);
    }
  });
});

describe("PQCodeStore distances", () => {
  for (const [dim, m] of SHAPES) {
    it(`sums table lookups as tableDistance (dim ${dim}, m ${m})`, () => {
      const rand = mulberry32(dim + m * 31);
      const pq = randomQuantizer(rand, dim, m);
      const store = new PQCodeStore(m);
      store.setQuantizer(pq);
      const codes = new Map<number, Uint8Array>();
      const slots = 500;
      for (let t = 0; t < slots; t++) {
        const code = randomCode(rand, m);
        codes.set(t, code);
        store.setCode(t, code);
      }
      for (const kind of ["l2", "ip"] as const) {
        store.setQuery(gaussianVector(rand, dim), kind);
        for (const count of [0, 1, 5, 64, 300]) {
          const targets = new Uint32Array(count);
          for (let j = 0; j < count; j++) targets[j] = randomInt(rand, slots);
          expectDistancesClose(store, codes, targets);
        }
      }
      // a caller's table
      const table = distanceTable(pq, gaussianVector(rand, dim), "ip");
      store.setTable(table);
      expect(store.getTable()).toEqual(table);
      expectDistancesClose(store, codes, Uint32Array.from({ length: 100 }, (_, j) => j * 5));
    });
  }

  it("computes end-to-end what distanceTable + tableDistance compute", () => {
    const rand = mulberry32(77);
    const pq = randomQuantizer(rand, 100, 13);
    const store = new PQCodeStore(13);
    store.setQuantizer(pq);
    const codes: Uint8Array[] = [];
    for (let t = 0; t < 50; t++) {
      codes.push(randomCode(rand, 13));
      store.setCode(t, codes[t]!);
    }
    const query = gaussianVector(rand, 100);
    store.setQuery(query, "l2");
    const table = distanceTable(pq, query, "l2");
    const out = new Float32Array(50);
    store.distances(Uint32Array.from({ length: 50 }, (_, j) => j), 50, out);
    for (let t = 0; t < 50; t++) {
      const want = tableDistance(table, codes[t]!, 0, 13);
      expect(Math.abs(out[t]! - want)).toBeLessThanOrEqual(1e-5 * want);
    }
  });

  it("works detached, reads only `count` targets and writes only `count` outputs", () => {
    const rand = mulberry32(12);
    const store = new PQCodeStore(7);
    store.setQuantizer(randomQuantizer(rand, 7, 7));
    const codes = new Map<number, Uint8Array>();
    for (let t = 0; t < 10; t++) {
      codes.set(t, randomCode(rand, 7));
      store.setCode(t, codes.get(t)!);
    }
    store.setQuery(gaussianVector(rand, 7), "l2");
    const distances = store.distances;
    const targets = Uint32Array.of(3, 9, 0, 1_000_000);
    const out = new Float32Array(4).fill(-1);
    distances(targets, 3, out);
    expect(out[3]).toBe(-1);
    expectDistancesClose(store, codes, targets.subarray(0, 3));
  });

  it("grows its target scratch for large batches", () => {
    const rand = mulberry32(13);
    const store = new PQCodeStore(13);
    store.setQuantizer(randomQuantizer(rand, 100, 13));
    const codes = new Map<number, Uint8Array>();
    for (let t = 0; t < 3000; t++) {
      codes.set(t, randomCode(rand, 13));
      store.setCode(t, codes.get(t)!);
    }
    store.setQuery(gaussianVector(rand, 100), "ip");
    const targets = Uint32Array.from({ length: 5000 }, () => randomInt(rand, 3000));
    expectDistancesClose(store, codes, targets);
  });

  it("rejects a call before any table, a target beyond count and a count beyond the arrays", () => {
    const rand = mulberry32(14);
    const store = new PQCodeStore(4);
    store.setCode(9, randomCode(rand, 4));
    const out = new Float32Array(4);
    expect(() => store.distances(Uint32Array.of(0), 1, out)).toThrow(ValidationError);
    store.setTable(new Float32Array(4 * 256).fill(1));
    const err = (() => {
      try {
        store.distances(Uint32Array.of(1, 10), 2, out);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe(ErrorCode.INVALID_OPTION);
    // the kernel loads every target's code before summing any: it must stop at an invalid one, not read it
    expect(() => store.distances(Uint32Array.of(1, 0xfffffff0, 2), 3, out)).toThrow(ValidationError);
    expect(() => store.distances(Uint32Array.of(1, 1 << 24, 2), 3, out)).toThrow(ValidationError); // its code would lie past the memory's end
    expect(() => store.distances(Uint32Array.of(1), 2, out)).toThrow(ValidationError);
    expect(() => store.distances(Uint32Array.of(1, 2), 2, new Float32Array(1))).toThrow(ValidationError);
    // slot 3 was never written: the all-zero code, so 4 lookups of 1
    store.distances(Uint32Array.of(3, 9), 2, out);
    expect(Array.from(out.subarray(0, 2))).toEqual([4, 4]);
  });
});

describe("PQCodeStore storage", () => {
  it("grows across many slots and keeps every code", () => {
    const rand = mulberry32(20);
    const m = 48;
    const store = new PQCodeStore(m);
    const codes: Uint8Array[] = [];
    const before = store.memoryBytes;
    for (let t = 0; t < 40_000; t++) {
      codes.push(randomCode(rand, m));
      store.setCode(t, codes[t]!);
    }
    expect(store.count).toBe(40_000);
    expect(store.capacity).toBeGreaterThanOrEqual(40_000);
    expect(store.memoryBytes).toBeGreaterThan(before);
    for (let t = 0; t < 40_000; t += 997) expect(store.getCode(t)).toEqual(codes[t]);
    const all = store.codes();
    expect(all.length).toBe(40_000 * m);
    for (let t = 0; t < 40_000; t += 1231) expect(all.subarray(t * m, (t + 1) * m)).toEqual(codes[t]);
  });

  it("reserves room, writes out of order, and reads never-written slots below count as zero", () => {
    const rand = mulberry32(21);
    const store = new PQCodeStore(5);
    store.reserve(10);
    expect(store.capacity).toBe(10);
    const a = randomCode(rand, 5);
    store.setCode(7, a);
    expect(store.count).toBe(8);
    expect(store.getCode(7)).toEqual(a);
    expect(store.getCode(2)).toEqual(new Uint8Array(5));
    store.setCode(5000, a);
    expect(store.capacity).toBeGreaterThan(5000);
    expect(store.getCode(4999)).toEqual(new Uint8Array(5));
    expect(store.getCode(7)).toEqual(a);
    expect(() => store.getCode(5001)).toThrow(ValidationError);
  });

  it("gives zero codes to new slots that cover where the scratch list and distances were", () => {
    const rand = mulberry32(23);
    const dim = 16;
    const m = 4;
    const store = new PQCodeStore(m);
    store.setQuantizer(randomQuantizer(rand, dim, m));
    for (let t = 0; t < 300; t++) store.encode(t, gaussianVector(rand, dim));
    store.setQuery(gaussianVector(rand, dim), "l2");
    // Fill the list and distance scratch (placed right after the codes) with non-zero bytes.
    const targets = Uint32Array.from({ length: 300 }, (_, j) => 299 - j);
    store.distances(targets, 300, new Float32Array(300));
    const oldCapacity = store.capacity;
    store.reserve(oldCapacity * 50);
    store.setCode(oldCapacity * 50 - 1, randomCode(rand, m));
    const codes = store.codes();
    const fresh = codes.subarray(oldCapacity * m, (oldCapacity * 50 - 1) * m);
    expect(fresh.every((b) => b === 0)).toBe(true);
  });

  it("round-trips codes through codes() and loadCodes()", () => {
    const rand = mulberry32(22);
    const dim = 100;
    const m = 13;
    const pq = randomQuantizer(rand, dim, m);
    const store = new PQCodeStore(m);
    store.setQuantizer(pq);
    for (let t = 0; t < 2000; t++) store.encode(t, gaussianVector(rand, dim));
    const saved = store.codes().slice();
    const query = gaussianVector(rand, dim);
    store.setQuery(query, "l2");
    const targets = Uint32Array.from({ length: 2000 }, (_, j) => j);
    const want = new Float32Array(2000);
    store.distances(targets, 2000, want);

    const loaded = new PQCodeStore(m);
    loaded.loadCodes(saved, 2000);
    loaded.setQuantizer(pq); // after the codes: they move to make room for the codebook
    expect(loaded.count).toBe(2000);
    expect(loaded.codes()).toEqual(saved);
    loaded.setQuery(query, "l2");
    const got = new Float32Array(2000);
    loaded.distances(targets, 2000, got);
    expect(got).toEqual(want);

    // reloading fewer codes replaces the old ones and clears the rest
    loaded.loadCodes(saved.subarray(0, 10 * m), 10);
    expect(loaded.count).toBe(10);
    loaded.setCode(11, saved.subarray(0, m));
    expect(loaded.getCode(10)).toEqual(new Uint8Array(m));
    expect(() => loaded.loadCodes(saved.subarray(0, 5), 1)).toThrow(ValidationError);
  });

  it("validates its input and refuses use after dispose", () => {
    expect(() => new PQCodeStore(0)).toThrow(ValidationError);
    const store = new PQCodeStore(4);
    expect(() => store.setCode(-1, new Uint8Array(4))).toThrow(ValidationError);
    expect(() => store.setCode(0, new Uint8Array(3))).toThrow(ValidationError);
    expect(() => store.setTable(new Float32Array(10))).toThrow(ValidationError);
    expect(() => store.setQuery(new Float32Array(8), "l2")).toThrow(ValidationError);
    expect(() => store.encode(0, new Float32Array(8))).toThrow(ValidationError);
    expect(() => store.encodeMany(Uint32Array.of(0), new Float32Array(8))).toThrow(ValidationError);
    const rand = mulberry32(30);
    expect(() => store.setQuantizer(randomQuantizer(rand, 8, 3))).toThrow(ValidationError);
    store.setQuantizer(randomQuantizer(rand, 8, 4));
    try {
      store.setQuery(new Float32Array(9), "l2");
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).code).toBe(ErrorCode.DIMENSION_MISMATCH);
    }
    store.dispose();
    expect(() => store.setCode(0, new Uint8Array(4))).toThrow(ClosedError);
    expect(() => store.distances(Uint32Array.of(0), 1, new Float32Array(1))).toThrow(ClosedError);
  });
});
