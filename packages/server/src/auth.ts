/**
 * API-key authentication. When a key is configured (option `apiKey`, default `OMENDB_API_KEY`), every
 * request except the public probes must carry it as `Authorization: Bearer <key>` or Chroma's
 * `x-chroma-token: <key>`. The check runs in `onRequest`, before the body is read, so a rejected
 * request never touches data. Keys are compared in constant time (over SHA-256 digests, so the
 * length does not leak either).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ChromaHttpError, HttpErrorCode } from "./chroma-errors.js";

/** Paths answered without a key: liveness probes and the API description. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  "/api/v2",
  "/api/v2/heartbeat",
  "/api/v2/healthcheck",
  "/api/v2/version",
  "/openapi.json",
]);

/** The key a request presents, if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const token = request.headers["x-chroma-token"];
  if (typeof token === "string" && token.length > 0) return token;
  const auth = request.headers.authorization;
  if (typeof auth === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match !== null) return match[1]!;
  }
  return undefined;
}

/**
 * Installs the key check on `app`. A no-op when `apiKey` is undefined or empty.
 * Requests under `/docs` (Swagger UI) are public too.
 */
export function installAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (apiKey === undefined || apiKey.length === 0) return;
  const expected = digest(apiKey);
  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?", 1)[0]!;
    if (PUBLIC_PATHS.has(path) || path === "/docs" || path.startsWith("/docs/")) return;
    const key = presentedKey(request);
    if (key === undefined || !timingSafeEqual(digest(key), expected)) {
      void reply.header("www-authenticate", 'Bearer realm="omendb"');
      throw new ChromaHttpError(
        HttpErrorCode.UNAUTHORIZED,
        key === undefined ? "missing API key: send Authorization: Bearer <key> or x-chroma-token: <key>" : "invalid API key",
      );
    }
  });
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
