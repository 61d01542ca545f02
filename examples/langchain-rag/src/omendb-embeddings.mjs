// A LangChain `Embeddings` over any OmenDB `Embedder` (OfflineEmbedder, OpenAIEmbedder, or your own):
// OmenDB embedders return Float32Array; LangChain expects number[].
import { Embeddings } from "@langchain/core/embeddings";

export class OmenDBEmbeddings extends Embeddings {
  /** @param {import("@omendb/core").Embedder} embedder */
  constructor(embedder) {
    super({});
    this.embedder = embedder;
  }

  async embedDocuments(texts) {
    return (await this.embedder.embedDocuments(texts)).map((v) => Array.from(v));
  }

  async embedQuery(text) {
    return Array.from(await this.embedder.embedQuery(text));
  }
}
