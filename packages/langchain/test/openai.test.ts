/**
 * The standard suite through the real `@langchain/openai` client (and the official `openai` SDK it
 * wraps) pointed at a fake OpenAI embeddings server on 127.0.0.1: 1536-d vectors, base64 transport.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OpenAIEmbeddings } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hashEmbedding } from "./fake-embeddings.js";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "./fake-openai-server.js";
import { OmenDBVectorStore } from "../src/index.js";
import { defineStandardSuite } from "./standard-suite.js";

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer({ apiKey: "test" });
});
afterAll(async () => {
  await server.close();
});

const makeEmbeddings = () => new OpenAIEmbeddings({ apiKey: "test", maxRetries: 0, configuration: { baseURL: server.baseURL } });

describe("the fake OpenAI server through the real client", () => {
  test("returns the server's 1536-d vectors, requested as base64 by the SDK", async () => {
    const before = server.requests.length;
    const embeddings = makeEmbeddings();
    const [a, b] = await embeddings.embedDocuments(["hello world", "goodbye moon"]);
    const q = await embeddings.embedQuery("hello world");
    expect(a).toHaveLength(1536);
    expect(b).toHaveLength(1536);
    const expected = hashEmbedding("hello world", 1536);
    for (let i = 0; i < 1536; i++) expect(q[i]).toBeCloseTo(expected[i]!, 6);
    expect(a).toEqual(q);
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.encodingFormat)).toEqual(["base64", "base64"]);
    expect(sent[0]!.inputs).toEqual(["hello world", "goodbye moon"]);
  });

  test("a wrong API key is rejected by the server", async () => {
    const bad = new OpenAIEmbeddings({ apiKey: "wrong", maxRetries: 0, configuration: { baseURL: server.baseURL } });
    await expect(bad.embedQuery("x")).rejects.toThrow();
  });
});

describe("OmenDBVectorStore with OpenAIEmbeddings (fake server, 1536-d)", () => {
  defineStandardSuite(makeEmbeddings);
});

describe("a store fed by OpenAIEmbeddings", () => {
  test("creates a 1536-d cosine collection and finds the exact text first", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    const store = await OmenDBVectorStore.fromTexts(["red apples", "green pears", "blue berries"], [{ n: 1 }, { n: 2 }, { n: 3 }], makeEmbeddings(), {
      path: folder,
      durability: "none",
    });
    try {
      const collection = await store.collection();
      expect(collection?.dimension).toBe(1536);
      expect(collection?.metric).toBe("cosine");
      const hits = await store.similaritySearchWithScore("green pears", 3);
      expect(hits.map(([d]) => d.pageContent)).toHaveLength(3);
      expect(hits[0]![0].pageContent).toBe("green pears");
      expect(hits[0]![0].metadata).toEqual({ n: 2 });
      expect(hits[0]![1]).toBeCloseTo(1, 5);
    } finally {
      await store.close();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
