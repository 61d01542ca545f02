/**
 * Every failure the server reports, mapped to an HTTP status and Chroma's error body
 * `{ error, message }` in ONE table ({@link STATUS_BY_CODE}). Core errors keep their OmenDB code
 * (`DIMENSION_MISMATCH`, ...); server-side failures use the `HttpErrorCode` keys below; Fastify's own
 * errors (body too large, bad JSON, schema validation) are mapped by their `FST_ERR_*` code.
 *
 * The `error` field carries Chroma's error-type names (`InvalidArgumentError`, `NotFoundError`,
 * `UniqueConstraintError`, ...) because clients switch on the status and show the message; the OmenDB
 * code travels in `code` so callers of this server can branch on it too.
 */
import { isOmenDBError } from "@omendb/core";

/** Codes of failures raised by the server itself (not by core). */
export const HttpErrorCode = {
  /** A request body, query string or path parameter is malformed. */
  BAD_REQUEST: "BAD_REQUEST",
  /** A batch holds more records than `maxBatchSize`. */
  BATCH_TOO_LARGE: "BATCH_TOO_LARGE",
  /** The API key is missing or wrong. */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** No such route, tenant, database or collection. */
  NOT_FOUND: "NOT_FOUND",
  /** The route exists in Chroma but this server does not implement it. */
  NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
  /** A Chroma v1 route: gone. */
  V1_GONE: "V1_GONE",
  /** Anything unexpected. */
  INTERNAL: "INTERNAL",
} as const;

/** A string union of the server's own error codes. */
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** One row of the table: the HTTP status and Chroma's error name. */
interface ErrorMapping {
  status: number;
  error: string;
}

const invalid: ErrorMapping = { status: 400, error: "InvalidArgumentError" };
const notFound: ErrorMapping = { status: 404, error: "NotFoundError" };
const exists: ErrorMapping = { status: 409, error: "UniqueConstraintError" };
const internal: ErrorMapping = { status: 500, error: "InternalError" };

/** THE table: error code (OmenDB, server or Fastify) → HTTP status and Chroma error name. */
export const STATUS_BY_CODE: Readonly<Record<string, ErrorMapping>> = {
  // core (packages/core/src/errors.ts)
  DIMENSION_MISMATCH: invalid,
  INVALID_VECTOR: invalid,
  INVALID_ID: invalid,
  INVALID_METADATA: invalid,
  INVALID_DOCUMENT: invalid,
  INVALID_FILTER: invalid,
  INVALID_OPTION: invalid,
  INVALID_NAME: invalid,
  COLLECTION_NOT_FOUND: notFound,
  COLLECTION_EXISTS: exists,
  ID_EXISTS: exists,
  CLOSED: { status: 503, error: "ServiceUnavailableError" },
  LOCKED: { status: 503, error: "ServiceUnavailableError" },
  CORRUPTION: internal,
  UNSUPPORTED_FORMAT: internal,
  IO: internal,
  CAPACITY: { status: 507, error: "CapacityError" },
  // server
  BAD_REQUEST: invalid,
  BATCH_TOO_LARGE: invalid,
  UNAUTHORIZED: { status: 401, error: "AuthError" },
  NOT_FOUND: notFound,
  NOT_IMPLEMENTED: { status: 501, error: "NotImplementedError" },
  V1_GONE: { status: 410, error: "Unimplemented" },
  INTERNAL: internal,
  // fastify
  FST_ERR_VALIDATION: invalid,
  FST_ERR_CTP_INVALID_JSON_BODY: invalid,
  FST_ERR_CTP_EMPTY_JSON_BODY: invalid,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: invalid,
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, error: "PayloadTooLargeError" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, error: "UnsupportedMediaTypeError" },
  FST_ERR_CTP_INVALID_TYPE: invalid,
  FST_ERR_BAD_URL: invalid,
};

/** An error raised by the server itself, with a code from {@link HttpErrorCode}. */
export class ChromaHttpError extends Error {
  readonly code: HttpErrorCode;

  constructor(code: HttpErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = "ChromaHttpError";
  }
}

/** Chroma's error body, plus the code that produced it. */
export interface ChromaErrorBody {
  error: string;
  message: string;
  code: string;
}

/**
 * Maps any thrown value to a status and Chroma's error body. Unknown errors become 500 with a generic
 * message (the detail goes to the log, not the client), except errors that carry a 4xx `statusCode`
 * (Fastify's own), which keep it.
 */
export function toChromaError(err: unknown): { status: number; body: ChromaErrorBody } {
  const code = errorCode(err);
  const mapping = code === undefined ? undefined : STATUS_BY_CODE[code];
  const message = err instanceof Error ? err.message : String(err);
  if (mapping !== undefined && code !== undefined) {
    const safeMessage = mapping.status === 500 && !isOmenDBError(err) ? "internal server error" : message;
    return { status: mapping.status, body: { error: mapping.error, message: safeMessage, code } };
  }
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: { error: "InvalidArgumentError", message, code: code ?? HttpErrorCode.BAD_REQUEST } };
  }
  return { status: 500, body: { error: internal.error, message: "internal server error", code: HttpErrorCode.INTERNAL } };
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
