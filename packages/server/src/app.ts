/**
 * Builds the Fastify application: TypeBox validation of every request part, Chroma-shaped errors,
 * API-key auth, structured request logs, Prometheus metrics, the OpenAPI 3.1 document at
 * `/openapi.json` with Swagger UI at `/docs`, and the Chroma v2 routes.
 *
 * Request validation uses TypeBox's compiler instead of Fastify's default Ajv: no type coercion of
 * bodies (Ajv's default would coerce base64 embedding strings into arrays), coercion only for query
 * strings and path parameters.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { installAuth } from "./auth.js";
import type { ChromaCatalog } from "./chroma-catalog.js";
import { HttpErrorCode, toChromaError } from "./chroma-errors.js";
import { ChromaRecords } from "./chroma-records.js";
import { ServerMetrics } from "./metrics.js";
import { registerCollectionRoutes } from "./routes/collections.js";
import { registerRecordRoutes } from "./routes/records.js";
import { registerSystemRoutes } from "./routes/system.js";
import { registerTenantRoutes } from "./routes/tenants.js";
import { registerUnsupportedRoutes } from "./routes/unsupported.js";
import type { ResolvedServerOptions } from "./server-options.js";

/** This package's version (from package.json). */
export const SERVER_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;

/** A registered route; `hidden` routes are left out of the OpenAPI document. */
export interface RouteEntry {
  method: string;
  url: string;
  hidden: boolean;
}

/** What every route module receives. */
export interface RouteContext {
  catalog: ChromaCatalog;
  records: ChromaRecords;
  metrics: ServerMetrics;
  options: ResolvedServerOptions;
}

/**
 * A ready (not yet listening) Fastify instance serving `catalog`. Does not open the database;
 * `onClose` runs after the server has stopped and drained (the caller closes the database there).
 */
export async function buildApp(
  catalog: ChromaCatalog,
  options: ResolvedServerOptions,
  onClose?: () => Promise<void>,
): Promise<{ app: FastifyInstance; metrics: ServerMetrics; routes: RouteEntry[] }> {
  const app = Fastify({
    logger: options.logger === false ? false : { level: options.logger },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  const metrics = new ServerMetrics();
  const routes: RouteEntry[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of methods) if (method !== "HEAD") routes.push({ method, url: route.url, hidden });
  });
  const context: RouteContext = { catalog, records: new ChromaRecords(catalog, { maxBatchSize: options.maxBatchSize }), metrics, options };

  app.setValidatorCompiler(({ schema, httpPart }) => {
    const check = TypeCompiler.Compile(schema as TSchema);
    const coerce = httpPart === "querystring" || httpPart === "params";
    return (data: unknown) => {
      const value = coerce ? Value.Convert(schema as TSchema, data) : data;
      if (check.Check(value)) return { value };
      const first = check.Errors(value).First();
      const where = first === undefined || first.path === "" ? httpPart ?? "request" : `${httpPart}${first.path}`;
      return { error: new Error(`${where}: ${first?.message ?? "invalid value"}`) };
    };
  });
  // Response schemas document the API; JSON.stringify serialises (no silent field stripping).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toChromaError(err);
    if (status >= 500) request.log.error({ err }, "request failed");
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: "NotFoundError", message: `no route ${request.method} ${request.url.split("?", 1)[0]}`, code: HttpErrorCode.NOT_FOUND }),
  );

  app.addHook("onRequest", async (request, reply) => {
    metrics.inFlight++;
    reply.raw.once("close", () => {
      metrics.inFlight--;
    });
    void reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "(unmatched)";
    const latencyMs = reply.elapsedTime;
    metrics.observe(request.method, route, reply.statusCode, latencyMs / 1000);
    request.log.info({ method: request.method, route, status: reply.statusCode, latencyMs: Math.round(latencyMs * 1000) / 1000 }, "request completed");
  });
  // While closing, answer in-flight requests with `Connection: close` so keep-alive clients let go
  // and close() does not wait for their idle timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) void reply.header("connection", "close");
    return payload;
  });
  installAuth(app, options.apiKey);
  if (onClose !== undefined) app.addHook("onClose", onClose);

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "OmenDB server (Chroma v2-compatible)",
        version: SERVER_VERSION,
        description: "A Chroma v2-compatible REST API over an OmenDB data folder. Distances are lower-is-better, as in Chroma.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "OMENDB_API_KEY as a bearer token." },
          chromaToken: { type: "apiKey", in: "header", name: "x-chroma-token", description: "OMENDB_API_KEY in Chroma's token header." },
        },
      },
      ...(options.apiKey === undefined ? {} : { security: [{ bearer: [] }, { chromaToken: [] }] }),
      tags: [
        { name: "System", description: "Liveness, version, limits, metrics." },
        { name: "Tenant", description: "The default tenant and database." },
        { name: "Collection", description: "Collections." },
        { name: "Record", description: "Records of a collection." },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  registerSystemRoutes(app, context);
  registerTenantRoutes(app, context);
  registerCollectionRoutes(app, context);
  registerRecordRoutes(app, context);
  registerUnsupportedRoutes(app);
  await app.ready();
  return { app, metrics, routes };
}
