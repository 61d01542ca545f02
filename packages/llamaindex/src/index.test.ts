import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("@omendb/llamaindex entry", () => {
  it("exports exactly the public API", () => {
    expect(Object.keys(api).sort()).toEqual([
      "MAX_IS_EMPTY_KEYS",
      "OmenDBVectorStore",
      "compileMetadataFilters",
      "selectMaxMarginalRelevance",
    ]);
  });
});
