// A LlamaIndex `BaseEmbedding` over any OmenDB `Embedder` (OfflineEmbedder, OpenAIEmbedder, or your
// own): OmenDB embedders return Float32Array and batch requests themselves; LlamaIndex wants number[].
import { BaseEmbedding } from "llamaindex";

export class OmenDBEmbedding extends BaseEmbedding {
  /** @param {import("@omendb/core").Embedder} embedder */
  constructor(embedder) {
    super();
    this.embedder = embedder;
    // Hand LlamaIndex's batches to the embedder whole; it splits them by its own limits.
    this.embedBatchSize = 2048;
    this.getTextEmbeddings = async (texts) => (await embedder.embedDocuments(texts)).map((v) => Array.from(v));
  }

  async getTextEmbedding(text) {
    return Array.from(await this.embedder.embedQuery(text));
  }
}
