/**
 * A retrieval chain (LCEL: retriever → prompt → chat model → string) over a real corpus: the
 * sotu-use-512 State of the Union chunks, stored with their own Universal Sentence Encoder vectors
 * through `addVectors`. Queries are held-out chunks with their dataset vectors; the chat model is
 * LangChain's `FakeChatModel`, which answers with the prompt it received, so the test reads exactly
 * which passages reached the model and compares them with the dataset's exact ground truth
 * (`gt_cosine_top100`) — or, for filtered retrieval, with a float64 brute force computed here.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import { FakeChatModel } from "@langchain/core/utils/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OmenDBVectorStore, type OmenDBFilter } from "../src/index.js";
import { loadSotu, type SotuRow } from "./sotu-dataset.js";

const K = 4;
const QUERIES = 25;

const sotu = loadSotu();
const dim = sotu.base.dim;
const baseVector = (row: number) => sotu.base.data.subarray(row * dim, (row + 1) * dim);
const queryVector = (q: number) => sotu.queries.data.subarray(q * dim, (q + 1) * dim);

/**
 * Embeds the dataset's held-out query texts by looking up their precomputed vectors (the model that
 * made them is not part of the test path). Documents are never embedded: they come with vectors.
 */
class DatasetQueryEmbeddings extends Embeddings {
  private readonly byText = new Map<string, number>();
  constructor() {
    super({});
    sotu.queryRows.forEach((row, q) => this.byText.set(row.text, q));
  }
  async embedDocuments(): Promise<number[][]> {
    throw new Error("DatasetQueryEmbeddings only embeds the dataset's query texts");
  }
  async embedQuery(text: string): Promise<number[]> {
    const q = this.byText.get(text);
    if (q === undefined) throw new Error(`not a query of the dataset: ${text.slice(0, 40)}…`);
    return Array.from(queryVector(q));
  }
}

/** Exact cosine distances from query `q` to every base row, in float64. */
function exactDistances(q: number): Float64Array {
  const query = queryVector(q);
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += query[j]! * query[j]!;
  const out = new Float64Array(sotu.base.count);
  for (let r = 0; r < sotu.base.count; r++) {
    const v = baseVector(r);
    let dot = 0;
    let vn = 0;
    for (let j = 0; j < dim; j++) {
      dot += query[j]! * v[j]!;
      vn += v[j]! * v[j]!;
    }
    out[r] = 1 - dot / Math.sqrt(qn * vn);
  }
  return out;
}

/** The exact top-k rows among those `keep` accepts, best first (ties by smaller row). */
function bruteForceTopK(q: number, keep: (row: SotuRow) => boolean, k: number): number[] {
  const d = exactDistances(q);
  const rows = sotu.baseRows.map((_, r) => r).filter((r) => keep(sotu.baseRows[r]!));
  rows.sort((a, b) => d[a]! - d[b]! || a - b);
  return rows.slice(0, k);
}

const formatDocs = (docs: DocumentInterface[]) =>
  docs.map((d) => `<<passage ${d.id}>> (${d.metadata["year"]}, ${d.metadata["president"]}) ${d.pageContent}`).join("\n");

/** The passage ids, in order, found in the echoed prompt. */
const passagesIn = (answer: string) => [...answer.matchAll(/<<passage (\d+)>>/g)].map((m) => Number(m[1]));

function chainFor(store: OmenDBVectorStore, filter?: OmenDBFilter) {
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "Answer the question using only these State of the Union passages:\n{context}"],
    ["human", "{question}"],
  ]);
  return RunnableSequence.from([
    { context: store.asRetriever({ k: K, ...(filter === undefined ? {} : { filter }) }).pipe(formatDocs), question: new RunnablePassthrough() },
    prompt,
    new FakeChatModel({}),
    new StringOutputParser(),
  ]);
}

let tmp: string;
let store: OmenDBVectorStore;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  // Exact search (the index threshold is above the corpus size): the test asserts the exact top-k.
  store = new OmenDBVectorStore(new DatasetQueryEmbeddings(), { path: tmp, durability: "none", collectionName: "sotu", index: { threshold: 1_000_000 } });
  const batch = 2000;
  for (let start = 0; start < sotu.base.count; start += batch) {
    const rows = sotu.baseRows.slice(start, start + batch);
    const vectors = rows.map((_, i) => Array.from(baseVector(start + i)));
    const docs = rows.map(
      (row) =>
        new Document({
          id: String(row.id),
          pageContent: row.text,
          metadata: { speech: row.speech, year: row.year, president: row.president, party: row.party, chunk: row.chunk },
        }),
    );
    await store.addVectors(vectors, docs);
  }
}, 120_000);

afterAll(async () => {
  await store.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("retrieval chain over sotu-use-512", () => {
  test("the corpus is loaded whole, rows aligned with their texts", async () => {
    expect(sotu.base.count).toBe(10_066);
    expect(sotu.baseRows).toHaveLength(10_066);
    sotu.baseRows.forEach((row, i) => expect(row.id).toBe(i));
    expect(await (await store.collection())!.count()).toBe(10_066);
  });

  test(`the passages reaching the model are the exact top-${K} of the ground truth (${QUERIES} queries)`, async () => {
    let identical = 0;
    for (let q = 0; q < QUERIES; q++) {
      const question = sotu.queryRows[q]!.text;
      const answer = await chainFor(store).invoke(question);
      const got = passagesIn(answer);
      expect(got).toHaveLength(K);
      expect(new Set(got).size).toBe(K);
      // The model saw the dataset's own texts of those rows, and the question.
      for (const row of got) expect(answer).toContain(sotu.baseRows[row]!.text);
      expect(answer).toContain(question);

      const gt = Array.from(sotu.gtIds.data.subarray(q * 100, q * 100 + K));
      const gtDist = sotu.gtDist.data.subarray(q * 100, q * 100 + K + 1);
      const d = exactDistances(q);
      // Exact up to ties: rank r holds a row at the r-th smallest distance.
      got.forEach((row, r) => expect(Math.abs(d[row]! - gtDist[r]!), `query ${q} rank ${r}`).toBeLessThanOrEqual(1e-5));
      const tied = Array.from({ length: K }, (_, r) => gtDist[r + 1]! - gtDist[r]! <= 1e-5).some(Boolean);
      if (!tied) expect(got, `query ${q}`).toEqual(gt);
      if (got.join() === gt.join()) identical++;
    }
    expect(identical).toBeGreaterThanOrEqual(QUERIES - 2);
  });

  test("a Where filter (years 1900–1949) and a function filter (Democratic presidents) keep the exact filtered top-k", async () => {
    const byYear: OmenDBFilter = { year: { $gte: 1900, $lt: 1950 } };
    const democrat: OmenDBFilter = (doc) => doc.metadata["party"] === "Democratic";
    expect(sotu.baseRows.some((r) => r.party === "Democratic")).toBe(true);
    for (let q = 0; q < 8; q++) {
      const question = sotu.queryRows[q]!.text;
      const inYears = passagesIn(await chainFor(store, byYear).invoke(question));
      expect(inYears).toEqual(bruteForceTopK(q, (r) => r.year >= 1900 && r.year < 1950, K));
      const fromDemocrats = passagesIn(await chainFor(store, democrat).invoke(question));
      expect(fromDemocrats).toEqual(bruteForceTopK(q, (r) => r.party === "Democratic", K));
    }
  });
});
