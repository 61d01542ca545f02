/**
 * OmenDBVectorStore under LlamaIndex's own index machinery: VectorStoreIndex.fromDocuments through
 * storageContextFromDefaults, re-ingestion (the UPSERTS doc-store strategy), deleteRefDoc,
 * fromVectorStore on a reopened folder, retriever filters and modes, and the IngestionPipeline.
 * Embeddings come from a deterministic hashed bag of words (no network).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  Document,
  IngestionPipeline,
  MetadataMode,
  SentenceSplitter,
  Settings,
  VectorStoreIndex,
  storageContextFromDefaults,
  type NodeWithScore,
} from "llamaindex";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OmenDBVectorStore } from "../src/index.js";
import { HashEmbedding } from "./hash-embedding.js";

const embedModel = new HashEmbedding(64);

const corpus: Record<string, string> = {
  whales: "Blue whales are the largest animals ever known. Whales sing long songs in the deep ocean.",
  volcanoes: "Volcanoes erupt molten lava and ash. Iceland has many active volcanoes near glaciers.",
  chess: "Chess openings such as the Sicilian defence shape the middle game. Grandmasters study endgames.",
  bread: "Sourdough bread rises with wild yeast. Bakers fold the dough and bake it in hot ovens.",
  comets: "Comets are icy bodies with glowing tails. Halley's comet returns every seventy six years.",
};

/** Each text repeated into a ~1,000-token document, so that it spans several chunks. */
function longText(text: string): string {
  return Array.from({ length: 40 }, (_, i) => `${text} Note ${i}.`).join(" ");
}

function docs(overrides: Record<string, string> = {}): Document[] {
  const long = Object.fromEntries(Object.entries(corpus).map(([id, text]) => [id, longText(text)]));
  return Object.entries({ ...long, ...overrides }).map(
    ([id, text]) => new Document({ id_: id, text, metadata: { topic: id, length: text.length } }),
  );
}

let dir: string;
const toClose: OmenDBVectorStore[] = [];

beforeAll(() => {
  Settings.embedModel = embedModel; // VectorStoreIndex reads the global model unconditionally
  // Documents span several chunks. (Settings.nodeParser and chunkOverlap would not reach
  // VectorStoreIndex: llamaindex 0.12.1 bundles a second Settings object into its indices module;
  // only chunkSize is shared through @llamaindex/core, and the default overlap is 200 tokens.)
  Settings.chunkSize = 400;
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
});

afterEach(async () => {
  for (const store of toClose.splice(0)) await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openStore(folder = path.join(dir, "db")): OmenDBVectorStore {
  const store = new OmenDBVectorStore({ path: folder, embedModel, openOptions: { durability: "none" } });
  toClose.push(store);
  return store;
}

async function count(store: OmenDBVectorStore): Promise<number> {
  return store.client().getCollection(store.collectionName).count();
}

async function refDocs(store: OmenDBVectorStore): Promise<Record<string, number>> {
  const records = await store.client().getCollection(store.collectionName).get({});
  const out: Record<string, number> = {};
  for (const r of records) out[r.metadata["ref_doc_id"] as string] = (out[r.metadata["ref_doc_id"] as string] ?? 0) + 1;
  return out;
}

const summary = (hits: NodeWithScore[]) => hits.map((h) => ({ id: h.node.id_, ref: h.node.sourceNode?.nodeId, score: h.score }));

describe("VectorStoreIndex over OmenDBVectorStore", () => {
  it("fromDocuments stores every chunk with its ref doc, and retrieves by meaning", async () => {
    const vectorStore = openStore();
    const storageContext = await storageContextFromDefaults({ vectorStore });
    const index = await VectorStoreIndex.fromDocuments(docs(), { storageContext });
    const perDoc = await refDocs(vectorStore);
    expect(Object.keys(perDoc).sort()).toEqual(Object.keys(corpus).sort());
    expect(Object.values(perDoc).some((n) => n > 1)).toBe(true); // chunked: several nodes per document

    const hits = await index.asRetriever({ similarityTopK: 2 }).retrieve({ query: "whales sing songs in the ocean" });
    expect(hits).toHaveLength(2);
    expect(hits[0]!.node.sourceNode?.nodeId).toBe("whales");
    expect(hits[0]!.score!).toBeGreaterThanOrEqual(hits[1]!.score!);
    expect(hits[0]!.node.metadata["topic"]).toBe("whales");
  });

  it("re-ingesting unchanged documents adds nothing; a changed document replaces its chunks", async () => {
    const vectorStore = openStore();
    const storageContext = await storageContextFromDefaults({ vectorStore });
    await VectorStoreIndex.fromDocuments(docs(), { storageContext });
    const before = await refDocs(vectorStore);
    await VectorStoreIndex.fromDocuments(docs(), { storageContext });
    expect(await refDocs(vectorStore)).toEqual(before);

    const changed = "Bread is short now.";
    const index = await VectorStoreIndex.fromDocuments(docs({ bread: changed }), { storageContext });
    const after = await refDocs(vectorStore);
    expect(after).toEqual({ ...before, bread: 1 });
    const hits = await index.asRetriever({ similarityTopK: 1 }).retrieve({ query: "bread is short" });
    expect(hits[0]!.node.getContent(MetadataMode.NONE)).toContain(changed);
  });

  it("re-ingests across a restart when the doc store is persisted beside the folder", async () => {
    const persistDir = path.join(dir, "meta");
    let vectorStore = openStore();
    await VectorStoreIndex.fromDocuments(docs(), { storageContext: await storageContextFromDefaults({ vectorStore, persistDir }) });
    const before = await refDocs(vectorStore);
    await vectorStore.close();

    vectorStore = openStore();
    const storageContext = await storageContextFromDefaults({ vectorStore, persistDir });
    await VectorStoreIndex.fromDocuments(docs({ comets: "Comets have tails." }), { storageContext });
    expect(await refDocs(vectorStore)).toEqual({ ...before, comets: 1 });
  });

  it("deleteRefDoc removes every chunk of that document", async () => {
    const vectorStore = openStore();
    const index = await VectorStoreIndex.fromDocuments(docs(), { storageContext: await storageContextFromDefaults({ vectorStore }) });
    const total = await count(vectorStore);
    const volcanoChunks = (await refDocs(vectorStore))["volcanoes"]!;
    await index.deleteRefDoc("volcanoes");
    expect(await count(vectorStore)).toBe(total - volcanoChunks);
    expect((await refDocs(vectorStore))["volcanoes"]).toBeUndefined();
    const hits = await index.asRetriever({ similarityTopK: 3 }).retrieve({ query: "volcanoes erupt lava in Iceland" });
    expect(hits.map((h) => h.node.sourceNode?.nodeId)).not.toContain("volcanoes");
  });

  it("fromVectorStore on a reopened folder returns the same answers", async () => {
    const queries = ["largest animals", "lava and ash", "chess endgames", "wild yeast", "icy tails", "unrelated words"];
    const vectorStore = openStore();
    const index = await VectorStoreIndex.fromDocuments(docs(), { storageContext: await storageContextFromDefaults({ vectorStore }) });
    const before = [];
    for (const query of queries) before.push(summary(await index.asRetriever({ similarityTopK: 3 }).retrieve({ query })));
    const texts = (await index.asRetriever({ similarityTopK: 3 }).retrieve({ query: queries[0]! })).map((h) => h.node.getContent(MetadataMode.NONE));
    await vectorStore.close();

    const reopened = openStore();
    const index2 = await VectorStoreIndex.fromVectorStore(reopened);
    const after = [];
    for (const query of queries) after.push(summary(await index2.asRetriever({ similarityTopK: 3 }).retrieve({ query })));
    expect(after).toEqual(before);
    const texts2 = (await index2.asRetriever({ similarityTopK: 3 }).retrieve({ query: queries[0]! })).map((h) => h.node.getContent(MetadataMode.NONE));
    expect(texts2).toEqual(texts);
  });

  it("applies retriever filters and query-engine preFilters", async () => {
    const vectorStore = openStore();
    const index = await VectorStoreIndex.fromDocuments(docs(), { storageContext: await storageContextFromDefaults({ vectorStore }) });
    const retriever = index.asRetriever({
      similarityTopK: 10,
      filters: { filters: [{ key: "topic", operator: "in", value: ["chess", "comets"] }] },
    });
    const hits = await retriever.retrieve({ query: "whales sing songs" });
    expect(new Set(hits.map((h) => h.node.metadata["topic"]))).toEqual(new Set(["chess", "comets"]));

    const byRefDoc = index.asRetriever({ similarityTopK: 10, filters: { filters: [{ key: "ref_doc_id", operator: "==", value: "bread" }] } });
    const breadHits = await byRefDoc.retrieve({ query: "anything at all" });
    expect(breadHits.length).toBe((await refDocs(vectorStore))["bread"]);
    expect(breadHits.every((h) => h.node.sourceNode?.nodeId === "bread")).toBe(true);
  });

  it("supports the retriever's mmr mode", async () => {
    const vectorStore = openStore();
    const index = await VectorStoreIndex.fromDocuments(docs(), { storageContext: await storageContextFromDefaults({ vectorStore }) });
    const plain = await index.asRetriever({ similarityTopK: 3 }).retrieve({ query: "whales" });
    const mmr = await index.asRetriever({ similarityTopK: 3, mode: "mmr" as never }).retrieve({ query: "whales" });
    expect(mmr).toHaveLength(3);
    expect(mmr[0]!.node.id_).toBe(plain[0]!.node.id_);
  });

  it("takes nodes from an IngestionPipeline that embeds them", async () => {
    const vectorStore = openStore();
    const pipeline = new IngestionPipeline({ transformations: [new SentenceSplitter({ chunkSize: 64, chunkOverlap: 0 }), embedModel], vectorStore });
    const nodes = await pipeline.run({ documents: docs() });
    expect(await count(vectorStore)).toBe(nodes.length);
    const index = await VectorStoreIndex.fromVectorStore(vectorStore);
    const hits = await index.asRetriever({ similarityTopK: 1 }).retrieve({ query: "grandmasters study chess" });
    expect(hits[0]!.node.sourceNode?.nodeId).toBe("chess");
  });
});
