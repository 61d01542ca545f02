/**
 * Splits a list of texts into embedding requests bounded by input count and by estimated tokens.
 *
 * Without a tokenizer, tokens are estimated as ⌈UTF-8 bytes / 3⌉ per text. OpenAI's BPE tokenizers
 * average about 4 bytes per token on English and about 3 on CJK text (one 3-byte character ≈ one
 * token), so the estimate errs high for the common cases and the budget is a safe upper bound.
 *
 * Invariants: batches are contiguous, in order, cover every text exactly once, and each holds at least
 * one text; a batch exceeds the token budget only when it is a single text that alone exceeds it
 * (the provider then rejects that text, naming it). Pure: no I/O.
 */

/** One request's slice of the input: texts `start` (inclusive) to `end` (exclusive). */
export interface RequestBatch {
  start: number;
  end: number;
  /** Estimated tokens of the slice. */
  estimatedTokens: number;
}

/** A conservative token estimate of one text: ⌈UTF-8 bytes / 3⌉, at least 1. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(text, "utf8") / 3));
}

/** Greedy contiguous batches of at most `maxInputs` texts and `maxTokens` estimated tokens. */
export function planRequestBatches(texts: readonly string[], maxInputs: number, maxTokens: number): RequestBatch[] {
  const batches: RequestBatch[] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = estimateTokens(texts[i]!);
    if (i > start && (i - start >= maxInputs || tokens + t > maxTokens)) {
      batches.push({ start, end: i, estimatedTokens: tokens });
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (texts.length > start) batches.push({ start, end: texts.length, estimatedTokens: tokens });
  return batches;
}
