/**
 * LlamaIndex `MetadataFilters` → OmenDB filter plans.
 *
 * A plan is a union of branches; each branch is a core `Where` (run by the index) and an optional JS
 * `predicate` (run by core after the `Where`). A record matches the plan when it matches any branch.
 * Every operator except `is_empty` maps to a `Where`; `is_empty` ("missing, null, "" or []") has no
 * `Where` form because the core language cannot test for an empty array, so it becomes a predicate.
 *
 * Invariants:
 * - Filters only combine with `and`/`or` (no negation), so a filter is monotone in its `is_empty`
 *   leaves. With E = the set of keys that are really empty for a record, the filter equals the
 *   formula with `is_empty(k)` := (k ∈ E). The plan therefore holds one branch per subset S of the
 *   `is_empty` keys: `Where` = formula with `is_empty(k)` := (k ∈ S), predicate = "every key of S
 *   is empty". Each branch only admits matching records (monotonicity) and the branch S = E admits
 *   every matching one. Branches whose `Where` folds to false are dropped, so the common case
 *   (`is_empty` joined by `and`) yields one branch.
 * - An empty branch list matches nothing; one branch without `filter` and `predicate` matches all.
 *
 * Semantics are the core's (see `@omendb/core` `Where`), which differ from LlamaIndex.TS's
 * `SimpleVectorStore` in documented places (README, and the conformance test that runs both):
 * `!=` and `nin` match records that lack the key; `==`/`in` on an array field match when any element
 * matches; `contains`/`any`/`all` on a string field test substrings (as LlamaIndex Python's `in`
 * does) instead of always failing; boolean values are accepted; an empty `or` group matches all.
 */
import { ErrorCode, ValidationError, type Metadata, type RecordView, type Where } from "@omendb/core";
import type { MetadataFilter, MetadataFilters } from "llamaindex/vector-store";

/** What a predicate sees of a record: core's `RecordView`. */
export type FilterRecord = RecordView;

/** One alternative of a {@link FilterPlan}: records matching `filter` and then `predicate`. */
export interface FilterBranch {
  /** A core filter; absent means every record. */
  filter?: Where;
  /** A JS test run after `filter`; absent means every record. */
  predicate?: (record: FilterRecord) => boolean;
}

/** A compiled filter: a record matches when it matches at least one branch. */
export interface FilterPlan {
  /** Empty when nothing can match (for example `in: []`). */
  branches: FilterBranch[];
}

/** At most this many distinct `is_empty` keys per filter (the plan has up to 2^n branches). */
export const MAX_IS_EMPTY_KEYS = 6;

type Scalar = string | number | boolean | null;

type Node =
  | { kind: "const"; value: boolean }
  | { kind: "where"; where: Where }
  | { kind: "empty"; key: string }
  | { kind: "and" | "or"; children: Node[] };

const TRUE: Node = { kind: "const", value: true };
const FALSE: Node = { kind: "const", value: false };

/**
 * Compiles LlamaIndex metadata filters into a plan of core filters and predicates.
 *
 * Accepts the flat TS shape and nested `MetadataFilters` inside `filters` (the Python shape).
 * `condition` defaults to `"and"`; an empty filter list matches everything. Filter values may be
 * strings, numbers, booleans (for `==`, `!=`, `in`, `nin`, `contains`) or `null` (for `==`, `!=`);
 * a scalar given to `in`, `nin`, `any` or `all` is treated as a one-element list.
 *
 * @throws ValidationError code INVALID_FILTER for an unknown operator or condition, a missing key,
 *   a value of the wrong type, `all` with no values, or more than {@link MAX_IS_EMPTY_KEYS}
 *   distinct `is_empty` keys.
 */
export function compileMetadataFilters(filters: MetadataFilters | undefined | null): FilterPlan {
  if (filters === undefined || filters === null) return { branches: [{}] };
  const tree = parseGroup(filters, "filters");
  const emptyKeys = [...collectEmptyKeys(tree, new Set<string>())];
  if (emptyKeys.length > MAX_IS_EMPTY_KEYS) {
    throw invalid(`at most ${MAX_IS_EMPTY_KEYS} distinct is_empty keys are supported, got ${emptyKeys.length}`);
  }
  const branches: FilterBranch[] = [];
  for (let mask = 0; mask < 1 << emptyKeys.length; mask++) {
    const chosen = new Set(emptyKeys.filter((_, i) => (mask & (1 << i)) !== 0));
    const folded = fold(tree, chosen);
    if (folded.kind === "const" && !folded.value) continue;
    const branch: FilterBranch = {};
    if (folded.kind !== "const") branch.filter = toWhere(folded);
    if (chosen.size > 0) {
      const keys = [...chosen];
      branch.predicate = (record) => keys.every((key) => isEmptyValue(lookup(record.metadata, key)));
    }
    if (branch.filter === undefined && branch.predicate === undefined) return { branches: [{}] };
    branches.push(branch);
  }
  return { branches };
}

/** True for what LlamaIndex's `is_empty` calls empty: a missing key, `null`, `""` and `[]`. */
export function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** Reads a metadata key the way core does: an exact key wins, otherwise "a.b" descends into objects. */
function lookup(metadata: Metadata, key: string): unknown {
  if (Object.hasOwn(metadata, key)) return metadata[key];
  let current: unknown = metadata;
  for (const part of key.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function invalid(message: string): ValidationError {
  return new ValidationError(ErrorCode.INVALID_FILTER, `metadata filter: ${message}`);
}

function parseGroup(group: unknown, at: string): Node {
  if (group === null || typeof group !== "object" || !Array.isArray((group as MetadataFilters).filters)) {
    throw invalid(`${at} must be an object with a "filters" array`);
  }
  const { filters, condition = "and" } = group as MetadataFilters;
  if (condition !== "and" && condition !== "or") {
    throw invalid(`${at}.condition must be "and" or "or", got ${JSON.stringify(condition)}`);
  }
  if (filters.length === 0) return TRUE;
  const children = filters.map((item: unknown, i) => {
    const path = `${at}.filters[${i}]`;
    if (item !== null && typeof item === "object" && "filters" in item) return parseGroup(item, path);
    return parseFilter(item, path);
  });
  return { kind: condition, children };
}

function parseFilter(item: unknown, at: string): Node {
  if (item === null || typeof item !== "object") throw invalid(`${at} must be an object`);
  const { key, operator, value } = item as MetadataFilter;
  if (typeof key !== "string" || key.length === 0) throw invalid(`${at}.key must be a non-empty string`);
  const v: unknown = value;
  switch (operator) {
    case "==":
      return leaf({ [key]: { $eq: scalar(v, at, true) } });
    case "!=":
      return leaf({ [key]: { $ne: scalar(v, at, true) } });
    case ">":
      return leaf({ [key]: { $gt: ordered(v, at) } });
    case ">=":
      return leaf({ [key]: { $gte: ordered(v, at) } });
    case "<":
      return leaf({ [key]: { $lt: ordered(v, at) } });
    case "<=":
      return leaf({ [key]: { $lte: ordered(v, at) } });
    case "in": {
      const list = scalarList(v, at);
      return list.length === 0 ? FALSE : leaf({ [key]: { $in: list } });
    }
    case "nin": {
      const list = scalarList(v, at);
      return list.length === 0 ? TRUE : leaf({ [key]: { $nin: list } });
    }
    case "any":
      return { kind: "or", children: scalarList(v, at).map((x) => leaf({ [key]: { $contains: x } })) };
    case "all": {
      const list = scalarList(v, at);
      if (list.length === 0) throw invalid(`${at}: "all" needs at least one value`);
      return { kind: "and", children: list.map((x) => leaf({ [key]: { $contains: x } })) };
    }
    case "contains":
      return leaf({ [key]: { $contains: scalar(v, at, false) } });
    case "text_match": {
      if (typeof v !== "string" && typeof v !== "number") throw invalid(`${at}: "text_match" needs a string value`);
      return leaf({ [key]: { $contains: String(v) } });
    }
    case "is_empty":
      return { kind: "empty", key };
    default:
      throw invalid(`${at}: unknown operator ${JSON.stringify(operator)}`);
  }
}

function leaf(where: Where): Node {
  return { kind: "where", where };
}

function scalar(v: unknown, at: string, allowNull: true): Scalar;
function scalar(v: unknown, at: string, allowNull: false): string | number | boolean;
function scalar(v: unknown, at: string, allowNull: boolean): Scalar {
  if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return v;
  if (v === null && allowNull) return null;
  throw invalid(`${at}.value must be a string, a finite number or a boolean, got ${describe(v)}`);
}

function ordered(v: unknown, at: string): string | number {
  if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) return v;
  throw invalid(`${at}.value must be a string or a finite number, got ${describe(v)}`);
}

function scalarList(v: unknown, at: string): (string | number | boolean)[] {
  const list: unknown[] = Array.isArray(v) ? v : [v];
  return list.map((x, i) => scalar(x, `${at}.value[${i}]`, false));
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  return v === null ? "null" : `${typeof v} ${JSON.stringify(v)}`;
}

function collectEmptyKeys(node: Node, into: Set<string>): Set<string> {
  if (node.kind === "empty") into.add(node.key);
  else if (node.kind === "and" || node.kind === "or") for (const child of node.children) collectEmptyKeys(child, into);
  return into;
}

/** Replaces `is_empty(k)` by (k ∈ chosen) and folds constants away. */
function fold(node: Node, chosen: ReadonlySet<string>): Node {
  switch (node.kind) {
    case "const":
    case "where":
      return node;
    case "empty":
      return chosen.has(node.key) ? TRUE : FALSE;
    case "and":
    case "or": {
      const absorbing = node.kind === "or"; // true absorbs an or, false absorbs an and
      const kept: Node[] = [];
      for (const child of node.children) {
        const f = fold(child, chosen);
        if (f.kind === "const") {
          if (f.value === absorbing) return f;
          continue;
        }
        kept.push(f);
      }
      if (kept.length === 0) return absorbing ? FALSE : TRUE;
      if (kept.length === 1) return kept[0]!;
      return { kind: node.kind, children: kept };
    }
  }
}

/** Converts a folded tree (no constants, no `empty` leaves) to a core `Where`. */
function toWhere(node: Node): Where {
  switch (node.kind) {
    case "where":
      return node.where;
    case "and":
      return { $and: node.children.map(toWhere) };
    case "or":
      return { $or: node.children.map(toWhere) };
    default:
      throw new Error(`unreachable: ${node.kind} left after folding`);
  }
}
