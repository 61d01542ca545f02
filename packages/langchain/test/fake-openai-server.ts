/**
 * A tiny OpenAI-compatible embeddings server on 127.0.0.1 (random port) for tests.
 *
 * `POST /v1/embeddings` with `{ model, input: string | string[], encoding_format?, dimensions? }`
 * answers in OpenAI's response shape: `{ object: "list", data: [{ object: "embedding", index,
 * embedding }], model, usage }`. Vectors are {@link hashEmbedding} of each input (1536-d unless
 * `dimensions` asks otherwise); with `encoding_format: "base64"` (what the official SDK requests by
 * default) each embedding is the base64 of its little-endian float32 bytes. Requests without
 * `Authorization: Bearer <apiKey>` get a 401 in OpenAI's error shape.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { hashEmbedding, words } from "./fake-embeddings.js";

/** One request the server answered. */
export interface EmbeddingRequest {
  model: string;
  inputs: string[];
  encodingFormat: string | undefined;
  dimensions: number | undefined;
}

/** A running fake server. */
export interface FakeOpenAIServer {
  /** Base URL to give the client, ending in `/v1`. */
  baseURL: string;
  /** Every successful embeddings request, in order. */
  requests: EmbeddingRequest[];
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startFakeOpenAIServer(options: { apiKey?: string; dimension?: number } = {}): Promise<FakeOpenAIServer> {
  const apiKey = options.apiKey ?? "test";
  const defaultDimension = options.dimension ?? 1536;
  const requests: EmbeddingRequest[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const error = (status: number, message: string, type: string) => reply(status, { error: { message, type, param: null, code: null } });
      if (req.method !== "POST" || req.url !== "/v1/embeddings") return error(404, `no route ${req.method} ${req.url}`, "invalid_request_error");
      if (req.headers.authorization !== `Bearer ${apiKey}`) return error(401, "Incorrect API key provided", "invalid_request_error");
      let body: { model?: unknown; input?: unknown; encoding_format?: unknown; dimensions?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        return error(400, "body is not JSON", "invalid_request_error");
      }
      const inputs = typeof body.input === "string" ? [body.input] : body.input;
      if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === "string")) {
        return error(400, "input must be a string or a non-empty array of strings", "invalid_request_error");
      }
      if (typeof body.model !== "string") return error(400, "model is required", "invalid_request_error");
      const format = body.encoding_format;
      if (format !== undefined && format !== "float" && format !== "base64") return error(400, "encoding_format must be float or base64", "invalid_request_error");
      const dimensions = body.dimensions;
      if (dimensions !== undefined && (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1)) {
        return error(400, "dimensions must be a positive integer", "invalid_request_error");
      }
      const dim = (dimensions as number | undefined) ?? defaultDimension;
      requests.push({ model: body.model, inputs: inputs as string[], encodingFormat: format as string | undefined, dimensions: dimensions as number | undefined });
      let tokens = 0;
      const data = (inputs as string[]).map((text, index) => {
        tokens += words(text).length;
        const vector = hashEmbedding(text, dim);
        const embedding = format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
        return { object: "embedding", index, embedding };
      });
      reply(200, { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
