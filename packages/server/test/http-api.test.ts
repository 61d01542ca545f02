/**
 * The HTTP surface without the official client: validation (every bad input a 4xx in Chroma's
 * shape), limits, unknown and unsupported routes, raw JSON embeddings, URIs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEmbedding } from "../src/index.js";
import { call, DB_BASE, startTestServer } from "./helpers.js";

describe("HTTP API", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let base: string;
  let collectionId: string;

  beforeAll(async () => {
    server = await startTestServer({ bodyLimit: 64 * 1024, maxBatchSize: 50 });
    base = `${server.url}${DB_BASE}`;
    const created = await call(`${base}/collections`, { body: { name: "raw", metadata: { "hnsw:space": "ip" } } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: "raw", dimension: null, tenant: "default_tenant", database: "default_database" });
    collectionId = created.body.id;
  });
  afterAll(async () => {
    await server.close();
  });

  const records = () => `${base}/collections/${collectionId}`;

  it("accepts JSON-array and base64 embeddings, and fixes the dimension at the first write", async () => {
    const add = await call(`${records()}/add`, {
      body: { ids: ["a", "b", "c"], embeddings: [[1, 0, 0, 0], [0, 9, 9, 9], [0, 0, 1, 0]], documents: ["A", null, "C"], uris: ["s3://a", null, null] },
    });
    expect(add.status).toBe(201);
    expect(add.body).toEqual({});
    const upsert = await call(`${records()}/upsert`, { body: { ids: ["b"], embeddings: [encodeEmbedding([0, 1, 0, 0])] } });
    expect(upsert.status).toBe(200);
    const col = await call(`${base}/collections/raw`);
    expect(col.body.dimension).toBe(4);
    expect(col.body.configuration_json.hnsw.space).toBe("ip");
    const got = await call(`${records()}/get`, { body: { include: ["documents", "metadatas", "uris"] } });
    expect(got.body).toEqual({ ids: ["a", "b", "c"], documents: ["A", null, "C"], metadatas: [null, null, null], uris: ["s3://a", null, null], embeddings: null, include: ["documents", "metadatas", "uris"] });
  });

  it("update with a null embedding keeps the stored vector", async () => {
    const upd = await call(`${records()}/update`, { body: { ids: ["a", "b"], embeddings: [null, [0, 2, 0, 0]], metadatas: [{ k: 1 }, null] } });
    expect(upd.status).toBe(200);
    const got = await call(`${records()}/get`, { body: { ids: ["a", "b"], include: ["embeddings", "metadatas", "uris"] } });
    expect(got.body.embeddings).toEqual([[1, 0, 0, 0], [0, 2, 0, 0]]);
    expect(got.body.metadatas).toEqual([{ k: 1 }, null]);
    expect(got.body.uris).toEqual(["s3://a", null]);
  });

  it("query returns ip distances (1 - a·b), lower is better, with query-string paging", async () => {
    const q = await call(`${records()}/query`, { body: { query_embeddings: [[0, 1, 0, 0]], n_results: 3 } });
    expect(q.status).toBe(200);
    expect(q.body.ids).toEqual([["b", "a", "c"]]);
    expect(q.body.distances).toEqual([[-1, 1, 1]]);
    const paged = await call(`${records()}/query?limit=1&offset=1`, { body: { query_embeddings: [[0, 1, 0, 0]], n_results: 3, include: [] } });
    expect(paged.body).toEqual({ ids: [["a"]], distances: null, documents: null, metadatas: null, embeddings: null, uris: null, include: [] });
  });

  it("count and indexing_status", async () => {
    expect((await call(`${records()}/count`)).body).toBe(3);
    expect((await call(`${records()}/indexing_status`)).body).toEqual({ num_indexed_ops: 3, num_unindexed_ops: 0, op_indexing_progress: 1, total_ops: 3 });
  });

  it.each([
    ["malformed JSON", { rawBody: "{ nope", headers: { "content-type": "application/json" } }, "add", 400],
    ["empty JSON body", { rawBody: "", headers: { "content-type": "application/json" } }, "add", 400],
    ["ids not an array", { body: { ids: "a", embeddings: [[1, 0, 0, 0]] } }, "add", 400],
    ["missing embeddings", { body: { ids: ["x"] } }, "add", 400],
    ["column length mismatch", { body: { ids: ["x", "y"], embeddings: [[1, 0, 0, 0]] } }, "add", 400],
    ["duplicate ids", { body: { ids: ["x", "x"], embeddings: [[1, 0, 0, 0], [1, 0, 0, 0]] } }, "upsert", 400],
    ["wrong dimension", { body: { ids: ["x"], embeddings: [[1, 0]] } }, "upsert", 400],
    ["mixed arrays and base64", { body: { ids: ["x", "y"], embeddings: [[1, 0, 0, 0], encodeEmbedding([1, 0, 0, 0])] } }, "upsert", 400],
    ["bad base64", { body: { ids: ["x"], embeddings: ["%%%%"] } }, "upsert", 400],
    ["overflowing float", { body: { ids: ["x"], embeddings: [[1e39, 0, 0, 0]] } }, "upsert", 400],
    ["batch over the limit", { body: { ids: Array.from({ length: 51 }, (_, i) => `z${i}`), embeddings: Array.from({ length: 51 }, () => [1, 0, 0, 0]) } }, "add", 400],
    ["metadata that is not an object", { body: { ids: ["x"], embeddings: [[1, 0, 0, 0]], metadatas: ["m"] } }, "add", 400],
    ["reserved uri metadata key", { body: { ids: ["x"], embeddings: [[1, 0, 0, 0]], metadatas: [{ "chroma:uri": "u" }] } }, "add", 400],
    ["invalid where", { body: { where: { n: { $bogus: 1 } } } }, "get", 400],
    ["where not an object", { body: { where: [1] } }, "get", 400],
    ["invalid where_document", { body: { where_document: { $like: "x" } } }, "get", 400],
    ["distances in get include", { body: { include: ["distances"] } }, "get", 400],
    ["unknown include", { body: { include: ["vectors"] } }, "get", 400],
    ["negative limit", { body: { limit: -1 } }, "get", 400],
    ["n_results 0", { body: { query_embeddings: [[1, 0, 0, 0]], n_results: 0 } }, "query", 400],
    ["no query embeddings", { body: { query_embeddings: [] } }, "query", 400],
    ["query of the wrong dimension", { body: { query_embeddings: [[1, 0]] } }, "query", 400],
    ["delete without a selector", { body: {} }, "delete", 400],
    ["text/plain body", { rawBody: "hello", headers: { "content-type": "text/plain" } }, "add", 400],
    ["unsupported media type", { rawBody: "<a/>", headers: { "content-type": "application/xml" } }, "add", 415],
  ] as const)("rejects %s with %#: a Chroma-shaped 4xx", async (_label, init, op, status) => {
    const before = await server.db.getCollection("raw").count();
    const res = await call(`${records()}/${op}`, { method: "POST", ...(init as object) });
    expect(res.status).toBe(status);
    expect(typeof res.body.error).toBe("string");
    expect(typeof res.body.message).toBe("string");
    expect(res.body.message.length).toBeGreaterThan(0);
    expect(await server.db.getCollection("raw").count()).toBe(before);
  });

  it("rejects oversized bodies with 413 and keeps serving", async () => {
    const huge = { ids: ["big"], embeddings: [[1, 0, 0, 0]], documents: ["x".repeat(70 * 1024)] };
    const res = await call(`${records()}/add`, { body: huge });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("PayloadTooLargeError");
    expect((await call(`${server.url}/api/v2/heartbeat`)).status).toBe(200);
    const ok = await call(`${records()}/add`, { body: { ids: ["small"], embeddings: [[0, 0, 0, 1]] } });
    expect(ok.status).toBe(201);
    expect((await call(`${records()}/count`)).body).toBe(4);
  });

  it("maps core and catalogue errors to Chroma statuses", async () => {
    expect((await call(`${base}/collections`, { body: { name: "raw" } })).status).toBe(409);
    expect((await call(`${base}/collections`, { body: { name: "raw", get_or_create: true } })).body.id).toBe(collectionId);
    expect((await call(`${base}/collections`, { body: { name: "x" } })).status).toBe(400); // too short for Chroma
    expect((await call(`${base}/collections`, { body: { name: "bad", metadata: { "hnsw:space": "manhattan" } } })).status).toBe(400);
    expect((await call(`${base}/collections`, { body: { name: "bad", metadata: { "omendb:chroma": 1 } } })).status).toBe(400);
    expect((await call(`${base}/collections/nope`)).status).toBe(404);
    expect((await call(`${base}/collections/00000000-0000-0000-0000-000000000001/count`)).status).toBe(404);
    expect((await call(`${base}/collections/by-id/${collectionId}`)).body.name).toBe("raw");
    const changeSpace = await call(`${base}/collections/${collectionId}`, { method: "PUT", body: { new_metadata: { "hnsw:space": "l2" } } });
    expect(changeSpace.status).toBe(400);
  });

  it("has one tenant and one database", async () => {
    expect((await call(`${server.url}/api/v2/tenants/default_tenant`)).body).toMatchObject({ name: "default_tenant" });
    expect((await call(`${server.url}/api/v2/tenants/default_tenant/databases/default_database`)).body).toMatchObject({ name: "default_database", tenant: "default_tenant" });
    expect((await call(`${server.url}/api/v2/tenants/other`)).status).toBe(404);
    expect((await call(`${server.url}/api/v2/tenants/other/databases/default_database/collections`)).status).toBe(404);
    expect((await call(`${server.url}/api/v2/tenants/default_tenant/databases/other/collections`)).status).toBe(404);
    expect((await call(`${server.url}/api/v2/auth/identity`)).body).toEqual({ user_id: "", tenant: "default_tenant", databases: ["default_database"] });
    expect((await call(`${server.url}/api/v2/collections/default_tenant:default_database:raw`)).body.id).toBe(collectionId);
  });

  it("answers unknown routes 404, unsupported ones 501 and v1 410, in Chroma's shape", async () => {
    const unknown = await call(`${server.url}/api/v2/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("NotFoundError");
    const search = await call(`${records()}/search`, { body: { searches: [] } });
    expect(search.status).toBe(501);
    expect(search.body.error).toBe("NotImplementedError");
    expect((await call(`${server.url}/api/v2/reset`, { method: "POST" })).status).toBe(501);
    const v1 = await call(`${server.url}/api/v1/collections`);
    expect(v1.status).toBe(410);
    expect(typeof v1.body.message).toBe("string");
  });

  it("echoes a request id", async () => {
    const res = await call(`${server.url}/api/v2/heartbeat`, { headers: { "x-request-id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });
});
