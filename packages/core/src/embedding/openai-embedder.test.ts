/**
 * OpenAIEmbedder through the real `openai` SDK against a small fake OpenAI server on 127.0.0.1:0.
 *
 * The server answers `POST /v1/embeddings` in OpenAI's shape with deterministic vectors (a seeded
 * function of the text, see `fakeVector`), base64 when asked (as the SDK asks by default) or floats,
 * and can be scripted to fail the next requests with a status and headers.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, OmenDBError, ValidationError, isOmenDBError } from "../errors.js";
import { EmbeddingRequestError, MissingDependencyError, importOptional } from "./embedding-errors.js";
import { OpenAIEmbedder, type EmbeddingRetryEvent, type OpenAIEmbedderOptions } from "./openai-embedder.js";
import { estimateTokens } from "./request-batches.js";

const API_KEY = "sk-test-omendb";

/** A deterministic vector for a text: xorshift32 seeded by the text's FNV-1a hash. */
function fakeVector(text: string, dim: number): Float32Array {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  let s = h || 1;
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 0xffffffff - 0.5;
  }
  return out;
}

interface SeenRequest {
  inputs: string[];
  model: string;
  dimensions: number | undefined;
  encodingFormat: string | undefined;
  authorization: string | undefined;
}

interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface FakeServer {
  baseURL: string;
  requests: SeenRequest[];
  /** Failures answered to the next requests, in order. */
  failures: ScriptedFailure[];
  /** Answer with float arrays even when base64 is asked. */
  floats: boolean;
  /** Answer with one embedding fewer than asked. */
  dropOne: boolean;
  /** Answer vectors of this length whatever `dimensions` asks (0: honour it). */
  forceDim: number;
  /** Hold answers until `until` requests are in flight or `total` have arrived since it was set. */
  hold: { until: number; total: number; arrived: number } | undefined;
  maxInFlight: number;
  close(): Promise<void>;
}

async function startFakeServer(): Promise<FakeServer> {
  let inFlight = 0;
  let held: Array<() => void> = [];
  const state = {
    requests: [] as SeenRequest[],
    failures: [] as ScriptedFailure[],
    floats: false,
    dropOne: false,
    forceDim: 0,
    hold: undefined as FakeServer["hold"],
    maxInFlight: 0,
  };
  let requestCounter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const requestId = `req_${++requestCounter}`;
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId, ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/v1/embeddings") return reply(404, { error: { message: "no route", type: "invalid_request_error" } });
      if (req.headers.authorization !== `Bearer ${API_KEY}`) {
        return reply(401, { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model: string; input: string[]; dimensions?: number; encoding_format?: string };
      state.requests.push({
        inputs: body.input,
        model: body.model,
        dimensions: body.dimensions,
        encodingFormat: body.encoding_format,
        authorization: req.headers.authorization,
      });
      const failure = state.failures.shift();
      if (failure !== undefined) {
        return reply(failure.status, failure.body ?? { error: { message: `scripted ${failure.status}`, type: "server_error", code: null } }, failure.headers);
      }
      const dim = state.forceDim || (body.dimensions ?? (body.model === "text-embedding-3-large" ? 3072 : 1536));
      const data = body.input.map((text, index) => {
        const v = fakeVector(`${body.model}|${text}`, dim);
        const embedding = body.encoding_format === "base64" && !state.floats ? Buffer.from(v.buffer).toString("base64") : Array.from(v);
        return { object: "embedding", index, embedding };
      });
      // Answer in reverse order: clients must place vectors by `index`.
      data.reverse();
      if (state.dropOne) data.pop();
      const answer = () => reply(200, { object: "list", data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const release = () => {
        inFlight--;
        answer();
      };
      if (state.hold !== undefined) {
        held.push(release);
        state.hold.arrived++;
        if (inFlight >= state.hold.until || state.hold.arrived >= state.hold.total) {
          const now = held;
          held = [];
          now.forEach((f) => f());
        }
      } else {
        release();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
  server.failures.length = 0;
  server.floats = false;
  server.dropOne = false;
  server.forceDim = 0;
  server.hold = undefined;
  server.maxInFlight = 0;
});

const embedder = (options: OpenAIEmbedderOptions = {}) =>
  new OpenAIEmbedder({ apiKey: API_KEY, baseURL: server.baseURL, initialRetryDelayMs: 1, maxRetryDelayMs: 5, ...options });

const texts = (n: number, prefix = "text") => Array.from({ length: n }, (_, i) => `${prefix} number ${i}`);

function expectVectors(got: Float32Array[], inputs: string[], dim: number, model = "text-embedding-3-small") {
  expect(got).toHaveLength(inputs.length);
  got.forEach((v, i) => {
    expect(v).toBeInstanceOf(Float32Array);
    expect(v).toEqual(fakeVector(`${model}|${inputs[i]}`, dim));
  });
}

describe("OpenAIEmbedder", () => {
  it("defaults to text-embedding-3-small, 1536-d, and decodes base64 answers in input order", async () => {
    const e = embedder();
    expect(e.model).toBe("text-embedding-3-small");
    expect(e.dimension).toBe(1536);
    const inputs = ["first text", "second text", "third — with ünïcode"];
    expectVectors(await e.embedDocuments(inputs), inputs, 1536);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ model: "text-embedding-3-small", encodingFormat: "base64", dimensions: undefined, authorization: `Bearer ${API_KEY}` });
    expect(request!.inputs).toEqual(inputs);
  });

  it("accepts float-array answers from servers that ignore encoding_format", async () => {
    server.floats = true;
    const inputs = texts(4);
    expectVectors(await embedder().embedDocuments(inputs), inputs, 1536);
  });

  it("embedQuery returns one vector; an empty list makes no request", async () => {
    const v = await embedder().embedQuery("what is OmenDB?");
    expect(v).toEqual(fakeVector("text-embedding-3-small|what is OmenDB?", 1536));
    expect(await embedder().embedDocuments([])).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it("sends dimensions and returns vectors of that length", async () => {
    const e = embedder({ dimensions: 256 });
    expect(e.dimension).toBe(256);
    const inputs = texts(3);
    expectVectors(await e.embedDocuments(inputs), inputs, 256);
    expect(server.requests[0]!.dimensions).toBe(256);

    const large = embedder({ model: "text-embedding-3-large" });
    expect(large.dimension).toBe(3072);
    expectVectors(await large.embedDocuments(["x"]), ["x"], 3072, "text-embedding-3-large");
    expect(server.requests[1]!.dimensions).toBeUndefined();

    const custom = embedder({ model: "my-local-model", dimensions: 64 });
    expectVectors(await custom.embedDocuments(["y"]), ["y"], 64, "my-local-model");
  });

  it("splits by count: at most maxBatchSize inputs per request, 2048 by default", async () => {
    const inputs = texts(10);
    expectVectors(await embedder({ maxBatchSize: 3 }).embedDocuments(inputs), inputs, 1536);
    expect(server.requests.map((r) => r.inputs.length)).toEqual([3, 3, 3, 1]);
    expect(server.requests.flatMap((r) => r.inputs)).toEqual(inputs);

    server.requests.length = 0;
    const many = texts(2049, "t");
    const got = await embedder({ dimensions: 8 }).embedDocuments(many);
    expectVectors(got, many, 8);
    expect(server.requests.map((r) => r.inputs.length)).toEqual([2048, 1]);
  });

  it("splits by estimated tokens (⌈bytes / 3⌉ per text)", async () => {
    // 30-byte texts = 10 estimated tokens each; a budget of 35 fits three per request.
    const inputs = Array.from({ length: 7 }, (_, i) => `${String(i).padStart(2, "0")}${"x".repeat(28)}`);
    expect(inputs.map(estimateTokens)).toEqual(Array(7).fill(10));
    expectVectors(await embedder({ maxTokensPerRequest: 35 }).embedDocuments(inputs), inputs, 1536);
    expect(server.requests.map((r) => r.inputs.length)).toEqual([3, 3, 1]);

    // Multi-byte text counts bytes, not characters: "é" is 2 bytes.
    expect(estimateTokens("é".repeat(30))).toBe(20);

    // The default budget (250,000) splits three ~133k-token texts into three requests.
    server.requests.length = 0;
    const big = ["a", "b", "c"].map((c) => c.repeat(400_000));
    expectVectors(await embedder({ dimensions: 4 }).embedDocuments(big), big, 4);
    expect(server.requests.map((r) => r.inputs.length)).toEqual([1, 1, 1]);

    // A text above the budget is still sent (alone) so the provider can name it.
    server.requests.length = 0;
    const mixed = ["short", "y".repeat(300), "tail"];
    await embedder({ maxTokensPerRequest: 50, dimensions: 4 }).embedDocuments(mixed);
    expect(server.requests.map((r) => r.inputs)).toEqual([["short"], ["y".repeat(300)], ["tail"]]);
  });

  it("keeps up to `concurrency` requests in flight and still returns input order", async () => {
    server.hold = { until: 3, total: 5, arrived: 0 };
    const inputs = texts(10);
    expectVectors(await embedder({ maxBatchSize: 2, concurrency: 3 }).embedDocuments(inputs), inputs, 1536);
    expect(server.requests).toHaveLength(5);
    expect(server.maxInFlight).toBe(3);
  });

  it("retries a 429 after the server's retry-after and then succeeds", async () => {
    server.failures.push({ status: 429, headers: { "retry-after-ms": "3" }, body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } } });
    server.failures.push({ status: 429, headers: { "retry-after": "0" } });
    const events: EmbeddingRetryEvent[] = [];
    const inputs = texts(2);
    expectVectors(await embedder({ onRetry: (e) => events.push(e) }).embedDocuments(inputs), inputs, 1536);
    expect(server.requests).toHaveLength(3);
    expect(events.map((e) => [e.retry, e.status, e.delayMs])).toEqual([
      [1, 429, 3],
      [2, 429, 0],
    ]);
    for (const e of events) expect(e.requestId).toMatch(/^req_\d+$/);
    expect(events[0]).toMatchObject({ firstInput: 0, inputCount: 2 });
  });

  it("retries 5xx with jittered exponential backoff when no retry-after is sent", async () => {
    server.failures.push({ status: 503 }, { status: 502 }, { status: 500 });
    const events: EmbeddingRetryEvent[] = [];
    const inputs = texts(1);
    expectVectors(await embedder({ initialRetryDelayMs: 4, maxRetryDelayMs: 10, onRetry: (e) => events.push(e) }).embedDocuments(inputs), inputs, 1536);
    expect(events.map((e) => e.status)).toEqual([503, 502, 500]);
    // Backoff before jitter is 4, 8, 10 (capped); jitter keeps half to all of it.
    [4, 8, 10].forEach((base, i) => {
      expect(events[i]!.delayMs).toBeGreaterThanOrEqual(base / 2);
      expect(events[i]!.delayMs).toBeLessThanOrEqual(base);
    });
  });

  it("gives up after maxRetries on 500s with an EmbeddingRequestError carrying the request facts", async () => {
    for (let i = 0; i < 3; i++) server.failures.push({ status: 500 });
    const inputs = texts(5);
    const error = await embedder({ maxRetries: 2, maxBatchSize: 2 }).embedDocuments(inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(isOmenDBError(error)).toBe(true);
    const e = error as EmbeddingRequestError;
    expect(e.code).toBe(ErrorCode.IO);
    expect(e).toMatchObject({ status: 500, attempts: 3, retryable: true, firstInput: 0, inputCount: 2, model: "text-embedding-3-small" });
    expect(e.requestId).toMatch(/^req_\d+$/);
    expect(e.estimatedTokens).toBe(inputs.slice(0, 2).reduce((s, t) => s + estimateTokens(t), 0));
    expect(e.cause).toBeInstanceOf(Error);
    // Three attempts of the first batch, and nothing after the failure.
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 400 and reports the provider's code", async () => {
    server.failures.push({ status: 400, body: { error: { message: "'$.input' is invalid", type: "invalid_request_error", code: "invalid_input" } } });
    const error = await embedder().embedDocuments(["x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ code: ErrorCode.IO, status: 400, attempts: 1, retryable: false, providerCode: "invalid_input" });
    expect(server.requests).toHaveLength(1);
  });

  it("reports a wrong key as a 401 without retrying", async () => {
    const error = await embedder({ apiKey: "sk-wrong" }).embedDocuments(["x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ code: ErrorCode.IO, status: 401, attempts: 1, retryable: false, providerCode: "invalid_api_key" });
  });

  it("retries connection failures, then reports them with no status", async () => {
    const closed = await startFakeServer();
    const baseURL = closed.baseURL;
    await closed.close();
    const events: EmbeddingRetryEvent[] = [];
    const error = await embedder({ baseURL, maxRetries: 2, onRetry: (e) => events.push(e) })
      .embedDocuments(["x"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ code: ErrorCode.IO, status: undefined, attempts: 3, retryable: true });
    expect(events).toHaveLength(2);
  });

  it("rejects a response with the wrong number of embeddings", async () => {
    server.dropOne = true;
    const error = await embedder().embedDocuments(texts(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ code: ErrorCode.IO, status: 200, retryable: false });
  });

  it("rejects embeddings of the wrong length (a server ignoring dimensions)", async () => {
    server.forceDim = 1536;
    const error = await embedder({ dimensions: 256 }).embedDocuments(["w"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ code: ErrorCode.IO, status: 200, retryable: false });
    // ada-002 always answers 1536 and takes no dimensions parameter.
    const ada = embedder({ model: "text-embedding-ada-002" });
    expect(ada.dimension).toBe(1536);
    expectVectors(await ada.embedDocuments(["z"]), ["z"], 1536, "text-embedding-ada-002");
  });

  it("fails before any request without an API key", () => {
    const saved = process.env["OPENAI_API_KEY"];
    delete process.env["OPENAI_API_KEY"];
    try {
      const error = (() => {
        try {
          new OpenAIEmbedder({ baseURL: server.baseURL });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_OPTION });
      expect(() => new OpenAIEmbedder({ apiKey: "  " })).toThrow(ValidationError);
      expect(server.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env["OPENAI_API_KEY"] = saved;
    }
  });

  it("reads the key from OPENAI_API_KEY", async () => {
    const saved = process.env["OPENAI_API_KEY"];
    process.env["OPENAI_API_KEY"] = API_KEY;
    try {
      const e = new OpenAIEmbedder({ baseURL: server.baseURL });
      expectVectors(await e.embedDocuments(["from env"]), ["from env"], 1536);
    } finally {
      if (saved === undefined) delete process.env["OPENAI_API_KEY"];
      else process.env["OPENAI_API_KEY"] = saved;
    }
  });

  it("validates options and texts before sending anything", async () => {
    const bad: OpenAIEmbedderOptions[] = [
      { model: "unknown-model" },
      { model: "text-embedding-ada-002", dimensions: 512 },
      { dimensions: 0 },
      { dimensions: 1537 },
      { dimensions: 1.5 },
      { maxBatchSize: 2049 },
      { maxTokensPerRequest: 300_001 },
      { maxRetries: -1 },
      { concurrency: 0 },
      { initialRetryDelayMs: Number.NaN },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        embedder(options);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(ErrorCode.INVALID_OPTION);
    }
    const e = embedder();
    for (const input of [["ok", ""], ["ok", 3 as unknown as string]]) {
      const error = await e.embedDocuments(input).catch((x: unknown) => x);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(ErrorCode.INVALID_DOCUMENT);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe("importOptional", () => {
  it("turns a missing package into a MissingDependencyError naming what to install", async () => {
    const error = await importOptional("@omendb/no-such-package-for-tests", "SomeEmbedder", ["@omendb/no-such-package-for-tests"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error).toBeInstanceOf(OmenDBError);
    expect((error as MissingDependencyError).code).toBe(ErrorCode.INVALID_OPTION);
    expect((error as MissingDependencyError).packages).toEqual(["@omendb/no-such-package-for-tests"]);
    expect((error as MissingDependencyError).cause).toBeInstanceOf(Error);
  });

  it("loads an installed package", async () => {
    const mod = await importOptional<{ default: unknown }>("openai", "OpenAIEmbedder", ["openai"]);
    expect(typeof mod.default).toBe("function");
  });
});

describe("OpenAIEmbedder inspection", () => {
  it("does not show the API key when logged", async () => {
    const { inspect } = await import("node:util");
    const e = new OpenAIEmbedder({ apiKey: "sk-secret-value-for-test", baseURL: server.baseURL, maxRetries: 0 });
    await e.embedQuery("x").catch(() => undefined); // loads the SDK client (401 from the fake server)
    expect(inspect(e, { depth: 8, showHidden: true })).not.toContain("sk-secret-value-for-test");
    expect(JSON.stringify(e)).not.toContain("sk-secret-value-for-test");
  });
});
