/**
 * OfflineEmbedder with the real Universal Sentence Encoder Lite weights from the optional
 * `@energetic-ai/*` packages (core's dev dependencies), checked against the vectors that
 * `../shared/datasets/sotu-use-512` stores for the same texts.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, ValidationError } from "../errors.js";
import { OfflineEmbedder } from "./offline-embedder.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const sotuDir = path.resolve(repoRoot, "../shared/datasets/sotu-use-512");

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));
const cosine = (a: Float32Array, b: Float32Array) => dot(a, b) / (norm(a) * norm(b));

/** Rows `rows` of base.fvecs and their texts. */
function sotuRows(rows: number[]): { texts: string[]; vectors: Float32Array[] } {
  const lines = fs.readFileSync(path.join(sotuDir, "base_texts.jsonl"), "utf8").split("\n");
  const bytes = fs.readFileSync(path.join(sotuDir, "base.fvecs"));
  const dim = bytes.readInt32LE(0);
  const rowBytes = 4 * (dim + 1);
  return {
    texts: rows.map((r) => (JSON.parse(lines[r]!) as { text: string; id: number }).text),
    vectors: rows.map((r) => {
      expect(bytes.readInt32LE(r * rowBytes)).toBe(512);
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) v[j] = bytes.readFloatLE(r * rowBytes + 4 + 4 * j);
      return v;
    }),
  };
}

const embedder = new OfflineEmbedder({ batchSize: 4 });

beforeAll(async () => {
  await embedder.load();
});

describe("OfflineEmbedder", () => {
  it("returns 512-d unit vectors, one per text, in order", async () => {
    expect(embedder.dimension).toBe(512);
    expect(embedder.model).toBe("universal-sentence-encoder-lite");
    const texts = ["The cat sat on the mat.", "Tariffs on imported steel", "    ", "日本語のテキスト", "x"];
    const vectors = await embedder.embedDocuments(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(512);
      expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-4);
    }
    expect(cosine(vectors[0]!, vectors[1]!)).toBeLessThan(0.9); // different texts, different vectors
    expect(await embedder.embedDocuments([])).toEqual([]);
  });

  it("places similar texts closer than dissimilar ones", async () => {
    const [cat, kitten, budget, deficit] = await embedder.embedDocuments([
      "A cat is sleeping on the sofa.",
      "A kitten naps on the couch.",
      "Congress must balance the federal budget.",
      "The government deficit has to be reduced by cutting spending.",
    ]);
    expect(cosine(cat!, kitten!)).toBeGreaterThan(cosine(cat!, budget!));
    expect(cosine(cat!, kitten!)).toBeGreaterThan(cosine(cat!, deficit!));
    expect(cosine(budget!, deficit!)).toBeGreaterThan(cosine(budget!, kitten!));
    expect(cosine(budget!, deficit!)).toBeGreaterThan(cosine(deficit!, cat!));
  });

  it("gives a text the same vector whatever batch it is in, and embedQuery agrees", async () => {
    const texts = ["alpha beta gamma", "a much longer sentence about the state of the union and the economy", "short", "delta"];
    const together = await embedder.embedDocuments(texts);
    const alone = await new OfflineEmbedder({ batchSize: 1 }).embedDocuments(texts);
    together.forEach((v, i) => expect(cosine(v, alone[i]!)).toBeGreaterThan(0.99999));
    expect(cosine(await embedder.embedQuery("short"), together[2]!)).toBeGreaterThan(0.99999);
  });

  it("reproduces the stored sotu-use-512 vectors of base_texts rows", async () => {
    const rows = [0, 1, 2, 5000, 10_065];
    const { texts, vectors } = sotuRows(rows);
    const got = await embedder.embedDocuments(texts);
    got.forEach((v, i) => expect(cosine(v, vectors[i]!), `row ${rows[i]}`).toBeGreaterThanOrEqual(0.99));
    // In fact they are the same computation: equal to float32 rounding.
    got.forEach((v, i) => expect(cosine(v, vectors[i]!), `row ${rows[i]}`).toBeGreaterThan(0.999999));
  });

  it("rejects empty texts and bad options", async () => {
    for (const texts of [[""], ["ok", ""], [null as unknown as string]]) {
      const error = await embedder.embedDocuments(texts).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(ErrorCode.INVALID_DOCUMENT);
    }
    for (const batchSize of [0, -1, 1.5, 5000]) {
      expect(() => new OfflineEmbedder({ batchSize })).toThrow(ValidationError);
    }
  });
});
