/**
 * Filter conformance through `OmenDBVectorStore.query`, checked side by side against LlamaIndex.TS's
 * own `SimpleVectorStore` as the oracle.
 *
 * Part 1 ports the 17 cases of LlamaIndexTS `packages/llamaindex/tests/vector-stores/SimpleVectorStore.test.ts`
 * (same three nodes, same expected counts; here the ids are checked too). Part 2 lists where we differ
 * on purpose (the missing-key rule, array fields, substrings), with both stores' answers. Part 3 covers
 * cases both agree on beyond the upstream table, and part 4 what only we accept (booleans, nesting).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NodeRelationship, SimpleVectorStore, TextNode, VectorStoreQueryMode, type Metadata, type MetadataFilters } from "llamaindex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OmenDBVectorStore } from "../src/index.js";
import { HashEmbedding } from "./hash-embedding.js";

const embedModel = new HashEmbedding(2);

function makeNodes(extended: boolean): TextNode[] {
  const rows: Array<[string, Metadata, Metadata]> = [
    ["1", { name: "Anakin", dogId: "1", private: "true", weight: 1.2, type: ["husky", "puppy"] }, { owner: "Padme", notes: "", vaccinated: true }],
    ["2", { name: "Luke", dogId: "2", private: "false", weight: 2.3, type: ["puppy"] }, { notes: [], vaccinated: false }],
    ["3", { name: "Leia", dogId: "3", private: "false", weight: 3.4, type: ["husky"] }, { notes: "scar" }],
  ];
  return rows.map(
    ([id, base, extra]) =>
      new TextNode({
        id_: id,
        embedding: [0.1, 0.2],
        text: `The dog ${id}`,
        metadata: extended ? { ...base, ...extra } : base,
        // A source makes SimpleVectorStore record the metadata (it skips nodes without one).
        relationships: { [NodeRelationship.SOURCE]: { nodeId: `doc-${id}`, metadata: {} } },
      }),
  );
}

interface Case {
  title: string;
  filters?: MetadataFilters;
  /** Our answer (node ids, sorted). */
  ours: string[];
  /** SimpleVectorStore's answer, or "throws". Omitted: same as ours. */
  simple?: string[] | "throws";
}

const f = (key: string, operator: string, value?: unknown) => ({ key, operator, value }) as MetadataFilters["filters"][number];
const all = (...filters: unknown[]) => ({ filters, condition: "and" }) as MetadataFilters;
const any = (...filters: unknown[]) => ({ filters, condition: "or" }) as MetadataFilters;

const upstreamCases: Case[] = [
  { title: "No filter", ours: ["1", "2", "3"] },
  { title: "Filter with non-exist key", filters: all(f("non-exist-key", "==", "cat")), ours: [] },
  { title: "Filter EQ", filters: all(f("private", "==", "false")), ours: ["2", "3"] },
  { title: "Filter NE", filters: all(f("private", "!=", "false")), ours: ["1"] },
  { title: "Filter GT", filters: all(f("weight", ">", 2.3)), ours: ["3"] },
  { title: "Filter GTE", filters: all(f("weight", ">=", 2.3)), ours: ["2", "3"] },
  { title: "Filter LT", filters: all(f("weight", "<", 2.3)), ours: ["1"] },
  { title: "Filter LTE", filters: all(f("weight", "<=", 2.3)), ours: ["1", "2"] },
  { title: "Filter IN", filters: all(f("dogId", "in", ["1", "3"])), ours: ["1", "3"] },
  { title: "Filter NIN", filters: all(f("name", "nin", ["Anakin", "Leia"])), ours: ["2"] },
  { title: "Filter ANY", filters: all(f("type", "any", ["husky", "puppy"])), ours: ["1", "2", "3"] },
  { title: "Filter ALL", filters: all(f("type", "all", ["husky", "puppy"])), ours: ["1"] },
  { title: "Filter CONTAINS", filters: all(f("type", "contains", "puppy")), ours: ["1", "2"] },
  { title: "Filter TEXT_MATCH", filters: all(f("name", "text_match", "Luk")), ours: ["2"] },
  { title: "Filter IS_EMPTY", filters: all(f("not-exist-key", "is_empty")), ours: ["1", "2", "3"] },
  { title: "Filter OR", filters: any(f("private", "==", "false"), f("dogId", "in", ["1", "3"])), ours: ["1", "2", "3"] },
  { title: "Filter AND", filters: all(f("private", "==", "false"), f("dogId", "==", "10")), ours: [] },
];

// Extended nodes: owner only on 1; notes "" / [] / "scar"; vaccinated true / false / missing.
const differences: Case[] = [
  { title: "!= matches records lacking the key", filters: all(f("owner", "!=", "Obi-Wan")), ours: ["1", "2", "3"], simple: ["1"] },
  { title: "nin matches records lacking the key", filters: all(f("owner", "nin", ["Obi-Wan"])), ours: ["1", "2", "3"], simple: ["1"] },
  { title: "== on an array field matches an element", filters: all(f("type", "==", "puppy")), ours: ["1", "2"], simple: [] },
  { title: "in on an array field matches an element", filters: all(f("type", "in", ["husky"])), ours: ["1", "3"], simple: [] },
  { title: "contains on a string field is a substring test", filters: all(f("name", "contains", "ak")), ours: ["1"], simple: [] },
  { title: "any on a string field tests substrings", filters: all(f("name", "any", ["ei", "uk"])), ours: ["2", "3"], simple: [] },
  { title: "an empty or-group matches everything", filters: any(), ours: ["1", "2", "3"], simple: [] },
  { title: "== accepts booleans", filters: all(f("vaccinated", "==", true)), ours: ["1"], simple: "throws" },
];

const sameBeyondUpstream: Case[] = [
  { title: "is_empty: empty string and empty array", filters: all(f("notes", "is_empty")), ours: ["1", "2"] },
  { title: "is_empty: missing key", filters: all(f("owner", "is_empty")), ours: ["2", "3"] },
  { title: "is_empty joined by and", filters: all(f("notes", "is_empty"), f("private", "==", "false")), ours: ["2"] },
  { title: "is_empty joined by or", filters: any(f("weight", ">", 3), f("notes", "is_empty")), ours: ["1", "2", "3"] },
  { title: "is_empty or ==", filters: any(f("owner", "==", "Padme"), f("notes", "is_empty")), ours: ["1", "2"] },
  { title: "two is_empty keys joined by or", filters: any(f("owner", "is_empty"), f("notes", "is_empty")), ours: ["1", "2", "3"] },
  { title: "two is_empty keys joined by and", filters: all(f("owner", "is_empty"), f("notes", "is_empty")), ours: ["2"] },
  { title: "text_match on an array field is membership", filters: all(f("type", "text_match", "husky")), ours: ["1", "3"] },
  { title: "text_match is case-sensitive", filters: all(f("name", "text_match", "luk")), ours: [] },
  { title: "in with numbers", filters: all(f("weight", "in", [1.2, 3.4])), ours: ["1", "3"] },
  { title: "> on strings", filters: all(f("name", ">", "Leia")), ours: ["2"] },
  { title: "in [] matches nothing", filters: all(f("dogId", "in", [])), ours: [] },
  { title: "nin [] matches everything", filters: all(f("dogId", "nin", [])), ours: ["1", "2", "3"] },
  { title: "ref_doc_id is filterable", filters: all(f("ref_doc_id", "==", "doc-2")), ours: ["2"] },
  { title: "doc_id is filterable", filters: all(f("doc_id", "in", ["doc-1", "doc-3"])), ours: ["1", "3"] },
  { title: "no type coercion: '1' is not 1", filters: all(f("dogId", "==", 1)), ours: [] },
];

const oursOnly: Case[] = [
  { title: "!= true matches false and missing", filters: all(f("vaccinated", "!=", true)), ours: ["2", "3"] },
  {
    title: "nested: and of or",
    filters: all(f("private", "==", "false"), any(f("weight", "<", 2), f("name", "==", "Leia"))),
    ours: ["3"],
  },
  {
    title: "nested: is_empty inside or inside and",
    filters: all(f("private", "==", "true"), any(f("notes", "is_empty"), f("dogId", "==", "3"))),
    ours: ["1"],
  },
  {
    title: "nested: is_empty inside and inside or",
    filters: any(all(f("notes", "is_empty"), f("weight", ">", 2)), f("name", "==", "Leia")),
    ours: ["2", "3"],
  },
];

let dir: string;
let store: OmenDBVectorStore;
let extendedStore: OmenDBVectorStore;
let simple: SimpleVectorStore;
let extendedSimple: SimpleVectorStore;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  store = new OmenDBVectorStore({ path: path.join(dir, "upstream"), embedModel, openOptions: { durability: "none" } });
  extendedStore = new OmenDBVectorStore({ path: path.join(dir, "extended"), embedModel, openOptions: { durability: "none" } });
  simple = new SimpleVectorStore({ embedModel });
  extendedSimple = new SimpleVectorStore({ embedModel });
  await store.add(makeNodes(false));
  await extendedStore.add(makeNodes(true));
  await simple.add(makeNodes(false));
  await extendedSimple.add(makeNodes(true));
});

afterAll(async () => {
  await store.close();
  await extendedStore.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function ids(target: OmenDBVectorStore | SimpleVectorStore, filters: MetadataFilters | undefined): Promise<string[]> {
  const result = await target.query({ queryEmbedding: [0.1, 0.2], similarityTopK: 3, mode: VectorStoreQueryMode.DEFAULT, filters });
  return [...result.ids].sort();
}

function table(name: string, cases: Case[], ours: () => OmenDBVectorStore, oracle?: () => SimpleVectorStore): void {
  describe(name, () => {
    for (const c of cases) {
      it(`[${c.title}] returns ${JSON.stringify(c.ours)}`, async () => {
        expect(await ids(ours(), c.filters)).toEqual(c.ours);
        if (oracle === undefined) return;
        if (c.simple === "throws") await expect(ids(oracle(), c.filters)).rejects.toThrow();
        else expect(await ids(oracle(), c.filters)).toEqual(c.simple ?? c.ours);
      });
    }
  });
}

table("SimpleVectorStore's 17 filter cases", upstreamCases, () => store, () => simple);
table("documented differences from SimpleVectorStore", differences, () => extendedStore, () => extendedSimple);
table("further cases where both agree", sameBeyondUpstream, () => extendedStore, () => extendedSimple);
table("filters only OmenDBVectorStore accepts", oursOnly, () => extendedStore);

describe("the upstream table itself", () => {
  it("has the 17 cases with upstream's expected counts", () => {
    expect(upstreamCases.map((c) => c.ours.length)).toEqual([3, 0, 2, 1, 1, 2, 1, 2, 2, 1, 3, 1, 2, 1, 3, 3, 0]);
  });
});
