/**
 * A stand-in for the OpenAI API on 127.0.0.1 (random port), so the example's OpenAI mode runs in CI
 * without a key or network. Point the example at it with `OPENAI_BASE_URL=<baseURL>`.
 *
 * - `POST /v1/embeddings`: a hashed bag of words (each lower-cased word adds 1 to bucket
 *   FNV-1a(word) mod dim), normalised; `dimensions` or 1536 values; base64 when asked.
 * - `POST /v1/chat/completions` (non-streaming): answers `fake answer #<n>`, n counting the chat
 *   requests from 1.
 * Requests without `Authorization: Bearer <apiKey>` get a 401.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeOpenAI {
  baseURL: string;
  /** Every embeddings input, in arrival order. */
  embeddedTexts: string[];
  /** The messages of every chat request. */
  chats: Array<Array<{ role: string; content: string }>>;
  close(): Promise<void>;
}

function bagOfWords(text: string, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
    v[h % dim]! += 1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export async function startFakeOpenAI(apiKey: string): Promise<FakeOpenAI> {
  const embeddedTexts: string[] = [];
  const chats: FakeOpenAI["chats"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${apiKey}`) return reply(401, { error: { message: "bad key", type: "invalid_request_error" } });
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (req.method === "POST" && req.url === "/v1/embeddings") {
        const inputs: string[] = typeof body.input === "string" ? [body.input] : body.input;
        embeddedTexts.push(...inputs);
        const dim: number = body.dimensions ?? 1536;
        const data = inputs.map((text, index) => {
          const v = bagOfWords(text, dim);
          return { object: "embedding", index, embedding: body.encoding_format === "base64" ? Buffer.from(v.buffer).toString("base64") : Array.from(v) };
        });
        return reply(200, { object: "list", data, model: body.model, usage: { prompt_tokens: 0, total_tokens: 0 } });
      }
      if (req.method === "POST" && req.url === "/v1/chat/completions") {
        const messages = body.messages as Array<{ role: string; content: string }>;
        chats.push(messages);
        return reply(200, {
          id: `chatcmpl-${chats.length}`,
          object: "chat.completion",
          created: 0,
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: `fake answer #${chats.length}` }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        });
      }
      reply(404, { error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    embeddedTexts,
    chats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
