import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { randomVectors, tempDir, thrown } from "../../test/helpers.js";
import { ClosedError, CorruptionError, ErrorCode, OmenDBError, ValidationError } from "../errors.js";
import { mulberry32, randomInt } from "../internal/seeded-random.js";
import { loadMemoryMap } from "../storage/memory-map.js";
import { VectorFile } from "../storage/vector-file.js";
import type { VectorReads } from "../storage/vector-pages.js";
import type { Metric } from "../types.js";
import { distanceFor, normalize } from "./distance.js";
import { VectorArena } from "./vector-arena.js";
import { VectorReader } from "./vector-reader.js";

const METRICS: Metric[] = ["cosine", "l2", "ip"];
const MMAP_MISSING = loadMemoryMap().map === undefined ? loadMemoryMap().reason ?? "memory-map addon did not load" : undefined;

/** Brute force with the TypeScript oracle: ascending by distance, ties by smaller slot. */
function bruteForce(metric: Metric, query: Float32Array, vectors: Map<number, Float32Array>, k: number, only?: Iterable<number>) {
  const slots = only === undefined ? [...vectors.keys()] : [...new Set(only)].filter((s) => vectors.has(s));
  const scored = slots.map((slot) => ({ slot, distance: distanceFor(metric, query, vectors.get(slot)!) }));
  scored.sort((a, b) => a.distance - b.distance || a.slot - b.slot);
  return scored.slice(0, k);
}

function near(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
}

/** The search result equals brute force: same slots in the same order, distances within rounding. */
function expectBruteForce(arena: VectorArena, metric: Metric, query: Float32Array, vectors: Map<number, Float32Array>, k: number, only?: Uint32Array): void {
  const hits = arena.search(query, k, only);
  const want = bruteForce(metric, query, vectors, k, only);
  expect(Array.from(hits.slots)).toEqual(want.map((w) => w.slot));
  expect(hits.distances.length).toBe(want.length);
  want.forEach((w, i) => near(hits.distances[i]!, w.distance));
}


function expectCode(fn: () => unknown, code: string, type: new (...args: never[]) => Error = ValidationError): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(type);
  expect((error as OmenDBError).code).toBe(code);
}

const files: VectorFile[] = [];
const arenas: VectorArena[] = [];
afterEach(() => {
  for (const a of arenas.splice(0)) a.dispose();
  for (const f of files.splice(0)) f.close();
});

/**
 * A vector file in a fresh temp dir holding `vectors` (written before the arena is made), and an
 * arena over it with every one of them live. The file stays open for later writes.
 */
function fixture(metric: Metric, dim: number, vectors: Map<number, Float32Array>, reads: VectorReads) {
  const file = path.join(tempDir(), "vectors.omv");
  const vf = VectorFile.create(file, { dim, metric });
  files.push(vf);
  const slots = [...vectors.keys()];
  vf.writeMany(slots, slots.map((s) => vectors.get(s)!));
  const arena = new VectorArena(file, dim, metric, reads);
  arenas.push(arena);
  for (const s of slots) arena.setLive(s);
  return { file, vf, arena };
}

/** Seeded vectors for `slots`. */
function vectorsFor(slots: number[], dim: number, seed: number): Map<number, Float32Array> {
  const list = randomVectors(slots.length, dim, seed);
  return new Map(slots.map((s, i) => [s, list[i]!]));
}

const MODES = ["mmap", "pread"] as const;

for (const reads of MODES) {
  const skip = reads === "mmap" && MMAP_MISSING !== undefined;
  const title = skip ? `VectorArena (mmap) — SKIPPED, memory-map addon unavailable: ${MMAP_MISSING}` : `VectorArena over a vector file (${reads})`;

  describe.skipIf(skip)(title, () => {
    for (const metric of METRICS) {
      it(`${metric}: search (full scan and subsets), distancesTo, storedVector and distancesFromSlot equal brute force`, () => {
        const dim = 12;
        const rand = mulberry32(100 + metric.length);
        // Slots 0..199 and 260..299: slots 200..259 were never written (a hole of zero records).
        const slots = [...Array.from({ length: 200 }, (_, i) => i), ...Array.from({ length: 40 }, (_, i) => 260 + i)];
        const vectors = vectorsFor(slots, dim, 7 + metric.length);
        const { arena } = fixture(metric, dim, vectors, reads);
        expect(arena.liveCount).toBe(240);
        expect(arena.slotLimit).toBe(300);
        for (let i = 0; i < 25; i++) {
          const dead = slots[randomInt(rand, slots.length)]!;
          arena.remove(dead);
          vectors.delete(dead);
        }
        arena.remove(299);
        vectors.delete(299);
        arena.remove(250); // never live: ignored
        expect(arena.liveCount).toBe(vectors.size);
        expect(arena.slotLimit).toBe(Math.max(...vectors.keys()) + 1);
        expect(arena.isLive(250)).toBe(false);
        expect(arena.isLive(299)).toBe(false);
        // Still a full scan: more than half the slots below the limit are live.
        expect(arena.liveCount * 2).toBeGreaterThanOrEqual(arena.slotLimit);

        for (let q = 0; q < 8; q++) {
          const query = randomVectors(1, dim, 1000 + q)[0]!;
          for (const k of [1, 5, 10, 1000]) expectBruteForce(arena, metric, query, vectors, k);
          // A subset with dead, never-written and out-of-range slots: only the live ones count.
          const subset = Uint32Array.from([3, 295, 14, 61, 205, 8, 0, 57, 199, 299, 5000, 123, 270]);
          for (const k of [1, 4, 20]) expectBruteForce(arena, metric, query, vectors, k, subset);
          expect(arena.search(query, 5, new Uint32Array(0)).slots.length).toBe(0);

          const live = Uint32Array.from([...vectors.keys()].reverse());
          const d = arena.distancesTo(query, live);
          expect(d.length).toBe(live.length);
          live.forEach((s, j) => near(d[j]!, distanceFor(metric, query, vectors.get(s)!)));
        }

        const [from, ...rest] = [...vectors.keys()].reverse();
        const stored = arena.storedVector(from!);
        const raw = vectors.get(from!)!;
        const expected = metric === "cosine" ? normalize(raw) : raw;
        stored.forEach((x, i) => near(x, expected[i]!));
        const targets = Uint32Array.from(rest);
        const out = new Float32Array(targets.length + 3).fill(-7);
        arena.distancesFromSlot(from!, targets, targets.length, out);
        targets.forEach((t, j) => near(out[j]!, distanceFor(metric, raw, vectors.get(t)!)));
        expect(Array.from(out.subarray(targets.length))).toEqual([-7, -7, -7]);
        // Only the first `count` targets are measured.
        const part = new Float32Array(5).fill(-7);
        arena.distancesFromSlot(from!, targets, 3, part);
        expect(Array.from(part.subarray(3))).toEqual([-7, -7]);
        for (let j = 0; j < 3; j++) expect(part[j]).toBe(out[j]);
      });

      it(`${metric}: with most slots dead (the list path) results equal brute force and the full scan's distances`, () => {
        const dim = 9;
        const slots = Array.from({ length: 400 }, (_, i) => i);
        const vectors = vectorsFor(slots, dim, 33 + metric.length);
        const { arena } = fixture(metric, dim, vectors, reads);
        const query = randomVectors(1, dim, 34)[0]!;
        const before = arena.search(query, 400);
        const fullDistance = new Map<number, number>();
        before.slots.forEach((s, i) => fullDistance.set(s, before.distances[i]!));
        // Keep every fifth slot, and the last one so the limit stays at 400.
        for (const s of slots) {
          if (s % 5 !== 0 && s !== 399) {
            arena.remove(s);
            vectors.delete(s);
          }
        }
        expect(arena.slotLimit).toBe(400);
        expect(arena.liveCount * 2).toBeLessThan(arena.slotLimit);
        for (const k of [1, 7, 81, 500]) expectBruteForce(arena, metric, query, vectors, k);
        for (let q = 0; q < 5; q++) expectBruteForce(arena, metric, randomVectors(1, dim, 50 + q)[0]!, vectors, 10);
        // l2 and ip: the same arithmetic over the same bytes, so the list path gives the full scan's
        // distances bit for bit. Cosine: the list path measures cached unit vectors, the full scan
        // divides by |v| as it goes; the two agree to float32 rounding.
        const after = arena.search(query, 500);
        after.slots.forEach((s, i) => {
          if (metric === "cosine") expect(Math.abs(after.distances[i]! - fullDistance.get(s)!)).toBeLessThan(2e-6);
          else expect(after.distances[i]).toBe(fullDistance.get(s));
        });
      });

      it(`${metric}: ties go to the smaller slot, in the full scan, the list path and a subset`, () => {
        const dim = 6;
        const vectors = vectorsFor(Array.from({ length: 40 }, (_, i) => i), dim, 61);
        const twin = Float32Array.of(0.5, -1, 2, 0.25, -0.75, 1);
        for (const s of [31, 7, 22, 12]) vectors.set(s, twin);
        const { arena } = fixture(metric, dim, vectors, reads);
        const query = Float32Array.of(0.5, -1, 2, 0.25, -0.75, 1.01);
        const top = bruteForce(metric, query, vectors, 1)[0]!;
        expect(vectors.get(top.slot)).toBe(twin); // the twins are the nearest
        const full = arena.search(query, 3);
        expect(Array.from(full.slots)).toEqual([7, 12, 22]);
        expect(full.distances[0]).toBe(full.distances[2]);
        expect(Array.from(arena.search(query, 2, Uint32Array.of(31, 22, 12, 7, 3)).slots)).toEqual([7, 12]);
        for (let s = 0; s < 40; s++) if (s % 4 !== 3 && s !== 7 && s !== 12 && s !== 22 && s !== 31) arena.remove(s);
        expect(arena.liveCount * 2).toBeLessThan(arena.slotLimit);
        expect(Array.from(arena.search(query, 4).slots)).toEqual([7, 12, 22, 31]);
        arena.remove(7);
        expect(Array.from(arena.search(query, 2).slots)).toEqual([12, 22]);
      });
    }

    it("a full scan over many staging chunks (dim 2048: 63 records a chunk) equals brute force for every metric", () => {
      const dim = 2048;
      for (const metric of METRICS) {
        const vectors = vectorsFor(Array.from({ length: 200 }, (_, i) => i), dim, 140 + metric.length);
        const { file, arena } = fixture(metric, dim, vectors, reads);
        const reader = new VectorReader({ path: file, dim, metric, reads });
        const chunk = reader.chunk;
        reader.close();
        expect(chunk).toBeLessThan(70); // so 200 slots take four chunks
        for (const dead of [1, 62, 63, 64, 130, 190]) {
          arena.remove(dead);
          vectors.delete(dead);
        }
        expect(arena.liveCount * 2).toBeGreaterThanOrEqual(arena.slotLimit);
        for (let q = 0; q < 3; q++) {
          const query = randomVectors(1, dim, 150 + q)[0]!;
          for (const k of [1, 10, 300]) expectBruteForce(arena, metric, query, vectors, k);
        }
      }
    });

    it("VectorReader: firstWithin finds exactly the distances distancesFromSlot gives, at every position and dims with tails", () => {
      // At dims with a 4-wide tail (36), a scalar tail (37, 19) or neither (32).
      for (const dim of [32, 36, 37, 19]) {
        for (const metric of METRICS) {
          const slots = Array.from({ length: 9 }, (_, i) => i);
          const vectors = vectorsFor(slots, dim, 300 + dim + metric.length);
          const { file } = fixture(metric, dim, vectors, reads);
          const reader = new VectorReader({ path: file, dim, metric, reads });
          try {
            // Each rotation of the targets, each count, each distance as the limit: a hit at every position.
            for (let turn = 0; turn < 8; turn++) {
              const order = Uint32Array.from({ length: 8 }, (_, j) => 1 + ((j + turn) % 8));
              const d = new Float32Array(8);
              reader.distancesFromSlot(0, order, 8, d);
              order.forEach((s, j) => near(d[j]!, distanceFor(metric, vectors.get(0)!, vectors.get(s)!)));
              for (let count = 0; count <= 8; count++) {
                for (const limit of [...d, Math.min(...d) - 1e-6]) {
                  let first = -1;
                  for (let j = count - 1; j >= 0; j--) if (d[j]! <= limit) first = j;
                  expect(reader.firstWithin(0, order, count, limit)).toBe(first);
                }
              }
            }
          } finally {
            reader.close();
          }
        }
      }
    });

    it("VectorReader: distancesToRange, distancesTo and distancesFromSlot across several chunks equal the oracle", () => {
      const dim = 1024;
      for (const metric of METRICS) {
        const slots = Array.from({ length: 400 }, (_, i) => i);
        const vectors = vectorsFor(slots, dim, 160 + metric.length);
        const { file } = fixture(metric, dim, vectors, reads);
        const reader = new VectorReader({ path: file, dim, metric, reads });
        try {
          expect(reader.chunk).toBeLessThan(150);
          const query = randomVectors(1, dim, 170)[0]!;
          const out = new Float32Array(350).fill(-7);
          reader.distancesToRange(query, 20, 340, out);
          for (let j = 0; j < 340; j++) near(out[j]!, distanceFor(metric, query, vectors.get(20 + j)!));
          expect(Array.from(out.subarray(340))).toEqual(Array(10).fill(-7));
          const order = Uint32Array.from({ length: 400 }, (_, j) => (j * 151) % 400);
          const d = reader.distancesTo(query, order);
          order.forEach((s, j) => near(d[j]!, distanceFor(metric, query, vectors.get(s)!)));
          const from = new Float32Array(400);
          reader.distancesFromSlot(17, order, 400, from);
          order.forEach((s, j) => near(from[j]!, distanceFor(metric, vectors.get(17)!, vectors.get(s)!)));
          // firstWithin: the first target whose distance (exactly as distancesFromSlot gives it) is
          // within the limit, across batches (400 targets > one kernel call), or -1.
          const firstAt = (limit: number, count = 400): number => {
            for (let j = 0; j < count; j++) if (from[j]! <= limit) return j;
            return -1;
          };
          const sorted = Array.from(from).sort((a, b) => a - b);
          const limits = [sorted[0]! - 1e-3, sorted[0]!, sorted[3]!, sorted[40]!, sorted[399]!, (sorted[0]! + sorted[1]!) / 2];
          for (const limit of limits) {
            expect(reader.firstWithin(17, order, 400, limit)).toBe(firstAt(limit));
            expect(reader.firstWithin(17, order, 30, limit)).toBe(firstAt(limit, 30));
          }
          // Farthest first: the only cover is the last target, in the second kernel call.
          const farFirst = Uint32Array.from([...order.keys()].sort((a, b) => from[b]! - from[a]! || a - b).map((j) => order[j]!));
          expect(reader.firstWithin(17, farFirst, 400, sorted[0]!)).toBe(399);
          expect(reader.firstWithin(17, order, 400, sorted[0]! - 1e-3)).toBe(-1);
          expect(reader.firstWithin(17, order, 0, 10)).toBe(-1);
          const stored = reader.storedVector(399);
          const raw = vectors.get(399)!;
          const expected = metric === "cosine" ? normalize(raw) : raw;
          stored.forEach((x, i) => expect(Math.abs(x - expected[i]!)).toBeLessThanOrEqual(metric === "cosine" ? 1e-6 : 0));
          expect(thrown(() => reader.distancesToRange(query, 390, 20, new Float32Array(20)))).toBeInstanceOf(CorruptionError);
        } finally {
          reader.close();
        }
        expect(thrown(() => reader.distancesTo(new Float32Array(dim), Uint32Array.of(0)))).toBeInstanceOf(ClosedError);
        expect(thrown(() => reader.storedVector(0))).toBeInstanceOf(ClosedError);
      }
    });

    it("validates queries, k and slots, and distancesTo / storedVector refuse dead slots", () => {
      const dim = 4;
      const vectors = vectorsFor([0, 1, 2, 3, 4], dim, 71);
      const { file, arena } = fixture("ip", dim, vectors, reads);
      arena.remove(2);
      expectCode(() => arena.distancesTo(new Float32Array(4), Uint32Array.of(1, 2)), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.distancesTo(new Float32Array(4), Uint32Array.of(0, 40)), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.storedVector(2), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.storedVector(40), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.search(new Float32Array(5), 1), ErrorCode.DIMENSION_MISMATCH);
      expectCode(() => arena.search(new Float32Array(3), 1, Uint32Array.of(0)), ErrorCode.DIMENSION_MISMATCH);
      expectCode(() => arena.distancesTo(new Float32Array(5), Uint32Array.of(0)), ErrorCode.DIMENSION_MISMATCH);
      expectCode(() => arena.search(new Float32Array(4), -1), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.search(new Float32Array(4), 1.5), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.setLive(-1), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.setLive(0.5), ErrorCode.INVALID_OPTION);
      expectCode(() => arena.setLive(2 ** 32 - 1), ErrorCode.INVALID_OPTION);
      expectCode(() => new VectorArena(file, 0, "l2", reads), ErrorCode.INVALID_OPTION);
      expectCode(() => new VectorArena(file, 2.5, "l2", reads), ErrorCode.INVALID_OPTION);
      expectCode(() => new VectorArena(path.join(path.dirname(file), "missing.omv"), 4, "l2", reads), ErrorCode.IO, OmenDBError);
      expect(arena.search(new Float32Array(4), 0).slots.length).toBe(0);
      expect(arena.distancesTo(new Float32Array(4), new Uint32Array(0)).length).toBe(0);
      // setLive twice counts once; the limit follows the highest live slot down.
      arena.setLive(4);
      expect(arena.liveCount).toBe(4);
      arena.remove(4);
      arena.remove(3);
      expect(arena.slotLimit).toBe(2);
      arena.remove(0);
      arena.remove(1);
      expect(arena.liveCount).toBe(0);
      expect(arena.slotLimit).toBe(0);
      expect(arena.search(new Float32Array(4), 3).slots.length).toBe(0);
    });

    it("shares what a thread needs, and throws ClosedError after dispose", () => {
      const dim = 4;
      const { file, arena } = fixture("cosine", dim, vectorsFor([0, 1, 2], dim, 72), reads);
      expect(arena.share()).toEqual({ path: file, dim, metric: "cosine", reads });
      arena.dispose();
      const q = new Float32Array(dim);
      for (const call of [
        () => arena.search(q, 1),
        () => arena.distancesTo(q, Uint32Array.of(0)),
        () => arena.storedVector(0),
        () => arena.distancesFromSlot(0, Uint32Array.of(1), 1, new Float32Array(1)),
        () => arena.share(),
      ]) {
        expect(thrown(call)).toBeInstanceOf(ClosedError);
      }
      expect(arena.isLive(0)).toBe(false);
      expect(arena.liveCount).toBe(0);
      arena.remove(1);
      arena.dispose();
    });

    it("finds vectors written to the file after the arena was made: thousands more slots, and one past the first mapping", () => {
      const dim = 8;
      const metric: Metric = "l2";
      const vectors = vectorsFor(Array.from({ length: 10 }, (_, i) => i), dim, 81);
      const { vf, arena } = fixture(metric, dim, vectors, reads);
      const query = randomVectors(1, dim, 82)[0]!;
      expectBruteForce(arena, metric, query, vectors, 5);

      const added = Array.from({ length: 6000 }, (_, i) => 10 + i);
      const more = randomVectors(added.length, dim, 83);
      vf.writeMany(added, more);
      added.forEach((s, i) => {
        arena.setLive(s);
        vectors.set(s, more[i]!);
      });
      expect(arena.slotLimit).toBe(6010);
      for (const i of [0, 2999, 5999]) {
        const hits = arena.search(more[i]!, 1);
        expect(Array.from(hits.slots)).toEqual([added[i]]);
        expect(hits.distances[0]).toBe(0);
      }
      for (let q = 0; q < 3; q++) expectBruteForce(arena, metric, randomVectors(1, dim, 90 + q)[0]!, vectors, 10);

      // Far past the file's first mapping (its size + 64 MiB): a sparse write of one record.
      const far = Math.ceil((80 * 1024 * 1024) / vf.stride);
      const farVector = Float32Array.of(9, 9, 9, 9, 9, 9, 9, 9);
      vf.write(far, farVector);
      arena.setLive(far);
      vectors.set(far, farVector);
      expect(arena.slotLimit).toBe(far + 1);
      expect(Array.from(arena.search(farVector, 2).slots)[0]).toBe(far);
      expect(Array.from(arena.storedVector(far))).toEqual(Array.from(farVector));
      expectBruteForce(arena, metric, query, vectors, 20);
      expect(Array.from(arena.distancesTo(farVector, Uint32Array.of(far, 3)))[0]).toBe(0);
    });
  });
}

describe("VectorArena: mmap and pread give identical results", () => {
  it.skipIf(MMAP_MISSING !== undefined)(
    `every metric, full scan and list path${MMAP_MISSING === undefined ? "" : ` — SKIPPED, memory-map addon unavailable: ${MMAP_MISSING}`}`,
    () => {
      for (const metric of METRICS) {
        const dim = 33;
        const vectors = vectorsFor(Array.from({ length: 700 }, (_, i) => i), dim, 120 + metric.length);
        const { file, arena: mapped } = fixture(metric, dim, vectors, "mmap");
        const read = new VectorArena(file, dim, metric, "pread");
        arenas.push(read);
        for (const s of vectors.keys()) read.setLive(s);
        const compare = (query: Float32Array, subset?: Uint32Array) => {
          const a = mapped.search(query, 25, subset);
          const b = read.search(query, 25, subset);
          expect(Array.from(b.slots)).toEqual(Array.from(a.slots));
          expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
        };
        const queries = randomVectors(4, dim, 130);
        for (const q of queries) compare(q);
        compare(queries[0]!, Uint32Array.from({ length: 90 }, (_, j) => (j * 7) % 700));
        const all = Uint32Array.from({ length: 700 }, (_, s) => 699 - s);
        expect(Array.from(read.distancesTo(queries[1]!, all))).toEqual(Array.from(mapped.distancesTo(queries[1]!, all)));
        expect(Array.from(read.storedVector(321))).toEqual(Array.from(mapped.storedVector(321)));
        const a = new Float32Array(700);
        const b = new Float32Array(700);
        mapped.distancesFromSlot(5, all, 700, a);
        read.distancesFromSlot(5, all, 700, b);
        expect(Array.from(b)).toEqual(Array.from(a));
        for (let s = 0; s < 700; s++) {
          if (s % 3 !== 0) {
            mapped.remove(s);
            read.remove(s);
          }
        }
        for (const q of queries) compare(q);
      }
    },
  );
});
