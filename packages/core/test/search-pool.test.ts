import { describe, expect, it } from "vitest";
import { OmenDB } from "../src/index.js";
import { gaussian, mulberry32 } from "../src/internal/seeded-random.js";
import { tempDir } from "./helpers.js";

const DIM = 24;

function mixture(n: number, seed: number, clusters = 30): Float32Array[] {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: DIM }, () => gaussian(rand) * 3));
  return Array.from({ length: n }, (_, i) => Float32Array.from(centers[i % clusters]!, (x) => x + gaussian(rand)));
}

async function load(dir: string, threads: number, n = 2000) {
  const db = await OmenDB.open(dir, { durability: "none", threads });
  const c = await db.createCollection("docs", { dimension: DIM, metric: "cosine", index: { threshold: 500, maxDegree: 24, buildListSize: 48 } });
  const vectors = mixture(n, 1);
  for (let i = 0; i < n; i += 500) await c.upsert(vectors.slice(i, i + 500).map((vector, j) => ({ id: `v${i + j}`, vector })));
  await c.buildIndex();
  return { db, c };
}

describe("worker threads (OmenDB.open threads)", () => {
  it("answer exactly what the opening thread answers, on a search thread", async () => {
    const dir = tempDir();
    const { db, c } = await load(dir, 2);
    const queries = mixture(60, 2);
    const pooled = [];
    for (const q of queries) {
      const { results, plan } = await c.explain(q, { k: 10 });
      expect(plan).toMatchObject({ plan: "index", onPool: true });
      pooled.push(results.map((r) => [r.id, r.score]));
    }
    // Filtered searches stay on the opening thread.
    const filtered = await c.explain(queries[0]!, { k: 5, filter: { missing: { $exists: false } } });
    expect(filtered.plan.onPool).toBeUndefined();
    await db.close();
    const again = await OmenDB.open(dir, { durability: "none" });
    const same = again.getCollection("docs");
    for (let i = 0; i < queries.length; i++) {
      const { results, plan } = await same.explain(queries[i]!, { k: 10 });
      expect(plan.onPool).toBeUndefined();
      expect(results.map((r) => [r.id, r.score])).toEqual(pooled[i]);
    }
    await again.close();
  });

  it("see every acknowledged write and no acknowledged delete, while writes and index maintenance run", async () => {
    const { db, c } = await load(tempDir(), 2, 1500);
    const rand = mulberry32(7);
    const inFlight: Promise<unknown>[] = [];
    for (let round = 0; round < 40; round++) {
      // A new far-away record, and a replaced one moved far away: each must be the top hit at once.
      const fresh = Float32Array.from({ length: DIM }, () => gaussian(rand));
      fresh[round % DIM] = 50;
      await c.upsert([{ id: `new${round}`, vector: fresh }]);
      const moved = `v${round * 31}`;
      const away = Float32Array.from({ length: DIM }, () => gaussian(rand));
      away[(round + 7) % DIM] = -60;
      await c.upsert([{ id: moved, vector: away }]);
      const [first, second] = await Promise.all([c.search(fresh, { k: 3 }), c.search(away, { k: 3 })]);
      expect(first[0]!.id).toBe(`new${round}`);
      expect(second[0]!.id).toBe(moved);
      expect((await c.explain(fresh, { k: 3 })).plan).toMatchObject({ onPool: true, tail: expect.any(Number) });
      await c.delete([`new${round}`]);
      const after = await c.search(fresh, { k: 10 });
      expect(after).toHaveLength(10);
      expect(after.map((h) => h.id)).not.toContain(`new${round}`);
      // Searches left running across the next writes: each still returns k distinct live records.
      for (let j = 0; j < 4; j++) {
        inFlight.push(
          c.search(mixture(1, 100 + round * 4 + j)[0]!, { k: 10 }).then((hits) => {
            expect(hits).toHaveLength(10);
            expect(new Set(hits.map((h) => h.id)).size).toBe(10);
          }),
        );
      }
      if (round % 10 === 9) await new Promise((r) => setTimeout(r, 120)); // let maintenance index the tail
    }
    await Promise.all(inFlight);
    expect(await c.count()).toBe(1500);
    await db.close();
  });

  it("follow the graph, codes and vectors as the opening thread grows them", async () => {
    const { db, c } = await load(tempDir(), 2, 1000);
    // 900 more records joined incrementally (under half: no fresh build), past the graph's 1,024-node capacity.
    const more = mixture(900, 9);
    await c.upsert(more.map((vector, i) => ({ id: `m${i}`, vector })));
    await c.buildIndex();
    expect(c.indexStatus()).toMatchObject({ pending: 0, indexed: 1900 });
    for (let i = 0; i < 900; i += 60) {
      const { results, plan } = await c.explain(more[i]!, { k: 1 });
      expect(plan).toMatchObject({ onPool: true, tail: 0 });
      expect(results[0]!.id).toBe(`m${i}`);
    }
    await db.close();
  });

  it("close with searches in flight settles them and releases the folder", async () => {
    const dir = tempDir();
    const { db, c } = await load(dir, 1, 1000);
    const queries = mixture(30, 3);
    const running = queries.map((q) => c.search(q, { k: 5 }).then(() => "ok", (err: unknown) => (err as { code?: string }).code));
    await db.close();
    for (const outcome of await Promise.all(running)) expect(["ok", "CLOSED"]).toContain(outcome);
    const reopened = await OmenDB.open(dir, { durability: "none", threads: 1 });
    expect(await reopened.getCollection("docs").count()).toBe(1000);
    await reopened.close();
  });

  it("keep serving the remaining collections after one is deleted", async () => {
    const { db, c } = await load(tempDir(), 2, 800);
    const other = await db.createCollection("other", { dimension: DIM, index: { threshold: 500, maxDegree: 24, buildListSize: 48 } });
    const vectors = mixture(700, 4);
    await other.upsert(vectors.map((vector, i) => ({ id: `o${i}`, vector })));
    await other.buildIndex();
    await db.deleteCollection(c.name);
    const { results, plan } = await other.explain(vectors[5]!, { k: 1 });
    expect(plan.onPool).toBe(true);
    expect(results[0]!.id).toBe("o5");
    await db.close();
  });

  it("help build the index: the same graph as a build on one thread, whichever thread planned what", async () => {
    const alone = await load(tempDir(), 0, 3000);
    const helped = await load(tempDir(), 2, 3000);
    const queries = mixture(40, 5);
    for (const q of queries) {
      const a = await alone.c.search(q, { k: 10 });
      const b = await helped.c.search(q, { k: 10 });
      expect(b.map((r) => [r.id, r.score])).toEqual(a.map((r) => [r.id, r.score]));
    }
    // And the helpers go back to answering searches afterwards.
    expect((await helped.c.explain(queries[0]!, { k: 3 })).plan.onPool).toBe(true);
    await alone.db.close();
    await helped.db.close();
  });

  it("rejects a bad threads option with INVALID_OPTION", async () => {
    for (const bad of [-1, 1.5, 5, "2"]) {
      await expect(OmenDB.open(tempDir(), { threads: bad as number })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    }
  });
});
