import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimateTokens, planRequestBatches } from "./request-batches.js";

describe("estimateTokens", () => {
  it("is ⌈UTF-8 bytes / 3⌉, at least 1", () => {
    expect(estimateTokens("a")).toBe(1);
    expect(estimateTokens("abc")).toBe(1);
    expect(estimateTokens("abcd")).toBe(2);
    expect(estimateTokens("日本語")).toBe(3); // 9 bytes
    expect(estimateTokens("😀")).toBe(2); // 4 bytes
  });
});

describe("planRequestBatches", () => {
  it("returns no batch for no text", () => {
    expect(planRequestBatches([], 10, 10)).toEqual([]);
  });

  it("cuts by count and by tokens, whichever comes first", () => {
    const texts = ["aaa", "aaa", "aaa", "aaaaaaaaa", "a"]; // tokens 1, 1, 1, 3, 1
    expect(planRequestBatches(texts, 2, 100)).toEqual([
      { start: 0, end: 2, estimatedTokens: 2 },
      { start: 2, end: 4, estimatedTokens: 4 },
      { start: 4, end: 5, estimatedTokens: 1 },
    ]);
    expect(planRequestBatches(texts, 100, 3)).toEqual([
      { start: 0, end: 3, estimatedTokens: 3 },
      { start: 3, end: 4, estimatedTokens: 3 },
      { start: 4, end: 5, estimatedTokens: 1 },
    ]);
  });

  it("keeps an oversized text alone", () => {
    expect(planRequestBatches(["a", "x".repeat(30), "b"], 10, 5)).toEqual([
      { start: 0, end: 1, estimatedTokens: 1 },
      { start: 1, end: 2, estimatedTokens: 10 },
      { start: 2, end: 3, estimatedTokens: 1 },
    ]);
  });

  it("covers every text once, in order, within both limits (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom("a", "é", "日", "😀", " ", "\n") }), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 30 }), (texts, maxInputs, maxTokens) => {
        const batches = planRequestBatches(texts, maxInputs, maxTokens);
        let next = 0;
        for (const b of batches) {
          expect(b.start).toBe(next);
          expect(b.end).toBeGreaterThan(b.start);
          expect(b.end - b.start).toBeLessThanOrEqual(maxInputs);
          const tokens = texts.slice(b.start, b.end).reduce((s, t) => s + estimateTokens(t), 0);
          expect(b.estimatedTokens).toBe(tokens);
          if (b.end - b.start > 1) expect(tokens).toBeLessThanOrEqual(maxTokens);
          next = b.end;
        }
        expect(next).toBe(texts.length);
        // Greedy: a batch could not have taken the next text.
        for (const b of batches.slice(0, -1)) {
          const nextTokens = estimateTokens(texts[b.end]!);
          expect(b.end - b.start === maxInputs || b.estimatedTokens + nextTokens > maxTokens).toBe(true);
        }
      }),
      { seed: 20250801, numRuns: 200 },
    );
  });
});
