import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, ValidationError } from "../errors.js";
import { evaluateFilter } from "./evaluate-filter.js";
import type { FilterNode, Where } from "./filter-ast.js";
import { FilterIndex } from "./filter-index.js";
import { parseFilter } from "./parse-filter.js";

type Meta = Record<string, unknown> | null | undefined;

/** Scans `records` with the reference evaluator: the ascending slots matching `node`. */
function scan(records: ReadonlyMap<number, Meta>, node: FilterNode): number[] {
  const out: number[] = [];
  for (const [slot, meta] of records) if (evaluateFilter(node, meta)) out.push(slot);
  return out.sort((a, b) => a - b);
}

/** Asserts the index gives exactly the scan's slots for `node`, and an estimate no smaller. */
function expectAgrees(index: FilterIndex, records: ReadonlyMap<number, Meta>, node: FilterNode, label = ""): void {
  const expected = scan(records, node);
  const match = index.evaluate(node);
  expect(match.exact).toBe(true);
  expect(match.count, label).toBe(expected.length);
  expect(Array.from(match.slots), label).toEqual(expected);
  expect(index.estimate(node), label).toBeGreaterThanOrEqual(expected.length);
  const want = new Set(expected);
  let wrong = 0;
  for (const slot of records.keys()) if (match.has(slot) !== want.has(slot)) wrong++;
  expect(wrong, label).toBe(0);
}

// ---------------------------------------------------------------------------------------------------
// Conformance: the rows of evaluate-filter.test.ts, answered through the index.

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

interface Case {
  name: string;
  filter: Where | undefined;
  metadata: Meta;
  expected: boolean;
}

const TABLE: Case[] = [
  { name: "bare string equals", filter: { title: "Deep Learning" }, metadata: BOOK, expected: true },
  { name: "bare string is case-sensitive", filter: { title: "deep learning" }, metadata: BOOK, expected: false },
  { name: "$eq number", filter: { year: { $eq: 2020 } }, metadata: BOOK, expected: true },
  { name: "$eq number differs", filter: { year: { $eq: 2021 } }, metadata: BOOK, expected: false },
  { name: "$eq float", filter: { rating: 4.5 }, metadata: BOOK, expected: true },
  { name: "bare true", filter: { published: true }, metadata: BOOK, expected: true },
  { name: "bare true on false", filter: { draft: true }, metadata: BOOK, expected: false },
  { name: "$eq false", filter: { draft: { $eq: false } }, metadata: BOOK, expected: true },
  { name: "$ne other value", filter: { year: { $ne: 2021 } }, metadata: BOOK, expected: true },
  { name: "$ne same value", filter: { year: { $ne: 2020 } }, metadata: BOOK, expected: false },
  { name: "$ne boolean", filter: { published: { $ne: false } }, metadata: BOOK, expected: true },
  { name: "$gt at boundary", filter: { year: { $gt: 2020 } }, metadata: BOOK, expected: false },
  { name: "$gte at boundary", filter: { year: { $gte: 2020 } }, metadata: BOOK, expected: true },
  { name: "$lt at boundary", filter: { year: { $lt: 2020 } }, metadata: BOOK, expected: false },
  { name: "$lte at boundary", filter: { year: { $lte: 2020 } }, metadata: BOOK, expected: true },
  { name: "$gt float", filter: { rating: { $gt: 4.49 } }, metadata: BOOK, expected: true },
  { name: "$lt negative", filter: { count: { $lt: -1 } }, metadata: BOOK, expected: false },
  { name: "$gt string", filter: { title: { $gt: "Alpha" } }, metadata: BOOK, expected: true },
  { name: "$lt string", filter: { title: { $lt: "Alpha" } }, metadata: BOOK, expected: false },
  { name: "$gte string uses code-unit order", filter: { title: { $gte: "a" } }, metadata: BOOK, expected: false },
  { name: "$lte equal string", filter: { yearStr: { $lte: "2020" } }, metadata: BOOK, expected: true },
  { name: "$gt string is lexicographic, not numeric", filter: { yearStr: { $gt: "10000" } }, metadata: BOOK, expected: true },
  { name: "$in hit", filter: { year: { $in: [2019, 2020] } }, metadata: BOOK, expected: true },
  { name: "$in miss", filter: { year: { $in: [2019] } }, metadata: BOOK, expected: false },
  { name: "$in empty list", filter: { year: { $in: [] } }, metadata: BOOK, expected: false },
  { name: "$in booleans", filter: { published: { $in: [true] } }, metadata: BOOK, expected: true },
  { name: "$in long list (set lookup)", filter: { year: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2020] } }, metadata: BOOK, expected: true },
  { name: "$in long list miss", filter: { year: { $in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "2020"] } }, metadata: BOOK, expected: false },
  { name: "$nin miss", filter: { year: { $nin: [2019] } }, metadata: BOOK, expected: true },
  { name: "$nin hit", filter: { year: { $nin: [2020, 2021] } }, metadata: BOOK, expected: false },
  { name: "$nin empty list", filter: { year: { $nin: [] } }, metadata: BOOK, expected: true },
  { name: "$exists true on present", filter: { year: { $exists: true } }, metadata: BOOK, expected: true },
  { name: "$exists false on present", filter: { year: { $exists: false } }, metadata: BOOK, expected: false },
  { name: "$exists true on missing", filter: { isbn: { $exists: true } }, metadata: BOOK, expected: false },
  { name: "$exists false on missing", filter: { isbn: { $exists: false } }, metadata: BOOK, expected: true },
  { name: "$contains substring", filter: { title: { $contains: "Learn" } }, metadata: BOOK, expected: true },
  { name: "$contains substring is case-sensitive", filter: { title: { $contains: "learn" } }, metadata: BOOK, expected: false },
  { name: "$contains empty substring", filter: { title: { $contains: "" } }, metadata: BOOK, expected: true },
  { name: "$contains number on string field: no coercion", filter: { yearStr: { $contains: 20 } }, metadata: BOOK, expected: false },
  { name: "$contains on number field", filter: { year: { $contains: 2 } }, metadata: BOOK, expected: false },
  { name: "$not_contains on number field is the negation", filter: { year: { $not_contains: 2 } }, metadata: BOOK, expected: true },
  { name: "$not_contains substring present", filter: { title: { $not_contains: "Deep" } }, metadata: BOOK, expected: false },
  { name: "$not_contains substring absent", filter: { title: { $not_contains: "Shallow" } }, metadata: BOOK, expected: true },
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
  { name: "$not object form, inner true", filter: { $not: { year: 2020 } }, metadata: BOOK, expected: false },
  { name: "$not object form, inner false", filter: { $not: { year: 2021 } }, metadata: BOOK, expected: true },
  { name: "$not array form, inner true", filter: { $not: [{ year: 2020 }] }, metadata: BOOK, expected: false },
  { name: "$not array form, inner false", filter: { $not: [{ year: 2021 }] }, metadata: BOOK, expected: true },
  { name: "$not of $eq on missing key is true (like $ne)", filter: { $not: { isbn: "x" } }, metadata: BOOK, expected: true },
  { name: "$not of several keys negates the conjunction", filter: { $not: { year: 2020, draft: true } }, metadata: BOOK, expected: true },
  { name: "$not of {} matches nothing", filter: { $not: {} }, metadata: BOOK, expected: false },
  { name: "double $not", filter: { $not: { $not: { year: 2020 } } }, metadata: BOOK, expected: true },
  { name: "$not of $exists false", filter: { $not: [{ editor: { $exists: false } }] }, metadata: BOOK, expected: true },
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
  { name: "{} matches a record", filter: {}, metadata: BOOK, expected: true },
  { name: "{} matches empty metadata", filter: {}, metadata: {}, expected: true },
  { name: "{} matches null metadata", filter: {}, metadata: null, expected: true },
  { name: "undefined filter matches", filter: undefined, metadata: BOOK, expected: true },
];

/** Every distinct metadata of the table, each in its own slot, so each case also sees the others. */
function tableIndex(): { index: FilterIndex; records: Map<number, Meta>; slotOf: Map<Meta, number> } {
  const index = new FilterIndex();
  const records = new Map<number, Meta>();
  const slotOf = new Map<Meta, number>();
  for (const { metadata } of TABLE) {
    if (slotOf.has(metadata)) continue;
    const slot = slotOf.size * 3 + 1; // leave holes: slots need not be dense
    slotOf.set(metadata, slot);
    records.set(slot, metadata);
    index.set(slot, metadata);
  }
  return { index, records, slotOf };
}

describe("FilterIndex conformance table (rows of evaluate-filter.test.ts)", () => {
  const { index, records, slotOf } = tableIndex();

  it.each(TABLE)("$name", ({ filter, metadata, expected }) => {
    const node = parseFilter(filter);
    expect(index.evaluate(node).has(slotOf.get(metadata)!)).toBe(expected);
    expectAgrees(index, records, node);
  });

  it.each(TABLE)("negation: $not of $name", ({ filter, metadata, expected }) => {
    const node = parseFilter({ $not: filter ?? {} });
    expect(index.evaluate(node).has(slotOf.get(metadata)!)).toBe(!expected);
    expectAgrees(index, records, node);
  });
});

const LLAMA_NODES = [
  { name: "Anakin", dogId: "1", private: "true", weight: 1.2, type: ["husky", "puppy"] },
  { name: "Luke", dogId: "2", private: "false", weight: 2.3, type: ["puppy"] },
  { name: "Leia", dogId: "3", private: "false", weight: 3.4, type: ["husky"] },
  { name: "Rex" },
];

const LLAMA_CASES: { title: string; where: Where | undefined; expected: string[] }[] = [
  { title: "No filter", where: undefined, expected: ["Anakin", "Luke", "Leia", "Rex"] },
  { title: "Filter with non-exist key", where: { "non-exist-key": { $eq: "cat" } }, expected: [] },
  { title: "Filter EQ", where: { private: { $eq: "false" } }, expected: ["Luke", "Leia"] },
  { title: "Filter NE (a node lacking the key matches)", where: { private: { $ne: "false" } }, expected: ["Anakin", "Rex"] },
  { title: "Filter GT", where: { weight: { $gt: 2.3 } }, expected: ["Leia"] },
  { title: "Filter GTE", where: { weight: { $gte: 2.3 } }, expected: ["Luke", "Leia"] },
  { title: "Filter LT", where: { weight: { $lt: 2.3 } }, expected: ["Anakin"] },
  { title: "Filter LTE", where: { weight: { $lte: 2.3 } }, expected: ["Anakin", "Luke"] },
  { title: "Filter IN", where: { dogId: { $in: ["1", "3"] } }, expected: ["Anakin", "Leia"] },
  { title: "Filter NIN", where: { name: { $nin: ["Anakin", "Leia"] } }, expected: ["Luke", "Rex"] },
  { title: "Filter ANY", where: { $or: [{ type: { $contains: "husky" } }, { type: { $contains: "puppy" } }] }, expected: ["Anakin", "Luke", "Leia"] },
  { title: "Filter ALL", where: { $and: [{ type: { $contains: "husky" } }, { type: { $contains: "puppy" } }] }, expected: ["Anakin"] },
  { title: "Filter CONTAINS", where: { type: { $contains: "puppy" } }, expected: ["Anakin", "Luke"] },
  { title: "Filter TEXT_MATCH", where: { name: { $contains: "Luk" } }, expected: ["Luke"] },
  {
    title: "Filter IS_EMPTY",
    where: { $or: [{ "not-exist-key": { $exists: false } }, { "not-exist-key": { $in: [null, ""] } }] },
    expected: ["Anakin", "Luke", "Leia", "Rex"],
  },
  { title: "Filter OR", where: { $or: [{ private: { $eq: "false" } }, { dogId: { $in: ["1", "3"] } }] }, expected: ["Anakin", "Luke", "Leia"] },
  { title: "Filter AND", where: { $and: [{ private: { $eq: "false" } }, { dogId: { $eq: "10" } }] }, expected: [] },
];

describe("FilterIndex on the LlamaIndex SimpleVectorStore cases", () => {
  const index = new FilterIndex();
  LLAMA_NODES.forEach((m, slot) => index.set(slot, m));

  it.each(LLAMA_CASES)("$title", ({ where, expected }) => {
    const slots = Array.from(index.evaluate(parseFilter(where)).slots);
    expect(slots.map((s) => LLAMA_NODES[s]!.name)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property: random writes and random filters agree with a scan by evaluateFilter.

const LITERALS = [0, 1, 2, -1, 2.5, "", "a", "ab", "b", "1", "2", true, false] as const;
const literal = fc.constantFrom(...LITERALS);
const literalOrNull = fc.oneof(literal, fc.constant(null));
const bound = fc.constantFrom(0, 1, 2, -1, 2.5, "", "a", "ab", "b", "1", "2");
const FILTER_PATHS = ["a", "b", "c", "a.b", "n", "n.x", "n.y.z", "n.q", "t", "zz", "constructor", "x.y"] as const;

const opEntry: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom("$eq", "$ne"), literalOrNull),
  fc.tuple(fc.constantFrom("$gt", "$gte", "$lt", "$lte"), bound),
  fc.tuple(fc.constantFrom("$in", "$nin"), fc.array(literalOrNull, { maxLength: 6 })),
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
      { weight: 1, arbitrary: fc.tuple(fieldFilter, children).map(([f, c]): Where => ({ ...f, $or: c })) },
    );
  }
  return level;
}

const where = whereAtDepth(3);
// -0 and non-scalar array elements are legal for the evaluator, so the index must agree on them too.
const metaScalar = fc.oneof({ weight: 12, arbitrary: literalOrNull }, { weight: 1, arbitrary: fc.constant(-0) });
const metaValue = fc.oneof(
  { weight: 4, arbitrary: metaScalar },
  { weight: 2, arbitrary: fc.array(metaScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(metaScalar, fc.constant({}), fc.constant([1])), { maxLength: 3 }) },
);
const metadataArb: fc.Arbitrary<Meta> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, {}) },
  {
    weight: 10,
    arbitrary: fc.record(
      {
        a: fc.oneof(metaValue, fc.record({ b: metaValue, "c.d": metaValue }, { requiredKeys: [] })),
        b: metaValue,
        c: metaValue,
        "a.b": fc.oneof(metaValue, fc.constant(undefined)),
        n: fc.oneof(metaValue, fc.record({ x: metaValue, y: fc.oneof(metaValue, fc.record({ z: metaValue })) }, { requiredKeys: [] })),
        t: fc.array(fc.constantFrom("a", "b", "ab", 1, 2, true), { maxLength: 4 }),
        constructor: metaValue,
        "x.y": metaValue,
        x: fc.record({ y: metaValue }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
  },
);

type Op = { kind: "set"; slot: number; metadata: Meta } | { kind: "remove"; slot: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("set" as const), slot: fc.nat(23), metadata: metadataArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), slot: fc.nat(23) }) },
);

describe("FilterIndex properties", () => {
  it("agrees with a scan by evaluateFilter under random inserts, replacements and removals", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.array(where, { minLength: 1, maxLength: 4 }), (ops, filters) => {
        const index = new FilterIndex();
        const records = new Map<number, Meta>();
        const nodes = filters.map((f) => parseFilter(f));
        ops.forEach((o, step) => {
          if (o.kind === "set") {
            index.set(o.slot, o.metadata);
            records.set(o.slot, o.metadata);
          } else {
            index.remove(o.slot);
            records.delete(o.slot);
          }
          expect(index.size).toBe(records.size);
          // Query between writes too, so pending buffers are read as well as compacted data.
          if (step % 7 === 6 || step === ops.length - 1) for (const node of nodes) expectAgrees(index, records, node, JSON.stringify(node));
        });
      }),
      { seed: 20260417, numRuns: 600 },
    );
  });

  it("filters produce matches and non-matches (the generators are not degenerate)", () => {
    const samples = fc.sample(fc.tuple(where, metadataArb), { seed: 5, numRuns: 500 });
    const hits = samples.filter(([f, m]) => evaluateFilter(parseFilter(f), m)).length;
    expect(hits).toBeGreaterThan(50);
    expect(hits).toBeLessThan(450);
  });
});

// ---------------------------------------------------------------------------------------------------
// Larger seeded workloads: bitmaps, radix-sorted compactions, tombstones and pending buffers.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARTIES = ["Democratic", "Republican", "Whig", "Federalist", "None"];
const TAGS = ["war", "economy", "tax", "health", "rights", "trade"];

function sotuLike(r: () => number): Meta {
  const m: Record<string, unknown> = {
    year: 1790 + Math.floor(r() * 230),
    party: PARTIES[Math.floor(r() * r() * PARTIES.length)],
    president: `P${Math.floor(r() * 45)}`,
  };
  if (r() < 0.8) m["tags"] = TAGS.filter(() => r() < 0.3);
  if (r() < 0.1) m["score"] = r() < 0.5 ? r() * 10 - 5 : `s${Math.floor(r() * 50)}`;
  if (r() < 0.05) m["meta"] = { source: r() < 0.5 ? "web" : "print", pages: Math.floor(r() * 30) };
  if (r() < 0.02) m["flag"] = r() < 0.3 ? null : r() < 0.5;
  return m;
}

const WORKLOAD_FILTERS: Where[] = [
  { party: "Whig" },
  { party: { $ne: "Democratic" } },
  { year: { $gte: 1900, $lt: 1950 } },
  { year: { $gt: 2000 } },
  { year: { $lte: 1800 } },
  { $and: [{ party: "Republican" }, { year: { $gte: 1900, $lt: 1990 } }] },
  { year: { $in: [1790, 1800, 1850, 1900, 1950, 2000, 2001, 2002, 2003, 2019] } },
  { party: { $nin: ["Democratic", "Republican"] } },
  { tags: "war" },
  { tags: { $contains: "tax" } },
  { tags: { $not_contains: "tax" } },
  { tags: { $exists: false } },
  { $or: [{ tags: "health" }, { party: "Federalist" }, { year: 1999 }] },
  { $not: { $or: [{ party: "Democratic" }, { year: { $lt: 1900 } }] } },
  { president: { $gte: "P3", $lt: "P4" } },
  { president: { $contains: "1" } },
  { score: { $gt: 0 } },
  { score: { $lt: "s2" } },
  { "meta.source": "web", "meta.pages": { $gte: 10 } },
  { flag: null },
  { flag: { $ne: true } },
  { $and: [{ party: "None" }, { president: "P7" }, { tags: { $ne: "war" } }] },
  { $or: [{ year: { $lt: 1850 } }, { year: { $gt: 1990 } }, { tags: "war" }] },
  { $or: [{ score: { $exists: true } }, { tags: { $exists: false } }, { party: { $ne: "Whig" } }] },
  { $or: [{ $not: { year: { $gte: 1800 } } }, { tags: { $exists: true } }] },
  { $and: [{ tags: { $exists: true } }, { $not: { party: "None" } }, { year: { $gte: 1850 } }] },
];

describe("FilterIndex on seeded workloads", () => {
  it("matches the scan on 20,000 records through bulk load, churn and removal", () => {
    const r = rng(42);
    const index = new FilterIndex();
    const records = new Map<number, Meta>();
    const nodes = WORKLOAD_FILTERS.map((f) => parseFilter(f));
    const check = (phase: string) => nodes.forEach((node, i) => expectAgrees(index, records, node, `${phase} #${i}`));
    // Bulk load in slot order (as on open), then check.
    for (let s = 0; s < 20_000; s++) {
      const m = sotuLike(r);
      index.set(s, m);
      records.set(s, m);
    }
    check("bulk");
    // Churn: replace and remove random slots, querying in between.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3000; i++) {
        const slot = Math.floor(r() * 24_000);
        if (r() < 0.25) {
          index.remove(slot);
          records.delete(slot);
        } else {
          const m = sotuLike(r);
          index.set(slot, m);
          records.set(slot, m);
        }
      }
      check(`churn ${round}`);
    }
    // Remove most records: bitmaps turn back into arrays, columns compact away tombstones.
    for (const slot of [...records.keys()]) {
      if (r() < 0.995) {
        index.remove(slot);
        records.delete(slot);
      }
    }
    check("after removal");
    expect(index.size).toBe(records.size);
  });

  it("matches the scan when records arrive in random slot order with unique numbers and strings", () => {
    const r = rng(7);
    const index = new FilterIndex();
    const records = new Map<number, Meta>();
    const slots = Array.from({ length: 12_000 }, (_, i) => i);
    for (let i = slots.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    for (const slot of slots) {
      const z = r() < 0.5 ? 0 : -0;
      const m = { ts: r() * 2e6 - 1e6, name: `n${Math.floor(r() * 1e9)}`, neg: -Math.floor(r() * 100), z, zs: [z, 1] };
      index.set(slot, m);
      records.set(slot, m);
    }
    const filters: Where[] = [
      { ts: { $gte: -1000, $lt: 250_000 } },
      { ts: { $gt: 999_000 } },
      { name: { $gte: "n5", $lte: "n6" } },
      { name: { $contains: "77" } },
      { neg: { $in: [0, -1, -50, -99] } },
      { neg: { $gt: -10 }, ts: { $lt: 0 } },
      { z: 0 },
      { z: { $gte: 0, $lte: 0 } },
      { zs: 0 },
      { zs: { $in: [-0, 1] } },
      { zs: { $lte: -0 } },
      { $not: { ts: { $lt: 0 } } },
    ];
    for (const f of filters) expectAgrees(index, records, parseFilter(f), JSON.stringify(f));
  });
});

// ---------------------------------------------------------------------------------------------------
// Behaviour of the API itself

describe("FilterIndex API", () => {
  it("replaces a record's metadata on set and forgets it on remove", () => {
    const index = new FilterIndex();
    index.set(3, { color: "red", n: 1 });
    expect(Array.from(index.evaluate(parseFilter({ color: "red" })).slots)).toEqual([3]);
    index.set(3, { color: "blue" });
    expect(Array.from(index.evaluate(parseFilter({ color: "red" })).slots)).toEqual([]);
    expect(Array.from(index.evaluate(parseFilter({ n: { $exists: false } })).slots)).toEqual([3]);
    expect(index.pathCount).toBe(1);
    index.remove(3);
    index.remove(3);
    index.remove(99);
    expect(index.size).toBe(0);
    expect(index.has(3)).toBe(false);
    expect(index.pathCount).toBe(0);
    expect(Array.from(index.evaluate(parseFilter({ color: { $ne: "red" } })).slots)).toEqual([]);
  });

  it("counts records without metadata as live, so negations and {} include them", () => {
    const index = new FilterIndex();
    index.set(0, undefined);
    index.set(1, null);
    index.set(2, { k: 1 });
    expect(Array.from(index.evaluate(parseFilter({})).slots)).toEqual([0, 1, 2]);
    expect(Array.from(index.evaluate(parseFilter({ k: { $ne: 1 } })).slots)).toEqual([0, 1]);
    expect(Array.from(index.evaluate(parseFilter({ k: { $exists: false } })).slots)).toEqual([0, 1]);
  });

  it("returns slots that later writes do not change", () => {
    const index = new FilterIndex();
    for (let s = 0; s < 10; s++) index.set(s, { even: s % 2 === 0 });
    const before = index.evaluate(parseFilter({ even: true }));
    const all = index.evaluate(parseFilter({}));
    for (let s = 0; s < 10; s++) index.remove(s);
    expect(Array.from(before.slots)).toEqual([0, 2, 4, 6, 8]);
    expect(all.slots.length).toBe(10);
    expect(before.has(4)).toBe(true);
    expect(before.has(5)).toBe(false);
  });

  it("keeps a large result's membership and slots fixed when the index changes afterwards", () => {
    const index = new FilterIndex();
    for (let s = 0; s < 5000; s++) index.set(s, { k: s % 2 });
    const all = index.evaluate(parseFilter({}));
    const present = index.evaluate(parseFilter({ k: { $exists: true } }));
    for (let s = 0; s < 5000; s += 3) index.remove(s);
    index.set(6000, { k: 1 });
    expect(all.count).toBe(5000);
    expect(all.has(0)).toBe(true);
    expect(all.has(6000)).toBe(false);
    expect(present.has(3)).toBe(true);
    expect(present.slots.length).toBe(5000);
    expect(present.slots[4999]).toBe(4999);
  });

  it("resolves paths with empty segments and dotted keys the way evaluateFilter does", () => {
    const metas: Meta[] = [
      { "": { x: 1 }, a: { "": 2, "b.c": 3, b: { c: 4 } }, "a.": 5 },
      { a: { "": 6 }, ".x": 7 },
      { "a.b.c": 8, a: { b: { c: 9 } } },
      { "a.b": { c: 10 }, a: "s" },
    ];
    const index = new FilterIndex();
    const records = new Map<number, Meta>();
    metas.forEach((m, slot) => {
      index.set(slot, m);
      records.set(slot, m);
    });
    for (const path of [".x", "a.", "a..", "a.b.c", "a.b", "a", ""]) {
      if (path === "") continue; // not a valid filter path
      for (const where of [{ [path]: { $exists: true } }, { [path]: { $gte: 0 } }, { [path]: { $ne: 4 } }] as Where[]) {
        expectAgrees(index, records, parseFilter(where), JSON.stringify(where));
      }
    }
  });

  it("gives a NaN value (not JSON, but possible in a caller's object) presence only", () => {
    const index = new FilterIndex();
    const records = new Map<number, Meta>([
      [0, { x: Number.NaN, y: [Number.NaN, 1] }],
      [1, { x: 1, y: [2] }],
    ]);
    for (const [slot, m] of records) index.set(slot, m);
    for (const f of [{ x: { $exists: true } }, { x: { $gte: 0 } }, { x: { $ne: 1 } }, { y: { $lt: 5 } }, { y: { $nin: [1] } }] as Where[]) {
      expectAgrees(index, records, parseFilter(f), JSON.stringify(f));
    }
    index.set(0, { x: 2 });
    records.set(0, { x: 2 });
    expectAgrees(index, records, parseFilter({ x: { $gt: 0 } }));
  });

  it("treats an own __proto__ key (as JSON.parse makes it) as an ordinary key", () => {
    const index = new FilterIndex();
    const m = JSON.parse('{"__proto__": "x", "a": {"__proto__": 5}}') as Record<string, unknown>;
    const records = new Map<number, Meta>([
      [0, m],
      [1, { a: 1 }],
    ]);
    index.set(0, m);
    index.set(1, { a: 1 });
    for (const f of [{ __proto__: "x" }, { "a.__proto__": 5 }, { "a.__proto__": { $exists: false } }] as Where[]) {
      const node = parseFilter(JSON.parse(JSON.stringify(f)));
      expectAgrees(index, records, node, JSON.stringify(f));
    }
  });

  it("clear() empties the index", () => {
    const index = new FilterIndex();
    for (let s = 0; s < 5000; s++) index.set(s, { g: s % 3 });
    index.clear();
    expect(index.size).toBe(0);
    expect(index.evaluate(parseFilter({})).slots.length).toBe(0);
    index.set(2, { g: 0 });
    expect(Array.from(index.evaluate(parseFilter({ g: { $lte: 0 } })).slots)).toEqual([2]);
  });

  it("estimates equality and ranges exactly when nothing is pending, and bounds the rest", () => {
    const index = new FilterIndex();
    for (let s = 0; s < 30_000; s++) index.set(s, { g: s % 10, h: `v${s % 4}` });
    expect(index.estimate(parseFilter({ g: 3 }))).toBe(3000);
    expect(index.estimate(parseFilter({ g: { $gte: 2, $lt: 5 } }))).toBe(9000);
    expect(index.estimate(parseFilter({ h: { $in: ["v1", "v2", "nope"] } }))).toBe(15_000);
    expect(index.estimate(parseFilter({ g: { $ne: 3 } }))).toBe(27_000);
    expect(index.estimate(parseFilter({ g: 3, h: "v1" }))).toBe(3000);
    expect(index.estimate(parseFilter({ missing: 1 }))).toBe(0);
    expect(index.estimate(parseFilter({}))).toBe(30_000);
  });

  it("rejects a slot that is not a non-negative integer", () => {
    const index = new FilterIndex();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 32]) {
      const err = (() => {
        try {
          index.set(bad, {});
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe(ErrorCode.INVALID_OPTION);
    }
  });
});
