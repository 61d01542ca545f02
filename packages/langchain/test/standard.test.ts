/** The standard suite with the deterministic hashed bag-of-words embeddings. */
import { describe } from "vitest";
import { HashEmbeddings } from "./fake-embeddings.js";
import { defineStandardSuite } from "./standard-suite.js";

describe("OmenDBVectorStore with HashEmbeddings (256-d)", () => {
  defineStandardSuite(() => new HashEmbeddings(256));
});
