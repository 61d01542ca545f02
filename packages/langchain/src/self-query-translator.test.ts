import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SelfQueryRetriever } from "@langchain/classic/retrievers/self_query";
import { Document } from "@langchain/core/documents";
import { Comparison, Operation, StructuredQuery, castValue, type FilterDirective } from "@langchain/core/structured_query";
import { RunnableLambda } from "@langchain/core/runnables";
import { parseFilter, type Where } from "@omendb/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HashEmbeddings } from "../test/fake-embeddings.js";
import { OmenDBTranslator, OmenDBVectorStore } from "./index.js";

const movies = [
  { id: "m1", text: "a crew travels through a wormhole", meta: { title: "Interstellar", genre: "scifi", year: 2014, rating: 8.7, director: "Nolan", classic: false } },
  { id: "m2", text: "dreams inside dreams inside dreams", meta: { title: "Inception", genre: "scifi", year: 2010, rating: 8.8, director: "Nolan", classic: false } },
  { id: "m3", text: "a mob family passes power to a son", meta: { title: "The Godfather", genre: "drama", year: 1972, rating: 9.2, classic: true } },
  { id: "m4", text: "toys come alive when nobody watches", meta: { title: "Toy Story", genre: "animated", year: 1995, rating: 8.3, classic: true } },
  { id: "m5", text: "a banker escapes a prison over decades", meta: { title: "Shawshank", genre: "drama", year: 1994, rating: 9.3, classic: true } },
  { id: "m6", text: "robots fight dinosaurs on a summer day", meta: { title: "Mecha Rex", year: 2003, rating: 4.1 } },
  { id: "m7", text: "replicants question what it means to be human", meta: { title: "Blade Runner", genre: "scifi", year: 1982, rating: 8.1, classic: true } },
];

/** An independent reference evaluator of LangChain's IR with OmenDB's documented semantics. */
function holds(expr: FilterDirective, meta: Record<string, unknown>): boolean {
  if (expr instanceof Operation) {
    const args = expr.args ?? [];
    if (expr.operator === "and") return args.every((a) => holds(a, meta));
    if (expr.operator === "or") return args.some((a) => holds(a, meta));
    return !args.some((a) => holds(a, meta)); // not(...): none holds
  }
  const c = expr as Comparison;
  const want = castValue(c.value);
  const have = meta[c.attribute];
  const comparable = (typeof have === "number" && typeof want === "number") || (typeof have === "string" && typeof want === "string");
  switch (c.comparator) {
    case "eq":
      return have === want;
    case "ne":
      return have !== want;
    case "gt":
      return comparable && (have as number) > (want as number);
    case "gte":
      return comparable && (have as number) >= (want as number);
    case "lt":
      return comparable && (have as number) < (want as number);
    case "lte":
      return comparable && (have as number) <= (want as number);
  }
  throw new Error(`unexpected comparator ${c.comparator}`);
}

let tmp: string;
let store: OmenDBVectorStore;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  store = await OmenDBVectorStore.fromDocuments(
    movies.map((m) => new Document({ id: m.id, pageContent: m.text, metadata: m.meta })),
    new HashEmbeddings(64),
    { path: tmp, durability: "none" },
  );
});
afterAll(async () => {
  await store.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("OmenDBTranslator output", () => {
  const t = new OmenDBTranslator();

  test("allows and/or/not and the six comparators", () => {
    expect([...t.allowedOperators].sort()).toEqual(["and", "not", "or"]);
    expect([...t.allowedComparators].sort()).toEqual(["eq", "gt", "gte", "lt", "lte", "ne"]);
  });

  test("comparisons and operations in OmenDB's Where form; numeric strings become numbers", () => {
    expect(new Comparison("eq", "genre", "scifi").accept(t)).toEqual({ genre: { $eq: "scifi" } });
    expect(new Comparison("gte", "year", "2000").accept(t)).toEqual({ year: { $gte: 2000 } });
    expect(new Comparison("lt", "rating", "8.5").accept(t)).toEqual({ rating: { $lt: 8.5 } });
    const and = new Operation("and", [new Comparison("ne", "genre", "drama"), new Comparison("lte", "year", 2000)]);
    expect(and.accept(t)).toEqual({ $and: [{ genre: { $ne: "drama" } }, { year: { $lte: 2000 } }] });
    expect(new Operation("or", [new Comparison("gt", "rating", 9)]).accept(t)).toEqual({ $or: [{ rating: { $gt: 9 } }] });
    expect(new Operation("not", [new Comparison("eq", "genre", "scifi")]).accept(t)).toEqual({ $not: [{ genre: { $eq: "scifi" } }] });
    expect(new Operation("not", [new Comparison("eq", "genre", "scifi"), new Comparison("lt", "year", 1990)]).accept(t)).toEqual({
      $not: [{ $or: [{ genre: { $eq: "scifi" } }, { year: { $lt: 1990 } }] }],
    });
  });

  test("visitStructuredQuery and mergeFilters", () => {
    expect(t.visitStructuredQuery(new StructuredQuery("space", new Comparison("eq", "genre", "scifi")))).toEqual({ filter: { genre: { $eq: "scifi" } } });
    expect(t.visitStructuredQuery(new StructuredQuery("space"))).toEqual({});
    const merged = t.mergeFilters({ classic: { $eq: true } }, { genre: { $eq: "scifi" } }, "and");
    expect(merged).toEqual({ $and: [{ classic: { $eq: true } }, { genre: { $eq: "scifi" } }] });
    expect(() => parseFilter(merged)).not.toThrow();
  });

  test("restricting the operators is honoured", () => {
    const noNot = new OmenDBTranslator({ allowedOperators: ["and", "or"] });
    expect(() => new Operation("not", [new Comparison("eq", "a", 1)]).accept(noNot)).toThrow(/not allowed/);
  });
});

// Filter expressions as an LLM's query constructor yields them (LangChain's IR). Parsing the LLM's
// text form (`and(eq("a", 1), …)`) needs the optional `peggy` package, which is not installed here,
// so the IR is built directly.
const eq = (a: string, v: string | number | boolean) => new Comparison<string | number | boolean>("eq", a, v);
const ne = (a: string, v: string | number) => new Comparison("ne", a, v);
const gt = (a: string, v: string | number) => new Comparison("gt", a, v);
const gte = (a: string, v: string | number) => new Comparison("gte", a, v);
const lt = (a: string, v: string | number) => new Comparison("lt", a, v);
const lte = (a: string, v: string | number) => new Comparison("lte", a, v);
const and = (...args: FilterDirective[]) => new Operation("and", args);
const or = (...args: FilterDirective[]) => new Operation("or", args);
const not = (...args: FilterDirective[]) => new Operation("not", args);

describe("round trip: IR → OmenDBTranslator → parseFilter → search, against a reference evaluator", () => {
  const translator = new OmenDBTranslator();
  const cases: [string, FilterDirective][] = [
    ['eq("genre", "scifi")', eq("genre", "scifi")],
    ['ne("genre", "scifi")', ne("genre", "scifi")],
    ['gt("year", 2000)', gt("year", 2000)],
    ['gte("year", "2010")', gte("year", "2010")],
    ['and(gte("year", 1990), lt("year", 2010))', and(gte("year", 1990), lt("year", 2010))],
    ['or(eq("genre", "drama"), gt("rating", 8.75))', or(eq("genre", "drama"), gt("rating", 8.75))],
    ['not(eq("genre", "scifi"))', not(eq("genre", "scifi"))],
    ['not(eq("genre", "scifi"), lt("year", 1990))', not(eq("genre", "scifi"), lt("year", 1990))],
    ['and(or(eq("genre", "scifi"), eq("genre", "drama")), not(lt("rating", 8.5)))', and(or(eq("genre", "scifi"), eq("genre", "drama")), not(lt("rating", 8.5)))],
    ['eq("director", "Nolan")', eq("director", "Nolan")],
    ['ne("director", "Nolan")', ne("director", "Nolan")],
    ['lte("title", "M")', lte("title", "M")],
    ['eq("classic", true)', eq("classic", true)],
    ['and(eq("genre", "scifi"))', and(eq("genre", "scifi"))],
    ['gt("genre", 3) (mismatched types match nothing)', gt("genre", 3)],
  ];

  test.each(cases)("%s", async (_name, ir) => {
    const where = translator.visitStructuredQuery(new StructuredQuery("", ir)).filter as Where;
    expect(() => parseFilter(where)).not.toThrow();
    const expected = movies.filter((m) => holds(ir, m.meta)).map((m) => m.id).sort();
    const got = (await store.similaritySearch("a movie", movies.length, where)).map((d) => d.id).sort();
    expect(got).toEqual(expected);
  });

  test("the table is not trivial: every case but the last selects some but not all movies, and most differ", () => {
    const selections = new Set<string>();
    for (const [name, ir] of cases.slice(0, -1)) {
      const ids = movies.filter((m) => holds(ir, m.meta)).map((m) => m.id);
      expect(ids.length, name).toBeGreaterThan(0);
      expect(ids.length, name).toBeLessThan(movies.length);
      selections.add(ids.join());
    }
    expect(selections.size).toBeGreaterThanOrEqual(9);
  });
});

test("SelfQueryRetriever over OmenDB: generated filters, merged default filters, no filter", async () => {
  // A scripted query constructor stands in for prompt → LLM → parser (see the note above).
  const script: Record<string, StructuredQuery> = {
    "recent science fiction about dreams": new StructuredQuery("dreams inside dreams", and(eq("genre", "scifi"), gte("year", 2005))),
    "dramas about prison": new StructuredQuery("a banker escapes a prison", eq("genre", "drama")),
    "prison escape": new StructuredQuery("a banker escapes a prison"),
  };
  const queryConstructor = RunnableLambda.from(({ query }: { query: string }) => script[query]!);
  const retriever = new SelfQueryRetriever({
    vectorStore: store,
    queryConstructor,
    structuredQueryTranslator: new OmenDBTranslator(),
    searchParams: { k: 10 },
  });
  expect((await retriever.invoke("recent science fiction about dreams")).map((d) => d.id)).toEqual(["m2", "m1"]);
  const unfiltered = await retriever.invoke("prison escape");
  expect(unfiltered).toHaveLength(movies.length);
  expect(unfiltered[0]!.id).toBe("m5");

  const withDefault = new SelfQueryRetriever({
    vectorStore: store,
    queryConstructor,
    structuredQueryTranslator: new OmenDBTranslator(),
    searchParams: { k: 10, filter: { classic: { $eq: true } }, mergeFiltersOperator: "and" },
  });
  // { $and: [default, generated] }: classic dramas only.
  expect((await withDefault.invoke("dramas about prison")).map((d) => d.id)).toEqual(["m5", "m3"]);
});
