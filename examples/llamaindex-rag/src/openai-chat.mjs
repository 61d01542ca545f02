// A minimal LlamaIndex LLM over OpenAI's Chat Completions API, with fetch (no extra package):
// llamaindex 0.12 no longer bundles an OpenAI LLM, and its @llamaindex/openai provider duplicates
// llamaindex's core when installed beside it. Honors OPENAI_BASE_URL like the official SDK.
import { BaseLLM } from "llamaindex";

export class OpenAIChat extends BaseLLM {
  constructor({ model = "gpt-4o-mini", apiKey = process.env.OPENAI_API_KEY, baseURL = process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1" } = {}) {
    super();
    this.model = model;
    this.apiKey = apiKey;
    this.baseURL = baseURL.replace(/\/+$/, "");
    this.metadata = { model, temperature: 0, topP: 1, contextWindow: 128_000, tokenizer: undefined, structuredOutput: false };
  }

  async chat(params) {
    const messages = params.messages.map((m) => ({
      role: m.role === "memory" ? "system" : m.role,
      content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text ?? "").join(""),
    }));
    const response = await fetch(`${this.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.apiKey}` },
      body: JSON.stringify({ model: this.model, temperature: 0, messages }),
    });
    if (!response.ok) throw new Error(`OpenAI chat request failed: HTTP ${response.status} ${await response.text()}`);
    const body = await response.json();
    const text = body.choices[0].message.content ?? "";
    if (params.stream) {
      return (async function* () {
        yield { delta: text, raw: body };
      })();
    }
    return { message: { role: "assistant", content: text }, raw: body };
  }
}
