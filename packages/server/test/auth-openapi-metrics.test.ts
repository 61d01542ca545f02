/** API-key checks (401 before any data is touched), the OpenAPI 3.1 document, Swagger UI and /metrics. */
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, DB_BASE, startTestServer } from "./helpers.js";

describe("API key", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let base: string;
  let id: string;
  const KEY = "s3cret-key";

  beforeAll(async () => {
    server = await startTestServer({ apiKey: KEY });
    base = `${server.url}${DB_BASE}`;
    const created = await call(`${base}/collections`, { body: { name: "guarded" }, headers: { authorization: `Bearer ${KEY}` } });
    id = created.body.id;
    const add = await call(`${base}/collections/${id}/add`, { body: { ids: ["a"], embeddings: [[1, 2]] }, headers: { "x-chroma-token": KEY } });
    expect(add.status).toBe(201);
  });
  afterAll(async () => {
    await server.close();
  });

  it("leaves probes and the API description public", async () => {
    for (const path of ["/api/v2/heartbeat", "/api/v2/version", "/api/v2/healthcheck", "/openapi.json"]) {
      expect((await call(`${server.url}${path}`)).status, path).toBe(200);
    }
  });

  it.each([
    ["no key", {}],
    ["a wrong bearer token", { authorization: "Bearer nope" }],
    ["a wrong x-chroma-token", { "x-chroma-token": "nope" }],
    ["a non-bearer scheme", { authorization: `Basic ${KEY}` }],
    ["a key with a different length", { authorization: `Bearer ${KEY}x` }],
  ])("answers 401 to %s and touches no data", async (_label, headers) => {
    const list = await call(`${base}/collections`, { headers });
    expect(list.status).toBe(401);
    expect(list.body.error).toBe("AuthError");
    expect(list.headers.get("www-authenticate")).toContain("Bearer");
    const add = await call(`${base}/collections/${id}/add`, { body: { ids: ["evil"], embeddings: [[9, 9]] }, headers });
    expect(add.status).toBe(401);
    const del = await call(`${base}/collections/guarded`, { method: "DELETE", headers });
    expect(del.status).toBe(401);
    const create = await call(`${base}/collections`, { body: { name: "intruder" }, headers });
    expect(create.status).toBe(401);
    expect((await call(`${server.url}/metrics`, { headers })).status).toBe(401);
    expect(await server.db.getCollection("guarded").count()).toBe(1);
    expect(server.catalog.list().map((c) => c.name)).toEqual(["guarded"]);
  });

  it("lets the chromadb client in with the token header, and not without", async () => {
    const good = new ChromaClient({ host: "127.0.0.1", port: server.port, headers: { "x-chroma-token": KEY } });
    const col = await good.getCollection({ name: "guarded" });
    expect(await col.count()).toBe(1);
    const bad = new ChromaClient({ host: "127.0.0.1", port: server.port });
    await expect(bad.listCollections()).rejects.toMatchObject({ name: "ChromaAuthError" });
  });
});

describe("OpenAPI document", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let doc: any;

  beforeAll(async () => {
    server = await startTestServer();
    const res = await call(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await server.close();
  });

  it("is OpenAPI 3.1 with info and security schemes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(typeof doc.info.title).toBe("string");
    expect(typeof doc.info.version).toBe("string");
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["bearer", "chromaToken"]);
  });

  it("lists every visible route with its method", () => {
    const visible = server.routes.filter((r) => !r.hidden && !r.url.startsWith("/docs"));
    expect(visible.length).toBeGreaterThan(30);
    for (const route of visible) {
      const path = route.url.replace(/:([A-Za-z_]+)/g, "{$1}");
      expect(doc.paths[path], `${route.method} ${route.url}`).toBeDefined();
      expect(doc.paths[path][route.method.toLowerCase()], `${route.method} ${route.url}`).toBeDefined();
    }
    for (const required of ["/add", "/upsert", "/update", "/get", "/query", "/delete", "/count"]) {
      expect(doc.paths[`${DB_BASE.replace("default_tenant", "{tenant}").replace("default_database", "{database}")}/collections/{collection_id}${required}`]).toBeDefined();
    }
  });

  it("is structurally valid: path parameters declared, responses present, every $ref resolves", () => {
    const methods = ["get", "put", "post", "delete", "patch"];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(path.startsWith("/")).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const method of methods) {
        const op = item[method];
        if (op === undefined) continue;
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        const declared = (op.parameters ?? []).filter((p: any) => p.in === "path");
        expect(declared.map((p: any) => p.name).sort(), `${method} ${path}`).toEqual([...templated].sort());
        for (const p of declared) expect(p.required).toBe(true);
        if (op.requestBody !== undefined) expect(op.requestBody.content["application/json"].schema).toBeDefined();
      }
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice(8, -1);
      expect(pointer.startsWith("#/")).toBe(true);
      const target = pointer.slice(2).split("/").reduce((node: any, key) => node?.[key.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
      expect(target, pointer).toBeDefined();
    }
  });

  it("serves Swagger UI at /docs", async () => {
    const res = await fetch(`${server.url}/docs/`, { redirect: "follow" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
  });
});

describe("/metrics", () => {
  it("exposes request counts, latency histograms and collection gauges in Prometheus text format", async () => {
    const server = await startTestServer();
    try {
      const base = `${server.url}${DB_BASE}`;
      const created = await call(`${base}/collections`, { body: { name: "metered" } });
      await call(`${base}/collections/${created.body.id}/add`, { body: { ids: ["a", "b"], embeddings: [[1], [2]] } });
      for (let i = 0; i < 3; i++) await call(`${server.url}/api/v2/heartbeat`);
      await call(`${server.url}/api/v2/nothing`);
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      expect(text).toContain('omendb_http_requests_total{method="GET",route="/api/v2/heartbeat",status="200"} 3');
      expect(text).toContain('omendb_http_requests_total{method="POST",route="/api/v2/tenants/:tenant/databases/:database/collections/:collection_id/add",status="201"} 1');
      expect(text).toContain('status="404"');
      expect(text).toContain('omendb_collection_records{collection="metered"} 2');
      expect(text).toContain("omendb_collections 1");
      expect(text).toMatch(/omendb_http_request_duration_seconds_bucket\{method="GET",route="\/api\/v2\/heartbeat",le="\+Inf"\} 3/);
      for (const line of text.trimEnd().split("\n")) {
        if (line.startsWith("#")) expect(line).toMatch(/^# (HELP|TYPE) [a-z_]+ .+$/);
        else expect(line).toMatch(/^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? -?[0-9.e+-]+$/);
      }
    } finally {
      await server.close();
    }
  });
});
