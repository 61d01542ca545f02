/**
 * `OmenDBVectorStore`: a LlamaIndex.TS (0.12) `BaseVectorStore` over one OmenDB collection.
 *
 * Record layout (one record per node):
 * - `id` = `node.id_`; `vector` = `node.getEmbedding()`; `document` = the node's text (`TextNode.text`
 *   verbatim, else `node.getContent(MetadataMode.NONE)`, which trims);
 * - `metadata` = the node's own metadata plus the keys `nodeToMetadata` adds: `_node_content` (the node
 *   serialised as JSON with its text blanked, since the text lives in `document`), `_node_type`,
 *   `document_id`, `doc_id` and `ref_doc_id` (the source document's id, `"None"` without a source).
 *   Metadata is stored as JSON: `undefined` values are dropped and `Date`s become ISO strings.
 *
 * Invariants:
 * - `query` rebuilds nodes with `metadataDictToNode` and puts the stored text back, so
 *   `VectorStoreIndex.fromVectorStore` works on a reopened folder without a docstore.
 * - `delete(x)` removes the nodes whose `ref_doc_id` is x and the node whose id is x; both are
 *   idempotent, so a retry after a crash is safe.
 * - Every write is acknowledged only once core has made it durable (per the database's durability
 *   setting); `persist()` merely checkpoints.
 */
import {
  ClosedError,
  ErrorCode,
  OmenDB,
  ValidationError,
  type Collection,
  type Metric,
  type RecordInput,
  type SearchResult,
} from "@omendb/core";
import { MetadataMode, TextNode, type BaseNode } from "llamaindex";
import {
  BaseVectorStore,
  metadataDictToNode,
  nodeToMetadata,
  VectorStoreQueryMode,
  type VectorStoreBaseParams,
  type VectorStoreQuery,
  type VectorStoreQueryResult,
} from "llamaindex/vector-store";
import { compileMetadataFilters, type FilterRecord } from "./metadata-filters.js";
import { selectMaxMarginalRelevance } from "./max-marginal-relevance.js";

/** Options of {@link OmenDBVectorStore}. Give exactly one of `path` and `db`. */
export interface OmenDBVectorStoreParams extends VectorStoreBaseParams {
  /** A data folder; opened (and created if needed) on first use, closed by {@link OmenDBVectorStore.close}. */
  path?: string;
  /** Options for opening `path` (durability etc.); ignored with `db`. Default: core's (`fsync`). */
  openOptions?: Parameters<typeof OmenDB.open>[1];
  /** An open database to share; the store never closes it. */
  db?: OmenDB;
  /** The collection holding the nodes. Default `"llamaindex"`. */
  collectionName?: string;
  /**
   * Vector length. Default: the existing collection's, or else the first added node's embedding
   * length (the collection is created on the first `add`).
   */
  dimension?: number;
  /** Distance for a new collection. Default: the existing collection's, or else `"cosine"`. */
  metric?: Metric;
  /** In `mmr` mode, fetch `similarityTopK × mmrPrefetchFactor` candidates to rerank. Default 4. */
  mmrPrefetchFactor?: number;
}

/** Extra query options, passed as `VectorStoreQuery.customParams`. */
export interface OmenDBQueryParams {
  /** In `mmr` mode, how many candidates to rerank (overrides `mmrPrefetchFactor`). */
  mmrPrefetchK?: number;
}

const DEFAULT_COLLECTION = "llamaindex";
const DEFAULT_MMR_LAMBDA = 0.5;

/**
 * A LlamaIndex vector store persisted in an OmenDB folder.
 *
 * Stores text (`storesText = true`), so `VectorStoreIndex.fromVectorStore(store)` reopens an index
 * without a docstore. Like every LlamaIndex store, the constructor needs an embedding model: pass
 * `embedModel` or set `Settings.embedModel` first.
 *
 * @example
 * ```ts
 * Settings.embedModel = myEmbedModel;
 * const vectorStore = new OmenDBVectorStore({ path: "./data" });
 * const index = await VectorStoreIndex.fromDocuments(docs, {
 *   storageContext: await storageContextFromDefaults({ vectorStore }),
 * });
 * ```
 */
export class OmenDBVectorStore extends BaseVectorStore<OmenDB, OmenDBQueryParams> {
  /** Always true: query results carry the nodes themselves. */
  storesText = true as const;
  /** The collection this store reads and writes. */
  readonly collectionName: string;

  readonly #path: string | undefined;
  readonly #openOptions: Parameters<typeof OmenDB.open>[1];
  readonly #ownsDb: boolean;
  readonly #dimension: number | undefined;
  readonly #metric: Metric | undefined;
  readonly #mmrPrefetchFactor: number;
  #db: OmenDB | undefined;
  #opening: Promise<OmenDB> | undefined;
  #collection: Promise<Collection> | undefined;
  #closed = false;

  /**
   * @throws ValidationError code INVALID_OPTION unless exactly one of `path` and `db` is given, or
   *   when `dimension`, `metric` or `mmrPrefetchFactor` is out of range.
   * @throws Error from LlamaIndex when no embedding model is given and `Settings.embedModel` is unset.
   */
  constructor(params: OmenDBVectorStoreParams) {
    super(params);
    const { path, db, dimension, metric, mmrPrefetchFactor = 4 } = params;
    if ((path === undefined) === (db === undefined)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "OmenDBVectorStore needs exactly one of `path` and `db`");
    }
    if (path !== undefined && (typeof path !== "string" || path.length === 0)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "OmenDBVectorStore: `path` must be a non-empty string");
    }
    if (dimension !== undefined && !(Number.isInteger(dimension) && dimension > 0)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: dimension must be a positive integer, got ${dimension}`);
    }
    if (metric !== undefined && metric !== "cosine" && metric !== "l2" && metric !== "ip") {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: unknown metric ${JSON.stringify(metric)}`);
    }
    if (!(Number.isFinite(mmrPrefetchFactor) && mmrPrefetchFactor >= 1)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: mmrPrefetchFactor must be >= 1, got ${mmrPrefetchFactor}`);
    }
    this.collectionName = params.collectionName ?? DEFAULT_COLLECTION;
    this.#path = path;
    this.#openOptions = params.openOptions;
    this.#db = db;
    this.#ownsDb = db === undefined;
    this.#dimension = dimension;
    this.#metric = metric;
    this.#mmrPrefetchFactor = mmrPrefetchFactor;
  }

  /**
   * Creates a store and opens its database now, so {@link client} works at once and an unusable
   * folder fails here rather than on the first write.
   * @throws as the constructor, plus core's `OmenDB.open` errors (LockedError code LOCKED, ...) and
   *   ValidationError code INVALID_OPTION when an existing collection disagrees with `dimension`/`metric`.
   */
  static async open(params: OmenDBVectorStoreParams): Promise<OmenDBVectorStore> {
    const store = new OmenDBVectorStore(params);
    try {
      const db = await store.#database();
      if (db.hasCollection(store.collectionName) || store.#dimension !== undefined) await store.#getCollection(store.#dimension);
    } catch (error) {
      await store.close(); // release the folder this store opened
      throw error;
    }
    return store;
  }

  /**
   * The OmenDB database.
   * @throws ClosedError code CLOSED when the store was built from a `path` and has not opened it yet
   *   (use {@link OmenDBVectorStore.open}, or call any async method first).
   */
  client(): OmenDB {
    if (this.#db === undefined) {
      throw new ClosedError(`OmenDBVectorStore: the database at ${this.#path} is not open yet; create the store with \`await OmenDBVectorStore.open(...)\``);
    }
    return this.#db;
  }

  /**
   * Upserts nodes: a node whose id is already stored is replaced whole. The batch is written
   * atomically; when it holds an id twice the last node wins. Creates the collection if needed.
   * @returns the node ids, in input order.
   * @throws ValidationError code INVALID_VECTOR when a node has no embedding, DIMENSION_MISMATCH when
   *   its length differs from the collection's, INVALID_METADATA when its metadata is not JSON.
   */
  async add(nodes: BaseNode[]): Promise<string[]> {
    this.#assertOpen();
    if (nodes.length === 0) return [];
    const byId = new Map<string, RecordInput>();
    for (const node of nodes) {
      byId.delete(node.id_); // keep the last occurrence's position too
      byId.set(node.id_, nodeToRecord(node));
    }
    const records = [...byId.values()];
    const collection = await this.#getCollection(records[0]!.vector.length);
    await collection.upsert(records);
    return nodes.map((node) => node.id_);
  }

  /**
   * Removes every node of a source document (`ref_doc_id === refDocId`) and the node whose id is
   * `refDocId`. Unknown ids are a no-op. `deleteOptions` is accepted for the interface and unused.
   */
  async delete(refDocId: string, deleteOptions?: object): Promise<void> {
    void deleteOptions;
    this.#assertOpen();
    const collection = await this.#existingCollection();
    if (collection === undefined) return;
    await collection.delete({ filter: { ref_doc_id: { $eq: refDocId } } });
    await collection.delete([refDocId]);
  }

  /**
   * Finds the `similarityTopK` nodes nearest to `queryEmbedding` among those matching `filters`
   * and, when given, whose id is in `docIds` (node ids, as in `SimpleVectorStore`).
   *
   * Modes: `"default"` (nearest first) and `"mmr"` (maximal marginal relevance over the
   * `similarityTopK × mmrPrefetchFactor` nearest, with `mmrThreshold` as λ, default 0.5: 1 = pure
   * relevance, 0 = pure diversity). `similarities` are core scores, higher is better: cosine
   * similarity for `"cosine"`, `1 / (1 + squared L2)` for `"l2"`, the dot product for `"ip"`; in mmr
   * mode they are still the relevance scores, in selection order.
   *
   * @returns `ids`, `similarities` and `nodes` in the same order; all empty before the first add.
   * @throws ValidationError code INVALID_OPTION for a missing `queryEmbedding`, a bad
   *   `similarityTopK` or `mmrThreshold`, or another mode; INVALID_FILTER for bad `filters`;
   *   DIMENSION_MISMATCH when the query's length differs from the collection's.
   */
  async query(query: VectorStoreQuery<OmenDBQueryParams>, options?: object): Promise<VectorStoreQueryResult> {
    void options;
    this.#assertOpen();
    const { similarityTopK: k, queryEmbedding, docIds } = query;
    const mode = query.mode ?? VectorStoreQueryMode.DEFAULT;
    if (mode !== VectorStoreQueryMode.DEFAULT && mode !== VectorStoreQueryMode.MMR) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: query mode ${JSON.stringify(mode)} is not supported (use "default" or "mmr")`);
    }
    if (!Number.isInteger(k) || k < 0) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: similarityTopK must be a non-negative integer, got ${k}`);
    }
    if (!Array.isArray(queryEmbedding) && !ArrayBuffer.isView(queryEmbedding)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "OmenDBVectorStore: query needs a queryEmbedding");
    }
    const lambda = query.mmrThreshold ?? DEFAULT_MMR_LAMBDA;
    if (mode === VectorStoreQueryMode.MMR && !(lambda >= 0 && lambda <= 1)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: mmrThreshold must be within [0, 1], got ${lambda}`);
    }
    const plan = compileMetadataFilters(query.filters);
    const empty: VectorStoreQueryResult = { ids: [], similarities: [], nodes: [] };
    const collection = await this.#existingCollection();
    if (collection === undefined || k === 0 || plan.branches.length === 0 || docIds?.length === 0) return empty;

    let fetchK = k;
    if (mode === VectorStoreQueryMode.MMR) {
      const requested = query.customParams?.mmrPrefetchK;
      fetchK = Math.max(k, requested !== undefined ? Math.floor(requested) : Math.ceil(k * this.#mmrPrefetchFactor));
    }
    const allowed = docIds === undefined ? undefined : new Set(docIds);
    const vector = Float32Array.from(queryEmbedding);
    const includeVector = mode === VectorStoreQueryMode.MMR;
    const perBranch = await Promise.all(
      plan.branches.map((branch) => {
        const predicate = andPredicates(branch.predicate, allowed && ((r: FilterRecord) => allowed.has(r.id)));
        return collection.search(vector, {
          k: fetchK,
          includeVector,
          ...(branch.filter !== undefined && { filter: branch.filter }),
          ...(predicate !== undefined && { predicate }),
        });
      }),
    );
    const hits = mergeByDistance(perBranch, fetchK);
    const chosen =
      mode === VectorStoreQueryMode.MMR ? selectMaxMarginalRelevance(hits, { k, lambda, metric: collection.metric }) : hits.slice(0, k);
    return {
      ids: chosen.map((hit) => hit.id),
      similarities: chosen.map((hit) => hit.score),
      nodes: chosen.map(recordToNode),
    };
  }

  /** Checkpoints the database (folds the write-ahead log into the data files). Writes are durable without it. */
  async persist(): Promise<void> {
    this.#assertOpen();
    await (await this.#database()).checkpoint();
  }

  /**
   * Closes the database if this store opened it (from `path`); a shared `db` stays open. Later calls
   * on this store throw ClosedError code CLOSED. Closing twice is a no-op.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ownsDb) return;
    const db = this.#db ?? (this.#opening && (await this.#opening.catch(() => undefined)));
    if (db !== undefined) await db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError(`OmenDBVectorStore "${this.collectionName}" is closed`);
  }

  #database(): Promise<OmenDB> {
    if (this.#db !== undefined) return Promise.resolve(this.#db);
    this.#opening ??= OmenDB.open(this.#path!, this.#openOptions).then(
      (db) => (this.#db = db),
      (error: unknown) => {
        this.#opening = undefined; // let a later call retry (e.g. after a LockedError)
        throw error;
      },
    );
    return this.#opening;
  }

  /** The collection if it exists (opened once and cached), else undefined. */
  async #existingCollection(): Promise<Collection | undefined> {
    if (this.#collection !== undefined) return this.#collection;
    const db = await this.#database();
    if (!db.hasCollection(this.collectionName) && this.#dimension === undefined) return undefined;
    return this.#getCollection(this.#dimension);
  }

  /** The collection, created with `dimension` (or this store's) when missing. */
  #getCollection(dimension: number | undefined): Promise<Collection> {
    this.#collection ??= (async () => {
      const db = await this.#database();
      const existing = db.hasCollection(this.collectionName) ? db.getCollection(this.collectionName) : undefined;
      return db.getOrCreateCollection(this.collectionName, {
        dimension: this.#dimension ?? existing?.dimension ?? dimension,
        metric: this.#metric ?? existing?.metric ?? "cosine",
      });
    })().catch((error: unknown) => {
      this.#collection = undefined;
      throw error;
    });
    return this.#collection;
  }
}

function nodeToRecord(node: BaseNode): RecordInput {
  let vector: number[];
  try {
    vector = node.getEmbedding();
  } catch (cause) {
    throw new ValidationError(
      ErrorCode.INVALID_VECTOR,
      `node "${node.id_}" has no embedding; embed nodes before adding them (e.g. put the embedding model in the IngestionPipeline transformations)`,
      { cause },
    );
  }
  // removeText: the text is stored once, as the record's document.
  const metadata = JSON.parse(JSON.stringify(nodeToMetadata(node, true))) as RecordInput["metadata"];
  const document = node instanceof TextNode ? node.text : node.getContent(MetadataMode.NONE);
  return { id: node.id_, vector, document, metadata };
}

function recordToNode(record: SearchResult): BaseNode {
  const text = record.document ?? "";
  if (typeof record.metadata["_node_content"] !== "string") {
    // Written by something other than this adapter: expose it as a plain text node.
    return new TextNode({ id_: record.id, text, metadata: { ...record.metadata } });
  }
  const node = metadataDictToNode({ ...record.metadata });
  // Assigning keeps the stored hash (setContent would recompute it).
  if (node instanceof TextNode) node.text = text;
  else node.setContent(text);
  return node;
}

function andPredicates(
  a: ((r: FilterRecord) => boolean) | undefined,
  b: ((r: FilterRecord) => boolean) | undefined,
): ((r: FilterRecord) => boolean) | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (r) => a(r) && b(r);
}

/** Unions per-branch results (each ascending by distance), dropping repeats, nearest `limit` first. */
function mergeByDistance(lists: SearchResult[][], limit: number): SearchResult[] {
  if (lists.length === 1) return lists[0]!;
  const seen = new Set<string>();
  const all: SearchResult[] = [];
  for (const list of lists) {
    for (const hit of list) {
      if (seen.has(hit.id)) continue;
      seen.add(hit.id);
      all.push(hit);
    }
  }
  return all.sort((a, b) => a.distance - b.distance).slice(0, limit);
}
