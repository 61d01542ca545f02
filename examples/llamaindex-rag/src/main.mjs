// LlamaIndex RAG over State of the Union addresses, stored in OmenDB.
//
//   node src/main.mjs [question ...] [--data DIR] [--limit N] [--k K] [--offline]
//
// Offline (no OPENAI_API_KEY, or --offline): nodes are stored with the vectors the dataset ships
// (Universal Sentence Encoder Lite, 512-d), questions are embedded with OmenDB's OfflineEmbedder (the
// same model, run locally), and a retriever with MetadataFilters prints the passages it found.
// With OPENAI_API_KEY: the index embeds the nodes with OpenAIEmbedder (text-embedding-3-small) and a
// query engine answers with a chat model (OPENAI_CHAT_MODEL, default gpt-4o-mini).
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { NodeRelationship, Settings, TextNode, VectorStoreIndex } from "llamaindex";
import { OfflineEmbedder, OpenAIEmbedder } from "@omendb/core";
import { OmenDBVectorStore } from "@omendb/llamaindex";
import { OmenDBEmbedding } from "./omendb-embedding.mjs";
import { OpenAIChat } from "./openai-chat.mjs";
import { defaultDatasetsDir, loadSotu, spreadRows } from "./sotu-dataset.mjs";

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: "string", default: process.env.OMENDB_DATA ?? path.join(exampleDir, "omendb-data") },
    datasets: { type: "string", default: defaultDatasetsDir() },
    limit: { type: "string", default: process.env.SOTU_LIMIT },
    k: { type: "string", default: "4" },
    offline: { type: "boolean", default: false },
  },
});
const online = !flags.offline && Boolean(process.env.OPENAI_API_KEY);
const similarityTopK = Number(flags.k);
const chatModel = process.env.OPENAI_CHAT_MODEL ?? "gpt-4o-mini";

/** The questions asked, each with optional LlamaIndex MetadataFilters. */
const questions =
  positionals.length > 0
    ? positionals.map((question) => ({ question }))
    : [
        { question: "What did the president say about tariffs and duties on imported goods?" },
        {
          question: "How should the nation deal with the danger of nuclear weapons?",
          filters: {
            condition: "and",
            filters: [
              { key: "year", operator: ">=", value: 1945 },
              { key: "year", operator: "<=", value: 1991 },
            ],
          },
        },
        {
          question: "How will we win the war and secure a lasting peace?",
          filters: { filters: [{ key: "president", operator: "in", value: ["Franklin D Roosevelt", "Harry S Truman"] }] },
        },
      ];
const describeFilters = (filters) =>
  filters.filters.map((f) => `${f.key} ${f.operator} ${JSON.stringify(f.value)}`).join(` ${filters.condition ?? "and"} `);

const sotu = loadSotu(flags.datasets);
// Offline ingestion is cheap (the vectors come with the dataset): take every chunk by default.
// Online it costs embedding calls: 300 chunks spread over 1790–2021 by default.
const limit = flags.limit === undefined ? (online ? 300 : sotu.rows.length) : Number(flags.limit);
if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer, got ${flags.limit}`);

const embedder = online ? new OpenAIEmbedder() : new OfflineEmbedder();
Settings.embedModel = new OmenDBEmbedding(embedder);
if (online) Settings.llm = new OpenAIChat({ model: chatModel });

const collectionName = online ? `sotu-${embedder.model}` : "sotu-use-512"; // vectors of different models do not mix
const vectorStore = await OmenDBVectorStore.open({ path: flags.data, collectionName });
const index = await VectorStoreIndex.fromVectorStore(vectorStore);

console.log(
  online
    ? `Mode: OpenAI (embeddings ${embedder.model}, chat ${chatModel})`
    : "Mode: offline (Universal Sentence Encoder Lite; no OPENAI_API_KEY, so the retrieved passages are shown instead of a generated answer)",
);
console.log(`Data folder: ${flags.data}`);

// ---- Ingest: skip chunks already stored (node ids are the dataset's row numbers), add the rest. ----
const wanted = spreadRows(sotu.rows.length, limit);
const db = vectorStore.client();
const stored = new Set(db.hasCollection(collectionName) ? (await db.getCollection(collectionName).get(wanted.map(String))).map((r) => r.id) : []);
const missing = wanted.filter((row) => !stored.has(String(row)));
const toNode = (row) => {
  const { text, year, president, party, speech, chunk } = sotu.rows[row];
  return new TextNode({
    id_: String(row),
    text,
    metadata: { year, president, party, speech, chunk },
    // Embed and prompt with year, president and party, not the bookkeeping fields.
    excludedEmbedMetadataKeys: ["speech", "chunk"],
    excludedLlmMetadataKeys: ["speech", "chunk"],
    // The speech is the source document: index.deleteRefDoc(speech) removes all of its chunks.
    relationships: { [NodeRelationship.SOURCE]: { nodeId: speech, metadata: {} } },
    ...(online ? {} : { embedding: sotu.vector(row) }), // offline: the dataset's own vectors
  });
};
const started = Date.now();
for (let i = 0; i < missing.length; i += 500) {
  const nodes = missing.slice(i, i + 500).map(toNode);
  if (online) {
    await index.insertNodes(nodes); // embeds with Settings.embedModel (OpenAIEmbedder), then stores
    console.log(`  embedded ${Math.min(i + 500, missing.length)}/${missing.length}`);
  } else {
    await vectorStore.add(nodes);
  }
}
const total = await db.getCollection(collectionName).count();
console.log(`Ingested ${missing.length} new chunks in ${((Date.now() - started) / 1000).toFixed(1)} s; the collection holds ${total}.`);

// ---- Questions: a query engine (online) or a retriever (offline), both with MetadataFilters. ----
for (const { question, filters } of questions) {
  console.log(`\nQ: ${question}${filters === undefined ? "" : `  [filters: ${describeFilters(filters)}]`}`);
  let sources;
  if (online) {
    const engine = index.asQueryEngine({ similarityTopK, ...(filters === undefined ? {} : { preFilters: filters }) });
    const response = await engine.query({ query: question });
    console.log(`A: ${response.toString()}\n`);
    sources = response.sourceNodes ?? [];
  } else {
    const retriever = index.asRetriever({ similarityTopK, ...(filters === undefined ? {} : { filters }) });
    sources = await retriever.retrieve({ query: question });
  }
  for (const [i, { node, score }] of sources.entries()) {
    const { year, president, party } = node.metadata;
    const text = node.text.length > 220 ? `${node.text.slice(0, 220)}…` : node.text;
    console.log(`  [${i + 1}] ${year} · ${president} · ${party} · #${node.id_} · score ${score.toFixed(3)}`);
    console.log(`      ${text}`);
  }
}

await vectorStore.close();
