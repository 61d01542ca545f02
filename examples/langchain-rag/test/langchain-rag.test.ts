/**
 * Runs the example as a user would (`node src/main.mjs`, a child process resolving the BUILT
 * workspace packages) in offline mode, and checks what it prints against an exact answer computed
 * here: the questions embedded with OfflineEmbedder and a float64 brute force over the dataset's
 * vectors, with the same metadata filters.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OfflineEmbedder } from "@omendb/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI } from "./fake-openai-server.js";

const run = promisify(execFile);
const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(exampleDir, "../..");
const sotuDir = path.resolve(repoRoot, "../shared/datasets/sotu-use-512");

interface Row {
  year: number;
  president: string;
  party: string;
  text: string;
}
interface Printed {
  question: string;
  filter: string | undefined;
  passages: Array<{ row: number; year: number; president: string; party: string }>;
}

/** Runs the example (with OPENAI_API_KEY removed unless `extraEnv` sets it); resolves with its stdout. */
async function runExample(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const env = { ...process.env };
  delete env["OPENAI_API_KEY"];
  for (const name of ["OPENAI_BASE_URL", "OPENAI_CHAT_MODEL", "OMENDB_DATA", "OMENDB_DATASETS", "SOTU_LIMIT"]) delete env[name];
  Object.assign(env, extraEnv);
  const { stdout } = await run(process.execPath, ["src/main.mjs", ...args], { cwd: exampleDir, env, timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** The questions and passages in the example's output. */
function parse(stdout: string): Printed[] {
  const out: Printed[] = [];
  for (const line of stdout.split("\n")) {
    const q = /^Q: (.*?)(?: {2}\[filter: (.*)\])?$/.exec(line);
    if (q) out.push({ question: q[1]!, filter: q[2], passages: [] });
    const p = /^ {2}\[(\d+)\] (\d{4}) · (.+?) · (.+?) · #(\d+)$/.exec(line);
    if (p) {
      expect(out.length).toBeGreaterThan(0);
      const passages = out.at(-1)!.passages;
      expect(Number(p[1])).toBe(passages.length + 1);
      passages.push({ year: Number(p[2]), president: p[3]!, party: p[4]!, row: Number(p[5]) });
    }
  }
  return out;
}

let rows: Row[];
let base: Float32Array;
let dim: number;
const embedder = new OfflineEmbedder();

/** The exact top-k rows by cosine among those `keep` accepts (float64, ties to the smaller row). */
async function exactTopK(question: string, keep: (row: Row, index: number) => boolean, k: number): Promise<number[]> {
  const q = await embedder.embedQuery(question);
  const scored: Array<[number, number]> = [];
  for (let r = 0; r < rows.length; r++) {
    if (!keep(rows[r]!, r)) continue;
    let dot = 0;
    let qn = 0;
    let vn = 0;
    for (let j = 0; j < dim; j++) {
      const v = base[r * dim + j]!;
      dot += q[j]! * v;
      qn += q[j]! * q[j]!;
      vn += v * v;
    }
    scored.push([r, dot / Math.sqrt(qn * vn)]);
  }
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return scored.slice(0, k).map(([r]) => r);
}

let tmp: string;

beforeAll(async () => {
  for (const pkg of ["core", "langchain"]) {
    const entry = path.join(repoRoot, "packages", pkg, "dist", "index.js");
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` at the repository root first`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  rows = fs
    .readFileSync(path.join(sotuDir, "base_texts.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Row);
  const bytes = fs.readFileSync(path.join(sotuDir, "base.fvecs"));
  dim = bytes.readInt32LE(0);
  base = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) {
    for (let j = 0; j < dim; j++) base[r * dim + j] = bytes.readFloatLE(r * 4 * (dim + 1) + 4 + 4 * j);
  }
  await embedder.load();
});

afterAll(() => {
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("examples/langchain-rag (offline)", () => {
  let first: string;

  it("ingests the whole corpus and prints the exact top-4 passages for each question, filters applied", async () => {
    first = await runExample(["--data", path.join(tmp, "full")]);
    expect(first).toContain("Mode: offline");
    expect(first).toMatch(/Ingested 10066 new chunks in [\d.]+ s; the collection holds 10066\./);

    const printed = parse(first);
    expect(printed.map((p) => p.filter)).toEqual([undefined, "1945 ≤ year ≤ 1991", 'party = "Democratic"']);
    const keeps: Array<(row: Row) => boolean> = [() => true, (r) => r.year >= 1945 && r.year <= 1991, (r) => r.party === "Democratic"];
    for (const [i, p] of printed.entries()) {
      expect(p.passages).toHaveLength(4);
      expect(p.passages.map((x) => x.row)).toEqual(await exactTopK(p.question, keeps[i]!, 4));
      for (const x of p.passages) {
        expect(x).toMatchObject({ year: rows[x.row]!.year, president: rows[x.row]!.president, party: rows[x.row]!.party });
        expect(keeps[i]!(rows[x.row]!)).toBe(true);
      }
    }
    // The unfiltered tariff question finds passages about tariffs.
    expect(printed[0]!.passages.some((x) => /tariff/i.test(rows[x.row]!.text))).toBe(true);
  });

  it("reopens the folder on a second run: nothing re-ingested, same answers", async () => {
    const second = await runExample(["--data", path.join(tmp, "full")]);
    expect(second).toMatch(/Ingested 0 new chunks in [\d.]+ s; the collection holds 10066\./);
    expect(parse(second)).toEqual(parse(first));
  });

  it("takes questions from the command line and a smaller --limit", async () => {
    const question = "What should be done about the railroads and interstate commerce?";
    const out = await runExample(["--data", path.join(tmp, "small"), "--limit", "500", "--k", "3", question]);
    expect(out).toMatch(/Ingested 500 new chunks in [\d.]+ s; the collection holds 500\./);
    const printed = parse(out);
    expect(printed).toHaveLength(1);
    expect(printed[0]!.question).toBe(question);
    // 500 rows spread evenly over the corpus: row floor(i × 10066 / 500).
    const ingested = new Set(Array.from({ length: 500 }, (_, i) => Math.floor((i * rows.length) / 500)));
    expect(printed[0]!.passages.map((x) => x.row)).toEqual(await exactTopK(question, (_, r) => ingested.has(r), 3));
  });
});

describe("examples/langchain-rag (OpenAI mode, against a fake OpenAI server)", () => {
  it("embeds --limit chunks with OpenAIEmbedder and answers each question with the chat model from the retrieved passages", async () => {
    const fake = await startFakeOpenAI("sk-fake");
    try {
      const out = await runExample(["--data", path.join(tmp, "openai"), "--limit", "40"], { OPENAI_API_KEY: "sk-fake", OPENAI_BASE_URL: fake.baseURL });
      expect(out).toContain("Mode: OpenAI (embeddings text-embedding-3-small, chat gpt-4o-mini)");
      expect(out).toContain("embedded 40/40");
      expect(out).toMatch(/Ingested 40 new chunks in [\d.]+ s; the collection holds 40\./);
      const ingested = Array.from({ length: 40 }, (_, i) => Math.floor((i * rows.length) / 40));
      const printed = parse(out);
      expect(printed).toHaveLength(3);
      // The corpus chunks and then the three questions went through the embeddings endpoint.
      expect(fake.embeddedTexts).toEqual([...ingested.map((r) => rows[r]!.text), ...printed.map((p) => p.question)]);
      expect(out.match(/^A: fake answer from 4 passages$/gm)).toHaveLength(3);
      expect(fake.chats).toHaveLength(3);
      for (const [i, p] of printed.entries()) {
        expect(p.passages).toHaveLength(4);
        const [system, human] = fake.chats[i]!;
        expect(human).toMatchObject({ role: "user", content: p.question });
        // The model saw exactly the printed passages, with their year and president.
        for (const x of p.passages) {
          expect(ingested).toContain(x.row);
          expect(system!.content).toContain(`${x.year}, ${x.president} (${x.party}): ${rows[x.row]!.text}`);
        }
      }
      expect(printed[1]!.passages.every((x) => x.year >= 1945 && x.year <= 1991)).toBe(true);
      expect(printed[2]!.passages.every((x) => x.party === "Democratic")).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
