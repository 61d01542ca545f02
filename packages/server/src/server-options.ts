/** Options of the OmenDB HTTP server and their defaults. */
import type { Durability, OmenDB } from "@omendb/core";

/** Default address: loopback only. Pass `host: "0.0.0.0"` (and set an API key) to expose the server. */
export const DEFAULT_HOST = "127.0.0.1";
/** Default port, Chroma's. */
export const DEFAULT_PORT = 8000;
/** Default request-body limit: 32 MiB. */
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;
/** Default most records per write (and query embeddings per query), reported by `pre-flight-checks`. */
export const DEFAULT_MAX_BATCH_SIZE = 4096;

/** How to build a server. */
export interface ServerOptions {
  /** Data folder to open (created if missing). Required unless `db` is given. */
  path?: string;
  /**
   * An already open database to serve instead of `path`. The server does not close it; the caller
   * does, after `close()`. Open a folder once per process and share the instance.
   */
  db?: OmenDB;
  /** Durability when the server opens `path`. Default `"fsync"` (every acknowledged write is on disk). */
  durability?: Durability;
  /**
   * Worker threads when the server opens `path` (see core's `OpenOptions.threads`). Default
   * `"auto"`: one per core, at most 4, so queries use every core while writes stay serialised.
   */
  threads?: number | "auto";
  /** Interface to bind. Default {@link DEFAULT_HOST}. */
  host?: string;
  /** Port; 0 picks a free one. Default {@link DEFAULT_PORT}. */
  port?: number;
  /**
   * Required API key. Default `process.env.OMENDB_API_KEY`; `null` or `""` disables the check even
   * when the variable is set.
   */
  apiKey?: string | null;
  /** Largest request body in bytes; larger bodies get 413. Default {@link DEFAULT_BODY_LIMIT}. */
  bodyLimit?: number;
  /** Most records per write request. Default {@link DEFAULT_MAX_BATCH_SIZE}. */
  maxBatchSize?: number;
  /**
   * Structured JSON logs (pino via Fastify): `true` (default, level info), `false` (silent), or a
   * level name.
   */
  logger?: boolean | "fatal" | "error" | "warn" | "info" | "debug" | "trace";
}

/** {@link ServerOptions} with every default applied. */
export interface ResolvedServerOptions {
  host: string;
  port: number;
  apiKey: string | undefined;
  bodyLimit: number;
  maxBatchSize: number;
  logger: false | string;
}

/**
 * Applies defaults and checks ranges.
 * @throws RangeError for a non-positive body limit or batch size, or a port outside 0–65535.
 */
export function resolveOptions(options: ServerOptions): ResolvedServerOptions {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) throw new RangeError(`bodyLimit must be a positive integer, got ${bodyLimit}`);
  if (!Number.isInteger(maxBatchSize) || maxBatchSize <= 0) throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  const apiKey = options.apiKey === undefined ? process.env["OMENDB_API_KEY"] : options.apiKey ?? undefined;
  const logger = options.logger === undefined || options.logger === true ? "info" : options.logger;
  return {
    host: options.host ?? DEFAULT_HOST,
    port,
    apiKey: apiKey === undefined || apiKey === "" ? undefined : apiKey,
    bodyLimit,
    maxBatchSize,
    logger,
  };
}
