import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { ClosedError } from "../errors.js";
import { gaussianVector, mulberry32 } from "../internal/seeded-random.js";
import { PQReader } from "../quantization/pq-reader.js";
import { loadMemoryMap } from "../storage/memory-map.js";
import { VectorFile } from "../storage/vector-file.js";
import type { Metric } from "../types.js";
import { normalize } from "../vector/distance.js";
import { VectorArena } from "../vector/vector-arena.js";
import { AnnIndex, defaultAnnIndexParams } from "./ann-index.js";
import { AnnReader } from "./ann-reader.js";

const DIM = 24;
/** The owner reads through the memory map where the addon loads; a second reader checks positional reads against it. */
const OWNER_READS = loadMemoryMap().map === undefined ? "pread" : "mmap";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0).reverse()) done();
});

/** A vector file in a fresh temp dir, an arena over it, and an index whose full precision is the arena. */
function fixture(metric: Metric) {
  const file = path.join(tempDir(), "vectors.omv");
  const vf = VectorFile.create(file, { dim: DIM, metric });
  const arena = new VectorArena(file, DIM, metric, OWNER_READS);
  cleanup.push(() => vf.close(), () => arena.dispose());
  const params = { ...defaultAnnIndexParams(DIM), maxDegree: 16, buildListSize: 40, efSearch: 40, pqSubspaces: 8 };
  const index = new AnnIndex(DIM, metric, params, {
    vector: (slot) => arena.storedVector(slot),
    fromSlot: arena,
    toQuery: (query, slots) => arena.distancesTo(query, slots),
  });
  /** Writes the vector to the file, then marks its slot live (the collection's order). */
  const put = (slot: number, vector: Float32Array): void => {
    vf.write(slot, vector);
    arena.setLive(slot);
  };
  return { arena, index, put };
}

function readerOf(...args: ConstructorParameters<typeof AnnReader>): AnnReader {
  const reader = new AnnReader(...args);
  cleanup.push(() => reader.close());
  return reader;
}

/** The reader returns exactly the owner's results for 40 seeded queries; returns every slot seen. */
function expectSameSearch(index: AnnIndex, reader: AnnReader, metric: Metric, seed: number): Set<number> {
  const random = mulberry32(seed);
  const seen = new Set<number>();
  for (let q = 0; q < 40; q++) {
    const raw = gaussianVector(random, DIM);
    const query = metric === "cosine" ? normalize(raw) : raw;
    const own = index.search(query, 10, 40);
    const other = reader.search(query, 10, 40);
    expect(own.slots.length).toBe(10);
    expect(Array.from(other.slots)).toEqual(Array.from(own.slots));
    expect(Array.from(other.distances)).toEqual(Array.from(own.distances));
    expect(other.pool).toBe(own.pool);
    for (const s of other.slots) seen.add(s);
  }
  return seen;
}

describe("AnnReader (a search thread's view of an index)", () => {
  for (const metric of ["cosine", "l2", "ip"] as const) {
    it(`returns exactly the owner's results (${metric}), and follows the owner's growth`, () => {
      const { arena, index, put } = fixture(metric);
      const random = mulberry32(5);
      for (let s = 0; s < 1200; s++) put(s, gaussianVector(random, DIM));
      index.build(Array.from({ length: 1200 }, (_, s) => s));
      const reader = readerOf(index.share(), arena.share(), 2);
      expectSameSearch(index, reader, metric, 11);
      // The owner grows the graph past its capacity, the codes and the vector file; deletes some.
      for (let s = 1200; s < 1400; s++) {
        put(s, gaussianVector(random, DIM));
        index.insert(s);
      }
      for (let s = 0; s < 1400; s += 7) index.remove(s);
      const seen = expectSameSearch(index, reader, metric, 12);
      expect([...seen].some((s) => s >= 1200)).toBe(true);
      expect([...seen].some((s) => s % 7 === 0)).toBe(false);
      // More growth: the same reader (and a fresh one) reads the new vectors from the file.
      for (let s = 1400; s < 2200; s++) {
        put(s, gaussianVector(random, DIM));
        index.insert(s);
      }
      expect([...expectSameSearch(index, reader, metric, 13)].some((s) => s >= 1400)).toBe(true);
      expectSameSearch(index, readerOf(index.share(), arena.share(), 3), metric, 13);
      // Positional reads give the same results as the owner's memory-mapped reads.
      expect(arena.share().reads).toBe(OWNER_READS);
      expectSameSearch(index, readerOf(index.share(), { ...arena.share(), reads: "pread" }, 1), metric, 14);
      reader.close();
      reader.close();
      expect(() => reader.search(gaussianVector(random, DIM), 10, 40)).toThrow(ClosedError);
    });
  }

  it("shares the table a reader walks: l2 for cosine and l2 indexes, ip for ip", () => {
    for (const [metric, kind] of [["cosine", "l2"], ["l2", "l2"], ["ip", "ip"]] as const) {
      const { index, put } = fixture(metric);
      const random = mulberry32(3);
      for (let s = 0; s < 300; s++) put(s, gaussianVector(random, DIM));
      index.build(Array.from({ length: 300 }, (_, s) => s));
      expect(index.share().tableKind).toBe(kind);
    }
  });

  it("keeps each thread's scratch apart: four tables set first, then read, give each query's own distances", () => {
    const { index, put } = fixture("l2");
    const random = mulberry32(9);
    for (let s = 0; s < 800; s++) put(s, gaussianVector(random, DIM));
    index.build(Array.from({ length: 800 }, (_, s) => s));
    const share = index.share().pq;
    const readers = [0, 1, 2, 3].map((t) => new PQReader(share, t));
    const queries = readers.map(() => gaussianVector(random, DIM));
    const targets = Uint32Array.from({ length: 300 }, (_, j) => (j * 37) % 800);
    const alone = readers.map((r, i) => {
      r.setQuery(queries[i]!, "l2");
      const out = new Float32Array(targets.length);
      r.distances(targets, targets.length, out);
      return Array.from(out);
    });
    readers.forEach((r, i) => r.setQuery(queries[i]!, "l2"));
    const interleaved = readers.map((r) => {
      const out = new Float32Array(targets.length);
      r.distances(targets, targets.length, out);
      return Array.from(out);
    });
    expect(interleaved).toEqual(alone);
    expect(new Set(alone.map((d) => d[0])).size).toBe(4);
  });
});
