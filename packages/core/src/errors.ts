/**
 * Errors thrown by OmenDB. Every error carries a string `code` callers can branch on; messages name
 * the collection, the id and the expected vs actual value so a failure can be reproduced.
 *
 * Use {@link isOmenDBError} rather than `instanceof`: it checks a `Symbol.for` brand and so still
 * works when two copies of the package are installed.
 */

/** Every error code OmenDB throws, by key. */
export const ErrorCode = {
  /** A vector's length differs from the collection's dimension. */
  DIMENSION_MISMATCH: "DIMENSION_MISMATCH",
  /** A vector holds NaN or ±Infinity. */
  INVALID_VECTOR: "INVALID_VECTOR",
  /** An id is empty, not a string, too long, or repeated within one batch. */
  INVALID_ID: "INVALID_ID",
  /** Metadata is not a plain JSON object of supported values. */
  INVALID_METADATA: "INVALID_METADATA",
  /** A document is not a string or is larger than the limit. */
  INVALID_DOCUMENT: "INVALID_DOCUMENT",
  /** A filter does not follow the filter language; the message names the offending path. */
  INVALID_FILTER: "INVALID_FILTER",
  /** An option or argument is out of range or of the wrong shape. */
  INVALID_OPTION: "INVALID_OPTION",
  /** A collection name is not allowed. */
  INVALID_NAME: "INVALID_NAME",
  /** The named collection does not exist. */
  COLLECTION_NOT_FOUND: "COLLECTION_NOT_FOUND",
  /** A collection with that name already exists. */
  COLLECTION_EXISTS: "COLLECTION_EXISTS",
  /** `add` was given an id that is already stored. */
  ID_EXISTS: "ID_EXISTS",
  /** The database or collection was closed (or deleted) before the call. */
  CLOSED: "CLOSED",
  /** Another process holds the write lock on the data folder. */
  LOCKED: "LOCKED",
  /** A file failed its checksum or has an impossible layout. */
  CORRUPTION: "CORRUPTION",
  /** A file was written by a newer, unknown format version. */
  UNSUPPORTED_FORMAT: "UNSUPPORTED_FORMAT",
  /** An operating-system or SQLite call failed; `cause` holds the original error. */
  IO: "IO",
  /** A configured capacity was exceeded (for example WebAssembly memory). */
  CAPACITY: "CAPACITY",
} as const;

/** A string union of every error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const BRAND = Symbol.for("omendb.error");

/** The base class of every error OmenDB throws. */
export class OmenDBError extends Error {
  /** What went wrong, as a stable string callers can branch on. */
  readonly code: ErrorCode;
  declare readonly [BRAND]: true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = "OmenDBError";
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Bad input: a vector, id, metadata, document, filter or option. Nothing was written. */
export class ValidationError extends OmenDBError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "ValidationError";
  }
}

/** A collection (or another named object) does not exist. */
export class NotFoundError extends OmenDBError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "NotFoundError";
  }
}

/** A collection or id already exists where a new one was required. */
export class AlreadyExistsError extends OmenDBError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "AlreadyExistsError";
  }
}

/** The database or collection was used after `close()` or after it was deleted. */
export class ClosedError extends OmenDBError {
  constructor(message: string) {
    super(ErrorCode.CLOSED, message);
    this.name = "ClosedError";
  }
}

/** Another process holds the data folder's write lock. */
export class LockedError extends OmenDBError {
  /** The process id recorded in the lock file. */
  readonly holderPid: number;
  /** The lock file's path. */
  readonly lockFile: string;

  constructor(lockFile: string, holderPid: number) {
    super(ErrorCode.LOCKED, `data folder is locked by process ${holderPid} (lock file ${lockFile}); one writing process per database`);
    this.name = "LockedError";
    this.holderPid = holderPid;
    this.lockFile = lockFile;
  }
}

/** A file failed a checksum or holds an impossible layout. Damaged data is never served. */
export class CorruptionError extends OmenDBError {
  /** The damaged file. */
  readonly file: string;
  /** Byte offset of the damaged region within the file. */
  readonly offset: number;
  /** What the reader expected (a checksum, magic number or size), as text. */
  readonly expected: string;
  /** What it found instead, as text. */
  readonly actual: string;

  constructor(details: { file: string; offset: number; expected: string; actual: string; what: string; cause?: unknown }) {
    super(
      ErrorCode.CORRUPTION,
      `${details.what} in ${details.file} at offset ${details.offset}: expected ${details.expected}, found ${details.actual}`,
      { cause: details.cause },
    );
    this.name = "CorruptionError";
    this.file = details.file;
    this.offset = details.offset;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** True when `value` is an error thrown by OmenDB (any copy of the package). */
export function isOmenDBError(value: unknown): value is OmenDBError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Wraps an fs or SQLite failure, keeping the original as `cause`. */
export function ioError(action: string, cause: unknown): OmenDBError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new OmenDBError(ErrorCode.IO, `${action} failed: ${detail}`, { cause });
}
