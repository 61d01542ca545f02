import fs from "node:fs";
import { describe, expect, it } from "vitest";
import path from "node:path";
import Database from "better-sqlite3";
import { AlreadyExistsError, ClosedError, CorruptionError, NotFoundError, OmenDB, ValidationError } from "../src/index.js";
import { dot, l2sq, normalize } from "../src/vector/distance.js";
import { randomVectors, tempDir } from "./helpers.js";

async function openDb() {
  return OmenDB.open(tempDir(), { durability: "none" });
}

describe("OmenDB collections", () => {
  it("creates, lists, gets and deletes collections", async () => {
    const db = await openDb();
    const a = await db.createCollection("a", { dimension: 4 });
    expect(a.dimension).toBe(4);
    expect(a.metric).toBe("cosine");
    const b = await db.getOrCreateCollection("b");
    expect(b.dimension).toBe(1536);
    expect(await db.getOrCreateCollection("a")).toBe(a);
    expect(db.listCollections().map((c) => c.name)).toEqual(["a", "b"]);
    await expect(db.createCollection("a")).rejects.toBeInstanceOf(AlreadyExistsError);
    await db.deleteCollection("a");
    expect(db.hasCollection("a")).toBe(false);
    expect(() => db.getCollection("a")).toThrow(NotFoundError);
    await expect(a.count()).rejects.toBeInstanceOf(ClosedError);
    await db.close();
  });

  it("rejects a getOrCreate that disagrees on dimension", async () => {
    const db = await openDb();
    await db.createCollection("a", { dimension: 4 });
    await expect(db.getOrCreateCollection("a", { dimension: 8 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await db.close();
  });

  it("renames a collection and replaces its metadata, across a reopen", async () => {
    const dir = tempDir();
    let db = await OmenDB.open(dir);
    const c = await db.createCollection("old", { dimension: 2, metadata: { owner: "x" } });
    await c.upsert([{ id: "1", vector: [1, 0] }]);
    await c.modify({ name: "new", metadata: { owner: "y" } });
    expect(c.name).toBe("new");
    await db.close();
    db = await OmenDB.open(dir);
    const again = db.getCollection("new");
    expect(again.metadata).toEqual({ owner: "y" });
    expect(await again.count()).toBe(1);
    await db.close();
  });
});

describe("Collection writes and reads", () => {
  it("upserts, replaces and gets records in the order asked", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 3 });
    await c.upsert([
      { id: "a", vector: [1, 0, 0], document: "alpha", metadata: { n: 1 } },
      { id: "b", vector: new Float32Array([0, 1, 0]) },
    ]);
    await c.upsert([{ id: "a", vector: [0, 0, 1], document: "alpha 2", metadata: { n: 2 } }]);
    expect(await c.count()).toBe(2);
    const got = await c.get(["b", "missing", "a"], { includeVector: true });
    expect(got.map((r) => r.id)).toEqual(["b", "a"]);
    expect(got[0]).toMatchObject({ document: null, metadata: {} });
    expect(got[1]).toMatchObject({ document: "alpha 2", metadata: { n: 2 } });
    expect(Array.from(got[1]!.vector!)).toEqual([0, 0, 1]);
    await db.close();
  });

  it("returns each record's own document when only some have one: after replacements, a reopen and WAL replay", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: 3, metric: "l2" });
    const at = (x: number) => [x, 0, 0];
    await c.upsert([
      { id: "a", vector: at(0), document: "doc a" },
      { id: "b", vector: at(1) },
      { id: "c", vector: at(2), document: "" },
      { id: "d", vector: at(3), document: "doc d" },
    ]);
    // b gains a document, d loses its own, a is deleted and its slot reused by e (no document).
    await c.upsert([
      { id: "b", vector: at(1), document: "doc b" },
      { id: "d", vector: at(3) },
    ]);
    await c.delete(["a"]);
    await c.upsert([{ id: "e", vector: at(4) }]);
    const want = { b: "doc b", c: "", d: null, e: null };
    const check = async (database: OmenDB) => {
      const col = database.getCollection("c");
      const hits = await col.search(at(0), { k: 10 });
      expect(Object.fromEntries(hits.map((h) => [h.id, h.document]))).toEqual(want);
      const got = await col.get(["e", "d", "c", "b"]);
      expect(got.map((r) => r.document)).toEqual([null, null, "", "doc b"]);
    };
    await check(db);
    // Crash image: the folder as it is on disk now, replayed from the WAL (no checkpoint since).
    const image = tempDir();
    fs.cpSync(dir, image, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
    await db.close();
    const reopened = await OmenDB.open(dir);
    await check(reopened);
    await reopened.close();
    const replayed = await OmenDB.open(image);
    await check(replayed);
    await replayed.close();
  });

  it("add refuses an existing id and writes nothing of the batch", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    await c.add([{ id: "a", vector: [1, 0] }]);
    await expect(c.add([{ id: "new", vector: [0, 1] }, { id: "a", vector: [1, 1] }])).rejects.toMatchObject({ code: "ID_EXISTS" });
    expect(await c.count()).toBe(1);
    expect(await c.get(["new"])).toEqual([]);
    await db.close();
  });

  it("concurrent adds of the same id: exactly one wins", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => c.add([{ id: "same", vector: [i, 1] }])));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(["ID_EXISTS", "ID_EXISTS", "ID_EXISTS"]);
    await db.close();
  });

  it("deletes by ids (unknown ids are a no-op) and by filter", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    await c.upsert([0, 1, 2, 3, 4, 5].map((i) => ({ id: `r${i}`, vector: [i, 1], metadata: { even: i % 2 === 0 } })));
    expect(await c.delete(["r0", "nope", "r0"])).toBe(1);
    expect(await c.delete(["nope"])).toBe(0);
    expect(await c.delete({ filter: { even: true } })).toBe(2);
    expect((await c.get({})).map((r) => r.id)).toEqual(["r1", "r3", "r5"]);
    expect(await c.delete({})).toBe(0);
    expect(await c.delete({ filter: {} })).toBe(3);
    expect(await c.count()).toBe(0);
    await db.close();
  });

  it("gets by filter and predicate in insertion order with offset and limit", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    await c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, vector: [i, 1], document: `doc ${i}`, metadata: { i } })));
    await c.delete(["r2"]);
    await c.upsert([{ id: "late", vector: [1, 1], metadata: { i: 100 } }]);
    const page = await c.get({ filter: { i: { $gte: 1 } }, offset: 1, limit: 3 });
    expect(page.map((r) => r.id)).toEqual(["r3", "r4", "r5"]);
    const all = await c.get({ filter: { i: { $gte: 8 } } });
    expect(all.map((r) => r.id)).toEqual(["r8", "r9", "late"]);
    const byDoc = await c.get({ predicate: (r) => r.document?.endsWith("7") ?? false });
    expect(byDoc.map((r) => r.id)).toEqual(["r7"]);
    expect(await c.count({ filter: { i: { $lt: 5 } } })).toBe(4);
    await db.close();
  });

  it("returned records are copies: mutating them changes nothing stored", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    const input = { id: "a", vector: [1, 2], metadata: { tags: ["x"] } };
    await c.upsert([input]);
    input.vector[0] = 99;
    input.metadata.tags.push("y");
    const [r] = await c.get(["a"], { includeVector: true });
    expect(r!.metadata).toEqual({ tags: ["x"] });
    (r!.metadata["tags"] as string[]).push("z");
    expect(Array.from(r!.vector!)).toEqual([1, 2]);
    expect((await c.get(["a"]))[0]!.metadata).toEqual({ tags: ["x"] });
    await db.close();
  });
});

describe("Collection.search", () => {
  for (const metric of ["cosine", "l2", "ip"] as const) {
    it(`returns the exact top k by ascending ${metric} distance with scores`, async () => {
      const db = await openDb();
      const c = await db.createCollection("c", { dimension: 16, metric });
      const vectors = randomVectors(300, 16, 7);
      await c.upsert(vectors.map((vector, i) => ({ id: `v${i}`, vector, metadata: { i } })));
      const query = randomVectors(1, 16, 99)[0]!;
      const distance = (v: Float32Array) =>
        metric === "l2" ? l2sq(query, v) : metric === "ip" ? 1 - dot(query, v) : 1 - dot(normalize(query), normalize(v));
      const expected = vectors.map((v, i) => ({ id: `v${i}`, d: distance(v) })).sort((a, b) => a.d - b.d).slice(0, 10);
      const hits = await c.search(query, { k: 10 });
      expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
      hits.forEach((h, i) => expect(h.distance).toBeCloseTo(expected[i]!.d, 4));
      for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
      if (metric === "cosine") hits.forEach((h) => expect(h.score).toBeCloseTo(1 - h.distance, 6));
      await db.close();
    });
  }

  it("returns [] on an empty collection and everything when k exceeds the count", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    expect(await c.search([1, 0])).toEqual([]);
    await c.upsert([{ id: "a", vector: [1, 0] }, { id: "b", vector: [0, 1] }]);
    expect((await c.search([1, 0], { k: 50 })).map((h) => h.id)).toEqual(["a", "b"]);
    expect(await c.search([1, 0], { k: 0 })).toEqual([]);
    await db.close();
  });

  it("returns exactly k filtered results when at least k match", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 8 });
    const vectors = randomVectors(500, 8, 3);
    await c.upsert(vectors.map((vector, i) => ({ id: `v${i}`, vector, metadata: { bucket: i % 50 } })));
    const hits = await c.search(vectors[0]!, { k: 10, filter: { bucket: 7 } });
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => h.metadata["bucket"] === 7)).toBe(true);
    const viaPredicate = await c.search(vectors[0]!, { k: 10, predicate: (r) => r.metadata["bucket"] === 7 });
    expect(viaPredicate.map((h) => h.id)).toEqual(hits.map((h) => h.id));
    expect(await c.search(vectors[0]!, { k: 10, filter: { bucket: 999 } })).toEqual([]);
    await db.close();
  });

  it("sees every acknowledged write on the very next search", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2, metric: "l2" });
    await c.upsert([{ id: "far", vector: [10, 10] }]);
    await c.upsert([{ id: "near", vector: [0, 0.1] }]);
    expect((await c.search([0, 0], { k: 1 }))[0]!.id).toBe("near");
    await c.delete(["near"]);
    expect((await c.search([0, 0], { k: 1 }))[0]!.id).toBe("far");
    await db.close();
  });
});

describe("OmenDB lifecycle", () => {
  it("keeps everything across close and reopen", async () => {
    const dir = tempDir();
    let db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: 4, metric: "ip" });
    const vectors = randomVectors(50, 4, 1);
    await c.upsert(vectors.map((vector, i) => ({ id: `v${i}`, vector, document: `d${i}`, metadata: { i } })));
    await c.delete(["v3"]);
    await db.close();
    db = await OmenDB.open(dir);
    const again = db.getCollection("c");
    expect(again.metric).toBe("ip");
    expect(await again.count()).toBe(49);
    const [r] = await again.get(["v7"], { includeVector: true });
    expect(r).toMatchObject({ id: "v7", document: "d7", metadata: { i: 7 } });
    expect(Array.from(r!.vector!)).toEqual(Array.from(vectors[7]!));
    await db.close();
  });

  it("throws ClosedError after close", async () => {
    const db = await openDb();
    const c = await db.createCollection("c", { dimension: 2 });
    await db.close();
    await db.close();
    expect(() => db.listCollections()).toThrow(ClosedError);
    await expect(c.upsert([{ id: "a", vector: [1, 2] }])).rejects.toMatchObject({ code: "CLOSED" });
    await expect(c.search([1, 2])).rejects.toBeInstanceOf(ClosedError);
  });

  it("refuses a second open of the same folder", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    await expect(OmenDB.open(dir)).rejects.toMatchObject({ code: "LOCKED" });
    await db.close();
    const again = await OmenDB.open(dir);
    await again.close();
  });

  it("validates open options", async () => {
    await expect(OmenDB.open(tempDir(), { durability: "sometimes" as never })).rejects.toBeInstanceOf(ValidationError);
  });

  it("search reads the hits' documents in one query, in hit order, and refuses a damaged one", async () => {
    const dir = tempDir();
    let db = await OmenDB.open(dir);
    const c = await db.createCollection("docs", { dimension: 2, metric: "l2" });
    await c.upsert([0, 1, 2, 3].map((i) => ({ id: `r${i}`, vector: [i, 0], metadata: { i }, ...(i === 2 ? {} : { document: `doc ${i}` }) })));
    const hits = await c.search([0.1, 0], { k: 4 });
    expect(hits.map((h) => [h.id, h.document, h.metadata])).toEqual([
      ["r0", "doc 0", { i: 0 }],
      ["r1", "doc 1", { i: 1 }],
      ["r2", null, { i: 2 }],
      ["r3", "doc 3", { i: 3 }],
    ]);
    // More hits than one statement's 64 ids: read in chunks, still in hit order.
    const many = await db.createCollection("many", { dimension: 2, metric: "l2" });
    await many.upsert(Array.from({ length: 150 }, (_, i) => ({ id: `m${i}`, vector: [i, 0], document: `doc m${i}` })));
    const all = await many.search([0, 0], { k: 150 });
    expect(all.map((h) => h.document)).toEqual(Array.from({ length: 150 }, (_, i) => `doc m${i}`));
    await db.close();
    const sqlite = new Database(path.join(dir, "omendb.sqlite"));
    sqlite.prepare("UPDATE records SET document = 'tampered' WHERE id = 'r1'").run();
    sqlite.close();
    db = await OmenDB.open(dir);
    await expect(db.getCollection("docs").search([0.1, 0], { k: 2 })).rejects.toBeInstanceOf(CorruptionError);
    expect((await db.getCollection("docs").search([3, 0], { k: 1 }))[0]?.document).toBe("doc 3");
    await db.close();
  });
});
