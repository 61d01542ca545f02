/**
 * The filter language (Mongo-style, a superset of Chroma's and Pinecone's `where`) and its parsed form.
 *
 * Semantics (fixed here, tested in `evaluate-filter.test.ts`):
 * - A bare value means `$eq`; several keys in one object mean `$and`; `{}` matches everything.
 * - Missing key: every operator is false except `$ne`, `$nin`, `$not_contains` and `$exists: false`.
 * - No coercion: comparisons only between two numbers or two strings; booleans only with
 *   `$eq/$ne/$in/$nin`; mismatched types are false.
 * - Array fields: `$eq`/`$in` match when any element matches; `$ne`/`$nin` when no element does;
 *   `$contains` tests array membership, or substring on a string field.
 * - `$not` takes a filter or a one-element array of one (what LangChain's `BasicTranslator` emits).
 * - Paths: `"a.b"` descends into nested objects; an exact key `"a.b"` wins if it exists.
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

/** A parsed, validated filter. */
export type FilterNode =
  | { kind: "all" }
  | { kind: "and"; children: FilterNode[] }
  | { kind: "or"; children: FilterNode[] }
  | { kind: "not"; child: FilterNode }
  | { kind: "compare"; path: string; op: CompareOp; value: FilterLiteral | null | (FilterLiteral | null)[] | boolean };
