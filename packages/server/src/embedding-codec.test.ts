import { describe, expect, it } from "vitest";
import { ChromaHttpError } from "./chroma-errors.js";
import { decodeEmbedding, decodeEmbeddings, encodeEmbedding } from "./embedding-codec.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ChromaHttpError ? err.code : "other";
  }
  return undefined;
}

describe("embedding codec", () => {
  it("round-trips float32 values through Chroma's base64 form", () => {
    const v = Float32Array.from([0, 1, -1.5, 3.25, 1e-7, -65504]);
    expect(Array.from(decodeEmbedding(encodeEmbedding(v), "e"))).toEqual(Array.from(v));
  });

  it("decodes the bytes the chromadb client produces (little-endian float32)", () => {
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0
    const b64 = Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]).toString("base64");
    expect(Array.from(decodeEmbedding(b64, "e"))).toEqual([1, -2]);
  });

  it("passes number arrays through as float32", () => {
    expect(decodeEmbedding([0.1, 2], "e")).toEqual(Float32Array.from([0.1, 2]));
  });

  it("rejects strings that are not base64 or not whole float32s", () => {
    expect(codeOf(() => decodeEmbedding("!!!!", "e"))).toBe("BAD_REQUEST");
    expect(codeOf(() => decodeEmbedding("AAA=", "e"))).toBe("BAD_REQUEST"); // 2 bytes
    expect(codeOf(() => decodeEmbedding("AAAAA", "e"))).toBe("BAD_REQUEST"); // length not a multiple of 4
  });

  it("rejects empty embeddings and values that overflow float32", () => {
    expect(codeOf(() => decodeEmbeddings([[]], "embeddings"))).toBe("BAD_REQUEST");
    expect(codeOf(() => decodeEmbeddings([[1, 1e39]], "embeddings"))).toBe("BAD_REQUEST");
    expect(codeOf(() => decodeEmbeddings([[1, 2], encodeEmbedding([3, 4])], "embeddings"))).toBeUndefined();
  });
});
