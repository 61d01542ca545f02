/**
 * LangChain's `index()` (@langchain/core/indexing) against OmenDBVectorStore: it writes with
 * `addDocuments(docs, { ids })` and cleans up with `delete({ ids })`, so the store must honour
 * both, and upsert (for `forceUpdate`).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Document } from "@langchain/core/documents";
import { index } from "@langchain/core/indexing";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { OmenDBVectorStore } from "../src/index.js";
import { HashEmbeddings } from "./fake-embeddings.js";
import { InMemoryRecordManager } from "./in-memory-record-manager.js";

let tmp: string;
let embeddings: HashEmbeddings;
let store: OmenDBVectorStore;
let records: InMemoryRecordManager;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  embeddings = new HashEmbeddings(64);
  store = new OmenDBVectorStore(embeddings, { path: tmp, durability: "none" });
  records = new InMemoryRecordManager();
});
afterEach(async () => {
  await store.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const doc = (text: string, source: string) => new Document({ pageContent: text, metadata: { source } });

/** Every stored record as `id → text`. */
async function contents(): Promise<Map<string, string>> {
  const collection = await store.collection();
  const all = collection === undefined ? [] : await collection.get();
  return new Map(all.map((r) => [r.id, r.document ?? ""]));
}

async function expectStoreMatchesRecordManager(): Promise<void> {
  expect([...(await contents()).keys()].sort()).toEqual([...records.records.keys()].sort());
}

describe("index() with cleanup: full", () => {
  test("first run adds, an unchanged re-run writes nothing, a change replaces, a vanished document is deleted", async () => {
    const v1 = [doc("the quick brown fox", "a.txt"), doc("jumps over the lazy dog", "b.txt"), doc("and runs far away", "c.txt")];
    expect(await index({ docsSource: v1, recordManager: records, vectorStore: store, options: { cleanup: "full" } })).toEqual({
      numAdded: 3,
      numDeleted: 0,
      numUpdated: 0,
      numSkipped: 0,
    });
    expect([...(await contents()).values()].sort()).toEqual(v1.map((d) => d.pageContent).sort());
    await expectStoreMatchesRecordManager();
    expect(embeddings.documentsEmbedded).toBe(3);

    // Unchanged: nothing embedded, nothing written.
    const before = await contents();
    expect(await index({ docsSource: v1, recordManager: records, vectorStore: store, options: { cleanup: "full" } })).toEqual({
      numAdded: 0,
      numDeleted: 0,
      numUpdated: 0,
      numSkipped: 3,
    });
    expect(embeddings.documentsEmbedded).toBe(3);
    expect(await contents()).toEqual(before);

    // One changed document: the new version is added under a new id, the old one deleted.
    const v2 = [v1[0]!, doc("jumps over the sleepy cat", "b.txt"), v1[2]!];
    expect(await index({ docsSource: v2, recordManager: records, vectorStore: store, options: { cleanup: "full" } })).toEqual({
      numAdded: 1,
      numDeleted: 1,
      numUpdated: 0,
      numSkipped: 2,
    });
    expect(embeddings.documentsEmbedded).toBe(4);
    expect([...(await contents()).values()].sort()).toEqual(v2.map((d) => d.pageContent).sort());
    await expectStoreMatchesRecordManager();
    const [top] = await store.similaritySearch("sleepy cat", 1);
    expect(top?.pageContent).toBe("jumps over the sleepy cat");
    expect(top?.metadata).toEqual({ source: "b.txt" });

    // A document vanished from the source: full cleanup deletes it.
    const v3 = [v2[0]!, v2[1]!];
    expect(await index({ docsSource: v3, recordManager: records, vectorStore: store, options: { cleanup: "full" } })).toEqual({
      numAdded: 0,
      numDeleted: 1,
      numUpdated: 0,
      numSkipped: 2,
    });
    expect([...(await contents()).values()].sort()).toEqual(v3.map((d) => d.pageContent).sort());
    await expectStoreMatchesRecordManager();

    // An empty source with full cleanup empties the store.
    expect((await index({ docsSource: [], recordManager: records, vectorStore: store, options: { cleanup: "full" } })).numDeleted).toBe(2);
    expect((await contents()).size).toBe(0);
  });
});

describe("index() with cleanup: incremental", () => {
  test("re-indexing one source replaces its chunks and leaves other sources alone", async () => {
    const x = [doc("x chunk one", "x.txt"), doc("x chunk two", "x.txt")];
    const y = [doc("y only chunk", "y.txt")];
    const options = { cleanup: "incremental" as const, sourceIdKey: "source" };
    expect(await index({ docsSource: [...x, ...y], recordManager: records, vectorStore: store, options })).toMatchObject({ numAdded: 3, numDeleted: 0 });

    const xNew = [doc("x chunk one", "x.txt"), doc("x chunk two rewritten", "x.txt")];
    expect(await index({ docsSource: xNew, recordManager: records, vectorStore: store, options })).toEqual({
      numAdded: 1,
      numDeleted: 1,
      numUpdated: 0,
      numSkipped: 1,
    });
    expect([...(await contents()).values()].sort()).toEqual(["x chunk one", "x chunk two rewritten", "y only chunk"]);
    await expectStoreMatchesRecordManager();
  });
});

describe("index() without cleanup, and forceUpdate", () => {
  test("without cleanup a changed document is added beside the old one", async () => {
    await index({ docsSource: [doc("version one", "v.txt")], recordManager: records, vectorStore: store });
    const result = await index({ docsSource: [doc("version two", "v.txt")], recordManager: records, vectorStore: store });
    expect(result).toEqual({ numAdded: 1, numDeleted: 0, numUpdated: 0, numSkipped: 0 });
    expect([...(await contents()).values()].sort()).toEqual(["version one", "version two"]);
  });

  test("forceUpdate re-writes the same ids in place (upsert), creating no duplicates", async () => {
    const docs = [doc("alpha text", "a"), doc("beta text", "b")];
    await index({ docsSource: docs, recordManager: records, vectorStore: store, options: { cleanup: "full" } });
    const ids = [...(await contents()).keys()].sort();
    expect(await index({ docsSource: docs, recordManager: records, vectorStore: store, options: { cleanup: "full", forceUpdate: true } })).toEqual({
      numAdded: 0,
      numDeleted: 0,
      numUpdated: 2,
      numSkipped: 0,
    });
    expect(embeddings.documentsEmbedded).toBe(4);
    expect([...(await contents()).keys()].sort()).toEqual(ids);
  });
});
