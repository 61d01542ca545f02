import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OmenDB } from "../src/index.js";
import type { VamanaGraph } from "../src/graph/vamana-graph.js";
import { loadMemoryMap } from "../src/storage/memory-map.js";
import { gaussian, mulberry32 } from "../src/internal/seeded-random.js";
import { tempDir } from "./helpers.js";

const DIM = 24;

/** A seeded Gaussian mixture: the structure real embeddings have and the graph relies on. */
function mixture(n: number, seed: number, clusters = 40): Float32Array[] {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: DIM }, () => gaussian(rand) * 3));
  return Array.from({ length: n }, (_, i) => {
    const c = centers[i % clusters]!;
    return Float32Array.from(c, (x) => x + gaussian(rand));
  });
}

async function exactTop(db: OmenDB, name: string, query: Float32Array, k: number, filter?: object): Promise<string[]> {
  // The oracle: the same data in a collection whose index threshold is never reached.
  const c = db.getCollection(name);
  return (await c.search(query, { k, filter: filter as never })).map((h) => h.id);
}

function recall(got: string[], truth: string[]): number {
  const set = new Set(truth);
  return got.filter((id) => set.has(id)).length / truth.length;
}

async function loadPair(dir: string, vectors: Float32Array[]) {
  const db = await OmenDB.open(dir, { durability: "none" });
  const indexed = await db.createCollection("indexed", { dimension: DIM, metric: "cosine", index: { threshold: 500, maxDegree: 24, buildListSize: 48 } });
  const exact = await db.createCollection("exact", { dimension: DIM, metric: "cosine", index: { threshold: 1e9 } });
  const records = vectors.map((vector, i) => ({ id: `v${i}`, vector, metadata: { group: i % 10, even: i % 2 === 0 } }));
  for (let i = 0; i < records.length; i += 500) {
    await indexed.upsert(records.slice(i, i + 500));
    await exact.upsert(records.slice(i, i + 500));
  }
  return { db, indexed, exact };
}

describe("Collection with the DiskANN index", () => {
  it("reaches recall@10 >= 0.95 against exact search after buildIndex", async () => {
    const vectors = mixture(3000, 1);
    const { db, indexed } = await loadPair(tempDir(), vectors);
    await indexed.buildIndex();
    expect(indexed.indexStatus()).toMatchObject({ mode: "index", pending: 0, indexed: 3000 });
    const queries = mixture(50, 2);
    let total = 0;
    for (const q of queries) total += recall((await indexed.search(q, { k: 10 })).map((h) => h.id), await exactTop(db, "exact", q, 10));
    expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
    await db.close();
  });

  it("finds a write on the very next search, before the index has caught up", async () => {
    const vectors = mixture(1200, 3);
    const { db, indexed } = await loadPair(tempDir(), vectors);
    await indexed.buildIndex();
    const fresh = Float32Array.from({ length: DIM }, (_, j) => (j === 0 ? 100 : 0));
    await indexed.upsert([{ id: "fresh", vector: fresh }]);
    expect(indexed.indexStatus().pending).toBe(1);
    expect((await indexed.search(fresh, { k: 1 }))[0]!.id).toBe("fresh");
    await indexed.delete(["fresh"]);
    expect((await indexed.search(fresh, { k: 1 }))[0]!.id).not.toBe("fresh");
    await db.close();
  });

  it("never returns deleted records and keeps recall after consolidation", async () => {
    const vectors = mixture(2000, 4);
    const { db, indexed, exact } = await loadPair(tempDir(), vectors);
    await indexed.buildIndex();
    const gone = vectors.map((_, i) => `v${i}`).filter((_, i) => i % 4 === 0);
    await indexed.delete(gone);
    await exact.delete(gone);
    const queries = mixture(30, 5);
    const goneSet = new Set(gone);
    for (const q of queries) {
      const ids = (await indexed.search(q, { k: 10 })).map((h) => h.id);
      expect(ids.some((id) => goneSet.has(id))).toBe(false);
    }
    await indexed.buildIndex(); // consolidates
    expect(indexed.indexStatus().deleted).toBe(0);
    let total = 0;
    for (const q of queries) total += recall((await indexed.search(q, { k: 10 })).map((h) => h.id), await exactTop(db, "exact", q, 10));
    expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
    await db.close();
  });

  it("returns exactly k results for filters of every selectivity", async () => {
    const vectors = mixture(3000, 6);
    const { db, indexed } = await loadPair(tempDir(), vectors);
    await indexed.buildIndex();
    const q = mixture(1, 7)[0]!;
    for (const filter of [{ even: true }, { group: 3 }, { group: { $in: [1, 2] } }, { $and: [{ group: 4 }, { even: true }] }]) {
      const hits = await indexed.search(q, { k: 10, filter });
      expect(hits).toHaveLength(10);
      const truth = await exactTop(db, "exact", q, 10, filter);
      expect(recall(hits.map((h) => h.id), truth)).toBeGreaterThanOrEqual(0.8);
    }
    await db.close();
  });

  it("persists the index at checkpoint and reopens searchable without a rebuild", async () => {
    const dir = tempDir();
    const vectors = mixture(1500, 8);
    const { db, indexed } = await loadPair(dir, vectors);
    await indexed.buildIndex();
    const q = mixture(1, 9)[0]!;
    const before = (await indexed.search(q, { k: 10 })).map((h) => h.id);
    await db.close();
    const files = fs.readdirSync(path.join(dir, "vectors"));
    expect(files.filter((f) => f.endsWith(".ann"))).toHaveLength(1);
    const again = await OmenDB.open(dir);
    const c = again.getCollection("indexed");
    expect(c.indexStatus()).toMatchObject({ mode: "index", pending: 0, indexed: 1500 });
    expect((await c.search(q, { k: 10 })).map((h) => h.id)).toEqual(before);
    await again.close();
  });

  it("keeps inserting, deleting and searching in a reopened index (lists mapped from the file), on search threads too", async () => {
    const dir = tempDir();
    const vectors = mixture(2000, 21);
    const first = await loadPair(dir, vectors.slice(0, 1500));
    await first.indexed.buildIndex();
    await first.db.close();
    // Reopened: the graph's lists are the index file's pages until changed. Change many of them.
    const db = await OmenDB.open(dir, { durability: "none", threads: 2 });
    const indexed = db.getCollection("indexed");
    const exact = db.getCollection("exact");
    const fresh = vectors.slice(1500).map((vector, i) => ({ id: `v${1500 + i}`, vector, metadata: { group: i % 10, even: i % 2 === 0 } }));
    const gone = Array.from({ length: 300 }, (_, i) => `v${i * 5}`);
    for (const c of [indexed, exact]) {
      await c.upsert(fresh);
      await c.delete(gone);
    }
    await indexed.buildIndex();
    expect(indexed.indexStatus()).toMatchObject({ mode: "index", pending: 0, indexed: 1700 });
    const queries = mixture(40, 22);
    const check = async (database: OmenDB) => {
      const c = database.getCollection("indexed");
      let total = 0;
      const answers: string[][] = [];
      for (const q of queries) {
        const got = (await c.search(q, { k: 10 })).map((h) => h.id);
        expect(got.some((id) => gone.includes(id))).toBe(false);
        total += recall(got, await exactTop(database, "exact", q, 10));
        answers.push(got);
      }
      expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
      return answers;
    };
    const before = await check(db);
    await db.close();
    const again = await OmenDB.open(dir, { durability: "none" });
    expect(again.getCollection("indexed").indexStatus()).toMatchObject({ mode: "index", pending: 0, indexed: 1700 });
    expect(await check(again)).toEqual(before);
    await again.close();
  });

  it.skipIf(loadMemoryMap().mapPrivate === undefined)(
    "moves the graph's lists onto the file each checkpoint writes, keeping every list and every answer",
    async () => {
      const dir = tempDir();
      const vectors = mixture(2000, 31);
      const db = await OmenDB.open(dir, { durability: "none", threads: 2 });
      const indexed = await db.createCollection("indexed", { dimension: DIM, metric: "cosine", index: { threshold: 500, maxDegree: 24, buildListSize: 48 } });
      const exact = await db.createCollection("exact", { dimension: DIM, metric: "cosine", index: { threshold: 1e9 } });
      const records = vectors.map((vector, i) => ({ id: `v${i}`, vector }));
      for (const c of [indexed, exact]) await c.upsert(records.slice(0, 1500));
      await indexed.buildIndex();
      const graph = () => (indexed as unknown as { store: { index: { ann: { graph: VamanaGraph } } } }).store.index.ann.graph;
      const lists = () => Array.from({ length: graph().capacity }, (_, s) => Array.from(graph().neighbors(s)).join(","));
      const queries = mixture(30, 32);
      const answers = async () => Promise.all(queries.map(async (q) => (await indexed.search(q, { k: 10 })).map((h) => h.id)));
      const growable = () => (graph().share().adjacency as { growable?: boolean }).growable;
      expect(growable()).toBe(true); // built here: private memory
      const before = lists();
      const found = await answers();
      await db.checkpoint();
      expect(growable()).toBe(false); // now the file's pages
      expect(lists()).toEqual(before);
      expect(await answers()).toEqual(found);
      // Changes after that checkpoint, then another: lists carried over onto the newer file.
      for (const c of [indexed, exact]) {
        await c.upsert(records.slice(1500));
        await c.delete(Array.from({ length: 200 }, (_, i) => `v${i * 7}`));
      }
      await indexed.buildIndex();
      const changed = lists();
      const again = await answers();
      let total = 0;
      for (const [i, q] of queries.entries()) total += recall(again[i]!, await exactTop(db, "exact", q, 10));
      expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
      expect(changed).not.toEqual(before);
      const mapped = graph().share().adjacency;
      await db.checkpoint(); // trims lists grown into the back-edge slack, then rebases
      expect(graph().share().adjacency).not.toBe(mapped);
      const checkpointed = lists();
      const afterCheckpoint = await answers();
      await db.close();
      // The file holds exactly the lists the running graph has (nothing changed during the write).
      const reopened = await OmenDB.open(dir, { durability: "none" });
      const c = reopened.getCollection("indexed");
      const reopenedGraph = (c as unknown as { store: { index: { ann: { graph: VamanaGraph } } } }).store.index.ann.graph;
      expect(Array.from({ length: reopenedGraph.capacity }, (_, s) => Array.from(reopenedGraph.neighbors(s)).join(",")).slice(0, checkpointed.length)).toEqual(checkpointed);
      expect(await Promise.all(queries.map(async (q) => (await c.search(q, { k: 10 })).map((h) => h.id)))).toEqual(afterCheckpoint);
      await reopened.close();
    },
  );

  it("builds the index in the background once the threshold is reached", async () => {
    const vectors = mixture(900, 10);
    const { db, indexed } = await loadPair(tempDir(), vectors);
    for (let i = 0; i < 200 && indexed.indexStatus().pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(indexed.indexStatus()).toMatchObject({ mode: "index", pending: 0 });
    await db.close();
  });

  it("keeps recall on tight high-dimensional clusters larger than the degree bound", async () => {
    // Unit vectors half centre, half noise (as the bench's synthetic 1536-d mixture): distances
    // inside a cluster all concentrate near one value, so pruning keeps every in-cluster edge. The
    // graph once split into per-cluster islands here (recall 0.01 at 1536-d).
    const dim = 192;
    const rand = mulberry32(21);
    const unit = (v: Float32Array) => {
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const centers = Array.from({ length: 24 }, () => unit(Float32Array.from({ length: dim }, () => gaussian(rand))));
    const draw = (i: number) => unit(Float32Array.from(centers[i % centers.length]!, (x) => x + gaussian(rand) / Math.sqrt(dim)));
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    const c = await db.createCollection("tight", { dimension: dim, index: { threshold: 500, maxDegree: 24, buildListSize: 48 } });
    const vectors = Array.from({ length: 2400 }, (_, i) => draw(i));
    await c.upsert(vectors.map((vector, i) => ({ id: `t${i}`, vector })));
    await c.buildIndex();
    const queries = Array.from({ length: 40 }, (_, i) => draw(i));
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, j) => sum + x * b[j]!, 0);
    let total = 0;
    for (const q of queries) {
      const truth = vectors
        .map((v, i) => ({ id: `t${i}`, d: 1 - dot(q, v) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 10)
        .map((h) => h.id);
      total += recall((await c.search(q, { k: 10, efSearch: 64 })).map((h) => h.id), truth);
    }
    expect((await c.explain(queries[0]!, { k: 10 })).plan.plan).toBe("index");
    expect(total / queries.length).toBeGreaterThanOrEqual(0.97);
    await db.close();
  });

  it("answers broad filters through the index: list grown by 1/selectivity, exactly k, high recall", async () => {
    // 8,000 × 512: a 60% filter matches 2.46M floats of vectors, past the exact-scan limit (2M), so
    // the planner takes the filtered graph search. Operators: $eq, $in, $gte, $ne, $exists, $or, $not.
    const dim = 512;
    const rand = mulberry32(31);
    // Clusters spread along 8 hidden directions (an intrinsic dimension of 8, as embeddings have a low
    // one), so nearest neighbours are well defined at 512-d.
    const centers = Array.from({ length: 40 }, () => Float32Array.from({ length: dim }, () => gaussian(rand) * 3));
    const basis = Array.from({ length: 8 }, () => Float32Array.from({ length: dim }, () => gaussian(rand)));
    const draw = (center: Float32Array) => {
      const z = basis.map(() => gaussian(rand));
      return Float32Array.from(center, (x, j) => x + basis.reduce((sum, b, t) => sum + b[j]! * z[t]!, 0));
    };
    const vectors = Array.from({ length: 8000 }, (_, i) => draw(centers[i % 40]!));
    const metadata = vectors.map((_, i) => ({ band: i % 5, tag: i % 5 < 3 ? "common" : "rare", ...(i % 10 === 0 ? {} : { seen: true }) }));
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    const c = await db.createCollection("broad", { dimension: dim, metric: "l2", index: { threshold: 1000 } });
    await c.upsert(vectors.map((vector, i) => ({ id: `b${i}`, vector, metadata: metadata[i] })));
    await c.buildIndex();
    const filters: [object, (m: (typeof metadata)[number]) => boolean][] = [
      [{ tag: "common" }, (m) => m.tag === "common"],
      [{ band: { $in: [0, 1, 2] } }, (m) => m.band <= 2],
      [{ band: { $gte: 2 } }, (m) => m.band >= 2],
      [{ band: { $ne: 4 } }, (m) => m.band !== 4],
      [{ seen: { $exists: true } }, (m) => m.seen === true],
      [{ $or: [{ band: 0 }, { tag: "rare" }] }, (m) => m.band === 0 || m.tag === "rare"],
      [{ $not: { band: 1 } }, (m) => m.band !== 1],
    ];
    const queries = Array.from({ length: 8 }, (_, q) => draw(centers[(q * 7) % 40]!));
    for (const [filter, matches] of filters) {
      const allowed = vectors.map((v, i) => ({ v, i })).filter(({ i }) => matches(metadata[i]!));
      let total = 0;
      for (const q of queries) {
        const { results, plan } = await c.explain(q, { k: 10, filter: filter as never });
        expect(plan.plan).toBe("index-filtered");
        expect(plan.matched).toBe(allowed.length);
        expect(plan.efSearch).toBeGreaterThanOrEqual(Math.ceil(150 * Math.min(3, 8000 / allowed.length)));
        expect(results).toHaveLength(10);
        for (const r of results) expect(matches(metadata[Number(r.id.slice(1))]!)).toBe(true);
        const truth = allowed
          .map(({ v, i }) => ({ id: `b${i}`, d: v.reduce((sum, x, j) => sum + (x - q[j]!) ** 2, 0) }))
          .sort((a, b) => a.d - b.d)
          .slice(0, 10)
          .map((h) => h.id);
        total += recall(results.map((r) => r.id), truth);
      }
      expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
    }
    await db.close();
  });
});
