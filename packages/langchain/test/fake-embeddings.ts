/**
 * A deterministic, offline `Embeddings` for tests: bag of words hashed into a fixed dimension.
 *
 * Each lower-cased word (`[a-z0-9]+`) adds ±1 to one bucket chosen by FNV-1a of the word and a seed;
 * the sum is L2-normalised. Texts sharing words therefore have a positive cosine similarity and
 * identical word bags are identical vectors; a text without words maps to a fixed unit vector.
 * The same function backs the fake OpenAI server, at 1536 dimensions.
 */
import { Embeddings } from "@langchain/core/embeddings";

/** FNV-1a (32-bit) of `text` mixed with `seed`. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The words of `text`, lower-cased. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** Embeds one text as a unit vector of length `dimension` (see the module comment). */
export function hashEmbedding(text: string, dimension: number, seed = 0x5eed): number[] {
  const v = new Array<number>(dimension).fill(0);
  for (const word of words(text)) {
    const h = fnv1a(word, seed);
    v[h % dimension]! += (h & 0x80000000) === 0 ? 1 : -1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  const inv = 1 / Math.sqrt(norm);
  return v.map((x) => x * inv);
}

/** `Embeddings` over {@link hashEmbedding}; counts the texts it was asked to embed. */
export class HashEmbeddings extends Embeddings {
  /** Texts passed to `embedDocuments` so far. */
  documentsEmbedded = 0;
  /** Calls of `embedQuery` so far. */
  queriesEmbedded = 0;

  constructor(readonly dimension = 64) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.documentsEmbedded += texts.length;
    return texts.map((t) => hashEmbedding(t, this.dimension));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.queriesEmbedded++;
    return hashEmbedding(text, this.dimension);
  }
}
