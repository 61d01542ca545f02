/**
 * Chroma's record operations (`add`, `upsert`, `update`, `get`, `query`, `delete`, `count`) on top of
 * core, independent of HTTP. Chroma semantics kept here:
 * - `add` skips ids that already exist (Chroma ignores them without an error).
 * - `update` touches only existing ids; `upsert` adds new ids and updates existing ones. An update
 *   merges metadata key by key (a null value deletes the key), keeps the stored document when none is
 *   given and the stored vector when the embedding is null or absent. Core writes whole records, so
 *   both are read-modify-write under a per-collection lock.
 * - A collection created over HTTP has no dimension until its first write (see `chroma-catalog.ts`).
 * - `uris` are stored in metadata under {@link URI_METADATA_KEY} (as Chroma does) and hidden from
 *   returned metadata; empty metadata is returned as null, as Chroma does.
 * - `distances` are core's (lower is better): 1 − cos for cosine, squared L2 for l2, 1 − a·b for ip.
 */
import type { Collection, Metadata, StoredRecord, Where } from "@omendb/core";
import { type ChromaCatalog, type ChromaCollection } from "./chroma-catalog.js";
import { ChromaHttpError, HttpErrorCode } from "./chroma-errors.js";
import { decodeEmbeddings } from "./embedding-codec.js";
import { KeyedLock } from "./keyed-lock.js";
import type {
  AddRecordsPayload,
  DeleteRecordsPayload,
  GetRequestPayload,
  Include,
  QueryQuerystring,
  QueryRequestPayload,
  UpdateRecordsPayload,
} from "./schemas.js";
import { compileWhereDocument, type DocumentPredicate } from "./where-document.js";

/** Metadata key under which a record's URI is stored (Chroma's own convention). */
export const URI_METADATA_KEY = "chroma:uri";

const DEFAULT_GET_INCLUDE: Include[] = ["documents", "metadatas"];
const DEFAULT_QUERY_INCLUDE: Include[] = ["metadatas", "documents", "distances"];
const DEFAULT_N_RESULTS = 10;

type WireMetadata = Record<string, unknown>;

/** Response of `get`. */
export interface GetResult {
  ids: string[];
  documents: (string | null)[] | null;
  embeddings: number[][] | null;
  metadatas: (WireMetadata | null)[] | null;
  uris: (string | null)[] | null;
  include: Include[];
}

/** Response of `query`. */
export interface QueryResult {
  ids: string[][];
  distances: number[][] | null;
  documents: (string | null)[][] | null;
  embeddings: number[][][] | null;
  metadatas: (WireMetadata | null)[][] | null;
  uris: (string | null)[][] | null;
  include: Include[];
}

/** Options of {@link ChromaRecords}. */
export interface ChromaRecordsOptions {
  /** Most records (or query embeddings) in one request. */
  maxBatchSize: number;
}

/** One write, column values picked for one id; `undefined` = not given. */
interface WireRecord {
  id: string;
  vector: Float32Array | null | undefined;
  document: string | null | undefined;
  metadata: WireMetadata | null | undefined;
  uri: string | null | undefined;
}

/** Record operations of every Chroma collection of one catalog. */
export class ChromaRecords {
  private readonly locks = new KeyedLock();

  constructor(
    private readonly catalog: ChromaCatalog,
    private readonly options: ChromaRecordsOptions,
  ) {}

  /** Adds the records whose ids are new; existing ids are skipped. Whole batch validated first. */
  async add(collectionId: string, body: AddRecordsPayload): Promise<void> {
    const rows = this.rows(body, true);
    await this.write(collectionId, rows, async (core) => {
      const existing = new Set((await core.get(rows.map((r) => r.id))).map((r) => r.id));
      const fresh = rows.filter((r) => !existing.has(r.id)).map(newRecord);
      if (fresh.length > 0) await core.add(fresh);
    });
  }

  /** Adds new ids and updates existing ones (metadata merged). */
  async upsert(collectionId: string, body: AddRecordsPayload): Promise<void> {
    const rows = this.rows(body, true);
    await this.write(collectionId, rows, async (core) => {
      const existing = byId(await core.get(rows.map((r) => r.id)));
      await core.upsert(rows.map((r) => {
        const old = existing.get(r.id);
        return old === undefined ? newRecord(r) : mergedRecord(old, r);
      }));
    });
  }

  /** Updates the given fields of existing ids; unknown ids are skipped. */
  async update(collectionId: string, body: UpdateRecordsPayload): Promise<void> {
    const rows = this.rows(body, false);
    const collection = this.catalog.requireById(collectionId);
    if (collection.core === null) return; // nothing stored yet, so no id exists
    const needVectors = rows.some((r) => r.vector == null);
    await this.locks.run(collection.id, async () => {
      const core = this.catalog.requireById(collectionId).core!;
      const existing = byId(await core.get(rows.map((r) => r.id), { includeVector: needVectors }));
      const updates = rows.filter((r) => existing.has(r.id)).map((r) => mergedRecord(existing.get(r.id)!, r));
      if (updates.length > 0) await core.upsert(updates);
    });
  }

  /** Records by ids and/or filters, in insertion order (in request order when ids are given). */
  async get(collectionId: string, body: GetRequestPayload): Promise<GetResult> {
    const include = body.include ?? DEFAULT_GET_INCLUDE;
    if (include.includes("distances")) {
      throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "include: distances are only available from query");
    }
    const collection = this.catalog.requireById(collectionId);
    const filter = toWhere(body.where);
    const documentTest = compileWhereDocument(body.where_document);
    const includeVector = include.includes("embeddings");
    const offset = body.offset ?? 0;
    const limit = body.limit ?? undefined;
    let records: StoredRecord[] = [];
    if (collection.core !== null) {
      const core = collection.core;
      if (body.ids != null) {
        const ids = body.ids;
        if (filter === undefined && documentTest === undefined) {
          records = await core.get(ids, { includeVector });
        } else {
          const order = new Map(ids.map((id, i) => [id, i] as const));
          records = await core.get({ filter, predicate: (r) => order.has(r.id) && (documentTest?.(r.document) ?? true), includeVector });
          records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
        }
        records = records.slice(offset, limit === undefined ? undefined : offset + limit);
      } else {
        records = await core.get({ filter, predicate: documentPredicate(documentTest), limit, offset, includeVector });
      }
    }
    return {
      ids: records.map((r) => r.id),
      documents: include.includes("documents") ? records.map((r) => r.document) : null,
      embeddings: includeVector ? records.map((r) => Array.from(r.vector!)) : null,
      metadatas: include.includes("metadatas") ? records.map((r) => wireMetadata(r.metadata)) : null,
      uris: include.includes("uris") ? records.map((r) => uriOf(r.metadata)) : null,
      include,
    };
  }

  /** Nearest records for each query embedding, ascending distance. */
  async query(collectionId: string, body: QueryRequestPayload, page: QueryQuerystring = {}): Promise<QueryResult> {
    const include = body.include ?? DEFAULT_QUERY_INCLUDE;
    const k = body.n_results ?? DEFAULT_N_RESULTS;
    if (body.query_embeddings.length === 0) {
      throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "query_embeddings must hold at least one embedding");
    }
    this.checkBatch(body.query_embeddings.length, "query_embeddings");
    const vectors = decodeEmbeddings(body.query_embeddings, "query_embeddings");
    const collection = this.catalog.requireById(collectionId);
    const filter = toWhere(body.where);
    const documentTest = compileWhereDocument(body.where_document);
    const idSet = body.ids == null ? undefined : new Set(body.ids);
    const predicate =
      idSet === undefined && documentTest === undefined
        ? undefined
        : (r: { id: string; document: string | null }) => (idSet?.has(r.id) ?? true) && (documentTest?.(r.document) ?? true);
    const includeVector = include.includes("embeddings");
    const offset = page.offset ?? 0;
    const end = page.limit === undefined ? undefined : offset + page.limit;
    const hits = [];
    for (const vector of vectors) {
      const found = collection.core === null ? [] : await collection.core.search(vector, { k, filter, predicate, includeVector });
      hits.push(found.slice(offset, end));
    }
    return {
      ids: hits.map((h) => h.map((r) => r.id)),
      distances: include.includes("distances") ? hits.map((h) => h.map((r) => r.distance)) : null,
      documents: include.includes("documents") ? hits.map((h) => h.map((r) => r.document)) : null,
      embeddings: includeVector ? hits.map((h) => h.map((r) => Array.from(r.vector!))) : null,
      metadatas: include.includes("metadatas") ? hits.map((h) => h.map((r) => wireMetadata(r.metadata))) : null,
      uris: include.includes("uris") ? hits.map((h) => h.map((r) => uriOf(r.metadata))) : null,
      include,
    };
  }

  /** Deletes by ids and/or filters (at most `limit` when given); returns how many were deleted. */
  async delete(collectionId: string, body: DeleteRecordsPayload): Promise<number> {
    const filter = toWhere(body.where);
    const documentTest = compileWhereDocument(body.where_document);
    if (body.ids == null && filter === undefined && documentTest === undefined) {
      throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "delete needs ids, where or where_document");
    }
    const collection = this.catalog.requireById(collectionId);
    if (collection.core === null) return 0;
    return this.locks.run(collection.id, async () => {
      const core = this.catalog.requireById(collectionId).core!;
      const idSet = body.ids == null ? undefined : new Set(body.ids);
      const limit = body.limit ?? undefined;
      if (filter === undefined && documentTest === undefined && limit === undefined) return core.delete(body.ids!);
      const predicate = (r: { id: string; document: string | null }) => (idSet?.has(r.id) ?? true) && (documentTest?.(r.document) ?? true);
      if (limit === undefined) return core.delete({ filter, predicate });
      const victims = await core.get({ filter, predicate, limit });
      return victims.length === 0 ? 0 : core.delete(victims.map((r) => r.id));
    });
  }

  /** Number of records; 0 for a collection never written to. */
  async count(collectionId: string): Promise<number> {
    const collection = this.catalog.requireById(collectionId);
    return collection.core === null ? 0 : collection.core.count();
  }

  /** Runs a write under the collection's lock, creating the core collection on first write. */
  private async write(collectionId: string, rows: WireRecord[], section: (core: Collection) => Promise<void>): Promise<void> {
    const collection = this.catalog.requireById(collectionId);
    await this.locks.run(collection.id, async () => {
      const current = this.catalog.requireById(collectionId);
      const core = current.core ?? (await this.catalog.materialize(current.id, firstDimension(current, rows)));
      await section(core);
    });
  }

  /** Splits columnar payloads into rows after checking lengths, batch size and duplicates. */
  private rows(body: UpdateRecordsPayload, embeddingsRequired: boolean): WireRecord[] {
    const n = body.ids.length;
    if (n === 0) throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "ids must hold at least one id");
    this.checkBatch(n, "ids");
    if (new Set(body.ids).size !== n) throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "ids must be unique within a request");
    const embeddings = body.embeddings ?? undefined;
    if (embeddingsRequired && embeddings === undefined) throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "embeddings are required");
    for (const [field, column] of [["embeddings", embeddings], ["documents", body.documents], ["metadatas", body.metadatas], ["uris", body.uris]] as const) {
      if (column != null && column.length !== n) {
        throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `${field} has ${column.length} entries but ids has ${n}`);
      }
    }
    const vectors = embeddings === undefined ? undefined : decodeNullable(embeddings);
    return body.ids.map((id, i) => ({
      id,
      vector: vectors === undefined ? undefined : vectors[i]!,
      document: body.documents == null ? undefined : body.documents[i]!,
      metadata: body.metadatas == null ? undefined : (body.metadatas[i]! as WireMetadata | null),
      uri: body.uris == null ? undefined : body.uris[i]!,
    }));
  }

  private checkBatch(n: number, field: string): void {
    if (n > this.options.maxBatchSize) {
      throw new ChromaHttpError(HttpErrorCode.BATCH_TOO_LARGE, `${field} holds ${n} entries, more than the max batch size ${this.options.maxBatchSize}`);
    }
  }
}

function decodeNullable(values: readonly (readonly number[] | string | null)[]): (Float32Array | null)[] {
  const out: (Float32Array | null)[] = new Array(values.length).fill(null);
  const present = values.flatMap((v, i) => (v === null ? [] : [i]));
  const decoded = decodeEmbeddings(present.map((i) => values[i]!), "embeddings");
  present.forEach((index, j) => {
    out[index] = decoded[j]!;
  });
  return out;
}

/** The dimension a pending collection gets: its first vector's; the batch must agree. */
function firstDimension(collection: ChromaCollection, rows: WireRecord[]): number {
  const lengths = new Set(rows.flatMap((r) => (r.vector == null ? [] : [r.vector.length])));
  if (lengths.size !== 1) {
    throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `the embeddings of the first write to collection ${collection.name} must all have the same length`);
  }
  return [...lengths][0]!;
}

function newRecord(row: WireRecord) {
  return {
    id: row.id,
    vector: row.vector!,
    document: row.document ?? null,
    metadata: mergeMetadata({}, row.metadata, row.uri),
  };
}

function mergedRecord(old: StoredRecord, row: WireRecord) {
  const vector = row.vector ?? old.vector;
  if (vector === undefined) throw new Error(`internal: stored vector of ${old.id} was not loaded`);
  return {
    id: row.id,
    vector,
    document: row.document == null ? old.document : row.document,
    metadata: mergeMetadata(old.metadata, row.metadata, row.uri),
  };
}

/** Chroma's metadata update: keys set, null values delete, the URI kept under its reserved key. */
function mergeMetadata(base: Metadata, patch: WireMetadata | null | undefined, uri: string | null | undefined): Metadata {
  const out: Metadata = { ...base };
  if (patch != null) {
    for (const [key, value] of Object.entries(patch)) {
      if (key === URI_METADATA_KEY) {
        throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `metadata key ${URI_METADATA_KEY} is reserved; pass uris instead`);
      }
      if (value === null || value === undefined) delete out[key];
      else out[key] = value as Metadata[string];
    }
  }
  if (uri != null) out[URI_METADATA_KEY] = uri;
  return out;
}

function wireMetadata(metadata: Metadata): WireMetadata | null {
  const { [URI_METADATA_KEY]: _uri, ...rest } = metadata;
  return Object.keys(rest).length === 0 ? null : rest;
}

function uriOf(metadata: Metadata): string | null {
  const uri = metadata[URI_METADATA_KEY];
  return typeof uri === "string" ? uri : null;
}

function byId(records: StoredRecord[]): Map<string, StoredRecord> {
  return new Map(records.map((r) => [r.id, r]));
}

/** `where` from the wire: absent, null and {} mean no filter; anything else must be an object. */
function toWhere(value: unknown): Where | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, "where must be an object");
  }
  return Object.keys(value).length === 0 ? undefined : (value as Where);
}

function documentPredicate(test: DocumentPredicate | undefined) {
  return test === undefined ? undefined : (r: { document: string | null }) => test(r.document);
}
