import { ErrorCode, ValidationError } from "@omendb/core";
import type { MetadataFilters } from "llamaindex/vector-store";
import { describe, expect, it } from "vitest";
import { compileMetadataFilters, isEmptyValue, MAX_IS_EMPTY_KEYS, type FilterRecord } from "./metadata-filters.js";

const record = (metadata: FilterRecord["metadata"]): FilterRecord => ({ id: "r", document: null, metadata });

function expectInvalid(filters: unknown): void {
  let caught: unknown;
  try {
    compileMetadataFilters(filters as MetadataFilters);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  expect((caught as ValidationError).code).toBe(ErrorCode.INVALID_FILTER);
}

describe("compileMetadataFilters", () => {
  it("matches everything without filters or with an empty list", () => {
    expect(compileMetadataFilters(undefined)).toEqual({ branches: [{}] });
    expect(compileMetadataFilters({ filters: [] })).toEqual({ branches: [{}] });
    expect(compileMetadataFilters({ filters: [], condition: "or" })).toEqual({ branches: [{}] });
  });

  it("maps each comparison operator to one core operator", () => {
    const one = (operator: string, value: unknown) =>
      compileMetadataFilters({ filters: [{ key: "k", operator, value }] } as MetadataFilters).branches;
    expect(one("==", "a")).toEqual([{ filter: { k: { $eq: "a" } } }]);
    expect(one("!=", 2)).toEqual([{ filter: { k: { $ne: 2 } } }]);
    expect(one(">", 2.5)).toEqual([{ filter: { k: { $gt: 2.5 } } }]);
    expect(one(">=", "b")).toEqual([{ filter: { k: { $gte: "b" } } }]);
    expect(one("<", 0)).toEqual([{ filter: { k: { $lt: 0 } } }]);
    expect(one("<=", -1)).toEqual([{ filter: { k: { $lte: -1 } } }]);
    expect(one("in", ["1", "3"])).toEqual([{ filter: { k: { $in: ["1", "3"] } } }]);
    expect(one("nin", [1])).toEqual([{ filter: { k: { $nin: [1] } } }]);
    expect(one("contains", "puppy")).toEqual([{ filter: { k: { $contains: "puppy" } } }]);
    expect(one("text_match", "Luk")).toEqual([{ filter: { k: { $contains: "Luk" } } }]);
    expect(one("any", ["a", "b"])).toEqual([{ filter: { $or: [{ k: { $contains: "a" } }, { k: { $contains: "b" } }] } }]);
    expect(one("all", ["a", "b"])).toEqual([{ filter: { $and: [{ k: { $contains: "a" } }, { k: { $contains: "b" } }] } }]);
    expect(one("any", ["a"])).toEqual([{ filter: { k: { $contains: "a" } } }]);
  });

  it("accepts booleans and null where core does, and a scalar where a list is expected", () => {
    const plan = compileMetadataFilters({
      filters: [
        { key: "flag", operator: "==", value: true as unknown as string },
        { key: "gone", operator: "!=", value: null as unknown as string },
        { key: "tag", operator: "in", value: "x" },
      ],
    });
    expect(plan.branches).toEqual([{ filter: { $and: [{ flag: { $eq: true } }, { gone: { $ne: null } }, { tag: { $in: ["x"] } }] } }]);
  });

  it("folds empty lists: in [] and any [] match nothing, nin [] matches everything", () => {
    expect(compileMetadataFilters({ filters: [{ key: "k", operator: "in", value: [] as string[] }] })).toEqual({ branches: [] });
    expect(compileMetadataFilters({ filters: [{ key: "k", operator: "any", value: [] as string[] }] })).toEqual({ branches: [] });
    expect(compileMetadataFilters({ filters: [{ key: "k", operator: "nin", value: [] as string[] }] })).toEqual({ branches: [{}] });
    const orWithNothing = compileMetadataFilters({
      filters: [
        { key: "k", operator: "in", value: [] as string[] },
        { key: "j", operator: "==", value: 1 },
      ],
      condition: "or",
    });
    expect(orWithNothing).toEqual({ branches: [{ filter: { j: { $eq: 1 } } }] });
  });

  it("keeps nesting and conditions (Python-style nested MetadataFilters)", () => {
    const nested = {
      filters: [
        { key: "a", operator: "==", value: 1 },
        {
          filters: [
            { key: "b", operator: ">", value: 2 },
            { key: "c", operator: "<", value: 3 },
          ],
          condition: "or",
        },
      ],
      condition: "and",
    } as unknown as MetadataFilters;
    expect(compileMetadataFilters(nested).branches).toEqual([
      { filter: { $and: [{ a: { $eq: 1 } }, { $or: [{ b: { $gt: 2 } }, { c: { $lt: 3 } }] }] } },
    ]);
  });

  it("turns an and-joined is_empty into one branch with a predicate", () => {
    const plan = compileMetadataFilters({
      filters: [
        { key: "a", operator: "==", value: 1 },
        { key: "e", operator: "is_empty" },
      ],
    });
    expect(plan.branches).toHaveLength(1);
    const [branch] = plan.branches;
    expect(branch!.filter).toEqual({ a: { $eq: 1 } });
    expect(branch!.predicate!(record({ a: 1 }))).toBe(true);
    expect(branch!.predicate!(record({ a: 1, e: [] }))).toBe(true);
    expect(branch!.predicate!(record({ a: 1, e: "" }))).toBe(true);
    expect(branch!.predicate!(record({ a: 1, e: null }))).toBe(true);
    expect(branch!.predicate!(record({ a: 1, e: "x" }))).toBe(false);
    expect(branch!.predicate!(record({ a: 1, e: [""] }))).toBe(false);
    expect(branch!.predicate!(record({ a: 1, e: 0 }))).toBe(false);
  });

  it("splits an or-joined is_empty into branches whose union is exact", () => {
    const plan = compileMetadataFilters({
      filters: [
        { key: "a", operator: "==", value: 1 },
        { key: "e", operator: "is_empty" },
      ],
      condition: "or",
    });
    // S = {} → a == 1; S = {e} → anything whose e is empty.
    expect(plan.branches).toHaveLength(2);
    expect(plan.branches[0]).toEqual({ filter: { a: { $eq: 1 } } });
    expect(plan.branches[1]!.filter).toBeUndefined();
    expect(plan.branches[1]!.predicate!(record({ e: [] }))).toBe(true);
    expect(plan.branches[1]!.predicate!(record({ e: [1] }))).toBe(false);
  });

  it("reads dotted keys like core: an exact key wins, otherwise it descends", () => {
    const [branch] = compileMetadataFilters({ filters: [{ key: "a.b", operator: "is_empty" }] }).branches;
    expect(branch!.predicate!(record({ a: { b: [] } }))).toBe(true);
    expect(branch!.predicate!(record({ a: { b: [1] } }))).toBe(false);
    expect(branch!.predicate!(record({ "a.b": "x", a: { b: [] } }))).toBe(false);
    expect(branch!.predicate!(record({ a: [] }))).toBe(true);
  });

  it("rejects bad filters with INVALID_FILTER", () => {
    expectInvalid({ filters: [{ key: "k", operator: "~", value: 1 }] });
    expectInvalid({ filters: [{ key: "", operator: "==", value: 1 }] });
    expectInvalid({ filters: [{ key: "k", operator: "==", value: [1] }] });
    expectInvalid({ filters: [{ key: "k", operator: "==" }] });
    expectInvalid({ filters: [{ key: "k", operator: ">", value: true }] });
    expectInvalid({ filters: [{ key: "k", operator: ">", value: Number.NaN }] });
    expectInvalid({ filters: [{ key: "k", operator: "in", value: [{}] }] });
    expectInvalid({ filters: [{ key: "k", operator: "all", value: [] }] });
    expectInvalid({ filters: [{ key: "k", operator: "text_match", value: ["a"] }] });
    expectInvalid({ filters: [{ key: "k", operator: "==", value: 1 }], condition: "not" });
    expectInvalid({ filters: "k == 1" });
    expectInvalid({ filters: [null] });
    const tooMany = Array.from({ length: MAX_IS_EMPTY_KEYS + 1 }, (_, i) => ({ key: `k${i}`, operator: "is_empty" }));
    expectInvalid({ filters: tooMany, condition: "or" });
  });
});

describe("isEmptyValue", () => {
  it("is true exactly for undefined, null, empty string and empty array", () => {
    expect([undefined, null, "", []].map(isEmptyValue)).toEqual([true, true, true, true]);
    expect([0, false, " ", [null], {}].map(isEmptyValue)).toEqual([false, false, false, false, false]);
  });
});
