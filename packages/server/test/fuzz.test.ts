/**
 * A seeded fuzzer of the HTTP surface. Requests are derived from the server's own request schemas
 * (`src/schemas.ts`, the objects `/openapi.json` is generated from): a generator walks each TypeBox
 * schema (objects, arrays, unions, literals, records, integers with minimums, unknown `where`
 * filters) to build a well-typed body, and a mutation then makes it hostile — a field replaced by a
 * wrong type, a huge or fractional number, a NaN-like string, deep nesting or an oversized array, a
 * required field removed, an unknown operator in `where`, a vector of the wrong dimension. Raw cases
 * send invalid UTF-8, broken JSON, JSON's forbidden NaN token, duplicate and `__proto__` keys, and
 * wrong or missing content types; paths get hostile collection ids and tenants.
 *
 * After every request: the status is never 5xx; a 4xx carries Chroma's error shape
 * `{ error: string, message: string }`; a rejected request left the guarded collection's records
 * exactly as they were; `/api/v2/heartbeat` still answers. Semantically valid requests (right
 * dimension, fresh ids) must get a 2xx.
 *
 * A second test holds slow clients open — one that sends headers and then trickles its body, one
 * that never finishes its headers — and checks that other clients are served meanwhile.
 *
 * OMENDB_FUZZ_RUNS (default 400) and OMENDB_FUZZ_SEED (default 1010) set the sweep.
 */
import net from "node:net";
import fc from "fast-check";
import type { TSchema } from "@sinclair/typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AddRecordsPayload,
  CreateCollectionPayload,
  DeleteRecordsPayload,
  GetRequestPayload,
  QueryRequestPayload,
  UpdateCollectionPayload,
  UpdateRecordsPayload,
} from "../src/schemas.js";
import { call, DB_BASE, startTestServer } from "./helpers.js";

const RUNS = Number(process.env["OMENDB_FUZZ_RUNS"] ?? 400);
const SEED = Number(process.env["OMENDB_FUZZ_SEED"] ?? 1010);
const DIM = 4;
const BODY_LIMIT = 256 * 1024;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON Schema view of a TypeBox schema (the keywords the generator understands). */
interface SchemaView {
  type?: string;
  anyOf?: SchemaView[];
  const?: Json;
  properties?: Record<string, SchemaView>;
  required?: string[];
  patternProperties?: Record<string, SchemaView>;
  items?: SchemaView;
  minimum?: number;
}

const FILTER_OPS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$contains", "$not_contains"];
const UNKNOWN_OPS = ["$regex", "$foo", "$where", "$near", "$EQ", "$", "$$eq", "eq", "$elemMatch", "__proto__", "constructor"];

/** `where` filters: valid shapes, unknown operators, wrong operand types, nesting. */
const whereArb: fc.Arbitrary<Json> = fc.letrec<{ where: Json }>((tie) => ({
  where: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.dictionary(fc.constantFrom("n", "tag", "missing", "", "$and"), fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean()), { maxKeys: 2 }) as fc.Arbitrary<Json>,
    fc.record({
      key: fc.constantFrom("n", "tag", "x"),
      op: fc.constantFrom(...FILTER_OPS, ...UNKNOWN_OPS),
      value: fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 2 })), { maxLength: 3 }), fc.constant(null), fc.constant({})),
    }).map(({ key, op, value }) => ({ [key]: { [op]: value } }) as Json),
    fc.record({ op: fc.constantFrom("$and", "$or", "$not", "$nor", "$AND"), children: fc.array(tie("where"), { maxLength: 3 }) }).map(({ op, children }) => ({ [op]: op === "$not" ? (children[0] ?? {}) : children }) as Json),
    fc.record({ op: fc.constantFrom("$and", "$or"), operand: fc.oneof(fc.integer(), fc.string(), fc.constant({}), fc.constant(null)) }).map(({ op, operand }) => ({ [op]: operand }) as Json),
  ),
})).where;

/** A well-typed value of `schema` (JSON Schema keywords of the TypeBox object). */
function valueOf(schema: SchemaView, depth = 0): fc.Arbitrary<Json> {
  if (schema.anyOf !== undefined) return fc.oneof(...schema.anyOf.map((s) => valueOf(s, depth)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  switch (schema.type) {
    case "object": {
      if (schema.patternProperties !== undefined) {
        const value = Object.values(schema.patternProperties)[0]!;
        return fc.dictionary(fc.string({ maxLength: 6 }), depth > 2 ? fc.string() : valueOf(value, depth + 1), { maxKeys: 3 }) as fc.Arbitrary<Json>;
      }
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const shape: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, s] of Object.entries(props)) shape[key] = key === "where" ? whereArb : valueOf(s, depth + 1);
      return fc.record(shape, { requiredKeys: [...required] }) as fc.Arbitrary<Json>;
    }
    case "array":
      return fc.array(depth > 3 ? fc.constant(0) : valueOf(schema.items ?? {}, depth + 1), { maxLength: 5 });
    case "string":
      return fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("a", "b", "c", "documents", "metadatas", "embeddings", "distances"));
    case "integer":
      return fc.integer({ min: schema.minimum ?? -5, max: 50 });
    case "number":
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), fc.integer({ min: -3, max: 3 }));
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      // Unknown (`where_document`, free-form): any JSON, or a filter-like object.
      return fc.oneof(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, whereArb);
  }
}

const NAN_LIKE = ["NaN", "Infinity", "-Infinity", "1e999", "", " ", "\u0000", "null", "undefined", "0x10", "１"];

/**
 * Large values travel through fast-check as small markers (so a counterexample prints in a line)
 * and are expanded just before the request is sent: `{ "<deep>": n }` nests n levels of arrays and
 * `$and`s, `{ "<ids>": n }` is an array of n ids, `{ "<long>": n }` a string of n characters.
 */
type Marker = { "<deep>": number } | { "<ids>": number } | { "<long>": number };

function expand(value: Json): Json {
  if (Array.isArray(value)) return value.map(expand);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const n = value[keys[0]!] as number;
    if (keys[0] === "<deep>") return `__DEEP_${n}__`; // spliced in as text by toBody: too deep for JSON.stringify
    if (keys[0] === "<ids>") return Array.from({ length: n }, (_, i) => `id-${i}`);
    if (keys[0] === "<long>") return "x".repeat(n);
  }
  const out: { [key: string]: Json } = {};
  for (const k of keys) Object.defineProperty(out, k, { value: expand(value[k]!), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A value to put where something else belongs. */
const hostileArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(...NAN_LIKE, null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 4294967296, {}, [], [[]], [null], { $foo: 1 }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as Json),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  // Deep filters (core's parser refuses more than 64 levels; 10,000 levels has its own test below).
  fc.integer({ min: 50, max: 1000 }).map((n): Marker => ({ "<deep>": n })),
  fc.integer({ min: 200, max: 70_000 }).map((n): Marker => ({ "<ids>": n })),
  fc.integer({ min: 1, max: 9 }).filter((d) => d !== DIM).map((d) => [Array.from({ length: d }, () => 0.5)] as Json),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 1000, max: 300_000 }).map((n): Marker => ({ "<long>": n })),
);

/** JSON text nesting `depth` levels of arrays and `$and`s (V8's JSON.stringify overflows at a few thousand). */
function nestText(depth: number): string {
  let open = "";
  let close = "";
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? "[" : '{"$and":[';
    close = (i % 2 === 0 ? "]" : "]}") + close;
  }
  return `${open}1${close}`;
}

/** The request body of a (mutated) value: markers expanded, deep nesting spliced in as text. */
function toBody(value: Json): string {
  return JSON.stringify(expand(value)).replace(/"__DEEP_(\d+)__"/g, (_, n: string) => nestText(Number(n)));
}

type Mutation = { kind: "replace" | "delete" | "unknownKey" | "none"; at: number; value: Json };

/** Every path (object key / array index) inside `value`, the root included as []. */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 200) return out;
  if (Array.isArray(value)) value.slice(0, 10).forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function mutate(value: Json, m: Mutation): Json {
  if (m.kind === "none") return value;
  const paths = pathsOf(value);
  const target = paths[m.at % paths.length]!;
  if (target.length === 0) return m.kind === "replace" ? m.value : value;
  const copy = structuredClone(value) as Json;
  let parent: any = copy;
  for (const key of target.slice(0, -1)) parent = parent[key];
  const last = target[target.length - 1]!;
  if (m.kind === "replace") parent[last] = m.value;
  else if (m.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (parent !== null && typeof parent === "object" && !Array.isArray(parent)) {
    parent[`$unknown_${String(last)}`] = m.value;
  }
  return copy;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<Mutation["kind"]>("replace", "replace", "replace", "delete", "unknownKey", "none"),
  at: fc.nat(),
  value: hostileArb,
});

interface Target {
  method: "POST" | "PUT" | "GET" | "DELETE";
  path: string;
  schema?: TSchema;
  /** Writes: the guarded collection must be unchanged when the request is rejected. */
  writes: boolean;
}

describe("HTTP fuzzer", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let base: string;
  let guardedId: string;
  let scratchId: string;
  const stats = { requests: 0, rejected: 0, accepted: 0, byStatus: new Map<number, number>(), raw: 0 };

  beforeAll(async () => {
    server = await startTestServer({ bodyLimit: BODY_LIMIT, maxBatchSize: 100 });
    base = `${server.url}${DB_BASE}`;
    const guarded = await call(`${base}/collections`, { body: { name: "guarded" } });
    guardedId = guarded.body.id;
    const add = await call(`${base}/collections/${guardedId}/add`, {
      body: {
        ids: Array.from({ length: 20 }, (_, i) => `g${i}`),
        embeddings: Array.from({ length: 20 }, (_, i) => [i, 1, -i, 0.5]),
        documents: Array.from({ length: 20 }, (_, i) => `guarded ${i}`),
        metadatas: Array.from({ length: 20 }, (_, i) => ({ n: i, tag: i % 2 === 0 ? "even" : "odd" })),
      },
    });
    expect(add.status).toBe(201);
    const scratch = await call(`${base}/collections`, { body: { name: "scratch" } });
    scratchId = scratch.body.id;
    expect((await call(`${base}/collections/${scratchId}/add`, { body: { ids: ["s0"], embeddings: [[0, 0, 0, 1]] } })).status).toBe(201);
  });
  afterAll(async () => {
    console.log(
      `fuzz figures: ${stats.requests} requests (${stats.raw} raw), ${stats.rejected} rejected, ${stats.accepted} accepted; statuses ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort((a, b) => a[0] - b[0])))}`,
    );
    await server.close();
  });

  const snapshot = async (): Promise<string> => {
    const got = await call(`${base}/collections/${guardedId}/get`, { body: { include: ["embeddings", "documents", "metadatas", "uris"] } });
    expect(got.status).toBe(200);
    return JSON.stringify(got.body);
  };

  /** Sends one request and checks every invariant; returns the status. */
  const send = async (
    target: Target,
    init: { body?: Buffer | string; contentType?: string | null; url?: string },
    before: string,
  ): Promise<number> => {
    const headers: Record<string, string> = {};
    if (init.contentType !== null && init.body !== undefined) headers["content-type"] = init.contentType ?? "application/json";
    const res = await fetch(init.url ?? `${server.url}${target.path}`, { method: target.method, headers, body: target.method === "GET" ? undefined : init.body });
    const text = await res.text();
    stats.requests++;
    stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
    const context = `${target.method} ${(init.url ?? target.path).slice(0, 200)} ${String(init.body).slice(0, 200)} -> ${res.status} ${text.slice(0, 200)}`;
    expect(res.status, context).toBeLessThan(500);
    if (res.status >= 400) {
      stats.rejected++;
      const body = JSON.parse(text) as { error?: unknown; message?: unknown };
      expect(typeof body.error, context).toBe("string");
      expect(typeof body.message, context).toBe("string");
      if (target.writes) expect(await snapshot(), context).toBe(before);
    } else {
      stats.accepted++;
    }
    const beat = await fetch(`${server.url}/api/v2/heartbeat`);
    expect(beat.status).toBe(200);
    await beat.text();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    return res.status;
  };

  const targets = (): Target[] => {
    const col = `${DB_BASE}/collections/${guardedId}`;
    return [
      { method: "POST", path: `${col}/add`, schema: AddRecordsPayload, writes: true },
      { method: "POST", path: `${col}/upsert`, schema: AddRecordsPayload, writes: true },
      { method: "POST", path: `${col}/update`, schema: UpdateRecordsPayload, writes: true },
      { method: "POST", path: `${col}/delete`, schema: DeleteRecordsPayload, writes: true },
      { method: "POST", path: `${col}/get`, schema: GetRequestPayload, writes: false },
      { method: "POST", path: `${col}/query`, schema: QueryRequestPayload, writes: false },
      { method: "PUT", path: `${DB_BASE}/collections/${guardedId}`, schema: UpdateCollectionPayload, writes: true },
      { method: "POST", path: `${DB_BASE}/collections`, schema: CreateCollectionPayload, writes: false },
      // Not fuzzed: creating tenants and databases, which answers 501 Not Implemented by design
      // (one default scope), like the other unsupported routes.
    ];
  };

  it(`rejects ${RUNS} schema-derived hostile requests with a 4xx in Chroma's shape, never a 5xx`, async () => {
    const all = targets();
    const requestArb = fc
      .nat({ max: all.length - 1 })
      .chain((i) => fc.tuple(fc.constant(all[i]!), valueOf(all[i]!.schema as unknown as SchemaView), mutationArb));
    let before = await snapshot();
    await fc.assert(
      fc.asyncProperty(requestArb, async ([target, value, mutation]) => {
        const body = toBody(mutate(value, mutation));
        const status = await send(target, { body }, before);
        if (status < 400 && target.writes) before = await snapshot();
        // A rename of the guarded collection is a valid write: keep its name for later requests.
        if (status < 400 && target.method === "PUT") await call(`${base}/collections/${guardedId}`, { method: "PUT", body: { new_name: "guarded" } });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it("rejects raw bodies: invalid UTF-8, broken JSON, NaN tokens, duplicate/__proto__ keys, wrong content types", async () => {
    const col = `${DB_BASE}/collections/${guardedId}`;
    const writeTargets: Target[] = [
      { method: "POST", path: `${col}/upsert`, writes: true },
      { method: "POST", path: `${col}/add`, writes: true },
      { method: "POST", path: `${col}/delete`, writes: true },
      { method: "POST", path: `${col}/query`, writes: false },
    ];
    const valid = JSON.stringify({ ids: ["x1"], embeddings: [[1, 2, 3, 4]], documents: ["é"], metadatas: [{ a: 1 }] });
    const rawArb = fc.oneof(
      // invalid UTF-8 spliced into a valid body
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4, min: 0x80, max: 0xff })).map(([at, bad]) => {
        const bytes = Buffer.from(valid);
        const i = at % bytes.length;
        return { body: Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]), contentType: "application/json" };
      }),
      // truncated or trailed JSON
      fc.nat().map((at) => ({ body: valid.slice(0, at % valid.length), contentType: "application/json" })),
      fc.string({ maxLength: 10 }).map((tail) => ({ body: `${valid}}${tail}`, contentType: "application/json" })),
      fc.constantFrom(
        '{"ids":["n"],"embeddings":[[NaN,1,2,3]]}',
        '{"ids":["n"],"embeddings":[[Infinity,1,2,3]]}',
        '{"ids":["n"],"embeddings":[[1e999,1,2,3]]}',
        '{"ids":["n"],"ids":["m"],"embeddings":[[1,2,3,4]]}',
        '{"__proto__":{"ids":["p"]},"embeddings":[[1,2,3,4]]}',
        '{"ids":["p"],"embeddings":[[1,2,3,4]],"metadatas":[{"__proto__":{"polluted":true}}]}',
        '{"ids":["p"],"embeddings":[[1,2,3,4]],"where":{"constructor":{"prototype":{"polluted":true}}}}',
        "",
        "null",
        "[]",
        '"ids"',
        "\uFEFF{}",
        `{"where":${"[".repeat(5000)}${"]".repeat(5000)}}`,
        `{"where":${'{"$and":['.repeat(1000)}{"n":1}${"]}".repeat(1000)}}`,
        `{"where":${'{"$not":'.repeat(1000)}{"n":1}${"}".repeat(1000)}}`,
      ).map((body) => ({ body, contentType: "application/json" })),
      // wrong or missing content type
      fc
        .constantFrom<string | null>(
          null,
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=xyz",
          "application/json; charset=latin1",
          "application/json; charset=utf-16",
          "application/jsonx",
          "application/octet-stream",
          "application/json, text/plain",
          "",
        )
        .map((contentType) => ({ body: valid, contentType })),
    );
    let before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: writeTargets.length - 1 }), rawArb, async (t, raw) => {
        stats.raw++;
        const target = writeTargets[t]!;
        const status = await send(target, raw, before);
        if (status < 400 && target.writes) before = await snapshot();
      }),
      { seed: SEED + 1, numRuns: Math.max(100, Math.floor(RUNS / 2)), endOnFailure: true },
    );
  });

  it("rejects hostile path parameters and query strings", async () => {
    const idArb = fc.oneof(
      fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom("%00", "%ff%fe", "..%2F..%2Fetc", "a".repeat(5000), "%", "%zz", "00000000-0000-0000-0000-000000000000", "null"),
    );
    const suffixArb = fc.constantFrom("/add", "/upsert", "/get", "/query", "/delete", "/count", "", "/indexing_status");
    const queryArb = fc.constantFrom("", "?limit=-1", "?limit=abc", "?limit=1e999", "?offset=NaN", "?limit=99999999999999999999", "?limit=1&limit=2");
    await fc.assert(
      fc.asyncProperty(idArb, suffixArb, queryArb, fc.constantFrom("default_tenant", "t%00", "x".repeat(300)), async (id, suffix, query, tenant) => {
        const path = `/api/v2/tenants/${tenant}/databases/default_database/collections/${id}${suffix}${query}`;
        const method = suffix === "/count" || suffix === "/indexing_status" || suffix === "" ? "GET" : "POST";
        await send({ method, path, writes: false }, { body: method === "GET" ? undefined : "{}" }, "");
      }),
      { seed: SEED + 2, numRuns: Math.max(60, Math.floor(RUNS / 4)), endOnFailure: true },
    );
    // Collection listing with hostile query strings.
    for (const q of ["?limit=-1", "?limit=abc", "?offset=1e999", "?limit=1.5"]) {
      await send({ method: "GET", path: `${DB_BASE}/collections${q}`, writes: false }, {}, "");
    }
  });

  // Found by this fuzzer (seed 77, 4,000 runs): a `where` nested 10,000 levels deep overflowed the
  // stack of core's parser and answered 500; the parser now stops at MAX_FILTER_DEPTH with a 400.
  it("rejects a where filter nested 10,000 levels deep with a 4xx", async () => {
    const col = `${DB_BASE}/collections/${guardedId}`;
    const before = await snapshot();
    for (const where of [`${'{"$not":'.repeat(10_000)}{"n":1}${"}".repeat(10_000)}`, `${'{"$and":['.repeat(10_000)}{"n":1}${"]}".repeat(10_000)}`]) {
      for (const route of ["get", "delete", "query"]) {
        const body = route === "query" ? `{"query_embeddings":[[1,2,3,4]],"where":${where}}` : `{"where":${where}}`;
        await send({ method: "POST", path: `${col}/${route}`, writes: route === "delete" }, { body }, before);
      }
    }
  });

  it("accepts semantically valid requests (2xx) and applies them", async () => {
    const col = `${base}/collections/${scratchId}`;
    const rng = fc.sample(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: DIM * 30, maxLength: DIM * 30 }), { seed: SEED, numRuns: 1 })[0]!;
    const ids = Array.from({ length: 30 }, (_, i) => `v${i}`);
    const embeddings = ids.map((_, i) => rng.slice(i * DIM, (i + 1) * DIM));
    expect((await call(`${col}/upsert`, { body: { ids, embeddings, metadatas: ids.map((_, i) => ({ i, even: i % 2 === 0 })) } })).status).toBe(200);
    expect((await call(`${col}/get`, { body: { where: { even: true }, limit: 100 } })).body.ids).toHaveLength(15);
    expect((await call(`${col}/query`, { body: { query_embeddings: [embeddings[3]], n_results: 5, where: { $and: [{ i: { $gte: 0 } }, { even: { $ne: true } }] } } })).status).toBe(200);
    expect((await call(`${col}/delete`, { body: { where: { i: { $lt: 10 } } } })).body).toEqual({ deleted: 10 });
    expect((await call(`${col}/count`)).body).toBe(21);
  });

  it("keeps serving other clients while slow clients hold connections open", async () => {
    const { port } = server;
    const slow = await call(`${base}/collections`, { body: { name: "slow-clients" } });
    const ids = ["g1", "g2", "g3"];
    expect((await call(`${base}/collections/${slow.body.id}/add`, { body: { ids, embeddings: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], documents: ids } })).status).toBe(201);
    const path = `${DB_BASE}/collections/${slow.body.id}/get`;
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(socket));
        socket.on("error", reject);
      });
    const body = JSON.stringify({ ids: ["g1", "g2"], include: ["documents"] });
    // 1: headers, then the body one byte per turn; 2: headers never finished; 3: headers, no body.
    const trickler = await open();
    trickler.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const halfHeaders = await open();
    halfHeaders.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty`);
    const noBody = await open();
    noBody.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"ids":`);
    let response = "";
    trickler.on("data", (chunk: Buffer) => (response += chunk.toString()));

    for (let i = 0; i < body.length; i++) {
      trickler.write(body[i]!);
      // Between every byte of the slow body, another client is served in full.
      const beat = await call(`${server.url}/api/v2/heartbeat`);
      expect(beat.status).toBe(200);
      if (i % 8 === 0) {
        const got = await call(`${server.url}${path}`, { body: { ids: ["g3"] } });
        expect(got.body.ids).toEqual(["g3"]);
      }
    }
    // The whole response may already be here; else wait for it.
    while (!response.includes('"include"')) await new Promise<void>((resolve) => trickler.once("data", () => resolve()));
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('"ids":["g1","g2"]');
    // The stalled sockets are still open and the server still serves.
    expect(halfHeaders.destroyed || noBody.destroyed).toBe(false);
    expect((await call(`${server.url}/api/v2/heartbeat`)).status).toBe(200);
    for (const s of [trickler, halfHeaders, noBody]) s.destroy();
  });
});
