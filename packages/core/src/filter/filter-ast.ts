/**
 * The filter language (Mongo-style, a superset of Chroma's and Pinecone's `where`) and its parsed form.
 *
 * Semantics (fixed here, implemented by `evaluate-filter.ts`, tested in `evaluate-filter.test.ts`):
 * - A bare value means `$eq`; several keys in one object mean `$and`, and so do several operators in
 *   one field object; `{}` matches everything.
 * - Missing key: every operator is false except `$ne`, `$nin`, `$not_contains` and `$exists: false`.
 *   A key whose value is `undefined` counts as missing; `null` or `undefined` metadata has no keys.
 * - `null` is a value: `$eq: null` matches an explicit null, not a missing key; `$exists: true`
 *   matches any present key, an explicit null included.
 * - No coercion: comparisons only between two numbers or two strings (JS order: numeric, or UTF-16
 *   code units); booleans only with `$eq/$ne/$in/$nin`; mismatched types are false (so `$ne` and
 *   `$nin` of a mismatched type are true).
 * - Array fields: `$eq`/`$in` match when any element matches; `$ne`/`$nin` when no element does;
 *   `$gt/$gte/$lt/$lte` when any element satisfies the comparison; `$contains` tests array membership,
 *   or substring on a string field with a string operand (false on any other field).
 * - `$ne`, `$nin` and `$not_contains` are exactly the negations of `$eq`, `$in` and `$contains`.
 * - A field holding a nested object equals no literal and compares with nothing.
 * - `$not` takes a filter or a one-element array of one (what LangChain's `BasicTranslator` emits).
 * - Paths: a metadata key equal to the whole path wins if present (own key, top level only);
 *   otherwise `"a.b"` descends into nested objects one dot-separated segment at a time.
 */

/** A value a filter compares against. */
export type FilterLiteral = string | number | boolean;

/** Operators on one field. */
export interface FieldOperators {
  $eq?: FilterLiteral | null;
  $ne?: FilterLiteral | null;
  $gt?: number | string;
  $gte?: number | string;
  $lt?: number | string;
  $lte?: number | string;
  $in?: (FilterLiteral | null)[];
  $nin?: (FilterLiteral | null)[];
  $exists?: boolean;
  $contains?: FilterLiteral;
  $not_contains?: FilterLiteral;
}

/** A metadata filter. */
export type Where = {
  $and?: Where[];
  $or?: Where[];
  $not?: Where | [Where];
} & {
  [path: string]: FilterLiteral | null | FieldOperators | Where[] | Where | [Where] | undefined;
};

/** Comparison operators after parsing. */
export type CompareOp = "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "nin" | "exists" | "contains" | "not_contains";

/**
 * A parsed, validated filter, as `parseFilter` returns it.
 *
 * `compare.value` is, by `op`: an array of literals and nulls for `in`/`nin`; a boolean for `exists`;
 * a number or string for `gt/gte/lt/lte`; a literal for `contains`/`not_contains`; a literal or null
 * for `eq`/`ne`. `parseFilter` flattens nested `and`/`or`, drops `all` from `and`, turns an `or` with
 * an `all` child into `all`, unwraps one-child `and`/`or`, and cancels double `not`.
 */
export type FilterNode =
  | { kind: "all" }
  | { kind: "and"; children: FilterNode[] }
  | { kind: "or"; children: FilterNode[] }
  | { kind: "not"; child: FilterNode }
  | { kind: "compare"; path: string; op: CompareOp; value: FilterLiteral | null | (FilterLiteral | null)[] | boolean };
