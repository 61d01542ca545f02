import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ClosedError, ErrorCode, OmenDB, ValidationError, isOmenDBError } from "@omendb/core";
import { Document, IndexNode, NodeRelationship, TextNode, VectorStoreQueryMode, type BaseNode, type VectorStoreQuery } from "llamaindex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HashEmbedding } from "../test/hash-embedding.js";
import { OmenDBVectorStore, type OmenDBQueryParams } from "./vector-store.js";

const embedModel = new HashEmbedding(4);
let dir: string;
const opened: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
});

afterEach(async () => {
  for (const x of opened.splice(0)) await x.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function newStore(options: Partial<ConstructorParameters<typeof OmenDBVectorStore>[0]> = {}): OmenDBVectorStore {
  const store = new OmenDBVectorStore({ path: dir, embedModel, openOptions: { durability: "none" }, ...options });
  opened.push(store);
  return store;
}

function node(id: string, embedding: number[], options: { text?: string; source?: string; metadata?: Record<string, unknown> } = {}): TextNode {
  return new TextNode({
    id_: id,
    embedding,
    text: options.text ?? `text of ${id}`,
    metadata: options.metadata ?? {},
    ...(options.source !== undefined && { relationships: { [NodeRelationship.SOURCE]: { nodeId: options.source, metadata: {} } } }),
  });
}

function q(queryEmbedding: number[], similarityTopK: number, extra: Partial<VectorStoreQuery<OmenDBQueryParams>> = {}): VectorStoreQuery<OmenDBQueryParams> {
  return { queryEmbedding, similarityTopK, mode: VectorStoreQueryMode.DEFAULT, ...extra };
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string, cls: Function = ValidationError): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(cls);
  expect(isOmenDBError(caught) && caught.code).toBe(code);
}

const cosine = (a: number[], b: number[]) =>
  a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));

describe("OmenDBVectorStore construction", () => {
  it("needs exactly one of path and db, and valid options", async () => {
    await expectCode(() => new OmenDBVectorStore({ embedModel }), ErrorCode.INVALID_OPTION);
    const db = await OmenDB.open(dir, { durability: "none" });
    opened.push(db);
    await expectCode(() => new OmenDBVectorStore({ embedModel, db, path: dir }), ErrorCode.INVALID_OPTION);
    await expectCode(() => new OmenDBVectorStore({ embedModel, path: "" }), ErrorCode.INVALID_OPTION);
    await expectCode(() => new OmenDBVectorStore({ embedModel, db, dimension: 0 }), ErrorCode.INVALID_OPTION);
    await expectCode(() => new OmenDBVectorStore({ embedModel, db, dimension: 2.5 }), ErrorCode.INVALID_OPTION);
    await expectCode(() => new OmenDBVectorStore({ embedModel, db, metric: "manhattan" as never }), ErrorCode.INVALID_OPTION);
    await expectCode(() => new OmenDBVectorStore({ embedModel, db, mmrPrefetchFactor: 0.5 }), ErrorCode.INVALID_OPTION);
  });

  it("stores text and keeps the given embedding model", () => {
    const store = newStore();
    expect(store.storesText).toBe(true);
    expect(store.embedModel).toBe(embedModel);
    expect(store.collectionName).toBe("llamaindex");
  });

  it("opens lazily: client() throws CLOSED until the folder is opened, then returns the database", async () => {
    const store = newStore();
    await expectCode(() => store.client(), ErrorCode.CLOSED, ClosedError);
    expect(await store.query(q([1, 0, 0], 3))).toEqual({ ids: [], similarities: [], nodes: [] });
    expect(store.client()).toBeInstanceOf(OmenDB);
    expect(store.client().hasCollection("llamaindex")).toBe(false);

    const eager = await OmenDBVectorStore.open({ path: path.join(dir, "eager"), embedModel });
    opened.push(eager);
    expect(eager.client().path).toBe(path.join(dir, "eager"));
  });

  it("creates the collection on the first add with the first embedding's length and cosine", async () => {
    const store = newStore({ collectionName: "docs" });
    await store.add([node("a", [1, 0, 0])]);
    const info = store.client().getCollection("docs").info();
    expect(info.dimension).toBe(3);
    expect(info.metric).toBe("cosine");
  });

  it("creates the collection up front when dimension is given, with the requested metric", async () => {
    const store = await OmenDBVectorStore.open({ path: dir, embedModel, dimension: 5, metric: "l2" });
    opened.push(store);
    const info = store.client().getCollection("llamaindex").info();
    expect([info.dimension, info.metric]).toEqual([5, "l2"]);
  });

  it("reopens an existing collection and refuses a conflicting metric or dimension", async () => {
    const first = newStore();
    await first.add([node("a", [1, 0, 0])]);
    await first.close();
    await expectCode(OmenDBVectorStore.open({ path: dir, embedModel, metric: "ip" }), ErrorCode.INVALID_OPTION);
    await expectCode(OmenDBVectorStore.open({ path: dir, embedModel, dimension: 4 }), ErrorCode.INVALID_OPTION);
    const again = await OmenDBVectorStore.open({ path: dir, embedModel });
    opened.push(again);
    expect((await again.query(q([1, 0, 0], 1))).ids).toEqual(["a"]);
  });
});

describe("OmenDBVectorStore.add", () => {
  it("writes id, vector, text as document, and the node's metadata with the reserved keys", async () => {
    const store = newStore();
    const ids = await store.add([node("n1", [0, 1, 0], { text: "hello world", source: "doc-1", metadata: { author: "a", year: 2020, tags: ["x"] } })]);
    expect(ids).toEqual(["n1"]);
    const [record] = await store.client().getCollection("llamaindex").get(["n1"], { includeVector: true });
    expect(record!.document).toBe("hello world");
    expect(Array.from(record!.vector!)).toEqual([0, 1, 0]);
    const { _node_content, ...rest } = record!.metadata;
    expect(rest).toEqual({ author: "a", year: 2020, tags: ["x"], _node_type: "TextNode", document_id: "doc-1", doc_id: "doc-1", ref_doc_id: "doc-1" });
    const content = JSON.parse(_node_content as string) as Record<string, unknown>;
    expect(content["id_"]).toBe("n1");
    expect(content["text"]).toBe(""); // stored once, as the document
  });

  it("marks nodes without a source with ref_doc_id 'None', as LlamaIndex does", async () => {
    const store = newStore();
    await store.add([node("n1", [0, 1, 0])]);
    const [record] = await store.client().getCollection("llamaindex").get(["n1"]);
    expect(record!.metadata["ref_doc_id"]).toBe("None");
  });

  it("upserts: adding an existing id replaces the node", async () => {
    const store = newStore();
    await store.add([node("a", [1, 0, 0], { text: "old", metadata: { v: 1 } }), node("b", [0, 1, 0])]);
    await store.add([node("a", [0, 0, 1], { text: "new", metadata: { v: 2 } })]);
    const result = await store.query(q([0, 0, 1], 3));
    expect(result.ids).toEqual(["a", "b"]);
    expect((result.nodes![0] as TextNode).text).toBe("new");
    expect(result.nodes![0]!.metadata).toEqual({ v: 2 });
    expect(await store.client().getCollection("llamaindex").count()).toBe(2);
  });

  it("keeps the last node when a batch repeats an id, and returns ids in input order", async () => {
    const store = newStore();
    const ids = await store.add([node("a", [1, 0, 0], { text: "first" }), node("b", [0, 1, 0]), node("a", [1, 0, 0], { text: "second" })]);
    expect(ids).toEqual(["a", "b", "a"]);
    const [record] = await store.client().getCollection("llamaindex").get(["a"]);
    expect(record!.document).toBe("second");
  });

  it("returns [] for no nodes without creating the collection", async () => {
    const store = newStore();
    expect(await store.add([])).toEqual([]);
    await store.query(q([1], 1));
    expect(store.client().hasCollection("llamaindex")).toBe(false);
  });

  it("rejects a node without an embedding (INVALID_VECTOR) and writes nothing of the batch", async () => {
    const store = newStore();
    await store.add([node("seed", [1, 0, 0])]);
    const bare = new TextNode({ id_: "bare", text: "no vector" });
    await expectCode(store.add([node("ok", [0, 1, 0]), bare]), ErrorCode.INVALID_VECTOR);
    expect(await store.client().getCollection("llamaindex").count()).toBe(1);
  });

  it("rejects a wrong vector length with DIMENSION_MISMATCH", async () => {
    const store = newStore();
    await store.add([node("a", [1, 0, 0])]);
    await expectCode(store.add([node("b", [1, 0])]), ErrorCode.DIMENSION_MISMATCH);
    await expectCode(store.query(q([1, 0], 1)), ErrorCode.DIMENSION_MISMATCH);
  });

  it("stores metadata as JSON: undefined values dropped, dates as ISO strings", async () => {
    const store = newStore();
    const when = new Date(Date.UTC(2024, 0, 2));
    await store.add([node("a", [1, 0, 0], { metadata: { gone: undefined, when, nested: { x: 1 } } })]);
    const [hit] = (await store.query(q([1, 0, 0], 1))).nodes!;
    expect(hit!.metadata).toEqual({ when: when.toISOString(), nested: { x: 1 } });
  });
});

describe("OmenDBVectorStore.query", () => {
  const vectors: Record<string, number[]> = {
    a: [1, 0, 0],
    b: [0.9, 0.1, 0],
    c: [0, 1, 0],
    d: [0, 0, 1],
    e: [0.5, 0.5, 0.1],
  };
  async function filled(): Promise<OmenDBVectorStore> {
    const store = newStore();
    await store.add(Object.entries(vectors).map(([id, v], i) => node(id, v, { source: i < 2 ? "doc-ab" : `doc-${id}`, metadata: { i } })));
    return store;
  }

  it("returns ids, similarities (cosine, descending) and rebuilt nodes in the same order", async () => {
    const store = await filled();
    const query = [1, 0.2, 0];
    const result = await store.query(q(query, 3));
    const expected = Object.keys(vectors).sort((x, y) => cosine(query, vectors[y]!) - cosine(query, vectors[x]!)).slice(0, 3);
    expect(result.ids).toEqual(expected);
    result.similarities.forEach((s, i) => expect(s).toBeCloseTo(cosine(query, vectors[expected[i]!]!), 5));
    expect(result.nodes!.map((n) => n.id_)).toEqual(expected);
    const first = result.nodes![0]! as TextNode;
    expect(first).toBeInstanceOf(TextNode);
    expect(first.text).toBe(`text of ${expected[0]}`);
    expect(first.sourceNode?.nodeId).toBe("doc-ab");
    expect(first.metadata).toEqual({ i: Object.keys(vectors).indexOf(expected[0]!) });
  });

  it("returns everything when similarityTopK exceeds the count, nothing for 0", async () => {
    const store = await filled();
    expect((await store.query(q([1, 0, 0], 50))).ids).toHaveLength(5);
    expect(await store.query(q([1, 0, 0], 0))).toEqual({ ids: [], similarities: [], nodes: [] });
  });

  it("restricts to docIds (node ids) and combines them with filters", async () => {
    const store = await filled();
    expect((await store.query(q([0, 1, 0.5], 5, { docIds: ["d", "c", "zzz"] }))).ids).toEqual(["c", "d"]);
    const filtered = await store.query(q([1, 0, 0], 5, { docIds: ["a", "b", "c"], filters: { filters: [{ key: "i", operator: ">", value: 0 }] } }));
    expect(filtered.ids).toEqual(["b", "c"]);
    expect((await store.query(q([1, 0, 0], 5, { docIds: [] }))).ids).toEqual([]);
  });

  it("mmr: lambda 1 is the default order; lower lambda trades a near-duplicate for diversity", async () => {
    const store = await filled();
    const query = [1, 0, 0.3];
    const plain = await store.query(q(query, 2));
    expect(plain.ids).toEqual(["a", "b"]);
    const pure = await store.query(q(query, 2, { mode: VectorStoreQueryMode.MMR, mmrThreshold: 1 }));
    expect(pure.ids).toEqual(["a", "b"]);
    // b is a near-duplicate of a; d is far from a and still somewhat relevant.
    const diverse = await store.query(q(query, 2, { mode: VectorStoreQueryMode.MMR, mmrThreshold: 0.5 }));
    expect(diverse.ids).toEqual(["a", "d"]);
    // Similarities stay the relevance scores of the chosen nodes.
    expect(diverse.similarities[1]).toBeCloseTo(cosine(query, vectors["d"]!), 5);
    expect(diverse.nodes!.map((n) => n.id_)).toEqual(["a", "d"]);
  });

  it("mmr: candidates come from the prefetch window (mmrPrefetchK)", async () => {
    const store = await filled();
    // With only the 2 nearest as candidates, MMR cannot reach d.
    const narrow = await store.query(q([1, 0, 0.3], 2, { mode: VectorStoreQueryMode.MMR, mmrThreshold: 0.5, customParams: { mmrPrefetchK: 2 } }));
    expect(narrow.ids).toEqual(["a", "b"]);
  });

  it("rejects unsupported modes, a missing embedding and bad numbers with INVALID_OPTION", async () => {
    const store = await filled();
    await expectCode(store.query(q([1, 0, 0], 2, { mode: VectorStoreQueryMode.HYBRID })), ErrorCode.INVALID_OPTION);
    await expectCode(store.query({ similarityTopK: 2, mode: VectorStoreQueryMode.DEFAULT }), ErrorCode.INVALID_OPTION);
    await expectCode(store.query(q([1, 0, 0], -1)), ErrorCode.INVALID_OPTION);
    await expectCode(store.query(q([1, 0, 0], 1.5)), ErrorCode.INVALID_OPTION);
    await expectCode(store.query(q([1, 0, 0], 2, { mode: VectorStoreQueryMode.MMR, mmrThreshold: 1.5 })), ErrorCode.INVALID_OPTION);
    await expectCode(store.query(q([1, 0, 0], 2, { filters: { filters: [{ key: "i", operator: "~" as never, value: 1 }] } })), ErrorCode.INVALID_FILTER);
  });

  it("rebuilds IndexNodes and Documents from their serialised form", async () => {
    const store = newStore();
    const indexNode = new IndexNode({ id_: "idx", indexId: "sub-index", text: "pointer", embedding: [1, 0, 0] });
    const doc = new Document({ id_: "doc", text: "whole document", embedding: [0, 1, 0], metadata: { k: "v" } });
    await store.add([indexNode, doc]);
    const result = await store.query(q([1, 0.1, 0], 2));
    const [first, second] = result.nodes as [BaseNode, BaseNode];
    expect(first).toBeInstanceOf(IndexNode);
    expect((first as IndexNode).indexId).toBe("sub-index");
    expect((first as IndexNode).text).toBe("pointer");
    expect(second).toBeInstanceOf(TextNode);
    expect((second as TextNode).text).toBe("whole document");
    expect(second.metadata).toEqual({ k: "v" });
  });

  it("exposes records written without LlamaIndex as plain text nodes", async () => {
    const store = await OmenDBVectorStore.open({ path: dir, embedModel, dimension: 3 });
    opened.push(store);
    await store.client().getCollection("llamaindex").upsert([{ id: "raw", vector: [1, 0, 0], document: "raw text", metadata: { source: "core" } }]);
    const result = await store.query(q([1, 0, 0], 1));
    const raw = result.nodes![0]! as TextNode;
    expect(raw).toBeInstanceOf(TextNode);
    expect([raw.id_, raw.text, raw.metadata]).toEqual(["raw", "raw text", { source: "core" }]);
  });

  it("reports l2 and ip scores as core defines them", async () => {
    for (const metric of ["l2", "ip"] as const) {
      const store = newStore({ path: path.join(dir, metric), metric });
      await store.add([node("a", [1, 2, 0]), node("b", [0, 1, 1])]);
      const result = await store.query(q([1, 1, 0], 2));
      const score = (v: number[]) =>
        metric === "l2" ? 1 / (1 + v.reduce((s, x, i) => s + (x - [1, 1, 0][i]!) ** 2, 0)) : v.reduce((s, x, i) => s + x * [1, 1, 0][i]!, 0);
      expect(result.ids).toEqual(["a", "b"]);
      expect(result.similarities[0]).toBeCloseTo(score([1, 2, 0]), 5);
      expect(result.similarities[1]).toBeCloseTo(score([0, 1, 1]), 5);
    }
  });
});

describe("OmenDBVectorStore.delete", () => {
  it("removes every node of a ref doc, or one node by id; unknown ids are a no-op", async () => {
    const store = newStore();
    await store.delete("nothing-yet");
    await store.add([
      node("a1", [1, 0, 0], { source: "A" }),
      node("a2", [0.9, 0.1, 0], { source: "A" }),
      node("b1", [0, 1, 0], { source: "B" }),
      node("c1", [0, 0, 1], { source: "C" }),
    ]);
    await store.delete("A");
    expect((await store.query(q([1, 0, 0], 10))).ids.sort()).toEqual(["b1", "c1"]);
    await store.delete("c1");
    expect((await store.query(q([1, 0, 0], 10))).ids).toEqual(["b1"]);
    await store.delete("A");
    await store.delete("unknown");
    expect((await store.query(q([1, 0, 0], 10))).ids).toEqual(["b1"]);
  });
});

describe("OmenDBVectorStore lifecycle", () => {
  it("persists across close and reopen; persist() checkpoints", async () => {
    const store = newStore();
    await store.add([node("a", [1, 0, 0], { text: "kept" })]);
    await store.persist();
    await store.close();
    const again = newStore();
    const result = await again.query(q([1, 0, 0], 1));
    expect(result.ids).toEqual(["a"]);
    expect((result.nodes![0] as TextNode).text).toBe("kept");
  });

  it("after close every call throws CLOSED; closing twice is fine", async () => {
    const store = newStore();
    await store.add([node("a", [1, 0, 0])]);
    await store.close();
    await store.close();
    await expectCode(store.add([node("b", [1, 0, 0])]), ErrorCode.CLOSED, ClosedError);
    await expectCode(store.query(q([1, 0, 0], 1)), ErrorCode.CLOSED, ClosedError);
    await expectCode(store.delete("a"), ErrorCode.CLOSED, ClosedError);
    await expectCode(store.persist(), ErrorCode.CLOSED, ClosedError);
  });

  it("shares a database: collections are separate and close() leaves a shared db open", async () => {
    const db = await OmenDB.open(dir, { durability: "none" });
    opened.push(db);
    const one = new OmenDBVectorStore({ db, embedModel, collectionName: "one" });
    const two = new OmenDBVectorStore({ db, embedModel, collectionName: "two" });
    expect(one.client()).toBe(db);
    await one.add([node("x", [1, 0, 0])]);
    await two.add([node("y", [0, 1])]);
    expect((await one.query(q([1, 0, 0], 5))).ids).toEqual(["x"]);
    expect((await two.query(q([0, 1], 5))).ids).toEqual(["y"]);
    await one.close();
    expect((await two.query(q([0, 1], 5))).ids).toEqual(["y"]);
    expect(db.listCollections().map((c) => c.name).sort()).toEqual(["one", "two"]);
  });
});
