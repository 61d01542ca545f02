/**
 * Checks caller input before anything is written. A batch is accepted whole or rejected whole: every
 * check runs before the first byte reaches the WAL, and each failure names the collection, the
 * record's position and id, and the expected vs actual value.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import { MAX_BATCH_RECORDS } from "../metadata/sqlite-store.js";
import type { Metadata, RecordInput } from "../types.js";

/** Longest id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;
/** Largest document, in UTF-8 bytes. */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** Largest metadata object, as UTF-8 JSON bytes. */
export const MAX_METADATA_BYTES = 1024 * 1024;
/** Deepest nesting of metadata objects (dotted filter paths reach every level). */
export const MAX_METADATA_DEPTH = 8;

/** A record after validation: the vector is an owned Float32Array and metadata is JSON text. */
export interface ValidRecord {
  id: string;
  vector: Float32Array;
  document: string | null;
  /** Canonical JSON text, or null for no metadata. */
  metadata: string | null;
}

const encoder = new TextEncoder();

/** Validates a batch of records for a collection; throws ValidationError on the first bad field. */
export function validateRecords(collection: string, dimension: number, records: unknown): ValidRecord[] {
  if (!Array.isArray(records)) {
    throw new TypeError(`collection "${collection}": records must be an array, got ${describe(records)}`);
  }
  if (records.length > MAX_BATCH_RECORDS) {
    throw new ValidationError(
      ErrorCode.INVALID_OPTION,
      `collection "${collection}": a batch holds at most ${MAX_BATCH_RECORDS} records, got ${records.length}; split it`,
    );
  }
  const seen = new Set<string>();
  const out = new Array<ValidRecord>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput | undefined;
    if (typeof r !== "object" || r === null) {
      throw new TypeError(`collection "${collection}": records[${i}] must be an object, got ${describe(r)}`);
    }
    const id = validateId(collection, r.id, `records[${i}].id`);
    if (seen.has(id)) {
      throw new ValidationError(ErrorCode.INVALID_ID, `collection "${collection}": id "${id}" appears more than once in one batch (records[${i}])`);
    }
    seen.add(id);
    out[i] = {
      id,
      vector: validateVector(collection, dimension, r.vector, `record "${id}"`),
      document: validateDocument(collection, id, r.document),
      metadata: validateMetadata(collection, id, r.metadata),
    };
  }
  return out;
}

/** Validates one id; returns it. */
export function validateId(collection: string, id: unknown, where = "id"): string {
  if (typeof id !== "string") {
    throw new ValidationError(ErrorCode.INVALID_ID, `collection "${collection}": ${where} must be a string, got ${describe(id)}`);
  }
  if (id.length === 0) {
    throw new ValidationError(ErrorCode.INVALID_ID, `collection "${collection}": ${where} is empty`);
  }
  const bytes = id.length > MAX_ID_BYTES / 3 ? encoder.encode(id).length : id.length;
  if (bytes > MAX_ID_BYTES) {
    throw new ValidationError(ErrorCode.INVALID_ID, `collection "${collection}": ${where} is ${bytes} bytes; at most ${MAX_ID_BYTES} allowed`);
  }
  if (!isWellFormed(id)) {
    throw new ValidationError(ErrorCode.INVALID_ID, `collection "${collection}": ${where} ${JSON.stringify(id)} holds a lone surrogate (not valid Unicode, so it cannot be stored as text)`);
  }
  return id;
}

/**
 * False when `text` holds a lone UTF-16 surrogate: SQLite stores text as UTF-8, where such a string
 * has no encoding, so it would come back changed (and its row checksum would no longer hold).
 */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Validates a list of ids (for get/delete); duplicates are allowed and kept. */
export function validateIds(collection: string, ids: unknown): string[] {
  if (!Array.isArray(ids)) throw new TypeError(`collection "${collection}": ids must be an array, got ${describe(ids)}`);
  return ids.map((id, i) => validateId(collection, id, `ids[${i}]`));
}

/** Copies a vector into a fresh Float32Array after checking its length and values. */
export function validateVector(collection: string, dimension: number, vector: unknown, what: string): Float32Array {
  let v: Float32Array;
  if (vector instanceof Float32Array) {
    v = new Float32Array(vector);
  } else if (Array.isArray(vector)) {
    v = new Float32Array(vector.length);
    for (let j = 0; j < vector.length; j++) {
      const x = vector[j] as unknown;
      if (typeof x !== "number") {
        throw new ValidationError(ErrorCode.INVALID_VECTOR, `collection "${collection}": ${what} has a non-number at [${j}]: ${describe(x)}`);
      }
      v[j] = x;
    }
  } else {
    throw new ValidationError(ErrorCode.INVALID_VECTOR, `collection "${collection}": ${what} vector must be a Float32Array or number[], got ${describe(vector)}`);
  }
  if (v.length !== dimension) {
    throw new ValidationError(
      ErrorCode.DIMENSION_MISMATCH,
      `collection "${collection}": ${what} vector has ${v.length} dimensions; the collection expects ${dimension}`,
    );
  }
  for (let j = 0; j < v.length; j++) {
    if (!Number.isFinite(v[j]!)) {
      const original = Array.isArray(vector) ? (vector[j] as number) : (vector as Float32Array)[j];
      throw new ValidationError(ErrorCode.INVALID_VECTOR, `collection "${collection}": ${what} vector[${j}] is ${original}; values must be finite float32 numbers`);
    }
  }
  return v;
}

function validateDocument(collection: string, id: string, document: unknown): string | null {
  if (document === undefined || document === null) return null;
  if (typeof document !== "string") {
    throw new ValidationError(ErrorCode.INVALID_DOCUMENT, `collection "${collection}": record "${id}" document must be a string, got ${describe(document)}`);
  }
  if (document.length > MAX_DOCUMENT_BYTES / 3) {
    const bytes = encoder.encode(document).length;
    if (bytes > MAX_DOCUMENT_BYTES) {
      throw new ValidationError(ErrorCode.INVALID_DOCUMENT, `collection "${collection}": record "${id}" document is ${bytes} bytes; at most ${MAX_DOCUMENT_BYTES} allowed`);
    }
  }
  if (!isWellFormed(document)) {
    throw new ValidationError(ErrorCode.INVALID_DOCUMENT, `collection "${collection}": record "${id}" document holds a lone surrogate (not valid Unicode, so it cannot be stored as text)`);
  }
  return document;
}

/** Validates metadata and returns its JSON text (null when absent or empty). */
export function validateMetadata(collection: string, id: string, metadata: unknown): string | null {
  if (metadata === undefined || metadata === null) return null;
  checkMetadataObject(collection, id, metadata, "metadata", 1);
  const json = JSON.stringify(metadata);
  if (json === "{}") return null;
  if (json.length > MAX_METADATA_BYTES / 3 && encoder.encode(json).length > MAX_METADATA_BYTES) {
    throw new ValidationError(ErrorCode.INVALID_METADATA, `collection "${collection}": record "${id}" metadata is larger than ${MAX_METADATA_BYTES} bytes of JSON`);
  }
  return json;
}

function checkMetadataObject(collection: string, id: string, value: unknown, path: string, depth: number): asserts value is Metadata {
  const fail = (why: string): never => {
    throw new ValidationError(ErrorCode.INVALID_METADATA, `collection "${collection}": record "${id}" ${path}: ${why}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`must be a plain object, got ${describe(value)}`);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) fail(`must be a plain object, got an instance of ${proto?.constructor?.name ?? "unknown"}`);
  if (depth > MAX_METADATA_DEPTH) fail(`nested deeper than ${MAX_METADATA_DEPTH} levels`);
  for (const [key, v] of Object.entries(value as object)) {
    const at = `${path}.${key}`;
    if (key.length === 0) fail("has an empty key");
    if (key.startsWith("$")) fail(`key "${key}" starts with "$", which filters reserve for operators`);
    checkMetadataValue(v, at, fail, (obj, p) => checkMetadataObject(collection, id, obj, p, depth + 1));
  }
}

function checkMetadataValue(
  v: unknown,
  at: string,
  fail: (why: string) => never,
  nested: (obj: unknown, path: string) => void,
): void {
  switch (typeof v) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(v)) fail(`${at} is ${v}; numbers must be finite`);
      return;
    case "object":
      if (v === null) return;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const e = v[i] as unknown;
          if (e === null || typeof e === "string" || typeof e === "boolean") continue;
          if (typeof e === "number" && Number.isFinite(e)) continue;
          fail(`${at}[${i}] is ${describe(e)}; arrays may hold only strings, finite numbers, booleans and null`);
        }
        return;
      }
      nested(v, at);
      return;
    default:
      fail(`${at} is ${describe(v)}, which is not JSON`);
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "null prototype"})`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}
