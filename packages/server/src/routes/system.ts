/** Liveness, version, limits, identity and metrics routes. */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { RouteContext } from "../app.js";
import { ChecklistResponse, ErrorResponse, HeartbeatResponse, UserIdentity } from "../schemas.js";
import { DEFAULT_DATABASE, DEFAULT_TENANT } from "./tenants.js";

/**
 * The Chroma server version this API emulates, answered by `GET /api/v2/version` (clients read it to
 * pick the v2 API). OmenDB's own version is in the OpenAPI document's `info.version`.
 */
export const EMULATED_CHROMA_VERSION = "1.0.0";

/** Registers heartbeat, healthcheck, version, pre-flight-checks, auth/identity and /metrics. */
export function registerSystemRoutes(app: FastifyInstance, context: RouteContext): void {
  const heartbeat = async () => ({ "nanosecond heartbeat": Date.now() * 1_000_000 });
  const heartbeatSchema = { tags: ["System"], summary: "Server time in nanoseconds (liveness).", response: { 200: HeartbeatResponse } };
  app.get("/api/v2", { schema: { ...heartbeatSchema, summary: "Alias of /api/v2/heartbeat." } }, heartbeat);
  app.get("/api/v2/heartbeat", { schema: heartbeatSchema }, heartbeat);

  app.get("/api/v2/healthcheck", { schema: { tags: ["System"], summary: "Readiness.", response: { 200: Type.String(), 503: ErrorResponse } } }, async (_request, reply) =>
    reply.type("application/json").send(JSON.stringify("OK")),
  );

  app.get("/api/v2/version", { schema: { tags: ["System"], summary: "The Chroma API version emulated.", response: { 200: Type.String() } } }, async (_request, reply) =>
    reply.type("application/json").send(JSON.stringify(EMULATED_CHROMA_VERSION)),
  );

  app.get(
    "/api/v2/pre-flight-checks",
    { schema: { tags: ["System"], summary: "Limits the client checks before writing.", response: { 200: ChecklistResponse, 401: ErrorResponse } } },
    async () => ({ max_batch_size: context.options.maxBatchSize, supports_base64_encoding: true }),
  );

  app.get(
    "/api/v2/auth/identity",
    { schema: { tags: ["System"], summary: "The caller's tenant and databases.", response: { 200: UserIdentity, 401: ErrorResponse } } },
    async () => ({ user_id: "", tenant: DEFAULT_TENANT, databases: [DEFAULT_DATABASE] }),
  );

  app.get(
    "/metrics",
    { schema: { tags: ["System"], summary: "Prometheus metrics (text format 0.0.4).", response: { 200: Type.String(), 401: ErrorResponse } } },
    async (_request, reply) => reply.type("text/plain; version=0.0.4; charset=utf-8").send(await context.metrics.render(context.catalog)),
  );
}
