import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Document } from "@langchain/core/documents";
import { ScoreThresholdRetriever } from "@langchain/classic/retrievers/score_threshold";
import { ClosedError, NotFoundError, OmenDB, ValidationError, type Where } from "@omendb/core";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { HashEmbeddings } from "../test/fake-embeddings.js";
import { OmenDBVectorStore } from "./index.js";

let tmp: string;
const toClose: { close(): Promise<void> }[] = [];
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
});
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A store over a fresh folder, closed after the test. */
function newStore(config: Partial<ConstructorParameters<typeof OmenDBVectorStore>[1]> = {}, embeddings = new HashEmbeddings(32)): OmenDBVectorStore {
  const store = new OmenDBVectorStore(embeddings, { path: path.join(tmp, "db"), durability: "none", ...config });
  toClose.push(store);
  return store;
}

async function openDb(folder = path.join(tmp, "shared")): Promise<OmenDB> {
  const db = await OmenDB.open(folder, { durability: "none" });
  toClose.push(db);
  return db;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("construction", () => {
  test("needs exactly one of path and db; checks its options", async () => {
    const e = new HashEmbeddings();
    const db = await openDb();
    const bad: unknown[] = [
      {},
      { path: path.join(tmp, "x"), db },
      { path: "" },
      { path: tmp, dimension: 0 },
      { path: tmp, dimension: 1.5 },
      { path: tmp, metric: "dot" },
      { path: tmp, efSearch: 0 },
    ];
    for (const config of bad) {
      const label = Object.entries(config as object).map(([k, v]) => `${k}=${k === "db" ? "OmenDB" : JSON.stringify(v)}`).join(" ");
      expect(() => new OmenDBVectorStore(e, config as never), label).toThrow(
        expect.objectContaining({ name: "ValidationError", code: "INVALID_OPTION" }),
      );
    }
    expect(() => new OmenDBVectorStore(e, { path: tmp, collectionName: "" })).toThrow(expect.objectContaining({ name: "ValidationError", code: "INVALID_NAME" }));
    for (const config of [{ db: {} }, { path: 42 }, { path: tmp, collectionName: 7 }]) {
      expect(() => new OmenDBVectorStore(e, config as never), JSON.stringify(config)).toThrow(TypeError);
    }
  });

  test("_vectorstoreType is the constant 'omendb' and reaches lc_namespace and retriever tags", () => {
    const store = newStore();
    expect(store._vectorstoreType()).toBe("omendb");
    expect(store.lc_namespace).toEqual(["langchain", "vectorstores", "omendb"]);
    expect(store.asRetriever().tags).toContain("omendb");
  });

  test("nothing is opened or created until needed; reads on a fresh store are empty", async () => {
    const folder = path.join(tmp, "lazy");
    const store = new OmenDBVectorStore(new HashEmbeddings(), { path: folder });
    toClose.push(store);
    expect(fs.existsSync(folder)).toBe(false);
    expect(await store.similaritySearch("anything")).toEqual([]);
    expect(await store.similaritySearchWithScore("anything", 10)).toEqual([]);
    expect(await store.maxMarginalRelevanceSearch("anything", { k: 3 }, undefined)).toEqual([]);
    expect(await store.getByIds(["a"])).toEqual([]);
    await store.delete({ ids: ["a"] });
    await store.delete({ deleteAll: true });
    expect(await store.addDocuments([])).toEqual([]);
    const db = await store.database();
    expect(db.hasCollection("langchain")).toBe(false);
    expect(await store.collection()).toBeUndefined();
  });
});

describe("writing", () => {
  test("the dimension comes from the first embedding; the collection is created with the configured metric", async () => {
    const store = newStore({ metric: "l2" }, new HashEmbeddings(24));
    await store.addDocuments([new Document({ pageContent: "hello there" })]);
    const collection = await store.collection();
    expect(collection?.dimension).toBe(24);
    expect(collection?.metric).toBe("l2");
    expect(collection?.name).toBe("langchain");
  });

  test("a configured dimension that the embeddings do not produce is refused before anything is created", async () => {
    const store = newStore({ dimension: 8 }, new HashEmbeddings(16));
    await expect(store.addDocuments([new Document({ pageContent: "x" })])).rejects.toMatchObject({ name: "ValidationError", code: "DIMENSION_MISMATCH" });
    expect(await store.collection()).toBeUndefined();
  });

  test("id precedence: options.ids[i], then doc.id, then a fresh UUID", async () => {
    const store = newStore();
    const docs = [
      new Document({ pageContent: "one", id: "doc-1" }),
      new Document({ pageContent: "two", id: "doc-2" }),
      new Document({ pageContent: "three" }),
      new Document({ pageContent: "four" }),
    ];
    const ids = await store.addDocuments(docs, { ids: ["opt-1", undefined, null, "opt-4"] });
    expect(ids.slice(0, 2)).toEqual(["opt-1", "doc-2"]);
    expect(ids[2]).toMatch(uuidPattern);
    expect(ids[3]).toBe("opt-4");
    const stored = await store.getByIds(ids);
    expect(stored.map((d) => [d.id, d.pageContent])).toEqual(ids.map((id, i) => [id, docs[i]!.pageContent]));
    expect(await store.getByIds(["doc-1"])).toEqual([]);
    expect(docs.map((d) => d.id)).toEqual(["doc-1", "doc-2", undefined, undefined]);
  });

  test("generated ids are distinct UUIDs", async () => {
    const store = newStore();
    const ids = await store.addDocuments(Array.from({ length: 50 }, (_, i) => new Document({ pageContent: `text ${i}` })));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(uuidPattern);
  });

  test("one id twice in a call: the last occurrence wins", async () => {
    const store = newStore();
    const ids = await store.addDocuments([new Document({ pageContent: "first", id: "x" }), new Document({ pageContent: "second", id: "x" })]);
    expect(ids).toEqual(["x", "x"]);
    expect(await store.getByIds(["x"])).toEqual([new Document({ id: "x", pageContent: "second", metadata: {} })]);
    expect(await (await store.collection())!.count()).toBe(1);
  });

  test("mismatched lengths are refused", async () => {
    const store = newStore();
    const doc = new Document({ pageContent: "x" });
    await expect(store.addVectors([[1, 0]], [doc, doc])).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(store.addDocuments([doc, doc], { ids: ["a"] })).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });

  test("metadata: undefined values are dropped, the input is untouched, results are copies", async () => {
    const store = newStore();
    const metadata = { source: "a.txt", page: undefined, loc: { lines: { from: 1, to: undefined } }, tags: ["x", "y"] };
    const doc = new Document({ pageContent: "some text", metadata });
    const snapshot = structuredClone(metadata);
    const [id] = await store.addDocuments([doc]);
    expect(doc.metadata).toBe(metadata);
    expect(metadata).toStrictEqual(snapshot);
    const [got] = await store.getByIds([id!]);
    expect(got!.metadata).toStrictEqual({ source: "a.txt", loc: { lines: { from: 1 } }, tags: ["x", "y"] });
    got!.metadata["source"] = "changed";
    const [again] = await store.similaritySearch("some text", 1);
    expect(again!.metadata["source"]).toBe("a.txt");
  });

  test("metadata that is not JSON is refused whole, nothing written", async () => {
    const store = newStore();
    await store.addDocuments([new Document({ pageContent: "ok", id: "ok" })]);
    const bad = [new Document({ pageContent: "a", id: "a" }), new Document({ pageContent: "b", id: "b", metadata: { when: new Date(0) } })];
    await expect(store.addDocuments(bad)).rejects.toMatchObject({ name: "ValidationError", code: "INVALID_METADATA" });
    expect(await store.getByIds(["a", "b"])).toEqual([]);
  });

  test("addVectors stores the given vectors; an empty pageContent round-trips", async () => {
    const store = newStore();
    const ids = await store.addVectors([[1, 0, 0], [0, 1, 0]], [new Document({ pageContent: "" }), new Document({ pageContent: "y" })], { ids: ["p", "q"] });
    expect(ids).toEqual(["p", "q"]);
    const hits = await store.similaritySearchVectorWithScore([0, 1, 0], 2);
    expect(hits.map(([d, s]) => [d.id, d.pageContent, s])).toEqual([
      ["q", "y", 1],
      ["p", "", 0],
    ]);
    await expect(store.similaritySearchVectorWithScore([1, 0], 1)).rejects.toMatchObject({ code: "DIMENSION_MISMATCH" });
  });

  test("concurrent first writes create the collection once", async () => {
    const store = newStore();
    await Promise.all([0, 1, 2, 3].map((i) => store.addDocuments([new Document({ pageContent: `doc ${i}`, id: `d${i}` })])));
    expect(await (await store.collection())!.count()).toBe(4);
    expect((await store.database()).listCollections()).toHaveLength(1);
  });

  test("retriever.addDocuments keeps document ids (as MemoryVectorStore's test does)", async () => {
    const store = newStore();
    const retriever = store.asRetriever({ k: 1 });
    await retriever.addDocuments([new Document({ pageContent: "hello world", id: "hello" }), new Document({ pageContent: "goodbye moon", id: "bye" })]);
    const [hit] = await retriever.invoke("hello world");
    expect(hit?.id).toBe("hello");
  });
});

describe("scores per metric (higher is better)", () => {
  const docs = [new Document({ pageContent: "a" }), new Document({ pageContent: "b" }), new Document({ pageContent: "c" })];
  const vectors = [
    [1, 0],
    [0, 2],
    [-1, -1],
  ];

  test("cosine: cosine similarity", async () => {
    const store = newStore({ collectionName: "cos" });
    await store.addVectors(vectors, docs, { ids: ["a", "b", "c"] });
    const hits = await store.similaritySearchVectorWithScore([1, 1], 3);
    expect(hits.map(([d]) => d.id).slice(0, 2).sort()).toEqual(["a", "b"]); // a tie
    expect(hits[2]![0].id).toBe("c");
    const score = Object.fromEntries(hits.map(([d, s]) => [d.id, s]));
    expect(score["a"]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(score["b"]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(score["c"]).toBeCloseTo(-1, 6);
  });

  test("l2: 1 / (1 + squared distance)", async () => {
    const store = newStore({ collectionName: "l2", metric: "l2" });
    await store.addVectors(vectors, docs, { ids: ["a", "b", "c"] });
    const hits = await store.similaritySearchVectorWithScore([1, 1], 3);
    expect(hits.map(([d]) => d.id)).toEqual(["a", "b", "c"]);
    expect(hits.map(([, s]) => s)).toEqual([1 / (1 + 1), 1 / (1 + 2), 1 / (1 + 8)].map((x) => expect.closeTo(x, 6)));
  });

  test("ip: the inner product", async () => {
    const store = newStore({ collectionName: "ip", metric: "ip" });
    await store.addVectors(vectors, docs, { ids: ["a", "b", "c"] });
    const hits = await store.similaritySearchVectorWithScore([1, 1], 3);
    expect(hits.map(([d]) => d.id)).toEqual(["b", "a", "c"]);
    expect(hits.map(([, s]) => s)).toEqual([2, 1, -2].map((x) => expect.closeTo(x, 6)));
  });

  test("ScoreThresholdRetriever keeps exactly the documents scoring at least the threshold", async () => {
    const store = newStore();
    const texts = Array.from({ length: 40 }, (_, i) => `alpha beta ${i % 2 === 0 ? "gamma" : "delta"} item${i} ${i % 5 === 0 ? "epsilon" : ""}`);
    await store.addDocuments(texts.map((t, i) => new Document({ pageContent: t, id: `t${i}` })));
    const all = await store.similaritySearchWithScore("alpha beta gamma epsilon", 100);
    const threshold = 0.6;
    const expected = all.filter(([, s]) => s >= threshold).map(([d]) => d.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    const retriever = ScoreThresholdRetriever.fromVectorStore(store, { minSimilarityScore: threshold, maxK: 100, kIncrement: 5 });
    const got = await retriever.invoke("alpha beta gamma epsilon");
    expect(got.map((d) => d.id)).toEqual(expected);
  });
});

describe("filters", () => {
  const corpus = [
    new Document({ id: "1", pageContent: "red apple pie", metadata: { color: "red", price: 3, tags: ["fruit", "dessert"] } }),
    new Document({ id: "2", pageContent: "green apple tart", metadata: { color: "green", price: 5, tags: ["fruit"] } }),
    new Document({ id: "3", pageContent: "red velvet cake", metadata: { color: "red", price: 8, tags: ["dessert"] } }),
    new Document({ id: "4", pageContent: "plain bread", metadata: { price: 2 } }),
  ];

  test("Where objects: operators, arrays, missing keys", async () => {
    const store = newStore();
    await store.addDocuments(corpus);
    const ids = async (filter: Where) => (await store.similaritySearch("apple", 10, filter)).map((d) => d.id).sort();
    expect(await ids({ color: "red" })).toEqual(["1", "3"]);
    expect(await ids({ color: { $ne: "red" } })).toEqual(["2", "4"]);
    expect(await ids({ price: { $gte: 3, $lt: 8 } })).toEqual(["1", "2"]);
    expect(await ids({ tags: "dessert" })).toEqual(["1", "3"]);
    expect(await ids({ tags: { $contains: "fruit" } })).toEqual(["1", "2"]);
    expect(await ids({ $or: [{ color: "green" }, { price: { $lt: 3 } }] })).toEqual(["2", "4"]);
    expect(await ids({ $not: [{ color: "red" }] })).toEqual(["2", "4"]);
    expect(await ids({ color: { $exists: false } })).toEqual(["4"]);
    expect(await ids({})).toEqual(["1", "2", "3", "4"]);
  });

  test("a predicate gets a Document with id, pageContent and metadata; k results still come back", async () => {
    const store = newStore();
    await store.addDocuments(corpus);
    const seen: unknown[] = [];
    const hits = await store.similaritySearch("red apple pie", 2, (doc) => {
      seen.push(doc);
      return doc.metadata["price"] !== 3;
    });
    expect(hits).toHaveLength(2);
    expect(hits.map((d) => d.id)).not.toContain("1");
    expect(seen.every((d) => d instanceof Document)).toBe(true);
    expect(seen).toContainEqual(new Document({ id: "1", pageContent: "red apple pie", metadata: corpus[0]!.metadata }));
  });

  test("MMR honours filters", async () => {
    const store = newStore();
    await store.addDocuments(corpus);
    const viaObject = await store.maxMarginalRelevanceSearch("apple", { k: 3, filter: { color: "red" } }, undefined);
    expect(viaObject.map((d) => d.id).sort()).toEqual(["1", "3"]);
    const viaFn = await store.maxMarginalRelevanceSearch("apple", { k: 3, filter: (d) => d.pageContent.includes("apple") }, undefined);
    expect(viaFn.map((d) => d.id).sort()).toEqual(["1", "2"]);
  });

  test("a malformed Where fails loudly, even on a store that has nothing yet", async () => {
    const store = newStore();
    await expect(store.similaritySearch("x", 1, { price: { $regex: "a" } })).rejects.toMatchObject({ name: "ValidationError", code: "INVALID_FILTER" });
    await store.addDocuments(corpus);
    await expect(store.similaritySearch("x", 1, { $and: [] })).rejects.toMatchObject({ code: "INVALID_FILTER" });
    await expect(store.delete({ filter: { price: { $gt: true } } as never })).rejects.toMatchObject({ code: "INVALID_FILTER" });
    expect(await (await store.collection())!.count()).toBe(4);
  });

  test("delete needs exactly one of ids, filter, deleteAll", async () => {
    const store = newStore();
    await store.addDocuments(corpus);
    for (const params of [undefined, {}, { deleteAll: false }, { filter: null }, { ids: ["1"], deleteAll: true }, { ids: ["1"], filter: {} }]) {
      await expect(store.delete(params as never), JSON.stringify(params)).rejects.toMatchObject({ name: "ValidationError", code: "INVALID_OPTION" });
    }
    expect(await (await store.collection())!.count()).toBe(4);
    await store.delete({ filter: {} });
    expect(await (await store.collection())!.count()).toBe(0);
  });
});

describe("factories, sharing and lifetime", () => {
  test("fromTexts with one metadata object per text, or one for all", async () => {
    const e = new HashEmbeddings();
    const a = await OmenDBVectorStore.fromTexts(["x one", "y two"], [{ n: 1 }, { n: 2 }], e, { path: path.join(tmp, "f"), collectionName: "a" });
    toClose.push(a);
    const b = await OmenDBVectorStore.fromTexts(["x one", "y two"], { shared: true }, e, { path: path.join(tmp, "f"), collectionName: "b" });
    toClose.push(b);
    expect((await a.similaritySearch("y two", 1))[0]!.metadata).toEqual({ n: 2 });
    expect((await b.similaritySearch("y two", 2)).map((d) => d.metadata)).toEqual([{ shared: true }, { shared: true }]);
  });

  test("data survives close; fromExistingCollection reopens it and refuses missing or conflicting collections", async () => {
    const e = new HashEmbeddings(16);
    const folder = path.join(tmp, "persist");
    const first = await OmenDBVectorStore.fromDocuments([new Document({ pageContent: "persistent words", id: "p" })], e, { path: folder });
    await first.close();
    await expect(first.similaritySearch("persistent words")).rejects.toBeInstanceOf(ClosedError);

    const again = await OmenDBVectorStore.fromExistingCollection(e, { path: folder });
    toClose.push(again);
    expect((await again.similaritySearch("persistent words", 1)).map((d) => d.id)).toEqual(["p"]);
    const viaAlias = await OmenDBVectorStore.fromExistingIndex(e, { path: folder });
    toClose.push(viaAlias);
    expect(await viaAlias.getByIds(["p"])).toHaveLength(1);

    await expect(OmenDBVectorStore.fromExistingCollection(e, { path: folder, collectionName: "nope" })).rejects.toSatisfy(
      (err) => err instanceof NotFoundError && err.code === "COLLECTION_NOT_FOUND",
    );
    await expect(OmenDBVectorStore.fromExistingCollection(e, { path: folder, dimension: 99 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(OmenDBVectorStore.fromExistingCollection(e, { path: folder, metric: "ip" })).rejects.toMatchObject({ code: "INVALID_OPTION" });

    // The failed factories released their hold: once the two open stores close, the folder is free.
    await again.close();
    await viaAlias.close();
    const db = await OmenDB.open(folder);
    await db.close();
  });

  test("stores on one path share one database; the last close releases the folder", async () => {
    const folder = path.join(tmp, "shared-path");
    const a = new OmenDBVectorStore(new HashEmbeddings(), { path: folder, collectionName: "a" });
    const b = new OmenDBVectorStore(new HashEmbeddings(), { path: folder, collectionName: "b" });
    await a.addDocuments([new Document({ pageContent: "in a", id: "1" })]);
    await b.addDocuments([new Document({ pageContent: "in b", id: "1" })]);
    expect(await a.database()).toBe(await b.database());
    await a.close();
    expect((await b.getByIds(["1"]))[0]!.pageContent).toBe("in b");
    await b.close();
    const db = await OmenDB.open(folder); // would throw LockedError if a store still held it
    expect(db.listCollections().map((c) => c.name)).toEqual(["a", "b"]);
    await db.close();
  });

  test("a db passed in is shared and left open by close()", async () => {
    const db = await openDb();
    const store = new OmenDBVectorStore(new HashEmbeddings(), { db, collectionName: "docs" });
    await store.addDocuments([new Document({ pageContent: "hello", id: "h" })]);
    await store.close();
    await store.close();
    await expect(store.getByIds(["h"])).rejects.toMatchObject({ code: "CLOSED" });
    expect(await db.getCollection("docs").get(["h"])).toEqual([{ id: "h", document: "hello", metadata: {} }]);
  });
});

describe("save and load", () => {
  test("save copies the data folder; load opens it while the original stays open", async () => {
    const e = new HashEmbeddings(16);
    const store = newStore({ collectionName: "kb" }, e);
    await store.addDocuments([new Document({ pageContent: "first fact", id: "f1", metadata: { n: 1 } })]);
    const saved = path.join(tmp, "saved");
    await store.save(saved);
    await store.addDocuments([new Document({ pageContent: "second fact", id: "f2" })]);

    const loaded = await OmenDBVectorStore.load(saved, e, { collectionName: "kb" });
    toClose.push(loaded);
    expect(await loaded.getByIds(["f1", "f2"])).toEqual([new Document({ id: "f1", pageContent: "first fact", metadata: { n: 1 } })]);
    expect((await loaded.similaritySearch("first fact", 1))[0]!.id).toBe("f1");
    await loaded.close();

    // Saving again replaces the earlier copy.
    await store.save(saved);
    const reloaded = await OmenDBVectorStore.load(saved, e, { collectionName: "kb" });
    toClose.push(reloaded);
    expect((await reloaded.getByIds(["f1", "f2"])).map((d) => d.id)).toEqual(["f1", "f2"]);
  });

  test("save refuses to overwrite what is not a closed data folder; saving to its own folder checkpoints", async () => {
    const store = newStore();
    await store.addDocuments([new Document({ pageContent: "x", id: "x" })]);
    const unrelated = path.join(tmp, "unrelated");
    fs.mkdirSync(unrelated);
    fs.writeFileSync(path.join(unrelated, "notes.txt"), "keep me");
    await expect(store.save(unrelated)).rejects.toMatchObject({ name: "ValidationError", code: "INVALID_OPTION" });
    expect(fs.readFileSync(path.join(unrelated, "notes.txt"), "utf8")).toBe("keep me");
    await expect(store.save(path.join(unrelated, "notes.txt"))).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(store.save(path.join(tmp, "db", "inside"))).rejects.toMatchObject({ code: "INVALID_OPTION" });

    const openElsewhere = await openDb(path.join(tmp, "open"));
    await expect(store.save(openElsewhere.path)).rejects.toMatchObject({ code: "INVALID_OPTION" });

    await store.save(path.join(tmp, "db"));
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    await store.save(empty);
    expect(fs.existsSync(path.join(empty, "LOCK"))).toBe(false);
  });

  test("load refuses a folder that is not a data folder", async () => {
    await expect(OmenDBVectorStore.load(path.join(tmp, "missing"), new HashEmbeddings())).rejects.toSatisfy(
      (err) => err instanceof ValidationError && err.code === "INVALID_OPTION",
    );
    expect(fs.existsSync(path.join(tmp, "missing"))).toBe(false);
  });
});
