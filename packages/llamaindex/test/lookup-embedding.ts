/**
 * An embedding model that returns precomputed vectors for known texts (for example a dataset's own
 * Universal Sentence Encoder vectors), so a query engine runs offline on real embeddings.
 */
import { BaseEmbedding } from "llamaindex";

export class LookupEmbedding extends BaseEmbedding {
  readonly #table = new Map<string, number[]>();

  constructor() {
    super();
  }

  /** Registers `text` → `vector`. */
  set(text: string, vector: ArrayLike<number>): void {
    this.#table.set(text, Array.from(vector));
  }

  async getTextEmbedding(text: string): Promise<number[]> {
    const vector = this.#table.get(text);
    if (vector === undefined) throw new Error(`LookupEmbedding: no vector for ${JSON.stringify(text.slice(0, 60))}`);
    return vector;
  }
}
