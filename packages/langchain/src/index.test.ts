import { describe, expect, test } from "vitest";
import * as api from "./index.js";

describe("@omendb/langchain entry", () => {
  test("exports exactly these names", () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "OmenDBTranslator",
        "OmenDBVectorStore",
      ]
    `);
  });
});
