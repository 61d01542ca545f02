/**
 * The behaviour suite every embeddings backend runs against `OmenDBVectorStore`.
 *
 * Part 1 ports, one by one and in order, the 12 checks of LangChain Python's
 * `VectorStoreIntegrationTests` (langchain_tests/integration_tests/vectorstores.py; the `_async`
 * twins are the same thing in JS). As there, the fixture hands every test an empty store over one
 * shared data folder and cleans up after it (here with `delete({ deleteAll: true })`), so
 * "still empty" checks that cleanup. Part 2 adds what LangChain.js users rely on: scores, default
 * `k`, filters through `asRetriever`, MMR, delete by filter.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { OmenDBVectorStore } from "../src/index.js";

const byId = (a: Document, b: Document) => ((a.id ?? "") < (b.id ?? "") ? -1 : 1);

/** Registers the suite for stores built with `makeEmbeddings()`. */
export function defineStandardSuite(makeEmbeddings: () => EmbeddingsInterface): void {
  let folder: string;
  let store: OmenDBVectorStore;

  beforeAll(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  });
  beforeEach(() => {
    store = new OmenDBVectorStore(makeEmbeddings(), { path: folder, durability: "none" });
  });
  afterEach(async () => {
    await store.delete({ deleteAll: true });
    await store.close();
  });
  afterAll(() => {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  describe("VectorStoreIntegrationTests (ported from LangChain Python)", () => {
    test("test_vectorstore_is_empty", async () => {
      expect(await store.similaritySearch("foo", 1)).toEqual([]);
    });

    test("test_add_documents", async () => {
      const originals = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      const ids = await store.addDocuments(originals);
      const docs = await store.similaritySearch("bar", 2);
      expect(docs).toEqual([
        new Document({ pageContent: "bar", metadata: { id: 2 }, id: ids[1] }),
        new Document({ pageContent: "foo", metadata: { id: 1 }, id: ids[0] }),
      ]);
      // The input documents are not mutated: no id is written back.
      expect(originals.map((d) => d.id)).toEqual([undefined, undefined]);
      expect(originals).toEqual([new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })]);
    });

    test("test_vectorstore_still_empty", async () => {
      expect(await store.similaritySearch("foo", 1)).toEqual([]);
    });

    test("test_deleting_documents", async () => {
      const docs = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      expect(await store.addDocuments(docs, { ids: ["1", "2"] })).toEqual(["1", "2"]);
      await store.delete({ ids: ["1"] });
      expect(await store.similaritySearch("foo", 1)).toEqual([new Document({ pageContent: "bar", metadata: { id: 2 }, id: "2" })]);
    });

    test("test_deleting_bulk_documents", async () => {
      const docs = [
        new Document({ pageContent: "foo", metadata: { id: 1 } }),
        new Document({ pageContent: "bar", metadata: { id: 2 } }),
        new Document({ pageContent: "baz", metadata: { id: 3 } }),
      ];
      await store.addDocuments(docs, { ids: ["1", "2", "3"] });
      await store.delete({ ids: ["1", "2"] });
      expect(await store.similaritySearch("foo", 1)).toEqual([new Document({ pageContent: "baz", metadata: { id: 3 }, id: "3" })]);
    });

    test("test_delete_missing_content", async () => {
      await expect(store.delete({ ids: ["1"] })).resolves.toBeUndefined();
      await expect(store.delete({ ids: ["1", "2", "3"] })).resolves.toBeUndefined();
    });

    test("test_add_documents_with_ids_is_idempotent", async () => {
      const docs = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      await store.addDocuments(docs, { ids: ["1", "2"] });
      await store.addDocuments(docs, { ids: ["1", "2"] });
      expect(await store.similaritySearch("bar", 10)).toEqual([
        new Document({ pageContent: "bar", metadata: { id: 2 }, id: "2" }),
        new Document({ pageContent: "foo", metadata: { id: 1 }, id: "1" }),
      ]);
    });

    test("test_add_documents_by_id_with_mutation", async () => {
      const docs = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      await store.addDocuments(docs, { ids: ["1", "2"] });
      // Over-write the content of id "1".
      await store.addDocuments([new Document({ pageContent: "new foo", metadata: { id: 1, some_other_field: "foo" } })], { ids: ["1"] });
      expect(await store.similaritySearch("new foo", 2)).toEqual([
        new Document({ id: "1", pageContent: "new foo", metadata: { id: 1, some_other_field: "foo" } }),
        new Document({ id: "2", pageContent: "bar", metadata: { id: 2 } }),
      ]);
    });

    test("test_get_by_ids", async () => {
      const docs = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      expect(await store.addDocuments(docs, { ids: ["1", "2"] })).toEqual(["1", "2"]);
      const got = await store.getByIds(["1", "2"]);
      expect(got.sort(byId)).toEqual([
        new Document({ pageContent: "foo", metadata: { id: 1 }, id: "1" }),
        new Document({ pageContent: "bar", metadata: { id: 2 }, id: "2" }),
      ]);
    });

    test("test_get_by_ids_missing", async () => {
      expect(await store.getByIds(["1", "2", "3"])).toEqual([]);
    });

    test("test_add_documents_documents", async () => {
      const docs = [new Document({ pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      const ids = await store.addDocuments(docs);
      expect(ids).toHaveLength(2);
      for (const id of ids) expect(typeof id).toBe("string");
      expect(new Set(ids).size).toBe(2);
      expect(await store.getByIds(ids)).toEqual([
        new Document({ pageContent: "foo", metadata: { id: 1 }, id: ids[0] }),
        new Document({ pageContent: "bar", metadata: { id: 2 }, id: ids[1] }),
      ]);
    });

    test("test_add_documents_with_existing_ids", async () => {
      const docs = [new Document({ id: "foo", pageContent: "foo", metadata: { id: 1 } }), new Document({ pageContent: "bar", metadata: { id: 2 } })];
      const ids = await store.addDocuments(docs);
      expect(ids[0]).toBe("foo");
      expect(typeof ids[1]).toBe("string");
      expect(ids[1]).not.toBe("foo");
      expect(await store.getByIds(ids)).toEqual([
        new Document({ pageContent: "foo", metadata: { id: 1 }, id: "foo" }),
        new Document({ pageContent: "bar", metadata: { id: 2 }, id: ids[1] }),
      ]);
    });
  });

  describe("LangChain.js behaviour", () => {
    const corpus = [
      new Document({ id: "cat", pageContent: "cats purr softly on the warm sofa", metadata: { animal: "cat", legs: 4, year: 2021 } }),
      new Document({ id: "dog", pageContent: "dogs bark loudly at the mail carrier", metadata: { animal: "dog", legs: 4, year: 2019 } }),
      new Document({ id: "bird", pageContent: "birds sing softly at dawn", metadata: { animal: "bird", legs: 2, year: 2023 } }),
      new Document({ id: "fish", pageContent: "fish swim silently in the pond", metadata: { animal: "fish", legs: 0, year: 2020 } }),
      new Document({ id: "snake", pageContent: "snakes slither silently through grass", metadata: { animal: "snake", legs: 0, year: 2022 } }),
      new Document({ id: "horse", pageContent: "horses gallop across the open field", metadata: { animal: "horse", legs: 4, year: 2018 } }),
    ];

    test("scores are similarities, best first; an exact match scores ≈ 1", async () => {
      await store.addDocuments(corpus);
      const hits = await store.similaritySearchWithScore("cats purr softly on the warm sofa", 6);
      expect(hits.map(([d]) => d.id)[0]).toBe("cat");
      expect(hits[0]![1]).toBeCloseTo(1, 5);
      for (let i = 1; i < hits.length; i++) expect(hits[i]![1]).toBeLessThanOrEqual(hits[i - 1]![1]);
      for (const [, score] of hits) expect(score).toBeLessThanOrEqual(1 + 1e-6);
    });

    test("default k is 4; k larger than the store returns everything", async () => {
      await store.addDocuments(corpus);
      expect(await store.similaritySearch("animals")).toHaveLength(4);
      const all = await store.similaritySearch("animals", 100);
      expect(all.map((d) => d.id).sort()).toEqual(corpus.map((d) => d.id).sort());
    });

    test("object filter and function filter through asRetriever", async () => {
      await store.addDocuments(corpus);
      const objectRetriever = store.asRetriever({ k: 2, filter: { legs: 0 } });
      const fromObject = await objectRetriever.invoke("cats purr softly");
      expect(fromObject.map((d) => d.id).sort()).toEqual(["fish", "snake"]);

      const fnRetriever = store.asRetriever({ k: 3, filter: (doc) => (doc.metadata["year"] as number) >= 2021 });
      const fromFn = await fnRetriever.invoke("dogs bark loudly at the mail carrier");
      // k results come back although the query's nearest document fails the predicate.
      expect(fromFn.map((d) => d.id).sort()).toEqual(["bird", "cat", "snake"]);
      for (const d of fromFn) expect(d).toBeInstanceOf(Document);

      const combined = await store.similaritySearch("silently", 4, { $and: [{ legs: 0 }, { year: { $gt: 2020 } }] });
      expect(combined.map((d) => d.id)).toEqual(["snake"]);
    });

    test("maxMarginalRelevanceSearch trades a duplicate for a diverse document", async () => {
      await store.addDocuments([
        new Document({ id: "a", pageContent: "cats purr softly" }),
        new Document({ id: "a-copy", pageContent: "cats purr softly" }),
        new Document({ id: "b", pageContent: "cats chase mice" }),
        new Document({ id: "c", pageContent: "stock markets fell sharply" }),
      ]);
      const plain = await store.similaritySearch("cats purr", 2);
      expect(plain.map((d) => d.id).sort()).toEqual(["a", "a-copy"]);
      const mmr = await store.maxMarginalRelevanceSearch("cats purr", { k: 2, fetchK: 4, lambda: 0.5 }, undefined);
      expect(mmr).toHaveLength(2);
      expect(["a", "a-copy"]).toContain(mmr[0]!.id);
      expect(mmr[1]!.id).toBe("b");
      const viaRetriever = await store.asRetriever({ k: 2, searchType: "mmr", searchKwargs: { fetchK: 4, lambda: 0.5 } }).invoke("cats purr");
      expect(viaRetriever.map((d) => d.id)).toEqual(mmr.map((d) => d.id));
    });

    test("delete by filter, then deleteAll", async () => {
      await store.addDocuments(corpus);
      await store.delete({ filter: { legs: 4 } });
      expect((await store.similaritySearch("animals", 10)).map((d) => d.id).sort()).toEqual(["bird", "fish", "snake"]);
      await store.delete({ filter: (doc) => doc.pageContent.includes("silently") });
      expect((await store.similaritySearch("animals", 10)).map((d) => d.id)).toEqual(["bird"]);
      await store.delete({ deleteAll: true });
      expect(await store.similaritySearch("animals", 10)).toEqual([]);
    });
  });
}
