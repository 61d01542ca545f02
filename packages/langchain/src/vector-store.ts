/**
 * `OmenDBVectorStore`: a LangChain.js `VectorStore` over one OmenDB collection.
 *
 * Mapping (one LangChain document = one OmenDB record):
 *   Document.id          ⇄ record id (options.ids[i] ?? doc.id ?? crypto.randomUUID())
 *   Document.pageContent ⇄ record document (a stored `null` reads back as "")
 *   Document.metadata    ⇄ record metadata (a plain JSON object; keys whose value is `undefined` are dropped)
 *   score                = the collection's similarity, higher is better (see {@link OmenDBVectorStore})
 *
 * Invariants:
 * - The collection is created lazily by the first write, with the configured dimension or the
 *   length of the first vector; reads before that return empty results and never create it.
 * - Writes are upserts: re-adding an id replaces the whole record; caller objects are never mutated.
 * - The store owns (and `close()` releases) a database it opened from `path`; a `db` passed in is the
 *   caller's to close.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { maximalMarginalRelevance } from "@langchain/core/utils/math";
import { SaveableVectorStore, type MaxMarginalRelevanceSearchOptions } from "@langchain/core/vectorstores";
import {
  ClosedError,
  ErrorCode,
  ValidationError,
  parseFilter,
  type Collection,
  type Metadata,
  type Metric,
  type OmenDB,
  type RecordInput,
  type StoredRecord,
  type Where,
} from "@omendb/core";
import { copyDataFolder, isDataFolder } from "./copy-data-folder.js";
import { acquireDatabase, releaseDatabase, type OpenOptions } from "./shared-database.js";

/** A LangChain-style predicate over a candidate document (as `MemoryVectorStore` and `HNSWLib` take). */
export type DocumentPredicate = (doc: DocumentInterface) => boolean;

/**
 * What `filter` arguments accept: an OmenDB `Where` object (Mongo-like: `{ year: { $gte: 2020 } }`)
 * or a predicate function. Predicates run inside the search, so `k` results still come back when at
 * least `k` documents pass.
 */
export type OmenDBFilter = Where | DocumentPredicate;

/** Constructor options of {@link OmenDBVectorStore}. Give exactly one of `path` and `db`. */
export interface OmenDBVectorStoreConfig {
  /** A data folder to open (created if missing). Stores of one process opened on the same folder share one database. */
  path?: string;
  /** An open database to use; the caller keeps ownership and closes it. */
  db?: OmenDB;
  /** The collection holding this store's documents. Default `"langchain"`. */
  collectionName?: string;
  /** Vector length; default: the length of the first vector written (or of the existing collection). */
  dimension?: number;
  /** How vectors are compared when the collection is created. Default `"cosine"`. */
  metric?: Metric;
  /** Durability of a database opened from `path` (see OmenDB's `Durability`). Default `"fsync"`. */
  durability?: OpenOptions["durability"];
  /**
   * Index tuning used when this store creates the collection (OmenDB's `IndexOptions`: `threshold`,
   * `maxDegree`, `efSearch`, …). Below `threshold` records every search is exact.
   */
  index?: CollectionIndexOptions;
  /** Candidate list size of every index search (accuracy vs speed). Default: the collection's `efSearch`. */
  efSearch?: number;
}

/** OmenDB's per-collection index tuning (`CollectionOptions["index"]`). */
export type CollectionIndexOptions = NonNullable<NonNullable<Parameters<OmenDB["createCollection"]>[1]>["index"]>;

/** Options of {@link OmenDBVectorStore.addDocuments} and {@link OmenDBVectorStore.addVectors}. */
export interface OmenDBAddOptions {
  /** One id per document; an `undefined`/`null` entry falls back to the document's own `id`, then to a fresh UUID. */
  ids?: (string | null | undefined)[];
}

/** What {@link OmenDBVectorStore.delete} removes: exactly one of the three. */
export interface OmenDBDeleteParams {
  /** These ids; unknown ids are ignored. */
  ids?: string[];
  /** Every document matching this filter (`{}` matches all). */
  filter?: OmenDBFilter;
  /** Every document of the collection (the collection itself stays). */
  deleteAll?: boolean;
}

const DEFAULT_COLLECTION = "langchain";

/**
 * A LangChain.js vector store backed by an embedded OmenDB collection: a drop-in for
 * `MemoryVectorStore`, `HNSWLib`, `FaissStore` or `Chroma` that persists every write (WAL) without
 * an explicit save.
 *
 * Scores returned by `similaritySearchWithScore` / `similaritySearchVectorWithScore` are higher-is-better:
 * - `"cosine"` (default): cosine similarity in [−1, 1];
 * - `"l2"`: 1 / (1 + squared Euclidean distance), in (0, 1];
 * - `"ip"`: the inner product a·b (cosine similarity for unit vectors).
 *
 * @example
 * const store = await OmenDBVectorStore.fromTexts(["a cat", "a dog"], [{ kind: "cat" }, { kind: "dog" }],
 *   embeddings, { path: "./omendb-data" });
 * const docs = await store.similaritySearch("kitten", 1, { kind: "cat" });
 * await store.close();
 */
export class OmenDBVectorStore extends SaveableVectorStore {
  declare FilterType: OmenDBFilter;

  /** The collection this store reads and writes. */
  readonly collectionName: string;
  /** The configured (or, once known, the collection's) vector length. */
  private dimension: number | undefined;
  private readonly metric: Metric | undefined;
  private readonly folder: string | undefined;
  private readonly durability: OpenOptions["durability"];
  private readonly givenDb: OmenDB | undefined;
  private readonly indexOptions: CollectionIndexOptions | undefined;
  private readonly efSearch: number | undefined;
  private opened: Promise<OmenDB> | undefined;
  private closed = false;

  /**
   * Creates a store; nothing is opened until the first call that needs the database.
   * @throws ValidationError code INVALID_OPTION unless exactly one of `path` and `db` is given, or for
   *   a bad `dimension`, `metric` or `efSearch`; code INVALID_NAME for an empty `collectionName`.
   * @throws TypeError when `path`/`collectionName` is not a string or `db` is not an OmenDB.
   */
  constructor(embeddings: EmbeddingsInterface, config: OmenDBVectorStoreConfig) {
    const { path: folder, db, collectionName = DEFAULT_COLLECTION, dimension, metric, durability, index, efSearch } = config ?? {};
    super(embeddings, { path: folder, collectionName, dimension, metric, durability, index, efSearch });
    if ((folder === undefined) === (db === undefined)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "OmenDBVectorStore: give exactly one of `path` (a data folder) and `db` (an open OmenDB)");
    }
    if (folder !== undefined && typeof folder !== "string") throw new TypeError(`OmenDBVectorStore: \`path\` must be a string, got ${typeof folder}`);
    if (folder === "") throw new ValidationError(ErrorCode.INVALID_OPTION, "OmenDBVectorStore: `path` must not be empty");
    // Duck-typed rather than `instanceof`, so a database from another copy of @omendb/core is accepted.
    if (db !== undefined && (typeof db !== "object" || db === null || typeof db.getOrCreateCollection !== "function" || typeof db.hasCollection !== "function")) {
      throw new TypeError("OmenDBVectorStore: `db` must be an OmenDB instance from OmenDB.open");
    }
    if (typeof collectionName !== "string") throw new TypeError(`OmenDBVectorStore: \`collectionName\` must be a string, got ${typeof collectionName}`);
    if (collectionName.length === 0) throw new ValidationError(ErrorCode.INVALID_NAME, "OmenDBVectorStore: `collectionName` must not be empty");
    if (dimension !== undefined && (!Number.isInteger(dimension) || dimension < 1)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: \`dimension\` must be a positive integer, got ${String(dimension)}`);
    }
    if (metric !== undefined && metric !== "cosine" && metric !== "l2" && metric !== "ip") {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: \`metric\` must be "cosine", "l2" or "ip", got ${String(metric)}`);
    }
    if (efSearch !== undefined && (!Number.isInteger(efSearch) || efSearch < 1)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `OmenDBVectorStore: \`efSearch\` must be a positive integer, got ${String(efSearch)}`);
    }
    this.collectionName = collectionName;
    this.indexOptions = index;
    this.efSearch = efSearch;
    this.dimension = dimension;
    this.metric = metric;
    this.folder = folder === undefined ? undefined : path.resolve(folder);
    this.durability = durability;
    this.givenDb = db;
  }

  /** Always `"omendb"` (called by the base class before this constructor runs, so it must be constant). */
  _vectorstoreType(): string {
    return "omendb";
  }

  /**
   * Embeds `documents` with the store's embeddings and writes them (see {@link addVectors}).
   * @returns the id of each document, in input order.
   */
  async addDocuments(documents: DocumentInterface[], options?: OmenDBAddOptions): Promise<string[]> {
    if (!Array.isArray(documents)) throw new TypeError(`addDocuments: documents must be an array, got ${typeof documents}`);
    if (documents.length === 0) return [];
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * Writes precomputed vectors with their documents, as one atomic upsert.
   *
   * Ids: `options.ids[i]`, else `documents[i].id`, else a fresh UUID. Re-adding an id replaces that
   * record; when one id appears several times in a call, the last occurrence wins. The first write
   * creates the collection, with the configured dimension or `vectors[0].length`.
   * @returns the id of each document, in input order.
   * @throws ValidationError code INVALID_OPTION when the array lengths differ; DIMENSION_MISMATCH,
   *   INVALID_VECTOR, INVALID_ID, INVALID_METADATA from the collection (nothing is written then).
   */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options?: OmenDBAddOptions): Promise<string[]> {
    if (!Array.isArray(vectors) || !Array.isArray(documents)) throw new TypeError("addVectors: vectors and documents must be arrays");
    if (vectors.length !== documents.length) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `addVectors: got ${vectors.length} vectors for ${documents.length} documents`);
    }
    const given = options?.ids;
    if (given !== undefined && (!Array.isArray(given) || given.length !== documents.length)) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `addVectors: options.ids must be an array with one id per document (${documents.length}), got ${Array.isArray(given) ? `${given.length} ids` : typeof given}`,
      );
    }
    if (documents.length === 0) return [];
    const ids = documents.map((doc, i) => given?.[i] ?? doc.id ?? randomUUID());
    const byId = new Map<string, RecordInput>();
    documents.forEach((doc, i) => {
      const id = ids[i]!;
      byId.delete(id); // the last occurrence wins, in its own position
      byId.set(id, { id, vector: vectors[i]!, document: doc.pageContent, metadata: toStoredMetadata(doc.metadata) });
    });
    const collection = await this.writableCollection(vectors[0]!.length);
    await collection.upsert([...byId.values()]);
    return ids;
  }

  /**
   * The `k` documents closest to `query`, best first, with their scores (higher is better).
   * Returns `[]` when the collection is empty or not yet created; `k` larger than the store is fine.
   * @throws ValidationError code INVALID_FILTER for a malformed `Where` (even on an empty store),
   *   DIMENSION_MISMATCH for a query of the wrong length.
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: this["FilterType"]): Promise<[Document, number][]> {
    const match = toMatchOptions(filter);
    const collection = await this.existingCollection();
    if (collection === undefined) return [];
    const hits = await collection.search(query, { k, ...this.searchTuning(), ...match });
    return hits.map((hit) => [toDocument(hit), hit.score]);
  }

  /**
   * Maximal marginal relevance search: fetches the `fetchK` (default 20) nearest documents with
   * their full-precision vectors, then picks `k` (default 4) trading relevance against diversity
   * (`lambda` 1 = relevance only, 0 = diversity only; default 0.5).
   */
  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<this["FilterType"]>,
    _callbacks?: Callbacks,
  ): Promise<Document[]> {
    const { k = 4, fetchK = 20, lambda = 0.5, filter } = options;
    const match = toMatchOptions(filter);
    const queryVector = await this.embeddings.embedQuery(query);
    const collection = await this.existingCollection();
    if (collection === undefined || k <= 0) return [];
    const hits = await collection.search(queryVector, { k: Math.max(fetchK, k), includeVector: true, ...this.searchTuning(), ...match });
    if (hits.length === 0) return [];
    const picked = maximalMarginalRelevance(
      queryVector,
      hits.map((hit) => Array.from(hit.vector!)),
      lambda,
      k,
    );
    return picked.map((i) => toDocument(hits[i]!));
  }

  /**
   * Deletes by ids (unknown ids are a no-op), by filter, or everything (`deleteAll: true`).
   * @throws ValidationError code INVALID_OPTION unless exactly one of `ids`, `filter`, `deleteAll: true`
   *   is given; INVALID_FILTER for a malformed filter.
   */
  override async delete(params?: OmenDBDeleteParams): Promise<void> {
    const { ids, filter, deleteAll } = params ?? {};
    const given = [ids !== undefined, filter !== undefined && filter !== null, deleteAll === true].filter(Boolean).length;
    if (given !== 1) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, "delete: pass exactly one of { ids }, { filter } or { deleteAll: true }");
    }
    if (ids !== undefined && !Array.isArray(ids)) throw new TypeError(`delete: ids must be an array of strings, got ${typeof ids}`);
    const match = filter === undefined || filter === null ? undefined : toMatchOptions(filter);
    const collection = await this.existingCollection();
    if (collection === undefined) return;
    if (ids !== undefined) await collection.delete(ids);
    else await collection.delete(match ?? { filter: {} });
  }

  /**
   * The stored documents with these ids, in the order asked; missing ids are skipped.
   * (An extra: LangChain.js has no `getByIds`; Python's `get_by_ids` has these semantics.)
   */
  async getByIds(ids: string[]): Promise<Document[]> {
    if (!Array.isArray(ids)) throw new TypeError(`getByIds: ids must be an array of strings, got ${typeof ids}`);
    const collection = await this.existingCollection();
    if (collection === undefined || ids.length === 0) return [];
    return (await collection.get(ids)).map(toDocument);
  }

  /**
   * Makes the data durable in its files (a checkpoint) and, when `directory` is not the store's own
   * folder, copies the data folder there (replacing an earlier save). `load(directory, …)` opens it.
   * Writes still in flight when `save` is called may or may not be in the copy.
   * @throws ValidationError code INVALID_OPTION when `directory` is a file, an unrelated non-empty
   *   folder, an open data folder, or nested with the store's folder.
   */
  async save(directory: string): Promise<void> {
    const db = await this.database();
    await db.checkpoint();
    if (path.resolve(directory) === path.resolve(db.path)) return;
    copyDataFolder(db.path, directory);
  }

  /**
   * Opens a data folder written by {@link save} (or any OmenDB data folder).
   * @throws ValidationError code INVALID_OPTION when `directory` is not an OmenDB data folder;
   *   LockedError when another process has it open.
   */
  static override async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    config: Omit<OmenDBVectorStoreConfig, "path" | "db"> = {},
  ): Promise<OmenDBVectorStore> {
    if (!isDataFolder(directory)) {
      throw new ValidationError(ErrorCode.INVALID_OPTION, `load: ${path.resolve(directory)} is not an OmenDB data folder`);
    }
    const store = new OmenDBVectorStore(embeddings, { ...config, path: directory });
    await store.database();
    return store;
  }

  /**
   * Creates a store and adds one document per text. `metadatas` is one object per text or one
   * object shared by all.
   */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    config: OmenDBVectorStoreConfig,
  ): Promise<OmenDBVectorStore> {
    const docs = texts.map(
      (text, i) =>
        new Document({
          pageContent: text,
          metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown> | undefined,
        }),
    );
    return OmenDBVectorStore.fromDocuments(docs, embeddings, config);
  }

  /** Creates a store and adds `docs` (their `id`s are kept). */
  static override async fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, config: OmenDBVectorStoreConfig): Promise<OmenDBVectorStore> {
    const store = new OmenDBVectorStore(embeddings, config);
    try {
      await store.addDocuments(docs);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /**
   * A store over a collection that must already exist.
   * @throws NotFoundError code COLLECTION_NOT_FOUND when it does not; ValidationError code
   *   INVALID_OPTION when `dimension`/`metric` are given and differ from the collection's.
   */
  static async fromExistingCollection(embeddings: EmbeddingsInterface, config: OmenDBVectorStoreConfig): Promise<OmenDBVectorStore> {
    const store = new OmenDBVectorStore(embeddings, config);
    try {
      const db = await store.database();
      store.checkAgreement(db.getCollection(store.collectionName));
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Same as {@link fromExistingCollection}, named as in `MemoryVectorStore` for code being migrated. */
  static fromExistingIndex(embeddings: EmbeddingsInterface, config: OmenDBVectorStoreConfig): Promise<OmenDBVectorStore> {
    return OmenDBVectorStore.fromExistingCollection(embeddings, config);
  }

  /**
   * The underlying database (opened on first use when the store was given a `path`).
   * @throws ClosedError after {@link close}.
   */
  database(): Promise<OmenDB> {
    if (this.closed) return Promise.reject(new ClosedError(`OmenDBVectorStore "${this.collectionName}" is closed`));
    if (this.givenDb !== undefined) return Promise.resolve(this.givenDb);
    if (this.opened === undefined) {
      const opening = acquireDatabase(this.folder!, this.durability === undefined ? {} : { durability: this.durability });
      this.opened = opening;
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined;
      });
    }
    return this.opened;
  }

  /** The underlying collection, or `undefined` while it has not been created (nothing written yet). */
  async collection(): Promise<Collection | undefined> {
    return this.existingCollection();
  }

  /**
   * Releases the store: a database it opened from `path` is closed once no other store of this
   * process uses it; a `db` passed in is left open. Later calls throw ClosedError. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opened = this.opened;
    this.opened = undefined;
    if (opened === undefined) return;
    try {
      await opened;
    } catch {
      return; // never opened: nothing to release
    }
    await releaseDatabase(this.folder!);
  }

  private async existingCollection(): Promise<Collection | undefined> {
    const db = await this.database();
    if (!db.hasCollection(this.collectionName)) return undefined;
    const collection = db.getCollection(this.collectionName);
    this.checkAgreement(collection);
    return collection;
  }

  private async writableCollection(firstDimension: number): Promise<Collection> {
    const db = await this.database();
    if (db.hasCollection(this.collectionName)) {
      const collection = db.getCollection(this.collectionName);
      this.checkAgreement(collection);
      return collection;
    }
    const dimension = this.dimension ?? firstDimension;
    if (dimension !== firstDimension) {
      // Refuse before creating anything: an empty collection left behind would be a surprise.
      throw new ValidationError(
        ErrorCode.DIMENSION_MISMATCH,
        `collection "${this.collectionName}": vector has ${firstDimension} dimensions; this store was configured with ${dimension}`,
      );
    }
    const collection = await db.getOrCreateCollection(this.collectionName, {
      dimension,
      ...(this.metric === undefined ? {} : { metric: this.metric }),
      ...(this.indexOptions === undefined ? {} : { index: this.indexOptions }),
    });
    this.dimension ??= collection.dimension;
    return collection;
  }

  private searchTuning(): { efSearch?: number } {
    return this.efSearch === undefined ? {} : { efSearch: this.efSearch };
  }

  private checkAgreement(collection: Collection): void {
    if (this.dimension !== undefined && collection.dimension !== this.dimension) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `collection "${this.collectionName}" has dimension ${collection.dimension}; this store was configured with ${this.dimension}`,
      );
    }
    if (this.metric !== undefined && collection.metric !== this.metric) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTION,
        `collection "${this.collectionName}" uses metric "${collection.metric}"; this store was configured with "${this.metric}"`,
      );
    }
  }
}

/** Turns a LangChain filter into the collection's `filter`/`predicate` options (validating a `Where` now). */
function toMatchOptions(filter: OmenDBFilter | undefined): { filter?: Where; predicate?: (r: { id: string; document: string | null; metadata: Metadata }) => boolean } {
  if (filter === undefined || filter === null) return {};
  if (typeof filter === "function") {
    return { predicate: (record) => Boolean(filter(toDocument(record))) };
  }
  parseFilter(filter);
  return { filter };
}

function toDocument(record: Pick<StoredRecord, "id" | "document" | "metadata">): Document {
  return new Document({ id: record.id, pageContent: record.document ?? "", metadata: record.metadata });
}

/**
 * Copies metadata for storage, dropping keys whose value is `undefined` at any depth (as JSON does).
 * Everything else is passed on for the collection to validate.
 */
function toStoredMetadata(metadata: unknown): Metadata | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  return withoutUndefined(metadata) as Metadata;
}

function withoutUndefined(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined) out[key] = withoutUndefined(v);
  }
  return out;
}
