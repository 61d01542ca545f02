// LangChain RAG over State of the Union addresses, stored in OmenDB.
//
//   node src/main.mjs [question ...] [--data DIR] [--limit N] [--k K] [--offline]
//
// Offline (no OPENAI_API_KEY, or --offline): the corpus is ingested with the vectors the dataset ships
// (Universal Sentence Encoder Lite, 512-d), questions are embedded with OmenDB's OfflineEmbedder (the
// same model, run locally), and the retrieval chain prints the passages it retrieved.
// With OPENAI_API_KEY: the corpus is embedded with OpenAIEmbedder (text-embedding-3-small) and a chat
// model (OPENAI_CHAT_MODEL, default gpt-4o-mini) answers from the retrieved passages.
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Document } from "@langchain/core/documents";
import { RunnableLambda, RunnableMap, RunnablePassthrough } from "@langchain/core/runnables";
import { OfflineEmbedder, OpenAIEmbedder } from "@omendb/core";
import { OmenDBVectorStore } from "@omendb/langchain";
import { OmenDBEmbeddings } from "./omendb-embeddings.mjs";
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
const k = Number(flags.k);

/** The questions asked, each with an optional OmenDB metadata filter (a Mongo-like `Where`). */
const questions =
  positionals.length > 0
    ? positionals.map((question) => ({ question }))
    : [
        { question: "What did the president say about tariffs and duties on imported goods?" },
        {
          question: "How should the nation deal with the danger of nuclear weapons?",
          filter: { year: { $gte: 1945, $lte: 1991 } },
          label: "1945 ≤ year ≤ 1991",
        },
        {
          question: "How can we make health care affordable for every family?",
          filter: { party: "Democratic" },
          label: 'party = "Democratic"',
        },
      ];

const sotu = loadSotu(flags.datasets);
// Offline ingestion is cheap (the vectors come with the dataset): take every chunk by default.
// Online it costs embedding calls: 300 chunks spread over 1790–2021 by default.
const limit = flags.limit === undefined ? (online ? 300 : sotu.rows.length) : Number(flags.limit);
if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer, got ${flags.limit}`);

const embedder = online ? new OpenAIEmbedder() : new OfflineEmbedder();
const store = new OmenDBVectorStore(new OmenDBEmbeddings(embedder), {
  path: flags.data,
  // One collection per embedding model: vectors of different models do not mix.
  collectionName: online ? `sotu-${embedder.model}` : "sotu-use-512",
});

console.log(
  online
    ? `Mode: OpenAI (embeddings ${embedder.model}, chat ${process.env.OPENAI_CHAT_MODEL ?? "gpt-4o-mini"})`
    : "Mode: offline (Universal Sentence Encoder Lite; no OPENAI_API_KEY, so the retrieved passages are shown instead of a generated answer)",
);
console.log(`Data folder: ${flags.data}`);

// ---- Ingest: skip chunks already stored (ids are the dataset's row numbers), add the rest. ----
const wanted = spreadRows(sotu.rows.length, limit);
const existing = await store.collection();
const stored = new Set(existing === undefined ? [] : (await existing.get(wanted.map(String))).map((r) => r.id));
const missing = wanted.filter((row) => !stored.has(String(row)));
const toDocument = (row) => {
  const { text, year, president, party, speech, chunk } = sotu.rows[row];
  return new Document({ id: String(row), pageContent: text, metadata: { year, president, party, speech, chunk } });
};
const started = Date.now();
for (let i = 0; i < missing.length; i += 500) {
  const rows = missing.slice(i, i + 500);
  const docs = rows.map(toDocument);
  if (online) await store.addDocuments(docs); // embeds with OpenAIEmbedder (batched, retried)
  else await store.addVectors(rows.map(sotu.vector), docs); // the dataset's own vectors
  if (online) console.log(`  embedded ${Math.min(i + 500, missing.length)}/${missing.length}`);
}
const total = await (await store.collection()).count();
console.log(`Ingested ${missing.length} new chunks in ${((Date.now() - started) / 1000).toFixed(1)} s; the collection holds ${total}.`);

// ---- The retrieval chain: question → retriever (with the question's filter) → answer. ----
const formatPassages = (docs) =>
  docs.map((d, i) => `[${i + 1}] ${d.metadata.year}, ${d.metadata.president} (${d.metadata.party}): ${d.pageContent}`).join("\n\n");

async function makeAnswerStep() {
  if (!online) return RunnableLambda.from(() => null); // offline: no model, the passages are the answer
  const { ChatOpenAI } = await import("@langchain/openai");
  const { ChatPromptTemplate } = await import("@langchain/core/prompts");
  const { StringOutputParser } = await import("@langchain/core/output_parsers");
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "Answer the question using only these State of the Union passages. Cite passages as [n] with year and president.\n\n{context}"],
    ["human", "{question}"],
  ]);
  const llm = new ChatOpenAI({ model: process.env.OPENAI_CHAT_MODEL ?? "gpt-4o-mini", temperature: 0 });
  return RunnableLambda.from(({ question, passages }) => ({ question, context: formatPassages(passages) }))
    .pipe(prompt)
    .pipe(llm)
    .pipe(new StringOutputParser());
}
const answerStep = await makeAnswerStep();

const chainFor = (filter) =>
  RunnableMap.from({
    question: new RunnablePassthrough(),
    passages: store.asRetriever({ k, ...(filter === undefined ? {} : { filter }) }),
  }).pipe(RunnablePassthrough.assign({ answer: answerStep }));

for (const { question, filter, label } of questions) {
  const { passages, answer } = await chainFor(filter).invoke(question);
  console.log(`\nQ: ${question}${label === undefined ? "" : `  [filter: ${label}]`}`);
  if (answer !== null) console.log(`A: ${answer}\n`);
  for (const [i, doc] of passages.entries()) {
    const text = doc.pageContent.length > 220 ? `${doc.pageContent.slice(0, 220)}…` : doc.pageContent;
    console.log(`  [${i + 1}] ${doc.metadata.year} · ${doc.metadata.president} · ${doc.metadata.party} · #${doc.id}`);
    console.log(`      ${text}`);
  }
}

await store.close();
