/**
 * A deterministic fake LLM for query-engine tests. It answers every prompt with the value that occurs
 * most often on lines `<field>: <value>` of the prompt (ties go to the value seen first), which is what
 * LlamaIndex puts there for each retrieved node's metadata. So its answer depends only on which nodes
 * were retrieved and reached the prompt, and it records every prompt it saw.
 */
import { BaseLLM, type ChatResponse, type ChatResponseChunk, type LLMChatParamsNonStreaming, type LLMChatParamsStreaming, type LLMMetadata } from "llamaindex";

export class MajorityVoteLLM extends BaseLLM {
  readonly prompts: string[] = [];
  metadata: LLMMetadata = {
    model: "majority-vote",
    temperature: 0,
    topP: 1,
    contextWindow: 1_000_000,
    tokenizer: undefined,
    structuredOutput: false,
  };

  constructor(readonly field: string) {
    super();
  }

  answer(prompt: string): string {
    const counts = new Map<string, number>();
    const pattern = new RegExp(`^${this.field}: (.+)$`, "gm");
    for (const match of prompt.matchAll(pattern)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    let best = "unknown";
    let bestCount = 0;
    for (const [value, n] of counts) {
      if (n > bestCount) [best, bestCount] = [value, n];
    }
    return best;
  }

  chat(params: LLMChatParamsStreaming): Promise<AsyncIterable<ChatResponseChunk>>;
  chat(params: LLMChatParamsNonStreaming): Promise<ChatResponse>;
  async chat(params: LLMChatParamsStreaming | LLMChatParamsNonStreaming): Promise<AsyncIterable<ChatResponseChunk> | ChatResponse> {
    const prompt = params.messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\n");
    this.prompts.push(prompt);
    const text = this.answer(prompt);
    if (params.stream) {
      return (async function* () {
        yield { delta: text, raw: null };
      })();
    }
    return { message: { role: "assistant", content: text }, raw: null };
  }
}
