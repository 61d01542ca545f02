/**
 * A deterministic, offline embedding model for tests: a hashed bag of words. Each lowercase word adds
 * ±1 to two dimensions chosen by its FNV-1a hash; the sum is L2-normalised. Texts sharing words are
 * therefore close in cosine distance, and the same text always gets the same vector.
 */
import { BaseEmbedding } from "llamaindex";

/** FNV-1a, 32 bits. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Hashed bag-of-words embeddings of a fixed dimension (default 64). */
export class HashEmbedding extends BaseEmbedding {
  /** How many texts were embedded, to check which model LlamaIndex used. */
  calls = 0;

  constructor(readonly dimension = 64) {
    super();
  }

  embed(text: string): number[] {
    const vector = new Array<number>(this.dimension).fill(0);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      const hash = fnv1a(word);
      vector[hash % this.dimension]! += hash & 1 ? 1 : -1;
      vector[(hash >>> 16) % this.dimension]! += hash & 2 ? 1 : -1;
    }
    const norm = Math.hypot(...vector);
    if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
    return vector.map((x) => x / norm);
  }

  async getTextEmbedding(text: string): Promise<number[]> {
    this.calls++;
    return this.embed(text);
  }
}
