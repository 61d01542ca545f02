import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, ValidationError } from "../errors.js";
import type { FilterNode } from "./filter-ast.js";
import { MAX_FILTER_DEPTH, parseFilter } from "./parse-filter.js";

const eq = (path: string, value: string | number | boolean | null): FilterNode => ({
  kind: "compare",
  path,
  op: "eq",
  value,
});

function expectInvalid(filter: unknown): ValidationError {
  let caught: unknown;
  try {
    parseFilter(filter);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  expect((caught as ValidationError).code).toBe(ErrorCode.INVALID_FILTER);
  return caught as ValidationError;
}

describe("parseFilter: normal forms", () => {
  it("reads a bare literal as $eq", () => {
    expect(parseFilter({ lang: "en" })).toEqual(eq("lang", "en"));
    expect(parseFilter({ n: 3 })).toEqual(eq("n", 3));
    expect(parseFilter({ ok: false })).toEqual(eq("ok", false));
    expect(parseFilter({ gone: null })).toEqual(eq("gone", null));
  });

  it("reads {} and undefined as all", () => {
    expect(parseFilter({})).toEqual({ kind: "all" });
    expect(parseFilter(undefined)).toEqual({ kind: "all" });
  });

  it("reads several keys as and, in key order", () => {
    expect(parseFilter({ a: 1, b: { $gt: 2 } })).toEqual({
      kind: "and",
      children: [eq("a", 1), { kind: "compare", path: "b", op: "gt", value: 2 }],
    });
  });

  it("reads several operators on one field as and", () => {
    expect(parseFilter({ year: { $gte: 2000, $lt: 2010 } })).toEqual({
      kind: "and",
      children: [
        { kind: "compare", path: "year", op: "gte", value: 2000 },
        { kind: "compare", path: "year", op: "lt", value: 2010 },
      ],
    });
  });

  it("maps every operator", () => {
    const cases: [string, unknown, string][] = [
      ["$eq", "x", "eq"],
      ["$ne", null, "ne"],
      ["$gt", 1, "gt"],
      ["$gte", "a", "gte"],
      ["$lt", -2.5, "lt"],
      ["$lte", 0, "lte"],
      ["$in", [1, "a", true, null], "in"],
      ["$nin", [], "nin"],
      ["$exists", false, "exists"],
      ["$contains", "x", "contains"],
      ["$not_contains", 3, "not_contains"],
    ];
    for (const [key, operand, op] of cases) {
      expect(parseFilter({ f: { [key]: operand } })).toEqual({ kind: "compare", path: "f", op, value: operand });
    }
  });

  it("flattens nested and/or and unwraps single children", () => {
    expect(parseFilter({ $and: [{ $and: [{ a: 1 }, { b: 2 }] }, { c: 3 }] })).toEqual({
      kind: "and",
      children: [eq("a", 1), eq("b", 2), eq("c", 3)],
    });
    expect(parseFilter({ $or: [{ a: 1 }, { $or: [{ b: 2 }, { c: 3 }] }] })).toEqual({
      kind: "or",
      children: [eq("a", 1), eq("b", 2), eq("c", 3)],
    });
    expect(parseFilter({ $or: [{ a: 1 }] })).toEqual(eq("a", 1));
    expect(parseFilter({ $and: [{ $or: [{ a: 1 }] }] })).toEqual(eq("a", 1));
    expect(parseFilter({ x: 0, $and: [{ a: 1, b: 2 }] })).toEqual({ kind: "and", children: [eq("x", 0), eq("a", 1), eq("b", 2)] });
  });

  it("keeps and inside or (and vice versa)", () => {
    expect(parseFilter({ $or: [{ a: 1, b: 2 }, { c: 3 }] })).toEqual({
      kind: "or",
      children: [{ kind: "and", children: [eq("a", 1), eq("b", 2)] }, eq("c", 3)],
    });
  });

  it("drops all from and; an or with all is all", () => {
    expect(parseFilter({ $and: [{}, { a: 1 }] })).toEqual(eq("a", 1));
    expect(parseFilter({ $and: [{}, {}] })).toEqual({ kind: "all" });
    expect(parseFilter({ $or: [{ a: 1 }, {}] })).toEqual({ kind: "all" });
  });

  it("accepts $not as a filter or a one-element array, and cancels double negation", () => {
    const inner = eq("a", 1);
    expect(parseFilter({ $not: { a: 1 } })).toEqual({ kind: "not", child: inner });
    expect(parseFilter({ $not: [{ a: 1 }] })).toEqual({ kind: "not", child: inner });
    expect(parseFilter({ $not: { $not: [{ a: 1 }] } })).toEqual(inner);
    expect(parseFilter({ $not: {} })).toEqual({ kind: "not", child: { kind: "all" } });
  });

  it("accepts dotted paths and keys that look like prototype members", () => {
    expect(parseFilter({ "author.name": "Ann" })).toEqual(eq("author.name", "Ann"));
    expect(parseFilter({ constructor: "x" })).toEqual(eq("constructor", "x"));
    expect(parseFilter({ "a b": 1 })).toEqual(eq("a b", 1));
  });

  it("accepts objects with a null prototype", () => {
    const where = Object.assign(Object.create(null) as object, { a: Object.assign(Object.create(null) as object, { $gt: 1 }) });
    expect(parseFilter(where)).toEqual({ kind: "compare", path: "a", op: "gt", value: 1 });
  });

  it("copies $in lists so later changes to the caller's object do not leak in", () => {
    const list = ["a", "b"];
    const node = parseFilter({ tag: { $in: list } });
    list.push("c");
    expect(node).toEqual({ kind: "compare", path: "tag", op: "in", value: ["a", "b"] });
  });

  it("refuses filters nested deeper than MAX_FILTER_DEPTH, at any depth of input", () => {
    const nest = (levels: number, wrap: (inner: object) => object) => {
      let where: object = { n: 1 };
      for (let i = 0; i < levels; i++) where = wrap(where);
      return where;
    };
    expect(() => parseFilter(nest(MAX_FILTER_DEPTH - 1, (w) => ({ $and: [w, { m: 2 }] })))).not.toThrow();
    for (const wrap of [(w: object) => ({ $not: w }), (w: object) => ({ $and: [w, { m: 2 }] }), (w: object) => ({ $or: [w] })]) {
      for (const levels of [MAX_FILTER_DEPTH, 100_000]) {
        const error = (() => {
          try {
            parseFilter(nest(levels, wrap));
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe(ErrorCode.INVALID_FILTER);
      }
    }
  });

  it("does not modify its input", () => {
    const where = { $and: [{ a: { $in: [1, 2] } }, { $not: [{ b: 1 }] }], c: "x" };
    const copy = structuredClone(where);
    parseFilter(where);
    expect(where).toEqual(copy);
  });
});

const INVALID: [string, unknown][] = [
  // the filter itself
  ["null filter", null],
  ["array filter", [{ a: 1 }]],
  ["string filter", "a = 1"],
  ["number filter", 1],
  ["Date filter", new Date(0)],
  ["class instance filter", new (class Where {})()],
  // logical operators
  ["$and empty", { $and: [] }],
  ["$and object", { $and: { a: 1 } }],
  ["$and null", { $and: null }],
  ["$and with a literal", { $and: [1] }],
  ["$and with null", { $and: [{ a: 1 }, null] }],
  ["$and with an array", { $and: [[{ a: 1 }]] }],
  ["$or empty", { $or: [] }],
  ["$or string", { $or: "a" }],
  ["$not empty array", { $not: [] }],
  ["$not two-element array", { $not: [{ a: 1 }, { b: 2 }] }],
  ["$not string", { $not: "a" }],
  ["$not null", { $not: null }],
  ["$not array of a literal", { $not: [1] }],
  ["$nor (not in our language)", { $nor: [{ a: 1 }] }],
  ["unknown top-level operator", { $where: "this.a > 1" }],
  ["field operator at top level", { $eq: 1 }],
  ["$in at top level", { $in: [1] }],
  // field paths
  ["empty field path", { "": 1 }],
  ["$-prefixed field path", { $field: 1 }],
  // field values
  ["empty operator object", { a: {} }],
  ["nested object as value", { a: { b: 1 } }],
  ["operators mixed with a plain key", { a: { $gt: 1, b: 2 } }],
  ["bare array", { a: [1, 2] }],
  ["bare undefined", { a: undefined }],
  ["bare NaN", { a: Number.NaN }],
  ["bare Infinity", { a: Number.POSITIVE_INFINITY }],
  ["bare bigint", { a: 1n }],
  ["bare function", { a: () => 1 }],
  ["bare symbol", { a: Symbol("x") }],
  ["bare Date", { a: new Date(0) }],
  ["bare RegExp", { a: /x/ }],
  // operators
  ["unknown operator", { a: { $regex: "x" } }],
  ["misspelt operator", { a: { $equals: 1 } }],
  ["field-level $not", { a: { $not: { $eq: 1 } } }],
  ["field-level $and", { a: { $and: [{ $gt: 1 }] } }],
  ["$eq undefined", { a: { $eq: undefined } }],
  ["$eq object", { a: { $eq: {} } }],
  ["$eq array", { a: { $eq: [1] } }],
  ["$eq NaN", { a: { $eq: Number.NaN } }],
  ["$ne Date", { a: { $ne: new Date(0) } }],
  ["$gt boolean", { a: { $gt: true } }],
  ["$gt null", { a: { $gt: null } }],
  ["$gte array", { a: { $gte: [1] } }],
  ["$lt object", { a: { $lt: {} } }],
  ["$lte -Infinity", { a: { $lte: Number.NEGATIVE_INFINITY } }],
  ["$gt NaN", { a: { $gt: Number.NaN } }],
  ["$lt undefined", { a: { $lt: undefined } }],
  ["$in string", { a: { $in: "x" } }],
  ["$in null", { a: { $in: null } }],
  ["$in nested array", { a: { $in: [[1]] } }],
  ["$in object element", { a: { $in: [1, {}] } }],
  ["$in undefined element", { a: { $in: [undefined] } }],
  ["$in NaN element", { a: { $in: [1, Number.NaN] } }],
  ["$nin object", { a: { $nin: { x: 1 } } }],
  ["$nin Infinity element", { a: { $nin: [Number.POSITIVE_INFINITY] } }],
  ["$exists number", { a: { $exists: 1 } }],
  ["$exists string", { a: { $exists: "true" } }],
  ["$exists null", { a: { $exists: null } }],
  ["$contains null", { a: { $contains: null } }],
  ["$contains array", { a: { $contains: ["x"] } }],
  ["$contains NaN", { a: { $contains: Number.NaN } }],
  ["$not_contains object", { a: { $not_contains: {} } }],
  ["$not_contains undefined", { a: { $not_contains: undefined } }],
  // errors deep inside a valid outer filter
  ["bad operand deep inside", { $or: [{ a: 1 }, { $and: [{ b: 2 }, { $not: [{ c: { $gt: false } }] }] }] }],
];

describe("parseFilter: invalid filters", () => {
  it.each(INVALID)("rejects %s", (_name, filter) => {
    expectInvalid(filter);
  });

  // The path prefix is part of the contract (errors.ts: "the message names the offending path");
  // only the prefix is checked, never the wording after it.
  it.each([
    [{ $and: [{ x: 1 }, { year: { $gt: true } }] }, "filter.$and[1].year.$gt: "],
    [{ $or: [{ $not: [{ a: { $in: [1, {}] } }] }] }, "filter.$or[0].$not[0].a.$in[1]: "],
    [{ "a.b": { $gt: null } }, 'filter["a.b"].$gt: '],
    [{ a: 1, $nor: [] }, "filter.$nor: "],
    [{ $not: { b: { c: 1 } } }, "filter.$not.b.c: "],
    [{ "": 1 }, 'filter[""]: '],
    [null, "filter: "],
  ])("names the offending path %#", (filter, prefix) => {
    expect(expectInvalid(filter).message.startsWith(prefix)).toBe(true);
  });

  it("throws only ValidationError INVALID_FILTER, whatever the input", () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }), (value) => {
        try {
          parseFilter(value);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).code).toBe(ErrorCode.INVALID_FILTER);
        }
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it("throws only ValidationError INVALID_FILTER on near-valid filters", () => {
    const ops = fc.constantFrom("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$contains", "$not_contains", "$and", "$or", "$not", "$x", "a", "");
    const junk = fc.oneof(fc.constantFrom(null, undefined, Number.NaN, 1, "s", true, [], {}, [1], [null], [{}]), fc.anything({ maxDepth: 1 }));
    const node: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        junk,
        fc.dictionary(ops, tie("node"), { maxKeys: 3 }),
        fc.array(tie("node"), { maxLength: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(node, (value) => {
        try {
          parseFilter(value);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).code).toBe(ErrorCode.INVALID_FILTER);
        }
      }),
      { seed: 12, numRuns: 2000 },
    );
  });
});
