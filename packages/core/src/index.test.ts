import { describe, expect, it } from "vitest";
import * as api from "./index.js";

describe("@omendb/core public API", () => {
  it("exports exactly this list of runtime names (a change here is an API change: review it)", () => {
    expect(Object.keys(api).sort()).toEqual([
      "AlreadyExistsError",
      "ClosedError",
      "Collection",
      "CorruptionError",
      "EmbeddingRequestError",
      "ErrorCode",
      "LockedError",
      "MissingDependencyError",
      "NotFoundError",
      "OfflineEmbedder",
      "OmenDB",
      "OmenDBError",
      "OpenAIEmbedder",
      "ValidationError",
      "isOmenDBError",
      "parseFilter",
      "verifyFolder",
    ]);
  });

  it("brands its errors so isOmenDBError works across package copies", () => {
    const err = new api.ValidationError(api.ErrorCode.INVALID_FILTER, "x");
    expect(api.isOmenDBError(err)).toBe(true);
    expect(api.isOmenDBError(new Error("x"))).toBe(false);
    expect(err.code).toBe("INVALID_FILTER");
  });
});
