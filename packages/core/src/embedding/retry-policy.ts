/**
 * When to retry a failed HTTP request and how long to wait first.
 *
 * Retryable: 408 (request timeout), 409 (lock timeout, as OpenAI's SDK treats it), 429 (rate limit),
 * every 5xx, and failures without a response (connection refused/reset, timeouts). A server's
 * `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) is honoured when it
 * asks for at most {@link MAX_RETRY_AFTER_MS}; otherwise the wait is exponential with jitter:
 * `d = min(maxDelayMs, initialDelayMs × 2^(retry − 1))`, waited as `d × (0.5 + 0.5 × random())`.
 * Pure: no I/O, the random source is injected.
 */

/** The longest server-requested wait that is honoured (60 s); longer requests fall back to backoff. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Backoff settings. */
export interface BackoffOptions {
  /** Wait before the first retry, before jitter (ms). */
  initialDelayMs: number;
  /** Upper bound of the computed backoff (ms). */
  maxDelayMs: number;
}

/** True for statuses worth retrying; `undefined` (no response) is retryable. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait a server asked for, in ms, from `retry-after-ms` or `retry-after`; `undefined` when it sent
 * neither or sent something unreadable. `now` is the current time for HTTP-date values.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now: number): number | undefined {
  const ms = header("retry-after-ms");
  if (ms != null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = header("retry-after");
  if (after == null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `retry` (1 for the first retry).
 *
 * @param serverMs What the server asked for ({@link retryAfterMs}), if anything.
 * @param random A source of uniform numbers in [0, 1).
 */
export function retryDelayMs(retry: number, serverMs: number | undefined, backoff: BackoffOptions, random: () => number): number {
  if (serverMs !== undefined && serverMs <= MAX_RETRY_AFTER_MS) return serverMs;
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** (retry - 1));
  return base * (0.5 + 0.5 * random());
}
