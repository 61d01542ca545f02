/**
 * OpenAI embeddings through the official `openai` SDK (an optional peer dependency, imported on the
 * first request).
 *
 * Requests: the texts are cut into contiguous batches of at most `maxBatchSize` inputs and
 * `maxTokensPerRequest` estimated tokens (see request-batches.ts); up to `concurrency` batches are in
 * flight at once and the vectors are put back in input order. The SDK's own retries are switched off
 * (`maxRetries: 0`): this module retries 408/409/429/5xx answers and connection failures itself
 * (retry-policy.ts), so the number of attempts and the facts of the last one reach the caller in an
 * {@link EmbeddingRequestError}. Embeddings are requested as base64 (little-endian float32, what the
 * SDK asks for by default) and decoded straight into `Float32Array`s; servers that answer with plain
 * float arrays are accepted too.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, ValidationError } from "../errors.js";
import { positiveIntegerOption, nonNegativeNumberOption, validateTexts, type Embedder } from "./embedder.js";
import { EmbeddingRequestError, importOptional, type EmbeddingRequestFacts } from "./embedding-errors.js";
import { planRequestBatches, type RequestBatch } from "./request-batches.js";
import { isRetryableStatus, retryAfterMs, retryDelayMs } from "./retry-policy.js";

/** The native dimension of OpenAI's embedding models, by name. */
const MODEL_DIMENSIONS: Readonly<Record<string, number>> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};
/** Models that accept the `dimensions` parameter. */
const SHORTENABLE = new Set(["text-embedding-3-small", "text-embedding-3-large"]);

/** OpenAI's limit on inputs per embeddings request. */
export const OPENAI_MAX_INPUTS = 2048;
/** OpenAI's limit on tokens per embeddings request (summed over the inputs). */
export const OPENAI_MAX_REQUEST_TOKENS = 300_000;

/** Reported to `onRetry` before each wait. */
export interface EmbeddingRetryEvent {
  /** The retry about to be made: 1 for the first retry. */
  retry: number;
  /** How long the embedder waits before it (ms): the server's `retry-after` or the backoff. */
  delayMs: number;
  /** HTTP status of the failed attempt; `undefined` when no response arrived. */
  status: number | undefined;
  /** The failed attempt's request id, if the server sent one. */
  requestId: string | undefined;
  /** Index of the batch's first input and the batch size. */
  firstInput: number;
  inputCount: number;
  /** The SDK's error. */
  error: unknown;
}

/** Options of {@link OpenAIEmbedder}. */
export interface OpenAIEmbedderOptions {
  /** Embedding model. Default `"text-embedding-3-small"`. Other names need `dimensions`. */
  model?: string;
  /**
   * Output length, sent as the API's `dimensions` parameter. Default: the model's native length (1536
   * for `text-embedding-3-small`). The `text-embedding-3-*` models shorten on request;
   * `text-embedding-ada-002` does not accept it.
   */
  dimensions?: number;
  /** API key. Default `process.env.OPENAI_API_KEY`. */
  apiKey?: string;
  /** API base URL, e.g. an OpenAI-compatible server's `http://host/v1`. Default: the SDK's (`OPENAI_BASE_URL` or OpenAI). */
  baseURL?: string;
  /** Sent as `OpenAI-Organization`. Default: the SDK's (`OPENAI_ORG_ID`). */
  organization?: string;
  /** Sent as `OpenAI-Project`. Default: the SDK's (`OPENAI_PROJECT_ID`). */
  project?: string;
  /** Most inputs per request. Default and maximum 2048 (OpenAI's limit). */
  maxBatchSize?: number;
  /**
   * Most estimated tokens per request (⌈UTF-8 bytes / 3⌉ per text, an overestimate for most text).
   * Default 250,000; maximum 300,000 (OpenAI's per-request limit).
   */
  maxTokensPerRequest?: number;
  /** Retries of a request after 408/409/429/5xx or a connection failure. Default 5; 0 disables. */
  maxRetries?: number;
  /** Backoff before the first retry when the server sends no `retry-after` (ms, before jitter). Default 500. */
  initialRetryDelayMs?: number;
  /** Cap of the computed backoff (ms). Default 20,000. */
  maxRetryDelayMs?: number;
  /** Per-attempt timeout (ms); a timed-out attempt is retried. Default 60,000. */
  timeoutMs?: number;
  /** Requests in flight at once when a call spans several batches. Default 1. */
  concurrency?: number;
  /** Called before each retry wait, e.g. to log rate limiting. */
  onRetry?: (event: EmbeddingRetryEvent) => void;
}

/** The part of the SDK client this module uses. */
interface EmbeddingsClient {
  embeddings: {
    create(
      body: { model: string; input: string[]; encoding_format: "base64"; dimensions?: number },
      options: { signal?: AbortSignal },
    ): Promise<{ data: Array<{ index: number; embedding: string | number[] }> }>;
  };
}
interface OpenAIModule {
  default: new (options: {
    apiKey: string;
    baseURL?: string;
    organization?: string;
    project?: string;
    maxRetries: number;
    timeout: number;
  }) => EmbeddingsClient;
  APIError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}
/** The fields of the SDK's `APIError` read here. */
interface SdkApiError {
  status?: number;
  headers?: { get(name: string): string | null };
  requestID?: string | null;
  code?: string | null;
  type?: string;
}

/**
 * Embeds text with OpenAI's embedding models (or any OpenAI-compatible server via `baseURL`).
 *
 * The `openai` package (v5 or v6) is an optional peer dependency, loaded on the first request.
 *
 * @example
 * ```ts
 * const embedder = new OpenAIEmbedder();                       // text-embedding-3-small, 1536-d
 * const small = new OpenAIEmbedder({ dimensions: 512 });       // shortened vectors
 * const vectors = await embedder.embedDocuments(["first text", "second text"]);
 * ```
 */
export class OpenAIEmbedder implements Embedder {
  /** Length of the returned vectors. */
  readonly dimension: number;
  /** The model name. */
  readonly model: string;

  /** A #private field: kept out of `console.log` / `util.inspect` output. */
  readonly #apiKey: string;
  private readonly settings: {
    baseURL: string | undefined;
    organization: string | undefined;
    project: string | undefined;
    sendDimensions: boolean;
    maxBatchSize: number;
    maxTokens: number;
    maxRetries: number;
    initialRetryDelayMs: number;
    maxRetryDelayMs: number;
    timeoutMs: number;
    concurrency: number;
    onRetry: ((event: EmbeddingRetryEvent) => void) | undefined;
  };
  #sdk: Promise<{ client: EmbeddingsClient; module: OpenAIModule }> | undefined;

  /**
   * Checks the options; no request is made and the SDK is not loaded until the first embedding call.
   *
   * @throws ValidationError code INVALID_OPTION when no API key is given or set in `OPENAI_API_KEY`,
   *   for an unknown model without `dimensions`, `dimensions` on `text-embedding-ada-002` or above the
   *   model's native length, or a limit out of range.
   */
  constructor(options: OpenAIEmbedderOptions = {}) {
    const name = "OpenAIEmbedder";
    const model = options.model ?? "text-embedding-3-small";
    if (typeof model !== "string" || model.length === 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `${name}: model must be a non-empty string, got ${String(model)}`);
    }
    const apiKey = options.apiKey ?? process.env["OPENAI_API_KEY"];
    if (typeof apiKey !== "string" || apiKey.trim() === "") {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `${name}: no API key; pass { apiKey } or set the OPENAI_API_KEY environment variable (or use OfflineEmbedder, which needs none)`,
      );
    }
    const native = MODEL_DIMENSIONS[model];
    let dimension: number;
    if (options.dimensions === undefined) {
      if (native === undefined) {
        throw new ValidationError(ErrorCode.INVALID_OPTION, `${name}: model "${model}" is not a known OpenAI model; pass { dimensions } with its output length`);
      }
      dimension = native;
    } else {
      dimension = positiveIntegerOption(name, "dimensions", options.dimensions, 0, native ?? 65_536);
      if (native !== undefined && !SHORTENABLE.has(model)) {
        throw new ValidationError(ErrorCode.INVALID_OPTION, `${name}: model "${model}" does not accept the dimensions option (it always returns ${native})`);
      }
    }
    this.model = model;
    this.dimension = dimension;
    this.#apiKey = apiKey;
    this.settings = {
      baseURL: options.baseURL,
      organization: options.organization,
      project: options.project,
      sendDimensions: options.dimensions !== undefined,
      maxBatchSize: positiveIntegerOption(name, "maxBatchSize", options.maxBatchSize, OPENAI_MAX_INPUTS, OPENAI_MAX_INPUTS),
      maxTokens: positiveIntegerOption(name, "maxTokensPerRequest", options.maxTokensPerRequest, 250_000, OPENAI_MAX_REQUEST_TOKENS),
      maxRetries: options.maxRetries === undefined ? 5 : nonNegativeIntegerOption(name, "maxRetries", options.maxRetries),
      initialRetryDelayMs: nonNegativeNumberOption(name, "initialRetryDelayMs", options.initialRetryDelayMs, 500),
      maxRetryDelayMs: nonNegativeNumberOption(name, "maxRetryDelayMs", options.maxRetryDelayMs, 20_000),
      timeoutMs: positiveIntegerOption(name, "timeoutMs", options.timeoutMs, 60_000),
      concurrency: positiveIntegerOption(name, "concurrency", options.concurrency, 1, 64),
      onRetry: options.onRetry,
    };
  }

  /**
   * Embeds texts, one vector per text in input order, in as few requests as the limits allow.
   *
   * @throws ValidationError code INVALID_DOCUMENT for an empty or non-string text (nothing is sent).
   * @throws MissingDependencyError (code INVALID_OPTION) when the `openai` package is not installed.
   * @throws EmbeddingRequestError (code IO) when a request fails for good; no partial result is returned.
   */
  async embedDocuments(texts: string[]): Promise<Float32Array[]> {
    validateTexts(texts, "OpenAIEmbedder");
    if (texts.length === 0) return [];
    const { client, module } = await this.loadSdk();
    const batches = planRequestBatches(texts, this.settings.maxBatchSize, this.settings.maxTokens);
    const out = new Array<Float32Array>(texts.length);
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (failure === undefined && next < batches.length) {
        const batch = batches[next++]!;
        try {
          const vectors = await this.requestWithRetries(client, module, texts, batch);
          for (let i = 0; i < vectors.length; i++) out[batch.start + i] = vectors[i]!;
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, batches.length) }, worker));
    if (failure !== undefined) throw failure.error;
    return out;
  }

  /**
   * Embeds one query text.
   *
   * @throws as {@link OpenAIEmbedder.embedDocuments}.
   */
  async embedQuery(text: string): Promise<Float32Array> {
    const [vector] = await this.embedDocuments([text]);
    return vector!;
  }

  private loadSdk(): Promise<{ client: EmbeddingsClient; module: OpenAIModule }> {
    this.#sdk ??= importOptional<OpenAIModule>("openai", "OpenAIEmbedder", ["openai"]).then(
      (module) => {
        const client = new module.default({
          apiKey: this.#apiKey,
          ...(this.settings.baseURL === undefined ? {} : { baseURL: this.settings.baseURL }),
          ...(this.settings.organization === undefined ? {} : { organization: this.settings.organization }),
          ...(this.settings.project === undefined ? {} : { project: this.settings.project }),
          maxRetries: 0,
          timeout: this.settings.timeoutMs,
        });
        return { client, module };
      },
      (error: unknown) => {
        this.#sdk = undefined; // a later call may find the package installed
        throw error;
      },
    );
    return this.#sdk;
  }

  /** One batch: sends it, retrying retryable failures, and decodes the answer. */
  private async requestWithRetries(client: EmbeddingsClient, module: OpenAIModule, texts: string[], batch: RequestBatch): Promise<Float32Array[]> {
    const input = texts.slice(batch.start, batch.end);
    const body = {
      model: this.model,
      input,
      encoding_format: "base64" as const,
      ...(this.settings.sendDimensions ? { dimensions: this.dimension } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      let response: Awaited<ReturnType<EmbeddingsClient["embeddings"]["create"]>>;
      try {
        response = await client.embeddings.create(body, {});
      } catch (error) {
        const aborted = error instanceof module.APIUserAbortError;
        if (!(error instanceof module.APIError) || aborted) throw error;
        const api = error as SdkApiError;
        const status = typeof api.status === "number" ? api.status : undefined;
        const requestId = api.requestID ?? api.headers?.get("x-request-id") ?? undefined;
        const retryable = isRetryableStatus(status);
        const facts: EmbeddingRequestFacts = {
          model: this.model,
          status,
          requestId,
          providerCode: api.code ?? api.type ?? undefined,
          attempts: attempt,
          retryable,
          firstInput: batch.start,
          inputCount: input.length,
          estimatedTokens: batch.estimatedTokens,
        };
        if (!retryable || attempt > this.settings.maxRetries) {
          throw new EmbeddingRequestError(facts, (error as Error).message, { cause: error });
        }
        const serverMs = api.headers === undefined ? undefined : retryAfterMs((name) => api.headers!.get(name), Date.now());
        const delayMs = retryDelayMs(attempt, serverMs, { initialDelayMs: this.settings.initialRetryDelayMs, maxDelayMs: this.settings.maxRetryDelayMs }, Math.random);
        this.settings.onRetry?.({ retry: attempt, delayMs, status, requestId, firstInput: batch.start, inputCount: input.length, error });
        await sleep(delayMs);
        continue;
      }
      return this.decode(response, batch, attempt);
    }
  }

  /** Puts the answer's vectors in input order, checking count, indices and length. */
  private decode(response: { data: Array<{ index: number; embedding: string | number[] }> }, batch: RequestBatch, attempts: number): Float32Array[] {
    const count = batch.end - batch.start;
    const fail = (detail: string) =>
      new EmbeddingRequestError(
        {
          model: this.model,
          status: 200,
          requestId: undefined,
          providerCode: undefined,
          attempts,
          retryable: false,
          firstInput: batch.start,
          inputCount: count,
          estimatedTokens: batch.estimatedTokens,
        },
        detail,
      );
    const data = response?.data;
    if (!Array.isArray(data) || data.length !== count) {
      throw fail(`the response holds ${Array.isArray(data) ? data.length : "no"} embeddings for ${count} inputs`);
    }
    const out = new Array<Float32Array>(count);
    for (const item of data) {
      const index = item?.index;
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) {
        throw fail(`the response has a missing, repeated or out-of-range index ${String(index)}`);
      }
      const vector = decodeEmbedding(item.embedding);
      if (vector === undefined) throw fail(`embedding ${index} is neither base64 nor an array of numbers`);
      if (vector.length !== this.dimension) {
        throw fail(`embedding ${index} has ${vector.length} dimensions; expected ${this.dimension}`);
      }
      out[index] = vector;
    }
    return out;
  }
}

/** A base64 string of little-endian float32 values, or an array of numbers, as a new Float32Array. */
function decodeEmbedding(embedding: unknown): Float32Array | undefined {
  if (typeof embedding === "string") {
    const bytes = Buffer.from(embedding, "base64");
    if (bytes.length % 4 !== 0) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (Array.isArray(embedding) && embedding.every((x) => typeof x === "number")) return Float32Array.from(embedding as number[]);
  return undefined;
}

function nonNegativeIntegerOption(embedder: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 100) {
    throw new ValidationError(ErrorCode.INVALID_OPTION, `${embedder}: ${name} must be an integer from 0 to 100, got ${String(value)}`);
  }
  return value;
}
