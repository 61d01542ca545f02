/**
 * Chroma routes this server does not implement answer 501 in Chroma's error shape (they are listed
 * in the OpenAPI document so clients can see what is missing); every `/api/v1/*` route answers 410
 * with Chroma's v1 deprecation notice.
 */
import type { FastifyInstance } from "fastify";
import { ChromaHttpError, HttpErrorCode } from "../chroma-errors.js";
import { ErrorResponse } from "../schemas.js";

const COLLECTION = "/api/v2/tenants/:tenant/databases/:database/collections/:collection_id";

/** Method, path and what is missing. */
const UNSUPPORTED: readonly (readonly ["GET" | "POST" | "PATCH" | "DELETE", string, string])[] = [
  ["POST", "/api/v2/reset", "reset is disabled: delete collections one by one"],
  ["POST", "/api/v2/tenants", "only the default tenant exists"],
  ["PATCH", "/api/v2/tenants/:tenant_name", "only the default tenant exists"],
  ["POST", "/api/v2/tenants/:tenant/databases", "only the default database exists"],
  ["DELETE", "/api/v2/tenants/:tenant/databases/:database", "only the default database exists"],
  ["POST", `${COLLECTION}/fork`, "collection forking is not supported"],
  ["GET", `${COLLECTION}/fork_count`, "collection forking is not supported"],
  ["POST", `${COLLECTION}/search`, "the rank/select search API is not supported: use query"],
  ["POST", `${COLLECTION}/functions/attach`, "attached functions are not supported"],
  ["GET", `${COLLECTION}/functions/:function_name`, "attached functions are not supported"],
  ["POST", `${COLLECTION}/attached_functions/:name/detach`, "attached functions are not supported"],
  ["POST", `${COLLECTION}/attached_functions/:name/add_input`, "attached functions are not supported"],
];

/** Registers the 501 and 410 routes. */
export function registerUnsupportedRoutes(app: FastifyInstance): void {
  for (const [method, url, why] of UNSUPPORTED) {
    app.route({
      method,
      url,
      schema: { tags: ["Unsupported"], summary: `Not implemented: ${why}.`, response: { 501: ErrorResponse } },
      handler: async () => {
        throw new ChromaHttpError(HttpErrorCode.NOT_IMPLEMENTED, `${method} ${url.replace(/^\/api\/v2/, "")}: ${why}`);
      },
    });
  }
  app.route({
    method: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    url: "/api/v1/*",
    schema: { hide: true, response: { 410: ErrorResponse } },
    handler: async () => {
      throw new ChromaHttpError(HttpErrorCode.V1_GONE, "The v1 API is deprecated. Please use /v2 apis");
    },
  });
}
