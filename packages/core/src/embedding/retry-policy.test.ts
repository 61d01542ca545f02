import { describe, expect, it } from "vitest";
import { MAX_RETRY_AFTER_MS, isRetryableStatus, retryAfterMs, retryDelayMs } from "./retry-policy.js";

const headers = (h: Record<string, string>) => (name: string) => h[name];
const backoff = { initialDelayMs: 100, maxDelayMs: 1000 };

describe("isRetryableStatus", () => {
  it("retries 408, 409, 429, 5xx and no response; not other 4xx", () => {
    for (const s of [undefined, 408, 409, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 413, 422]) expect(isRetryableStatus(s), String(s)).toBe(false);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it("prefers retry-after-ms, then retry-after in seconds or as an HTTP date", () => {
    expect(retryAfterMs(headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
    expect(retryAfterMs(headers({ "retry-after": "2" }), now)).toBe(2000);
    expect(retryAfterMs(headers({ "retry-after": "0.5" }), now)).toBe(500);
    expect(retryAfterMs(headers({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), now)).toBe(3000);
    expect(retryAfterMs(headers({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), now)).toBe(0);
  });
  it("ignores missing or unreadable values", () => {
    expect(retryAfterMs(headers({}), now)).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after": "-3" }), now)).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after-ms": "x", "retry-after": "1" }), now)).toBe(1000);
  });
});

describe("retryDelayMs", () => {
  it("uses the server's wait up to the cap", () => {
    expect(retryDelayMs(3, 1234, backoff, () => 0.9)).toBe(1234);
    expect(retryDelayMs(1, MAX_RETRY_AFTER_MS, backoff, () => 0.9)).toBe(MAX_RETRY_AFTER_MS);
  });
  it("falls back to backoff when the server asks for more than the cap", () => {
    expect(retryDelayMs(1, MAX_RETRY_AFTER_MS + 1, backoff, () => 0)).toBe(50);
  });
  it("doubles per retry up to maxDelayMs, jittered between half and all of it", () => {
    expect([1, 2, 3, 4, 5].map((r) => retryDelayMs(r, undefined, backoff, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((r) => retryDelayMs(r, undefined, backoff, () => 0.999999))).toEqual(
      [100, 200, 400, 800, 1000].map((d) => d * (0.5 + 0.5 * 0.999999)),
    );
  });
});
