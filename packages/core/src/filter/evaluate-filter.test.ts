import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFilter, evaluateFilter } from "./evaluate-filter.js";
import type { Where } from "./filter-ast.js";
import { parseFilter } from "./parse-filter.js";

type Meta = Record<string, unknown> | null | undefined;

interface Case {
  name: string;
  filter: Where | undefined;
  metadata: Meta;
  expected: boolean;
}

const BOOK = {
  title: "Deep Learning",
  year: 2020,
  yearStr: "2020",
  rating: 4.5,
  count: 0,
  draft: false,
  published: true,
  editor: null,
  tags: ["ml", "ai"],
  scores: [1, 5, 10],
  mixed: ["1", 2, null, true],
  empty: [],
  author: { name: "Ann", address: { city: "Oslo" } },
};

const DOTTED = { "a.b": 1, a: { b: 2 } };

// Conformance table: the semantics stated in filter-ast.ts, one row per rule.
const TABLE: Case[] = [
  // --- $eq and bare literals
  { name: "bare string equals", filter: { title: "Deep Learning" }, metadata: BOOK, expected: true },
  { name: "bare string is case-sensitive", filter: { title: "deep learning" }, metadata: BOOK, expected: false },
  { name: "$eq number", filter: { year: { $eq: 2020 } }, metadata: BOOK, expected: true },
  { name: "$eq number differs", filter: { year: { $eq: 2021 } }, metadata: BOOK, expected: false },
  { name: "$eq float", filter: { rating: 4.5 }, metadata: BOOK, expected: true },
  { name: "bare true", filter: { published: true }, metadata: BOOK, expected: true },
  { name: "bare true on false", filter: { draft: true }, metadata: BOOK, expected: false },
  { name: "$eq false", filter: { draft: { $eq: false } }, metadata: BOOK, expected: true },
  // --- $ne
  { name: "$ne other value", filter: { year: { $ne: 2021 } }, metadata: BOOK, expected: true },
  { name: "$ne same value", filter: { year: { $ne: 2020 } }, metadata: BOOK, expected: false },
  { name: "$ne boolean", filter: { published: { $ne: false } }, metadata: BOOK, expected: true },
  // --- ordering, numbers
  { name: "$gt at boundary", filter: { year: { $gt: 2020 } }, metadata: BOOK, expected: false },
  { name: "$gte at boundary", filter: { year: { $gte: 2020 } }, metadata: BOOK, expected: true },
  { name: "$lt at boundary", filter: { year: { $lt: 2020 } }, metadata: BOOK, expected: false },
  { name: "$lte at boundary", filter: { year: { $lte: 2020 } }, metadata: BOOK, expected: true },
  { name: "$gt float", filter: { rating: { $gt: 4.49 } }, metadata: BOOK, expected: true },
  { name: "$lt negative", filter: { count: { $lt: -1 } }, metadata: BOOK, expected: false },
  // --- ordering, strings (JS order: UTF-16 code units, so "D" < "a")
  { name: "$gt string", filter: { title: { $gt: "Alpha" } }, metadata: BOOK, expected: true },
  { name: "$lt string", filter: { title: { $lt: "Alpha" } }, metadata: BOOK, expected: false },
  { name: "$gte string uses code-unit order", filter: { title: { $gte: "a" } }, metadata: BOOK, expected: false },
  { name: "$lte equal string", filter: { yearStr: { $lte: "2020" } }, metadata: BOOK, expected: true },
  { name: "$gt string is lexicographic, not numeric", filter: { yearStr: { $gt: "10000" } }, metadata: BOOK, expected: true },
  // --- $in / $nin
  { name: "$in hit", filter: { year: { $in: [2019, 2020] } }, metadata: BOOK, expected: true },
  { name: "$in miss", filter: { year: { $in: [2019] } }, metadata: BOOK, expected: false },
  { name: "$in empty list", filter: { year: { $in: [] } }, metadata: BOOK, expected: false },
  { name: "$in booleans", filter: { published: { $in: [true] } }, metadata: BOOK, expected: true },
  { name: "$in long list (set lookup)", filter: { year: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2020] } }, metadata: BOOK, expected: true },
  { name: "$in long list miss", filter: { year: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "2020"] } }, metadata: BOOK, expected: false },
  { name: "$nin miss", filter: { year: { $nin: [2019] } }, metadata: BOOK, expected: true },
  { name: "$nin hit", filter: { year: { $nin: [2020, 2021] } }, metadata: BOOK, expected: false },
  { name: "$nin empty list", filter: { year: { $nin: [] } }, metadata: BOOK, expected: true },
  // --- $exists
  { name: "$exists true on present", filter: { year: { $exists: true } }, metadata: BOOK, expected: true },
  { name: "$exists false on present", filter: { year: { $exists: false } }, metadata: BOOK, expected: false },
  { name: "$exists true on missing", filter: { isbn: { $exists: true } }, metadata: BOOK, expected: false },
  { name: "$exists false on missing", filter: { isbn: { $exists: false } }, metadata: BOOK, expected: true },
  // --- $contains / $not_contains on strings (substring) and other scalars
  { name: "$contains substring", filter: { title: { $contains: "Learn" } }, metadata: BOOK, expected: true },
  { name: "$contains substring is case-sensitive", filter: { title: { $contains: "learn" } }, metadata: BOOK, expected: false },
  { name: "$contains empty substring", filter: { title: { $contains: "" } }, metadata: BOOK, expected: true },
  { name: "$contains number on string field: no coercion", filter: { yearStr: { $contains: 20 } }, metadata: BOOK, expected: false },
  { name: "$contains on number field", filter: { year: { $contains: 2 } }, metadata: BOOK, expected: false },
  { name: "$not_contains on number field is the negation", filter: { year: { $not_contains: 2 } }, metadata: BOOK, expected: true },
  { name: "$not_contains substring present", filter: { title: { $not_contains: "Deep" } }, metadata: BOOK, expected: false },
  { name: "$not_contains substring absent", filter: { title: { $not_contains: "Shallow" } }, metadata: BOOK, expected: true },
  // --- missing keys: false except $ne, $nin, $not_contains, $exists:false
  { name: "missing: $eq", filter: { isbn: "x" }, metadata: BOOK, expected: false },
  { name: "missing: $ne", filter: { isbn: { $ne: "x" } }, metadata: BOOK, expected: true },
  { name: "missing: $gt", filter: { isbn: { $gt: 0 } }, metadata: BOOK, expected: false },
  { name: "missing: $lte", filter: { isbn: { $lte: "z" } }, metadata: BOOK, expected: false },
  { name: "missing: $in", filter: { isbn: { $in: ["x"] } }, metadata: BOOK, expected: false },
  { name: "missing: $nin", filter: { isbn: { $nin: ["x"] } }, metadata: BOOK, expected: true },
  { name: "missing: $contains", filter: { isbn: { $contains: "x" } }, metadata: BOOK, expected: false },
  { name: "missing: $not_contains", filter: { isbn: { $not_contains: "x" } }, metadata: BOOK, expected: true },
  { name: "missing: $eq null does not match a missing key", filter: { isbn: null }, metadata: BOOK, expected: false },
  { name: "missing: $ne null", filter: { isbn: { $ne: null } }, metadata: BOOK, expected: true },
  { name: "missing: $in [null]", filter: { isbn: { $in: [null] } }, metadata: BOOK, expected: false },
  { name: "missing: $nin [null]", filter: { isbn: { $nin: [null] } }, metadata: BOOK, expected: true },
  { name: "missing: key with value undefined", filter: { x: { $exists: false } }, metadata: { x: undefined }, expected: true },
  { name: "missing: null metadata, $eq", filter: { x: 1 }, metadata: null, expected: false },
  { name: "missing: null metadata, $ne", filter: { x: { $ne: 1 } }, metadata: null, expected: true },
  { name: "missing: undefined metadata, $exists false", filter: { x: { $exists: false } }, metadata: undefined, expected: true },
  { name: "missing: prototype key is not a metadata key", filter: { constructor: { $exists: true } }, metadata: {}, expected: false },
  { name: "missing: prototype key, $ne", filter: { toString: { $ne: "x" } }, metadata: {}, expected: true },
  { name: "own key named like a prototype key", filter: { constructor: "x" }, metadata: { constructor: "x" }, expected: true },
  // --- explicit null
  { name: "null: bare null", filter: { editor: null }, metadata: BOOK, expected: true },
  { name: "null: $eq null", filter: { editor: { $eq: null } }, metadata: BOOK, expected: true },
  { name: "null: $ne null", filter: { editor: { $ne: null } }, metadata: BOOK, expected: false },
  { name: "null: $ne value", filter: { editor: { $ne: "x" } }, metadata: BOOK, expected: true },
  { name: "null: $eq string 'null'", filter: { editor: "null" }, metadata: BOOK, expected: false },
  { name: "null: $exists true (present)", filter: { editor: { $exists: true } }, metadata: BOOK, expected: true },
  { name: "null: $exists false", filter: { editor: { $exists: false } }, metadata: BOOK, expected: false },
  { name: "null: $in with null", filter: { editor: { $in: [null, "x"] } }, metadata: BOOK, expected: true },
  { name: "null: $in without null", filter: { editor: { $in: ["x"] } }, metadata: BOOK, expected: false },
  { name: "null: $nin [null]", filter: { editor: { $nin: [null] } }, metadata: BOOK, expected: false },
  { name: "null: $gt", filter: { editor: { $gt: "" } }, metadata: BOOK, expected: false },
  { name: "null: $lt number", filter: { editor: { $lt: 1 } }, metadata: BOOK, expected: false },
  { name: "null: $contains", filter: { editor: { $contains: "a" } }, metadata: BOOK, expected: false },
  { name: "null: $not_contains", filter: { editor: { $not_contains: "a" } }, metadata: BOOK, expected: true },
  { name: "null: $eq on non-null", filter: { year: null }, metadata: BOOK, expected: false },
  // --- type mismatches: no coercion
  { name: "types: number field vs string '2020'", filter: { year: "2020" }, metadata: BOOK, expected: false },
  { name: "types: string field vs number 2020", filter: { yearStr: 2020 }, metadata: BOOK, expected: false },
  { name: "types: $ne across types is true", filter: { year: { $ne: "2020" } }, metadata: BOOK, expected: true },
  { name: "types: $in across types", filter: { year: { $in: ["2020"] } }, metadata: BOOK, expected: false },
  { name: "types: $nin across types", filter: { year: { $nin: ["2020"] } }, metadata: BOOK, expected: true },
  { name: "types: $gt string bound on number", filter: { year: { $gt: "2000" } }, metadata: BOOK, expected: false },
  { name: "types: $lte string bound on number", filter: { year: { $lte: "3000" } }, metadata: BOOK, expected: false },
  { name: "types: $gt number bound on string", filter: { yearStr: { $gt: 2000 } }, metadata: BOOK, expected: false },
  { name: "types: $lt number bound on string", filter: { yearStr: { $lt: 3000 } }, metadata: BOOK, expected: false },
  { name: "types: boolean vs string 'true'", filter: { published: "true" }, metadata: BOOK, expected: false },
  { name: "types: boolean vs 1", filter: { published: 1 }, metadata: BOOK, expected: false },
  { name: "types: 0 vs false", filter: { count: false }, metadata: BOOK, expected: false },
  { name: "types: $gt number on boolean field", filter: { published: { $gt: 0 } }, metadata: BOOK, expected: false },
  { name: "types: $gte string on boolean field", filter: { published: { $gte: "" } }, metadata: BOOK, expected: false },
  // --- array fields
  { name: "array: $eq any element", filter: { tags: "ml" }, metadata: BOOK, expected: true },
  { name: "array: $eq no element", filter: { tags: "cv" }, metadata: BOOK, expected: false },
  { name: "array: $ne some element equal", filter: { tags: { $ne: "ml" } }, metadata: BOOK, expected: false },
  { name: "array: $ne no element equal", filter: { tags: { $ne: "cv" } }, metadata: BOOK, expected: true },
  { name: "array: $in any element", filter: { tags: { $in: ["cv", "ai"] } }, metadata: BOOK, expected: true },
  { name: "array: $in none", filter: { tags: { $in: ["cv"] } }, metadata: BOOK, expected: false },
  { name: "array: $nin none", filter: { tags: { $nin: ["cv"] } }, metadata: BOOK, expected: true },
  { name: "array: $nin one element listed", filter: { tags: { $nin: ["ai", "cv"] } }, metadata: BOOK, expected: false },
  { name: "array: $contains member", filter: { tags: { $contains: "ai" } }, metadata: BOOK, expected: true },
  { name: "array: $contains is membership, not substring", filter: { tags: { $contains: "a" } }, metadata: BOOK, expected: false },
  { name: "array: $not_contains non-member", filter: { tags: { $not_contains: "a" } }, metadata: BOOK, expected: true },
  { name: "array: $not_contains member", filter: { tags: { $not_contains: "ml" } }, metadata: BOOK, expected: false },
  { name: "array: $gt any element", filter: { scores: { $gt: 9 } }, metadata: BOOK, expected: true },
  { name: "array: $gt no element", filter: { scores: { $gt: 10 } }, metadata: BOOK, expected: false },
  { name: "array: $lt any element", filter: { scores: { $lt: 2 } }, metadata: BOOK, expected: true },
  // Without $elemMatch each bound may be met by a different element (Mongo's rule too).
  { name: "array: two bounds, different elements", filter: { scores: { $gt: 6, $lt: 4 } }, metadata: BOOK, expected: true },
  { name: "array: two bounds, none", filter: { scores: { $gt: 10, $lt: 1 } }, metadata: BOOK, expected: false },
  { name: "array: $eq null matches a null element", filter: { mixed: null }, metadata: BOOK, expected: true },
  { name: "array: $eq number element", filter: { mixed: 2 }, metadata: BOOK, expected: true },
  { name: "array: $eq no coercion inside arrays", filter: { mixed: "2" }, metadata: BOOK, expected: false },
  { name: "array: $eq boolean element", filter: { mixed: true }, metadata: BOOK, expected: true },
  { name: "array: $gt compares only same-type elements (string)", filter: { mixed: { $gt: "0" } }, metadata: BOOK, expected: true },
  { name: "array: $gt compares only same-type elements (number)", filter: { mixed: { $gt: 2 } }, metadata: BOOK, expected: false },
  { name: "array: $contains boolean", filter: { mixed: { $contains: true } }, metadata: BOOK, expected: true },
  { name: "array: $contains number does not match string element", filter: { mixed: { $contains: 1 } }, metadata: BOOK, expected: false },
  { name: "array: $in long list over elements", filter: { scores: { $in: [100, 200, 300, 400, 500, 600, 700, 800, 900, 10] } }, metadata: BOOK, expected: true },
  { name: "empty array: $eq", filter: { empty: "x" }, metadata: BOOK, expected: false },
  { name: "empty array: $ne", filter: { empty: { $ne: "x" } }, metadata: BOOK, expected: true },
  { name: "empty array: $in", filter: { empty: { $in: ["x", null] } }, metadata: BOOK, expected: false },
  { name: "empty array: $nin", filter: { empty: { $nin: ["x"] } }, metadata: BOOK, expected: true },
  { name: "empty array: $exists", filter: { empty: { $exists: true } }, metadata: BOOK, expected: true },
  { name: "empty array: $contains", filter: { empty: { $contains: "x" } }, metadata: BOOK, expected: false },
  { name: "empty array: $gt", filter: { empty: { $gt: 0 } }, metadata: BOOK, expected: false },
  // --- nested paths and exact dotted keys
  { name: "path: one level", filter: { "author.name": "Ann" }, metadata: BOOK, expected: true },
  { name: "path: two levels", filter: { "author.address.city": "Oslo" }, metadata: BOOK, expected: true },
  { name: "path: two levels, $contains", filter: { "author.address.city": { $contains: "sl" } }, metadata: BOOK, expected: true },
  { name: "path: missing leaf, $exists false", filter: { "author.zip": { $exists: false } }, metadata: BOOK, expected: true },
  { name: "path: missing leaf, $ne", filter: { "author.zip": { $ne: 1 } }, metadata: BOOK, expected: true },
  { name: "path: descends into a string", filter: { "author.name.first": { $exists: true } }, metadata: BOOK, expected: false },
  { name: "path: no array indexing", filter: { "tags.0": "ml" }, metadata: BOOK, expected: false },
  { name: "path: through null", filter: { "editor.name": { $exists: false } }, metadata: BOOK, expected: true },
  { name: "object field equals no literal", filter: { author: "Ann" }, metadata: BOOK, expected: false },
  { name: "object field: $ne", filter: { author: { $ne: "Ann" } }, metadata: BOOK, expected: true },
  { name: "object field: $exists", filter: { author: { $exists: true } }, metadata: BOOK, expected: true },
  { name: "object field: $gt", filter: { author: { $gt: "" } }, metadata: BOOK, expected: false },
  { name: "object field: $in", filter: { author: { $in: ["Ann"] } }, metadata: BOOK, expected: false },
  { name: "object field: $contains", filter: { author: { $contains: "Ann" } }, metadata: BOOK, expected: false },
  { name: "exact dotted key wins", filter: { "a.b": 1 }, metadata: DOTTED, expected: true },
  { name: "exact dotted key wins over the nested value", filter: { "a.b": 2 }, metadata: DOTTED, expected: false },
  { name: "exact dotted key holding null still wins", filter: { "a.b": 2 }, metadata: { "a.b": null, a: { b: 2 } }, expected: false },
  { name: "nested value when no exact key", filter: { "a.b": 2 }, metadata: { a: { b: 2 } }, expected: true },
  { name: "exact dotted key holding undefined counts as missing", filter: { "a.b": 2 }, metadata: { "a.b": undefined, a: { b: 2 } }, expected: true },
  { name: "exact key with a dot, nothing nested", filter: { "a.b": { $gte: 1 } }, metadata: { "a.b": 1 }, expected: true },
  { name: "prototype key inside a path", filter: { "a.constructor": { $exists: true } }, metadata: { a: {} }, expected: false },
  // --- $not, both forms
  { name: "$not object form, inner true", filter: { $not: { year: 2020 } }, metadata: BOOK, expected: false },
  { name: "$not object form, inner false", filter: { $not: { year: 2021 } }, metadata: BOOK, expected: true },
  { name: "$not array form, inner true", filter: { $not: [{ year: 2020 }] }, metadata: BOOK, expected: false },
  { name: "$not array form, inner false", filter: { $not: [{ year: 2021 }] }, metadata: BOOK, expected: true },
  { name: "$not of $eq on missing key is true (like $ne)", filter: { $not: { isbn: "x" } }, metadata: BOOK, expected: true },
  { name: "$not of several keys negates the conjunction", filter: { $not: { year: 2020, draft: true } }, metadata: BOOK, expected: true },
  { name: "$not of {} matches nothing", filter: { $not: {} }, metadata: BOOK, expected: false },
  { name: "double $not", filter: { $not: { $not: { year: 2020 } } }, metadata: BOOK, expected: true },
  { name: "$not of $exists false", filter: { $not: [{ editor: { $exists: false } }] }, metadata: BOOK, expected: true },
  // --- and / or / not nesting, implicit and
  { name: "several keys: all true", filter: { year: 2020, draft: false }, metadata: BOOK, expected: true },
  { name: "several keys: one false", filter: { year: 2020, draft: true }, metadata: BOOK, expected: false },
  { name: "several operators on one field: in range", filter: { year: { $gt: 2000, $lt: 2030 } }, metadata: BOOK, expected: true },
  { name: "several operators on one field: out of range", filter: { year: { $gt: 2000, $lt: 2010 } }, metadata: BOOK, expected: false },
  { name: "$and all true", filter: { $and: [{ year: 2020 }, { tags: "ml" }] }, metadata: BOOK, expected: true },
  { name: "$and one false", filter: { $and: [{ year: 2020 }, { tags: "cv" }] }, metadata: BOOK, expected: false },
  { name: "$or one true", filter: { $or: [{ year: 1999 }, { tags: "ai" }] }, metadata: BOOK, expected: true },
  { name: "$or none true", filter: { $or: [{ year: 1999 }, { tags: "cv" }] }, metadata: BOOK, expected: false },
  {
    name: "$and of $or and $not",
    filter: { $and: [{ $or: [{ year: 2019 }, { year: 2020 }] }, { $not: { draft: true } }] },
    metadata: BOOK,
    expected: true,
  },
  {
    name: "$or of $and and field",
    filter: { $or: [{ $and: [{ year: 2020 }, { draft: true }] }, { title: { $contains: "Learn" } }] },
    metadata: BOOK,
    expected: true,
  },
  {
    name: "deep nesting",
    filter: { $not: { $or: [{ $and: [{ "author.name": "Ann" }, { $not: [{ rating: { $lt: 4 } }] }] }, { isbn: { $exists: true } }] } },
    metadata: BOOK,
    expected: false,
  },
  { name: "field keys next to $or", filter: { year: 2020, $or: [{ draft: true }, { published: true }] }, metadata: BOOK, expected: true },
  { name: "field keys next to $or, field false", filter: { year: 2021, $or: [{ draft: true }, { published: true }] }, metadata: BOOK, expected: false },
  { name: "$and with {} child", filter: { $and: [{}, { year: 2020 }] }, metadata: BOOK, expected: true },
  { name: "$or with {} child matches all", filter: { $or: [{}, { year: 1 }] }, metadata: BOOK, expected: true },
  { name: "three-way $or, last true", filter: { $or: [{ year: 1 }, { year: 2 }, { year: 2020 }] }, metadata: BOOK, expected: true },
  { name: "four-way $and, last false", filter: { $and: [{ year: 2020 }, { draft: false }, { tags: "ml" }, { rating: 1 }] }, metadata: BOOK, expected: false },
  // --- empty filter
  { name: "{} matches a record", filter: {}, metadata: BOOK, expected: true },
  { name: "{} matches empty metadata", filter: {}, metadata: {}, expected: true },
  { name: "{} matches null metadata", filter: {}, metadata: null, expected: true },
  { name: "undefined filter matches", filter: undefined, metadata: BOOK, expected: true },
];

describe("evaluateFilter conformance table", () => {
  it("has unique case names", () => {
    expect(new Set(TABLE.map((c) => c.name)).size).toBe(TABLE.length);
  });

  it.each(TABLE)("$name", ({ filter, metadata, expected }) => {
    const node = parseFilter(filter);
    expect(evaluateFilter(node, metadata)).toBe(expected);
    expect(compileFilter(node)(metadata)).toBe(expected);
    if (filter !== undefined) expect(referenceMatch(filter, metadata)).toBe(expected);
  });

  it.each(TABLE)("negation: $not of $name", ({ filter, metadata, expected }) => {
    const negated = parseFilter({ $not: filter ?? {} });
    expect(evaluateFilter(negated, metadata)).toBe(!expected);
    expect(compileFilter(negated)(metadata)).toBe(!expected);
  });
});

// LlamaIndex.TS SimpleVectorStore.test.ts (CONTRACTS.md §2.7): the 17 cases over its three nodes,
// translated by hand into our language the way CONTRACTS.md §4.3's `toWhere` does, except:
// `text_match` becomes `$contains` (substring on a string field) and `is_empty` becomes
// `$exists: false` or `$in: [null, ""]` (our language has no `$like` or `$size`).
const LLAMA_NODES = [
  { name: "Anakin", dogId: "1", private: "true", weight: 1.2, type: ["husky", "puppy"] },
  { name: "Luke", dogId: "2", private: "false", weight: 2.3, type: ["puppy"] },
  { name: "Leia", dogId: "3", private: "false", weight: 3.4, type: ["husky"] },
];

const LLAMA_CASES: { title: string; where: Where | undefined; expected: number }[] = [
  { title: "No filter", where: undefined, expected: 3 },
  { title: "Filter with non-exist key", where: { "non-exist-key": { $eq: "cat" } }, expected: 0 },
  { title: "Filter EQ", where: { private: { $eq: "false" } }, expected: 2 },
  // Every node has `private`, so our missing-key rule for $ne/$nin gives the same counts here.
  { title: "Filter NE", where: { private: { $ne: "false" } }, expected: 1 },
  { title: "Filter GT", where: { weight: { $gt: 2.3 } }, expected: 1 },
  { title: "Filter GTE", where: { weight: { $gte: 2.3 } }, expected: 2 },
  { title: "Filter LT", where: { weight: { $lt: 2.3 } }, expected: 1 },
  { title: "Filter LTE", where: { weight: { $lte: 2.3 } }, expected: 2 },
  { title: "Filter IN", where: { dogId: { $in: ["1", "3"] } }, expected: 2 },
  { title: "Filter NIN", where: { name: { $nin: ["Anakin", "Leia"] } }, expected: 1 },
  { title: "Filter ANY", where: { $or: [{ type: { $contains: "husky" } }, { type: { $contains: "puppy" } }] }, expected: 3 },
  { title: "Filter ALL", where: { $and: [{ type: { $contains: "husky" } }, { type: { $contains: "puppy" } }] }, expected: 1 },
  { title: "Filter CONTAINS", where: { type: { $contains: "puppy" } }, expected: 2 },
  { title: "Filter TEXT_MATCH", where: { name: { $contains: "Luk" } }, expected: 1 },
  {
    title: "Filter IS_EMPTY",
    where: { $or: [{ "not-exist-key": { $exists: false } }, { "not-exist-key": { $in: [null, ""] } }] },
    expected: 3,
  },
  { title: "Filter OR", where: { $or: [{ private: { $eq: "false" } }, { dogId: { $in: ["1", "3"] } }] }, expected: 3 },
  { title: "Filter AND", where: { $and: [{ private: { $eq: "false" } }, { dogId: { $eq: "10" } }] }, expected: 0 },
];

describe("LlamaIndex SimpleVectorStore filter cases in our language", () => {
  it("covers all 17 cases", () => {
    expect(LLAMA_CASES).toHaveLength(17);
  });

  it.each(LLAMA_CASES)("$title matches $expected nodes", ({ where, expected }) => {
    const node = parseFilter(where);
    const predicate = compileFilter(node);
    expect(LLAMA_NODES.filter((m) => evaluateFilter(node, m)).length).toBe(expected);
    expect(LLAMA_NODES.filter((m) => predicate(m)).length).toBe(expected);
  });

  // Where LlamaIndex.TS differs: its buildFilterFn makes a missing key fail every operator but
  // is_empty, so `!=` and `nin` skip nodes lacking the key. Ours follows Mongo, Chroma >= 0.5.12 and
  // LlamaIndex Python (CONTRACTS.md §4.1): a record without the key is "not equal" and "not in".
  it("$ne and $nin match a node lacking the key (LlamaIndex.TS would return 0)", () => {
    const withStray = [...LLAMA_NODES, { name: "Rex" }];
    const ne = parseFilter({ private: { $ne: "false" } });
    const nin = parseFilter({ dogId: { $nin: ["1", "2", "3"] } });
    expect(withStray.filter((m) => evaluateFilter(ne, m)).map((m) => m.name)).toEqual(["Anakin", "Rex"]);
    expect(withStray.filter((m) => evaluateFilter(nin, m)).map((m) => m.name)).toEqual(["Rex"]);
  });
});

describe("compileFilter", () => {
  it("returns the same predicate results after the node is mutated", () => {
    const node = parseFilter({ year: { $in: [2020] } });
    const predicate = compileFilter(node);
    if (node.kind === "compare" && Array.isArray(node.value)) node.value[0] = 1999;
    expect(predicate({ year: 2020 })).toBe(true);
    expect(evaluateFilter(node, { year: 2020 })).toBe(false);
  });

  it("matches every record for {}", () => {
    const predicate = compileFilter(parseFilter({}));
    expect(predicate(null)).toBe(true);
    expect(predicate({ a: 1 })).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests against a deliberately simple reference evaluator that reads the raw `Where`
// object (not the parsed tree), written as a direct transcription of the rules in filter-ast.ts.

function lookup(metadata: Meta, path: string): { found: boolean; value: unknown } {
  const m = metadata ?? {};
  if (Object.hasOwn(m, path) && m[path] !== undefined) return { found: true, value: m[path] };
  let value: unknown = m;
  for (const part of path.split(".")) {
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    if (!isObject || !Object.hasOwn(value as object, part)) return { found: false, value: undefined };
    value = (value as Record<string, unknown>)[part];
  }
  return value === undefined ? { found: false, value } : { found: true, value };
}

function referenceOp(op: string, operand: unknown, found: boolean, value: unknown): boolean {
  const elements: unknown[] = Array.isArray(value) ? value : [value];
  const same = (a: unknown, b: unknown) => a === b;
  const ordered = (a: unknown, b: unknown, cmp: (x: number | string, y: number | string) => boolean) =>
    (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string") ? cmp(a, b) : false;
  switch (op) {
    case "$eq":
      return found && elements.some((e) => same(e, operand));
    case "$ne":
      return !referenceOp("$eq", operand, found, value);
    case "$gt":
      return found && elements.some((e) => ordered(e, operand, (x, y) => x > y));
    case "$gte":
      return found && elements.some((e) => ordered(e, operand, (x, y) => x >= y));
    case "$lt":
      return found && elements.some((e) => ordered(e, operand, (x, y) => x < y));
    case "$lte":
      return found && elements.some((e) => ordered(e, operand, (x, y) => x <= y));
    case "$in":
      return (operand as unknown[]).some((x) => referenceOp("$eq", x, found, value));
    case "$nin":
      return !referenceOp("$in", operand, found, value);
    case "$exists":
      return found === operand;
    case "$contains":
      if (!found) return false;
      if (Array.isArray(value)) return value.some((e) => same(e, operand));
      return typeof value === "string" && typeof operand === "string" && value.indexOf(operand) !== -1;
    case "$not_contains":
      return !referenceOp("$contains", operand, found, value);
    default:
      throw new Error(`reference evaluator: unexpected operator ${op}`);
  }
}

function referenceMatch(where: Where, metadata: Meta): boolean {
  return Object.entries(where).every(([key, v]) => {
    if (key === "$and") return (v as Where[]).every((w) => referenceMatch(w, metadata));
    if (key === "$or") return (v as Where[]).some((w) => referenceMatch(w, metadata));
    if (key === "$not") return !referenceMatch(Array.isArray(v) ? (v[0] as Where) : (v as Where), metadata);
    const { found, value } = lookup(metadata, key);
    const isOps = typeof v === "object" && v !== null;
    const ops = isOps ? Object.entries(v) : [["$eq", v] as const];
    return ops.every(([op, operand]) => referenceOp(op, operand, found, value));
  });
}

const LITERALS = [0, 1, 2, -1, 2.5, "", "a", "ab", "b", "1", "2", true, false] as const;
const literal = fc.constantFrom(...LITERALS);
const literalOrNull = fc.oneof(literal, fc.constant(null));
const bound = fc.constantFrom(0, 1, 2, -1, 2.5, "", "a", "ab", "b", "1", "2");
const FILTER_PATHS = ["a", "b", "c", "a.b", "n", "n.x", "n.y.z", "n.q", "zz", "constructor"] as const;

const opEntry: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom("$eq", "$ne"), literalOrNull),
  fc.tuple(fc.constantFrom("$gt", "$gte", "$lt", "$lte"), bound),
  fc.tuple(fc.constantFrom("$in", "$nin"), fc.array(literalOrNull, { maxLength: 12 })),
  fc.tuple(fc.constant("$exists"), fc.boolean()),
  fc.tuple(fc.constantFrom("$contains", "$not_contains"), literal),
);
const fieldValue = fc.oneof(literalOrNull, fc.array(opEntry, { minLength: 1, maxLength: 3 }).map((e) => Object.fromEntries(e)));
const fieldFilter: fc.Arbitrary<Where> = fc
  .array(fc.tuple(fc.constantFrom(...FILTER_PATHS), fieldValue), { maxLength: 3 })
  .map((entries) => Object.fromEntries(entries) as Where);

function whereAtDepth(depth: number): fc.Arbitrary<Where> {
  let level = fieldFilter;
  for (let d = 0; d < depth; d++) {
    const inner = level;
    const children = fc.array(inner, { minLength: 1, maxLength: 3 });
    level = fc.oneof(
      { weight: 2, arbitrary: fieldFilter },
      { weight: 1, arbitrary: children.map((c): Where => ({ $and: c })) },
      { weight: 1, arbitrary: children.map((c): Where => ({ $or: c })) },
      { weight: 1, arbitrary: inner.map((w): Where => ({ $not: w })) },
      { weight: 1, arbitrary: inner.map((w): Where => ({ $not: [w] })) },
      { weight: 1, arbitrary: fc.tuple(fieldFilter, children).map(([f, c]): Where => ({ ...f, $or: c })) },
    );
  }
  return level;
}

const where = whereAtDepth(3);
const metaValue = fc.oneof(literalOrNull, fc.array(literalOrNull, { maxLength: 3 }));
const metadataArb: fc.Arbitrary<Meta> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  {
    weight: 8,
    arbitrary: fc.record(
      {
        a: fc.oneof(metaValue, fc.record({ b: metaValue }, { requiredKeys: [] })),
        b: metaValue,
        c: metaValue,
        "a.b": metaValue,
        n: fc.oneof(metaValue, fc.record({ x: metaValue, y: fc.oneof(metaValue, fc.record({ z: metaValue })) }, { requiredKeys: [] })),
        constructor: metaValue,
      },
      { requiredKeys: [] },
    ),
  },
);

describe("evaluateFilter properties", () => {
  it("agrees with the reference evaluator, walked and compiled", () => {
    fc.assert(
      fc.property(where, metadataArb, (f, m) => {
        const node = parseFilter(f);
        const expected = referenceMatch(f, m);
        expect(evaluateFilter(node, m)).toBe(expected);
        expect(compileFilter(node)(m)).toBe(expected);
      }),
      { seed: 20260101, numRuns: 3000 },
    );
  });

  it("$not of a filter is its negation, in both forms", () => {
    fc.assert(
      fc.property(where, metadataArb, (f, m) => {
        const plain = evaluateFilter(parseFilter(f), m);
        expect(evaluateFilter(parseFilter({ $not: f }), m)).toBe(!plain);
        expect(evaluateFilter(parseFilter({ $not: [f] }), m)).toBe(!plain);
        expect(compileFilter(parseFilter({ $not: f }))(m)).toBe(!plain);
      }),
      { seed: 7, numRuns: 1500 },
    );
  });

  it("produces matches and non-matches (the generator is not degenerate)", () => {
    const samples = fc.sample(fc.tuple(where, metadataArb), { seed: 3, numRuns: 500 });
    const hits = samples.filter(([f, m]) => evaluateFilter(parseFilter(f), m)).length;
    expect(hits).toBeGreaterThan(50);
    expect(hits).toBeLessThan(450);
  });
});
