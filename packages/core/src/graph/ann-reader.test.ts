import { describe, expect, it } from "vitest";
import { gaussianVector, mulberry32 } from "../internal/seeded-random.js";
import type { Metric } from "../types.js";
import { normalize } from "../vector/distance.js";
import { VectorArena } from "../vector/vector-arena.js";
import { AnnIndex, defaultAnnIndexParams } from "./ann-index.js";
import { AnnReader } from "./ann-reader.js";
import { PQReader } from "../quantization/pq-reader.js";

const DIM = 24;

function fixture(metric: Metric, shardSlots?: number) {
  const arena = new VectorArena(DIM, metric, shardSlots === undefined ? {} : { shardSlots });
  const params = { ...defaultAnnIndexParams(DIM), maxDegree: 16, buildListSize: 40, efSearch: 40, pqSubspaces: 8 };
  const index = new AnnIndex(DIM, metric, params, {
    vector: (slot) => arena.storedVector(slot),
    fromSlot: (from, targets, count, out) => arena.distancesFromSlot(from, targets, count, out),
    toQuery: (query, slots) => arena.distancesTo(query, slots),
  });
  return { arena, index };
}

function expectSameSearch(index: AnnIndex, reader: AnnReader, metric: Metric, seed: number): void {
  const random = mulberry32(seed);
  for (let q = 0; q < 40; q++) {
    const raw = gaussianVector(random, DIM);
    const query = metric === "cosine" ? normalize(raw) : raw;
    const own = index.search(query, 10, 40);
    const other = reader.search(query, 10, 40);
    expect(Array.from(other.slots)).toEqual(Array.from(own.slots));
    expect(Array.from(other.distances)).toEqual(Array.from(own.distances));
    expect(other.pool).toBe(own.pool);
  }
}

describe("AnnReader (a search thread's view of an index)", () => {
  for (const metric of ["cosine", "l2", "ip"] as const) {
    it(`returns exactly the owner's results (${metric}), and follows the owner's growth`, () => {
      const { arena, index } = fixture(metric, 700);
      const random = mulberry32(5);
      for (let s = 0; s < 1200; s++) arena.set(s, gaussianVector(random, DIM));
      index.build(Array.from({ length: 1200 }, (_, s) => s));
      const reader = new AnnReader(index.share(), arena.share(), 2);
      expectSameSearch(index, reader, metric, 11);
      // The owner grows the graph past its capacity, the codes and an existing shard; deletes some.
      for (let s = 1200; s < 1400; s++) {
        arena.set(s, gaussianVector(random, DIM));
        index.insert(s);
      }
      for (let s = 0; s < 1400; s += 7) index.remove(s);
      expectSameSearch(index, reader, metric, 12);
      // A shard created after the reader was made is only readable through a fresh share.
      for (let s = 1400; s < 2200; s++) {
        arena.set(s, gaussianVector(random, DIM));
        index.insert(s);
      }
      expectSameSearch(index, new AnnReader(index.share(), arena.share(), 3), metric, 13);
    });
  }

  it("keeps each thread's scratch apart: four tables set first, then read, give each query's own distances", () => {
    const { arena, index } = fixture("l2");
    const random = mulberry32(9);
    for (let s = 0; s < 800; s++) arena.set(s, gaussianVector(random, DIM));
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
