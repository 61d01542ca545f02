import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adjacencyReserveBytes } from "../storage/ann-index-file.js";
import { loadMemoryMap } from "../storage/memory-map.js";
import { mulberry32 } from "../internal/seeded-random.js";
import { DEFAULT_VAMANA_PARAMS, type PlanMode, SettledLists, VamanaGraph, type VamanaParams } from "./vamana-graph.js";
import { type SlotDistances, slotDistances } from "./graph-store.js";

/** Clustered points so the graph has structure to find. */
function dataset(n: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: 20 }, () => Float32Array.from({ length: dim }, () => rand() * 10));
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[i % centers.length]!;
    for (let j = 0; j < dim; j++) data[i * dim + j] = c[j]! + (rand() - 0.5) * 3;
  }
  return data;
}

function l2(data: Float32Array, dim: number, a: number, q: Float32Array, qOff: number): number {
  let d = 0;
  for (let j = 0; j < dim; j++) {
    const t = data[a * dim + j]! - q[qOff + j]!;
    d += t * t;
  }
  return d;
}

function build(data: Float32Array, dim: number, n: number, params = DEFAULT_VAMANA_PARAMS) {
  const graph = new VamanaGraph(params, 16);
  const fromSlot = slotDistances((from, targets, count, out) => {
    for (let i = 0; i < count; i++) out[i] = l2(data, dim, targets[i]!, data, from * dim);
  });
  for (let s = 0; s < n; s++) graph.insert(s, fromSlot);
  return { graph, fromSlot };
}

/**
 * A bulk build as `ann-index.ts` runs it, one node a batch: plan and link each node, append its
 * back-edges, merge the ones that overflowed, trim at the end. Counts the distances the cover tests
 * measure.
 */
function planBuild(data: Float32Array, dim: number, n: number, params: VamanaParams, settled?: SettledLists) {
  const graph = new VamanaGraph(params, 16);
  const exact = slotDistances((from, targets, count, out) => {
    for (let i = 0; i < count; i++) out[i] = l2(data, dim, targets[i]!, data, from * dim);
  });
  let covers = 0;
  const fromSlot: SlotDistances = {
    distancesFromSlot: exact.distancesFromSlot,
    firstWithin(from, targets, count, limit) {
      const hit = exact.firstWithin(from, targets, count, limit);
      covers += hit >= 0 ? hit + 1 : count;
      return hit;
    },
  };
  const out = new Uint32Array(params.maxDegree);
  const apply = (slot: number, mode: PlanMode, extra?: Uint32Array) => {
    const degree = graph.plan(slot, mode, out, { fromSlot, alpha: params.alpha, extra, settled });
    graph.applyPlan(slot, out.slice(0, degree));
  };
  graph.insert(0, fromSlot, 1);
  for (let s = 1; s < n; s++) {
    apply(s, "insert");
    const overflow = new Map<number, number[]>();
    graph.addBackEdgesDeferred(s, overflow);
    for (const [nb, extra] of overflow) apply(nb, "merge", Uint32Array.from(extra));
  }
  for (const s of graph.overfull()) apply(s, "trim");
  return { lists: Array.from({ length: n }, (_, s) => Array.from(graph.neighbors(s))), covers };
}

function recallAt10(graph: VamanaGraph, data: Float32Array, dim: number, n: number, queries: Float32Array, live: (s: number) => boolean): number {
  let hits = 0;
  const nq = queries.length / dim;
  for (let q = 0; q < nq; q++) {
    const truth = Array.from({ length: n }, (_, s) => s)
      .filter(live)
      .map((s) => ({ s, d: l2(data, dim, s, queries, q * dim) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 10)
      .map((x) => x.s);
    const got = graph.search((targets, count, out) => {
      for (let i = 0; i < count; i++) out[i] = l2(data, dim, targets[i]!, queries, q * dim);
    }, 10, 64);
    const set = new Set(got.slots);
    hits += truth.filter((s) => set.has(s)).length;
  }
  return hits / (nq * 10);
}

describe("VamanaGraph", () => {
  const dim = 12;
  const n = 1500;
  const data = dataset(n, dim, 1);
  const queries = dataset(50, dim, 2);

  it("finds the exact neighbours of most queries after incremental inserts", () => {
    const { graph } = build(data, dim, n);
    expect(recallAt10(graph, data, dim, n, queries, () => true)).toBeGreaterThanOrEqual(0.95);
  });

  it("keeps degree bounds, no self-loops and no duplicate edges", () => {
    const params = { ...DEFAULT_VAMANA_PARAMS, maxDegree: 16, buildListSize: 40 };
    const { graph, fromSlot } = build(data, dim, 600, params);
    const check = (bound: number) => {
      for (let s = 0; s < 600; s++) {
        const nbs = Array.from(graph.neighbors(s));
        expect(nbs.length).toBeLessThanOrEqual(bound);
        expect(nbs).not.toContain(s);
        expect(new Set(nbs).size).toBe(nbs.length);
      }
    };
    // Back-edges may fill the slack between prunes; trim() brings every list back to maxDegree.
    expect(graph.stride).toBe(21);
    check(graph.stride);
    expect(graph.trim(fromSlot)).toBeGreaterThan(0);
    check(16);
    const lists = graph.adjacencyCopy(600);
    expect(lists.length).toBe(600 * 21);
    for (let s = 0; s < 600; s++) expect(Array.from(lists.subarray(s * 21, s * 21 + graph.degrees[s]!))).toEqual(Array.from(graph.neighbors(s)));
  });

  it("resumes a filtered search with a longer list: as good as a new search at that length, and no dearer", () => {
    const { graph } = build(data, dim, n);
    const admit = (s: number) => s % 7 === 0;
    let measured = 0;
    const query = (q: number) => (targets: Uint32Array, count: number, out: Float32Array) => {
      measured += count;
      for (let i = 0; i < count; i++) out[i] = l2(data, dim, targets[i]!, queries, q * dim);
    };
    const nq = queries.length / dim;
    const recall = { fresh: 0, resumed: 0 };
    const cost = { fresh: 0, resumed: 0 };
    for (let q = 0; q < nq; q++) {
      const truth = new Set(
        Array.from({ length: n }, (_, s) => s)
          .filter(admit)
          .sort((a, b) => l2(data, dim, a, queries, q * dim) - l2(data, dim, b, queries, q * dim))
          .slice(0, 10),
      );
      measured = 0;
      graph.search(query(q), 10, 32, { admit, resumable: true });
      const resumed = graph.search(query(q), 10, 128, { admit, resume: true });
      cost.resumed += measured;
      measured = 0;
      const fresh = graph.search(query(q), 10, 128, { admit });
      cost.fresh += measured;
      recall.resumed += Array.from(resumed.slots).filter((s) => truth.has(s)).length / (10 * nq);
      recall.fresh += Array.from(fresh.slots).filter((s) => truth.has(s)).length / (10 * nq);
      expect(Array.from(resumed.slots).every(admit)).toBe(true);
    }
    // The resumed walk measures no more than a new search at the longer list alone (not both lists').
    expect(recall.resumed).toBeGreaterThanOrEqual(recall.fresh - 0.01);
    expect(recall.fresh).toBeGreaterThan(0.95);
    expect(cost.resumed).toBeLessThanOrEqual(cost.fresh);
  });

  it("skips the cover tests a node's last prune settled, with the very same lists as a build without", () => {
    // 48 dimensions fill the lists, so merges see the near and far survivors of earlier prunes.
    const wide = dataset(800, 48, 3);
    for (const maxDegree of [16, 24]) {
      const params = { ...DEFAULT_VAMANA_PARAMS, maxDegree, buildListSize: 40 };
      const plain = planBuild(wide, 48, 800, params);
      const remembered = planBuild(wide, 48, 800, params, new SettledLists(new SharedArrayBuffer(SettledLists.bytes(800))));
      expect(remembered.lists).toEqual(plain.lists);
      expect(remembered.covers).toBeLessThan(plain.covers);
    }
  });

  it.skipIf(loadMemoryMap().mapPrivate === undefined)("rebases its lists onto a mapped copy, copying only the lists that changed since", () => {
    const params = { ...DEFAULT_VAMANA_PARAMS, maxDegree: 16, buildListSize: 40 };
    const { graph, fromSlot } = build(data, dim, 1000, params);
    // The "checkpoint": the lists of slots below 1000 written to a file, as the index file holds them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-rebase-"));
    try {
      const file = path.join(dir, "lists.bin");
      const written = graph.adjacencyCopy(1000);
      fs.writeFileSync(file, new Uint8Array(written.buffer));
      // Changes after it: 300 more nodes (back-edges into old lists), deletions repaired.
      for (let s = 1000; s < 1300; s++) graph.insert(s, fromSlot);
      for (let s = 0; s < 1000; s += 9) graph.markDeleted(s);
      graph.consolidate(fromSlot);
      const listsNow = () => Array.from({ length: graph.capacity }, (_, s) => Array.from(graph.neighbors(s)));
      const before = listsNow();
      let differing = 0;
      for (let s = 0; s < graph.capacity; s++) {
        const list = before[s]!;
        if (list.length === 0) continue;
        if (s >= 1000 || list.some((v, j) => written[s * graph.stride + j] !== v)) differing++;
      }
      const query = (q: number) => (targets: Uint32Array, count: number, out: Float32Array) => {
        for (let i = 0; i < count; i++) out[i] = l2(data, dim, targets[i]!, queries, q * dim);
      };
      const answers = () => Array.from({ length: 20 }, (_, q) => Array.from(graph.search(query(q), 10, 64).slots));
      const found = answers();
      const fd = fs.openSync(file, "r");
      const buffer = loadMemoryMap().mapPrivate!(fd, 0, written.byteLength, adjacencyReserveBytes(graph.stride));
      fs.closeSync(fd);
      expect(graph.rebaseAdjacency(buffer, 1000)).toBe(differing);
      expect(differing).toBeGreaterThan(300);
      expect(graph.share().adjacency).toBe(buffer);
      expect(listsNow()).toEqual(before);
      expect(answers()).toEqual(found);
      // Copy-on-write: the file keeps the checkpoint's lists.
      expect(Buffer.compare(fs.readFileSync(file), Buffer.from(written.buffer))).toBe(0);
      // Growable buffers are refused.
      expect(() => graph.rebaseAdjacency(new VamanaGraph(params).share().adjacency, 0)).toThrow(RangeError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hands a deleted entry point over to its nearest live neighbour on consolidation", () => {
    const { graph, fromSlot } = build(data, dim, 400);
    const entry = graph.entry;
    const first = graph.neighbors(entry)[0]!;
    graph.markDeleted(entry);
    graph.consolidate(fromSlot);
    expect(graph.entry).toBe(first);
    expect(graph.present[entry]).toBe(0);
  });

  it("never returns deleted nodes and repairs edges on consolidation", () => {
    const { graph, fromSlot } = build(data, dim, n);
    const rand = mulberry32(9);
    const gone = new Set<number>();
    while (gone.size < n / 5) gone.add(Math.floor(rand() * n));
    for (const s of gone) graph.markDeleted(s);
    const live = (s: number) => !gone.has(s);
    const before = graph.search((t, c, out) => {
      for (let i = 0; i < c; i++) out[i] = l2(data, dim, t[i]!, queries, 0);
    }, 10, 64);
    expect(Array.from(before.slots).some((s) => gone.has(s))).toBe(false);
    const removed = graph.consolidate(fromSlot);
    expect(new Set(removed)).toEqual(gone);
    for (let s = 0; s < n; s++) {
      if (gone.has(s)) continue;
      for (const nb of graph.neighbors(s)) expect(gone.has(nb)).toBe(false);
    }
    expect(recallAt10(graph, data, dim, n, queries, live)).toBeGreaterThanOrEqual(0.9);
  });
});
