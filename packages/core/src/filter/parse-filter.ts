/**
 * Validates a user's `Where` object and turns it into a {@link FilterNode} tree.
 *
 * Invariants of the output (relied on by `evaluate-filter.ts` and any translator):
 * - every `compare.path` is a non-empty string not starting with `$`;
 * - every operand has the type its operator takes (see {@link FilterNode}); numbers are finite;
 * - `in`/`nin` operands are fresh arrays (later changes to the caller's object do not leak in);
 * - `and`/`or` have at least two children, none of the same kind; `and` has no `all` child; `or` has
 *   none either (an `or` with an `all` child is `all`); `not` never wraps a `not`.
 *
 * Errors are `ValidationError` with code `INVALID_FILTER`; the message starts with the offending
 * path, e.g. `filter.$and[1].year.$gt: expected a number or string, got boolean`.
 */
import { ErrorCode, ValidationError } from "../errors.js";
import type { CompareOp, FilterLiteral, FilterNode } from "./filter-ast.js";

const FIELD_OPS: ReadonlyMap<string, CompareOp> = new Map<string, CompareOp>([
  ["$eq", "eq"],
  ["$ne", "ne"],
  ["$gt", "gt"],
  ["$gte", "gte"],
  ["$lt", "lt"],
  ["$lte", "lte"],
  ["$in", "in"],
  ["$nin", "nin"],
  ["$exists", "exists"],
  ["$contains", "contains"],
  ["$not_contains", "not_contains"],
]);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Deepest nesting of `$and`/`$or`/`$not` accepted: bounds the recursion of every later pass. */
export const MAX_FILTER_DEPTH = 64;

/**
 * Validates and normalises a metadata filter.
 *
 * A bare value means `$eq`; several keys (or several operators on one field) mean `$and`; `{}` and
 * `undefined` mean "match everything" (`{ kind: "all" }`). Trivial `$and`/`$or` are flattened and
 * double `$not` cancelled, so the result is cheap to evaluate.
 *
 * @param where - the user's filter; anything else than a plain object (or `undefined`) is rejected.
 * @throws ValidationError with code `INVALID_FILTER` naming the offending path when `where` does not
 *   follow the language: unknown `$` operator, wrong operand type, NaN/±Infinity, empty `$and`/`$or`,
 *   `$not` array not of length one, empty or `$`-prefixed field path, nested object or array as a
 *   field's value, `undefined` anywhere, `$and`/`$or`/`$not` nested deeper than {@link MAX_FILTER_DEPTH}.
 * @example
 * parseFilter({ year: { $gte: 2020 }, tags: { $contains: "news" } });
 * // { kind: "and", children: [ {compare year gte 2020}, {compare tags contains "news"} ] }
 */
export function parseFilter(where: unknown): FilterNode {
  if (where === undefined) return { kind: "all" };
  return parseWhere(where, "filter", 1);
}

function parseWhere(value: unknown, at: string, depth: number): FilterNode {
  if (!isPlainObject(value)) fail(at, `expected a filter object, got ${describe(value)}`);
  if (depth > MAX_FILTER_DEPTH) fail(at, `filters may nest at most ${MAX_FILTER_DEPTH} levels deep`);
  const keys = Object.keys(value);
  if (keys.length === 1) return parseEntry(keys[0]!, value[keys[0]!], at, depth);
  const parts: FilterNode[] = [];
  for (const key of keys) parts.push(parseEntry(key, value[key], at, depth));
  return makeAnd(parts);
}

function parseEntry(key: string, value: unknown, at: string, depth: number): FilterNode {
  if (key.charCodeAt(0) !== 36 /* $ */) {
    if (key.length === 0) fail(`${at}[""]`, "a field path must be a non-empty string");
    return parseField(key, value, at + segment(key));
  }
  const here = `${at}.${key}`;
  switch (key) {
    case "$and":
    case "$or": {
      if (!Array.isArray(value)) fail(here, `expected a non-empty array of filters, got ${describe(value)}`);
      if (value.length === 0) fail(here, "expected a non-empty array of filters, got an empty array");
      const children: FilterNode[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) children[i] = parseWhere(value[i], `${here}[${i}]`, depth + 1);
      return key === "$and" ? makeAnd(children) : makeOr(children);
    }
    case "$not": {
      if (Array.isArray(value)) {
        if (value.length !== 1) fail(here, `expected a filter or a one-element array, got an array of ${value.length}`);
        return makeNot(parseWhere(value[0], `${here}[0]`, depth + 1));
      }
      return makeNot(parseWhere(value, here, depth + 1));
    }
    default:
      if (FIELD_OPS.has(key)) fail(here, `operator ${key} must be applied to a field, e.g. { year: { ${key}: ... } }`);
      fail(here, `unknown operator ${key}; expected $and, $or, $not or a field path`);
  }
}

function parseField(path: string, value: unknown, at: string): FilterNode {
  switch (typeof value) {
    case "string":
    case "boolean":
      return { kind: "compare", path, op: "eq", value };
    case "number":
      if (!Number.isFinite(value)) fail(at, `expected a finite number, got ${describe(value)}`);
      return { kind: "compare", path, op: "eq", value };
    case "object":
      if (value === null) return { kind: "compare", path, op: "eq", value: null };
      if (Array.isArray(value)) {
        fail(at, "expected a literal, null or an operator object, got array (use $in for any-of, $contains for membership)");
      }
      if (isPlainObject(value)) return parseOperators(path, value, at);
      break;
  }
  fail(at, `expected a literal, null or an operator object, got ${describe(value)}`);
}

function parseOperators(path: string, ops: Record<string, unknown>, at: string): FilterNode {
  const keys = Object.keys(ops);
  if (keys.length === 0) fail(at, "expected a literal, null or an operator object, got an empty object");
  if (keys.length === 1) return parseOperator(path, keys[0]!, ops[keys[0]!], at);
  const parts: FilterNode[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) parts[i] = parseOperator(path, keys[i]!, ops[keys[i]!], at);
  return { kind: "and", children: parts };
}

function parseOperator(path: string, key: string, operand: unknown, fieldAt: string): FilterNode {
  const at = fieldAt + segment(key);
  const op = FIELD_OPS.get(key);
  if (op === undefined) {
    if (key.charCodeAt(0) !== 36) {
      fail(at, `expected an operator ($eq, $gt, $in, ...); nested objects are not values, use a dotted path such as "${path}.${key}"`);
    }
    if (key === "$and" || key === "$or" || key === "$not") {
      fail(at, `${key} must wrap whole filters, e.g. { ${key}: ... } around { ${JSON.stringify(path)}: ... }`);
    }
    fail(at, "unknown operator; expected one of $eq $ne $gt $gte $lt $lte $in $nin $exists $contains $not_contains");
  }
  switch (op) {
    case "eq":
    case "ne":
      if (operand !== null) checkLiteral(operand, at);
      return { kind: "compare", path, op, value: operand as FilterLiteral | null };
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      if (typeof operand === "string") return { kind: "compare", path, op, value: operand };
      if (typeof operand === "number") {
        if (!Number.isFinite(operand)) fail(at, `expected a finite number or string, got ${describe(operand)}`);
        return { kind: "compare", path, op, value: operand };
      }
      fail(at, `expected a number or string, got ${describe(operand)}`);
    case "in":
    case "nin": {
      if (!Array.isArray(operand)) fail(at, `expected an array of literals or null, got ${describe(operand)}`);
      const list: (FilterLiteral | null)[] = new Array(operand.length);
      for (let i = 0; i < operand.length; i++) {
        const item: unknown = operand[i];
        if (item !== null) checkLiteral(item, `${at}[${i}]`);
        list[i] = item as FilterLiteral | null;
      }
      return { kind: "compare", path, op, value: list };
    }
    case "exists":
      if (typeof operand !== "boolean") fail(at, `expected a boolean, got ${describe(operand)}`);
      return { kind: "compare", path, op, value: operand };
    case "contains":
    case "not_contains":
      checkLiteral(operand, at);
      return { kind: "compare", path, op, value: operand };
  }
}

function checkLiteral(value: unknown, at: string): asserts value is FilterLiteral {
  const t = typeof value;
  if (t === "string" || t === "boolean") return;
  if (t === "number") {
    if (Number.isFinite(value)) return;
    fail(at, `expected a finite number, got ${describe(value)}`);
  }
  fail(at, `expected a string, number or boolean, got ${describe(value)}`);
}

function makeAnd(parts: FilterNode[]): FilterNode {
  let flat: FilterNode[] | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.kind === "and" || p.kind === "all") {
      flat ??= parts.slice(0, i);
      if (p.kind === "and") for (const c of p.children) flat.push(c);
    } else if (flat !== undefined) {
      flat.push(p);
    }
  }
  const children = flat ?? parts;
  if (children.length === 0) return { kind: "all" };
  if (children.length === 1) return children[0]!;
  return { kind: "and", children };
}

function makeOr(parts: FilterNode[]): FilterNode {
  let flat: FilterNode[] | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.kind === "all") return p;
    if (p.kind === "or") {
      flat ??= parts.slice(0, i);
      for (const c of p.children) flat.push(c);
    } else if (flat !== undefined) {
      flat.push(p);
    }
  }
  const children = flat ?? parts;
  if (children.length === 1) return children[0]!;
  return { kind: "or", children };
}

function makeNot(child: FilterNode): FilterNode {
  return child.kind === "not" ? child.child : { kind: "not", child };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function segment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : Number.isFinite(value) ? "number" : String(value);
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return "object";
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name.length > 0 ? name : "object";
  }
  return typeof value;
}

function fail(at: string, why: string): never {
  throw new ValidationError(ErrorCode.INVALID_FILTER, `${at}: ${why}`);
}
