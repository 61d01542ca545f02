/**
 * Chroma's `where_document` filter compiled to a predicate over a record's document, passed to core
 * as `predicate`. Grammar: `{ $contains: s }`, `{ $not_contains: s }`, `{ $regex: s }`,
 * `{ $not_regex: s }`, `{ $and: [wd, ...] }`, `{ $or: [wd, ...] }`; each object holds exactly one
 * operator. `$contains` is a case-sensitive substring test. A record without a document matches
 * no positive operator and every negative one (`$not_contains`, `$not_regex`), as in Chroma.
 * `{}` (or null) means no filter.
 */
import { ChromaHttpError, HttpErrorCode } from "./chroma-errors.js";

/** A compiled document test. */
export type DocumentPredicate = (document: string | null) => boolean;

/**
 * Compiles a `where_document` value.
 * @returns undefined when the filter is absent or empty.
 * @throws ChromaHttpError BAD_REQUEST naming the offending path.
 */
export function compileWhereDocument(value: unknown): DocumentPredicate | undefined {
  if (value === undefined || value === null) return undefined;
  if (isPlainObject(value) && Object.keys(value).length === 0) return undefined;
  return compile(value, "where_document");
}

function compile(value: unknown, path: string): DocumentPredicate {
  if (!isPlainObject(value)) throw bad(path, "expected an object with one operator");
  const keys = Object.keys(value);
  if (keys.length !== 1) throw bad(path, `expected exactly one operator, got ${keys.length}`);
  const op = keys[0]!;
  const operand = value[op];
  switch (op) {
    case "$contains":
    case "$not_contains": {
      if (typeof operand !== "string") throw bad(`${path}.${op}`, "expected a string");
      const negate = op === "$not_contains";
      return (doc) => (doc === null ? negate : doc.includes(operand) !== negate);
    }
    case "$regex":
    case "$not_regex": {
      if (typeof operand !== "string") throw bad(`${path}.${op}`, "expected a string");
      let re: RegExp;
      try {
        re = new RegExp(operand, "u");
      } catch (err) {
        throw bad(`${path}.${op}`, `invalid regular expression: ${(err as Error).message}`);
      }
      const negate = op === "$not_regex";
      return (doc) => (doc === null ? negate : re.test(doc) !== negate);
    }
    case "$and":
    case "$or": {
      if (!Array.isArray(operand) || operand.length === 0) throw bad(`${path}.${op}`, "expected a non-empty array");
      const parts = operand.map((child, i) => compile(child, `${path}.${op}[${i}]`));
      return op === "$and" ? (doc) => parts.every((p) => p(doc)) : (doc) => parts.some((p) => p(doc));
    }
    default:
      throw bad(path, `unknown operator ${JSON.stringify(op)} (supported: $contains, $not_contains, $regex, $not_regex, $and, $or)`);
  }
}

function bad(path: string, detail: string): ChromaHttpError {
  return new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `invalid ${path}: ${detail}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
