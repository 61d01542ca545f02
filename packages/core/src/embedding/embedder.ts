/**
 * The contract every OmenDB embedder implements, and the input checks they share.
 *
 * Invariants: `embedDocuments(texts)` resolves to exactly `texts.length` vectors, in input order, each
 * a fresh `Float32Array` of `dimension` values; `embedQuery(text)` is one such vector. Embedders never
 * normalise or otherwise post-process what the model returns.
 */
import { ErrorCode, ValidationError } from "../errors.js";

/**
 * Turns text into vectors. Framework adapters (LangChain `Embeddings`, LlamaIndex `BaseEmbedding`)
 * wrap it by converting each `Float32Array` to `number[]`.
 *
 * @example
 * ```ts
 * const embedder: Embedder = new OfflineEmbedder();
 * const collection = await db.getOrCreateCollection("notes", { dimension: embedder.dimension });
 * const [vector] = await embedder.embedDocuments(["OmenDB keeps vectors on disk"]);
 * await collection.upsert([{ id: "n1", vector: vector!, document: "OmenDB keeps vectors on disk" }]);
 * const hits = await collection.search(await embedder.embedQuery("where are vectors stored?"), { k: 3 });
 * ```
 */
export interface Embedder {
  /** Length of every vector this embedder returns. */
  readonly dimension: number;
  /** The model's name, e.g. `"text-embedding-3-small"`. */
  readonly model: string;
  /** Embeds texts for storage; one vector per text, in input order (`[]` for `[]`). */
  embedDocuments(texts: string[]): Promise<Float32Array[]>;
  /** Embeds a search query. */
  embedQuery(text: string): Promise<Float32Array>;
}

/**
 * Checks a batch of texts before any model sees it: an array of non-empty strings.
 *
 * @throws ValidationError code INVALID_DOCUMENT for a non-string or an empty string (neither model
 *   embeds `""`: OpenAI rejects it, the offline model silently drops its row).
 * @throws ValidationError code INVALID_OPTION when `texts` is not an array.
 */
export function validateTexts(texts: unknown, embedder: string): asserts texts is string[] {
  if (!Array.isArray(texts)) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `${embedder}: texts must be an array of strings, got ${typeof texts}`);
  }
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (typeof text !== "string") {
      throw new ValidationError(ErrorCode.INVALID_DOCUMENT, `${embedder}: text ${i} must be a string, got ${text === null ? "null" : typeof text}`);
    }
    if (text.length === 0) {
      throw new ValidationError(ErrorCode.INVALID_DOCUMENT, `${embedder}: text ${i} is empty; embedders need at least one character`);
    }
  }
}

/** Checks a positive integer option; `undefined` gives `fallback`. */
export function positiveIntegerOption(embedder: string, name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `${embedder}: ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Checks a non-negative number option; `undefined` gives `fallback`. */
export function nonNegativeNumberOption(embedder: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `${embedder}: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  return value;
}
