/**
 * The official `chromadb` client (3.x) drives a real server through a full collection lifecycle; every
 * read is compared with core's direct answer on the same database. The client sends embeddings as
 * base64 float32 (the server advertises `supports_base64_encoding`); collections are created with
 * `embeddingFunction: null` so the client needs no embedding package.
 */
import { ChromaClient, type Collection as ChromaCollectionHandle, type Where as ChromaWhere } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Collection, Where } from "@omendb/core";
import { f32, randomVectors, seededRandom, startTestServer } from "./helpers.js";

const DIM = 8;
const N = 120;
const CATEGORIES = ["a", "b", "c"] as const;

const rng = seededRandom(42);
const vectors = randomVectors(rng, N, DIM);
const ids = vectors.map((_, i) => `r${i}`);
const documents = ids.map((_, i) => `doc ${i} ${i % 4 === 0 ? "apple" : "banana"}`);
const metadatas = ids.map((_, i) => ({
  category: CATEGORIES[i % 3]!,
  n: i,
  even: i % 2 === 0,
  tags: i % 5 === 0 ? ["x", "y"] : ["y"],
}));

function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

describe("chromadb client against the server", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: ChromaClient;
  let collection: ChromaCollectionHandle;
  const core = (): Collection => server.db.getCollection(collection.name);

  beforeAll(async () => {
    server = await startTestServer();
    client = new ChromaClient({ host: "127.0.0.1", port: server.port, ssl: false });
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers heartbeat, version and pre-flight checks", async () => {
    expect(await client.heartbeat()).toBeGreaterThan(0);
    expect(await client.version()).toBe("1.0.0");
    expect(await client.getMaxBatchSize()).toBe(server.options.maxBatchSize);
    expect(await client.supportsBase64Encoding()).toBe(true);
  });

  it("creates a collection, and get-or-create returns the same one", async () => {
    collection = await client.createCollection({
      name: "lifecycle",
      metadata: { "hnsw:space": "cosine", topic: "fruit" },
      embeddingFunction: null,
    });
    expect(collection.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(collection.metadata).toEqual({ "hnsw:space": "cosine", topic: "fruit" });
    const again = await client.getOrCreateCollection({ name: "lifecycle", embeddingFunction: null });
    expect(again.id).toBe(collection.id);
    expect(await client.countCollections()).toBe(1);
    await expect(client.createCollection({ name: "lifecycle", embeddingFunction: null })).rejects.toMatchObject({ name: "ChromaUniqueError" });
    expect(await collection.count()).toBe(0);
  });

  it("adds records; the first write fixes the dimension and the metric comes from hnsw:space", async () => {
    await collection.add({ ids: ids.slice(0, 60), embeddings: vectors.slice(0, 60), documents: documents.slice(0, 60), metadatas: metadatas.slice(0, 60) });
    await collection.add({ ids: ids.slice(60), embeddings: vectors.slice(60), documents: documents.slice(60), metadatas: metadatas.slice(60) });
    expect(await collection.count()).toBe(N);
    expect(core().dimension).toBe(DIM);
    expect(core().metric).toBe("cosine");
    expect(core().uuid === collection.id || core().metadata["omendb:chroma"] !== undefined).toBe(true);
    const fetched = await client.getCollection({ name: "lifecycle" });
    expect(fetched.id).toBe(collection.id);
  });

  it("gets by ids in request order, skipping unknown ids, with embeddings", async () => {
    const got = await collection.get({ ids: ["r5", "r1", "missing"], include: ["embeddings", "documents", "metadatas"] });
    expect(got.ids).toEqual(["r5", "r1"]);
    expect(got.embeddings).toEqual([f32(vectors[5]!), f32(vectors[1]!)]);
    expect(got.documents).toEqual([documents[5], documents[1]]);
    expect(got.metadatas).toEqual([metadatas[5], metadatas[1]]);
  });

  it("gets by where and whereDocument exactly as core filters", async () => {
    const where: ChromaWhere = { $and: [{ category: "a" }, { n: { $gte: 30 } }] };
    const got = await collection.get({ where, whereDocument: { $contains: "apple" } });
    const direct = await core().get({ filter: where as Where, predicate: (r) => r.document?.includes("apple") === true });
    expect(got.ids).toEqual(direct.map((r) => r.id));
    expect(got.ids.length).toBeGreaterThan(0);
    for (const id of got.ids) {
      const i = Number(id.slice(1));
      expect(metadatas[i]!.category === "a" && i >= 30 && documents[i]!.includes("apple")).toBe(true);
    }
    const tagged = await collection.get({ where: { tags: { $contains: "x" } } });
    expect(tagged.ids).toEqual(ids.filter((_, i) => i % 5 === 0));
  });

  it("pages with limit and offset in insertion order", async () => {
    const page = await collection.get({ limit: 10, offset: 5, include: [] });
    expect(page.ids).toEqual(ids.slice(5, 15));
  });

  it("queries with filters and every include; results equal core's search", async () => {
    const queries = randomVectors(seededRandom(7), 2, DIM);
    const where = { category: { $in: ["a", "b"] } };
    const result = await collection.query({
      queryEmbeddings: queries,
      nResults: 7,
      where,
      whereDocument: { $not_contains: "apple" },
      include: ["distances", "documents", "metadatas", "embeddings"],
    });
    expect(result.ids).toHaveLength(2);
    for (let q = 0; q < queries.length; q++) {
      const direct = await core().search(queries[q]!, {
        k: 7,
        filter: where as Where,
        predicate: (r) => !(r.document ?? "").includes("apple"),
        includeVector: true,
      });
      expect(result.ids[q]).toEqual(direct.map((r) => r.id));
      expect(result.distances[q]).toEqual(direct.map((r) => r.distance));
      expect(result.documents[q]).toEqual(direct.map((r) => r.document));
      expect(result.metadatas[q]).toEqual(direct.map((r) => r.metadata));
      expect(result.embeddings[q]).toEqual(direct.map((r) => Array.from(r.vector!)));
      // lower is better, and it is Chroma's cosine distance
      const distances = result.distances[q]! as number[];
      expect([...distances].sort((a, b) => a - b)).toEqual(distances);
      result.ids[q]!.forEach((id, j) => {
        expect(distances[j]!).toBeCloseTo(cosineDistance(queries[q]!, vectors[Number(id.slice(1))]!), 5);
      });
    }
  });

  it("update merges metadata, keeps vector and document, and skips unknown ids", async () => {
    await collection.update({ ids: ["r1", "nope"], metadatas: [{ n: 1000, extra: "yes" }, { n: 1 }] });
    const got = await collection.get({ ids: ["r1", "nope"], include: ["embeddings", "documents", "metadatas"] });
    expect(got.ids).toEqual(["r1"]);
    expect(got.metadatas[0]).toEqual({ ...metadatas[1], n: 1000, extra: "yes" });
    expect(got.documents[0]).toBe(documents[1]);
    expect(got.embeddings[0]).toEqual(f32(vectors[1]!));
    expect(await collection.count()).toBe(N);

    const moved = randomVectors(seededRandom(9), 1, DIM)[0]!;
    await collection.update({ ids: ["r1"], embeddings: [moved], documents: ["moved"] });
    const after = await collection.get({ ids: ["r1"], include: ["embeddings", "documents", "metadatas"] });
    expect(after.embeddings[0]).toEqual(f32(moved));
    expect(after.documents[0]).toBe("moved");
    expect(after.metadatas[0]).toEqual({ ...metadatas[1], n: 1000, extra: "yes" });
  });

  it("upsert updates existing ids (merging metadata) and adds new ones", async () => {
    const fresh = randomVectors(seededRandom(11), 2, DIM);
    await collection.upsert({ ids: ["r2", "new1"], embeddings: fresh, documents: ["updated two", "brand new"], metadatas: [{ category: "z" }, { category: "z" }] });
    const got = await collection.get({ ids: ["r2", "new1"], include: ["embeddings", "documents", "metadatas"] });
    expect(got.metadatas).toEqual([{ ...metadatas[2], category: "z" }, { category: "z" }]);
    expect(got.documents).toEqual(["updated two", "brand new"]);
    expect(got.embeddings).toEqual(fresh.map(f32));
    expect(await collection.count()).toBe(N + 1);
  });

  it("add skips ids that already exist, as Chroma does", async () => {
    const fresh = randomVectors(seededRandom(13), 2, DIM);
    await collection.add({ ids: ["r3", "new2"], embeddings: fresh, documents: ["SHOULD NOT REPLACE", "new two"] });
    const got = await collection.get({ ids: ["r3", "new2"] });
    expect(got.documents).toEqual([documents[3], "new two"]);
    expect(got.metadatas).toEqual([metadatas[3], null]);
    expect(await collection.count()).toBe(N + 2);
  });

  it("deletes by ids and by where", async () => {
    expect(await collection.delete({ ids: ["r4", "missing"] })).toEqual({ deleted: 1 });
    const cs = await core().count({ filter: { category: "c" } });
    expect(cs).toBeGreaterThan(0);
    expect(await collection.delete({ where: { category: "c" } })).toEqual({ deleted: cs });
    expect(await collection.count()).toBe(N + 2 - 1 - cs);
    expect((await collection.get({ where: { category: "c" } })).ids).toEqual([]);
    const limited = await collection.delete({ where: { category: "z" }, limit: 1 });
    expect(limited).toEqual({ deleted: 1 });
  });

  it("renames and replaces metadata; the id stays", async () => {
    await collection.modify({ name: "renamed", metadata: { "hnsw:space": "cosine", topic: "changed" } });
    const renamed = await client.getCollection({ name: "renamed" });
    expect(renamed.id).toBe(collection.id);
    expect(renamed.metadata).toEqual({ "hnsw:space": "cosine", topic: "changed" });
    await expect(client.getCollection({ name: "lifecycle" })).rejects.toMatchObject({ name: "ChromaNotFoundError" });
    const byId = await client.getCollectionById(collection.id);
    expect(byId.name).toBe("renamed");
    expect((await client.listCollections()).map((c) => c.name)).toEqual(["renamed"]);
    expect(await renamed.count()).toBe(await server.db.getCollection("renamed").count());
  });

  it("deletes the collection", async () => {
    await client.deleteCollection({ name: "renamed" });
    expect(await client.countCollections()).toBe(0);
    expect(server.db.listCollections()).toEqual([]);
    await expect(client.getCollection({ name: "renamed" })).rejects.toMatchObject({ name: "ChromaNotFoundError" });
  });
});

describe("collections across restarts", () => {
  it("keeps a never-written collection and the data of a written one", async () => {
    const first = await startTestServer();
    const dataPath = first.db.path;
    const c1 = new ChromaClient({ host: "127.0.0.1", port: first.port });
    const empty = await c1.createCollection({ name: "empty-one", embeddingFunction: null, metadata: { kind: "pending" } });
    const full = await c1.createCollection({ name: "full-one", embeddingFunction: null });
    await full.add({ ids: ["a", "b"], embeddings: [[1, 0, 0], [0, 1, 0]], documents: ["A", "B"] });
    await first.close();

    const second = await startTestServer({ path: dataPath });
    try {
      const c2 = new ChromaClient({ host: "127.0.0.1", port: second.port });
      const emptyAgain = await c2.getCollection({ name: "empty-one" });
      expect(emptyAgain.id).toBe(empty.id);
      expect(emptyAgain.metadata).toEqual({ kind: "pending" });
      expect(await emptyAgain.count()).toBe(0);
      const fullAgain = await c2.getCollection({ name: "full-one" });
      expect(fullAgain.id).toBe(full.id);
      expect(await fullAgain.count()).toBe(2);
      // l2 is Chroma's default space: squared euclidean distance
      const q = await fullAgain.query({ queryEmbeddings: [[1, 0, 0]], nResults: 2 });
      expect(q.ids).toEqual([["a", "b"]]);
      expect(q.distances).toEqual([[0, 2]]);
      // the pending collection is created in core by its first write, keeping its id
      await emptyAgain.add({ ids: ["x"], embeddings: [[0.5, 0.5]] });
      expect((await c2.getCollection({ name: "empty-one" })).id).toBe(empty.id);
      expect(second.db.getCollection("empty-one").dimension).toBe(2);
    } finally {
      await second.close();
    }
  });
});
