/**
 * `@omendb/server`: a Chroma v2-compatible HTTP server over an OmenDB data folder.
 *
 * @example
 * const server = await startServer({ path: "./omendb-data", port: 8000 });
 * console.log(server.url); // http://127.0.0.1:8000
 * // ... new ChromaClient({ host: "127.0.0.1", port: 8000 }) ...
 * await server.close();
 */
import { OmenDB } from "@omendb/core";
import type { FastifyInstance } from "fastify";
import { buildApp, type RouteEntry } from "./app.js";
import { ChromaCatalog } from "./chroma-catalog.js";
import type { ServerMetrics } from "./metrics.js";
import { resolveOptions, type ResolvedServerOptions, type ServerOptions } from "./server-options.js";

export { SERVER_VERSION, type RouteEntry } from "./app.js";
export { ChromaCatalog, PENDING_FILE, RESERVED_METADATA_KEY, type ChromaCollection } from "./chroma-catalog.js";
export { ChromaHttpError, HttpErrorCode, STATUS_BY_CODE, toChromaError, type ChromaErrorBody } from "./chroma-errors.js";
export { URI_METADATA_KEY } from "./chroma-records.js";
export { decodeEmbedding, encodeEmbedding } from "./embedding-codec.js";
export { EMULATED_CHROMA_VERSION } from "./routes/system.js";
export { DEFAULT_DATABASE, DEFAULT_TENANT } from "./routes/tenants.js";
export {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HOST,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_PORT,
  resolveOptions,
  type ResolvedServerOptions,
  type ServerOptions,
} from "./server-options.js";

/** A built server: the Fastify app and the database it serves. */
export interface OmenDBServer {
  /** The Fastify instance (for `inject` in tests, or to add routes). */
  readonly app: FastifyInstance;
  /** The database being served. */
  readonly db: OmenDB;
  /** The Chroma view of the database's collections. */
  readonly catalog: ChromaCatalog;
  /** Request counters behind `/metrics`. */
  readonly metrics: ServerMetrics;
  /** Every registered route (method, pattern, hidden from OpenAPI or not). */
  readonly routes: readonly RouteEntry[];
  /** The options in force. */
  readonly options: ResolvedServerOptions;
  /** Starts listening on `options.host:options.port`; resolves with the base URL. */
  listen(): Promise<string>;
  /**
   * Stops accepting connections, waits for requests in flight, then closes the database (which
   * checkpoints) when the server opened it. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Opens the database (unless `options.db` is given) and builds the server without listening.
 * @throws LockedError when another process holds the data folder.
 * @throws RangeError for invalid limits (see {@link resolveOptions}).
 */
export async function createServer(options: ServerOptions): Promise<OmenDBServer> {
  const resolved = resolveOptions(options);
  if (options.db === undefined && options.path === undefined) throw new TypeError("createServer needs `path` or `db`");
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await OmenDB.open(options.path!, { durability: options.durability ?? "fsync", threads: options.threads ?? "auto" }));
  let closing: Promise<void> | undefined;
  try {
    const catalog = ChromaCatalog.open(db);
    const { app, metrics, routes } = await buildApp(catalog, resolved, ownsDb ? () => db.close() : undefined);
    return {
      app,
      db,
      catalog,
      metrics,
      routes,
      options: resolved,
      listen: async () => {
        await app.listen({ host: resolved.host, port: resolved.port });
        const address = app.server.address();
        if (address === null || typeof address === "string") return String(address);
        const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
        return `http://${host}:${address.port}`;
      },
      close: () => (closing ??= app.close()),
    };
  } catch (err) {
    if (ownsDb) await db.close();
    throw err;
  }
}

/** {@link createServer} then `listen()`; the result carries the base URL. */
export async function startServer(options: ServerOptions): Promise<OmenDBServer & { url: string }> {
  const server = await createServer(options);
  try {
    const url = await server.listen();
    return Object.assign(server, { url });
  } catch (err) {
    await server.close();
    throw err;
  }
}
