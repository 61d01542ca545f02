import { describe, expect, it } from "vitest";
import { ChromaHttpError } from "./chroma-errors.js";
import { compileWhereDocument } from "./where-document.js";

describe("compileWhereDocument", () => {
  it("treats absent, null and {} as no filter", () => {
    expect(compileWhereDocument(undefined)).toBeUndefined();
    expect(compileWhereDocument(null)).toBeUndefined();
    expect(compileWhereDocument({})).toBeUndefined();
  });

  it("$contains is a case-sensitive substring test; null documents never match", () => {
    const p = compileWhereDocument({ $contains: "apple" })!;
    expect(p("an apple a day")).toBe(true);
    expect(p("An Apple")).toBe(false);
    expect(p(null)).toBe(false);
  });

  it("$not_contains matches records without a document", () => {
    const p = compileWhereDocument({ $not_contains: "apple" })!;
    expect(p("pear")).toBe(true);
    expect(p("apple pie")).toBe(false);
    expect(p(null)).toBe(true);
  });

  it("$regex and $not_regex use JavaScript regular expressions", () => {
    expect(compileWhereDocument({ $regex: "^doc \\d+$" })!("doc 12")).toBe(true);
    expect(compileWhereDocument({ $regex: "^doc \\d+$" })!("doc x")).toBe(false);
    expect(compileWhereDocument({ $not_regex: "z" })!(null)).toBe(true);
  });

  it("combines with $and and $or", () => {
    const p = compileWhereDocument({ $and: [{ $contains: "a" }, { $or: [{ $contains: "b" }, { $not_contains: "c" }] }] })!;
    expect(p("ab")).toBe(true);
    expect(p("a")).toBe(true);
    expect(p("ac")).toBe(false);
    expect(p("b")).toBe(false);
  });

  it.each([
    ["not an object", "apple"],
    ["two operators", { $contains: "a", $not_contains: "b" }],
    ["unknown operator", { $like: "a" }],
    ["non-string operand", { $contains: 3 }],
    ["empty $and", { $and: [] }],
    ["$or not an array", { $or: { $contains: "a" } }],
    ["bad nested clause", { $or: [{ $contains: "a" }, { $eq: "b" }] }],
    ["invalid regex", { $regex: "(" }],
  ])("rejects %s with BAD_REQUEST", (_label, value) => {
    let caught: unknown;
    try {
      compileWhereDocument(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ChromaHttpError);
    expect((caught as ChromaHttpError).code).toBe("BAD_REQUEST");
  });
});
