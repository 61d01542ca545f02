/**
 * Runs the example as a user would (`node src/main.mjs`, a child process resolving the BUILT
 * workspace packages) and checks what it prints: offline, against an exact answer computed here (the
 * questions embedded with OfflineEmbedder, a float64 brute force over the dataset's vectors with the
 * same MetadataFilters); in OpenAI mode, against a fake OpenAI server on 127.0.0.1.
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
  filters: string | undefined;
  answer: string | undefined;
  passages: Array<{ row: number; year: number; president: string; party: string; score: number }>;
}

/** Runs the example (with OPENAI_API_KEY removed unless `extraEnv` sets it); resolves with its stdout. */
async function runExample(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const env = { ...process.env };
  for (const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_CHAT_MODEL", "OMENDB_DATA", "OMENDB_DATASETS", "SOTU_LIMIT"]) delete env[name];
  Object.assign(env, extraEnv);
  const { stdout } = await run(process.execPath, ["src/main.mjs", ...args], { cwd: exampleDir, env, timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** The questions, answers and passages in the example's output. */
function parse(stdout: string): Printed[] {
  const out: Printed[] = [];
  for (const line of stdout.split("\n")) {
    const q = /^Q: (.*?)(?: {2}\[filters: (.*)\])?$/.exec(line);
    if (q) out.push({ question: q[1]!, filters: q[2], answer: undefined, passages: [] });
    const a = /^A: (.*)$/.exec(line);
    if (a) out.at(-1)!.answer = a[1]!;
    const p = /^ {2}\[(\d+)\] (\d{4}) · (.+?) · (.+?) · #(\d+) · score (-?[\d.]+)$/.exec(line);
    if (p) {
      const passages = out.at(-1)!.passages;
      expect(Number(p[1])).toBe(passages.length + 1);
      passages.push({ year: Number(p[2]), president: p[3]!, party: p[4]!, row: Number(p[5]), score: Number(p[6]) });
    }
  }
  return out;
}

let rows: Row[];
let base: Float32Array;
let dim: number;
const embedder = new OfflineEmbedder();

/** The exact top-k [row, cosine] among rows `keep` accepts (float64, ties to the smaller row). */
async function exactTopK(question: string, keep: (row: Row, index: number) => boolean, k: number): Promise<Array<[number, number]>> {
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
  return scored.slice(0, k);
}

let tmp: string;

beforeAll(async () => {
  for (const pkg of ["core", "llamaindex"]) {
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

describe("examples/llamaindex-rag (offline)", () => {
  it("stores the whole corpus and retrieves the exact top-4 nodes with their similarities, MetadataFilters applied", async () => {
    const out = await runExample(["--data", path.join(tmp, "offline")]);
    expect(out).toContain("Mode: offline");
    expect(out).toMatch(/Ingested 10066 new chunks in [\d.]+ s; the collection holds 10066\./);

    const printed = parse(out);
    expect(printed.map((p) => p.filters)).toEqual([undefined, "year >= 1945 and year <= 1991", 'president in ["Franklin D Roosevelt","Harry S Truman"]']);
    const keeps: Array<(row: Row) => boolean> = [
      () => true,
      (r) => r.year >= 1945 && r.year <= 1991,
      (r) => r.president === "Franklin D Roosevelt" || r.president === "Harry S Truman",
    ];
    for (const [i, p] of printed.entries()) {
      expect(p.answer).toBeUndefined();
      const exact = await exactTopK(p.question, keeps[i]!, 4);
      expect(p.passages.map((x) => x.row)).toEqual(exact.map(([r]) => r));
      p.passages.forEach((x, j) => {
        expect(Math.abs(x.score - exact[j]![1])).toBeLessThanOrEqual(0.0005 + 1e-6); // printed to 3 decimals
        expect(x).toMatchObject({ year: rows[x.row]!.year, president: rows[x.row]!.president, party: rows[x.row]!.party });
      });
    }
    expect(printed[0]!.passages.some((x) => /tariff/i.test(rows[x.row]!.text))).toBe(true);
  });

  it("reopens the folder without re-ingesting and answers a question from the command line", async () => {
    const question = "What should be done about the railroads and interstate commerce?";
    const out = await runExample(["--data", path.join(tmp, "offline"), "--k", "3", question]);
    expect(out).toMatch(/Ingested 0 new chunks in [\d.]+ s; the collection holds 10066\./);
    const printed = parse(out);
    expect(printed.map((p) => p.question)).toEqual([question]);
    expect(printed[0]!.passages.map((x) => x.row)).toEqual((await exactTopK(question, () => true, 3)).map(([r]) => r));
  });
});

describe("examples/llamaindex-rag (OpenAI mode, against a fake OpenAI server)", () => {
  it("embeds --limit nodes through the index and answers with the query engine, sources filtered", async () => {
    const fake = await startFakeOpenAI("sk-fake");
    try {
      const out = await runExample(["--data", path.join(tmp, "openai"), "--limit", "30"], { OPENAI_API_KEY: "sk-fake", OPENAI_BASE_URL: fake.baseURL });
      expect(out).toContain("Mode: OpenAI (embeddings text-embedding-3-small, chat gpt-4o-mini)");
      expect(out).toContain("embedded 30/30");
      expect(out).toMatch(/Ingested 30 new chunks in [\d.]+ s; the collection holds 30\./);
      const ingested = Array.from({ length: 30 }, (_, i) => Math.floor((i * rows.length) / 30));
      // LlamaIndex embeds each node's text with its (non-excluded) metadata.
      const corpus = fake.embeddedTexts.slice(0, 30);
      corpus.forEach((text, i) => {
        const row = rows[ingested[i]!]!;
        expect(text.endsWith(row.text)).toBe(true);
        expect(text).toContain(`president: ${row.president}`);
        expect(text).not.toContain("speech:");
      });
      const printed = parse(out);
      expect(printed).toHaveLength(3);
      expect(fake.embeddedTexts.slice(30)).toEqual(printed.map((p) => p.question));
      expect(printed.map((p) => p.answer)).toEqual(["fake answer #1", "fake answer #2", "fake answer #3"]);
      expect(fake.chats).toHaveLength(3);
      for (const [i, p] of printed.entries()) {
        expect(p.passages.length).toBeGreaterThan(0);
        const prompt = fake.chats[i]!.map((m) => m.content).join("\n");
        expect(prompt).toContain(p.question);
        for (const x of p.passages) {
          expect(ingested).toContain(x.row);
          expect(prompt).toContain(rows[x.row]!.text);
        }
      }
      expect(printed[0]!.passages).toHaveLength(4);
      expect(printed[1]!.passages.every((x) => x.year >= 1945 && x.year <= 1991)).toBe(true);
      expect(printed[2]!.passages.every((x) => x.president === "Franklin D Roosevelt" || x.president === "Harry S Truman")).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
