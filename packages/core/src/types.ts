/**
 * Public data types of `@omendb/core`. Vocabulary: `id` is the caller's string key, `slot` the dense
 * internal index; `distance` is smaller-is-closer, `score` bigger-is-better, and the two never mix.
 */
import type { Where } from "./filter/filter-ast.js";

/**
 * How vectors are compared.
 * - `"cosine"`: distance = 1 − cos(a, b) in [0, 2]; score = cos(a, b) in [−1, 1].
 * - `"l2"`: distance = squared Euclidean distance; score = 1 / (1 + distance) in (0, 1].
 * - `"ip"`: distance = 1 − a·b; score = a·b (inner product).
 */
export type Metric = "cosine" | "l2" | "ip";

/**
 * When a write is acknowledged.
 * - `"fsync"` (default): after its WAL record is on disk (`fdatasync`), shared by every write waiting (group commit).
 * - `"relaxed"`: after its WAL record is written to the OS; flushed to disk within about 100 ms.
 * - `"none"`: after it is written to the OS, never fsynced by the WAL (tests, bulk loads). Survives a process
 *   crash, not a power loss.
 */
export type Durability = "fsync" | "relaxed" | "none";

/** A metadata value: what filters can match. Nested objects are allowed and addressed with dotted paths. */
export type MetadataValue = string | number | boolean | null | MetadataValue[] | { [key: string]: MetadataValue };

/** A record's metadata: a plain JSON object. */
export type Metadata = { [key: string]: MetadataValue };

/** One record to write. */
export interface RecordInput {
  /** The caller's key: a non-empty string of at most 512 UTF-8 bytes. */
  id: string;
  /** The embedding; its length must equal the collection's dimension and every value be finite. */
  vector: Float32Array | readonly number[];
  /** The text the vector was made from (at most 8 MiB of UTF-8). */
  document?: string | null;
  /** Filterable attributes. */
  metadata?: Metadata | null;
}

/** A stored record as returned by `get`. */
export interface StoredRecord {
  id: string;
  document: string | null;
  metadata: Metadata;
  /** Present only when `includeVector` was asked for. */
  vector?: Float32Array;
}

/** One search hit. */
export interface SearchResult extends StoredRecord {
  /** Smaller is closer; see {@link Metric}. */
  distance: number;
  /** Bigger is better; see {@link Metric}. */
  score: number;
}

/** Options of `Collection.search`. */
export interface SearchOptions {
  /** How many results, default 10. Fewer come back only when fewer records match. */
  k?: number;
  /** Only records whose metadata matches. */
  filter?: Where;
  /** Return each hit's stored vector too. Default false. */
  includeVector?: boolean;
  /**
   * Candidate list size of the index search for this query (ignored while the collection is searched
   * exactly). Default: the collection's `index.efSearch`.
   */
  efSearch?: number;
}

/** Options of `Collection.get` by filter. */
export interface GetOptions {
  filter?: Where;
  /** At most this many records (default: all). */
  limit?: number;
  /** Skip this many matching records first, in insertion order. Default 0. */
  offset?: number;
  /** Return stored vectors too. Default false. */
  includeVector?: boolean;
}

/**
 * Index tuning of a collection (see the tuning guide in the core README). Fixed at creation.
 */
export interface IndexOptions {
  /**
   * Records needed before the DiskANN index is built; below it every search is exact. Default: the
   * count at which an exact scan reads 8 MiB, at least 5,000 (5,000 at 1536 dimensions, 20,972 at 100).
   */
  threshold?: number;
  /** Most graph edges per record (R). Default 64. */
  maxDegree?: number;
  /** Candidate list size while building (L). Default 100. */
  buildListSize?: number;
  /** Pruning slack α ≥ 1. Default 1.2. */
  alpha?: number;
  /** Default candidate list size of a search; larger is slower and more accurate. Default 100. */
  efSearch?: number;
  /** Bytes per vector in the product-quantized codes. Default 64, kept within [dimension / 8, dimension / 2] (192 at 1536). */
  pqSubspaces?: number;
}

/** Options of `createCollection`. */
export interface CollectionOptions {
  /** Vector length, default 1536 (OpenAI `text-embedding-3-small`). */
  dimension?: number;
  /** Default `"cosine"`. */
  metric?: Metric;
  /** Free-form collection metadata, stored and returned as is. */
  metadata?: Metadata;
  /** Index tuning; every field has a default. */
  index?: IndexOptions;
}

/** A collection's description. */
export interface CollectionInfo {
  name: string;
  /** A stable unique id (UUID) assigned at creation. */
  uuid: string;
  dimension: number;
  metric: Metric;
  metadata: Metadata;
}

/** Options of `OmenDB.open`. */
export interface OpenOptions {
  /** See {@link Durability}. Default `"fsync"`. */
  durability?: Durability;
  /** Checkpoint once this many bytes of WAL have accumulated. Default 64 MiB. */
  checkpointBytes?: number;
  /**
   * Worker threads sharing the database's memory: they run unfiltered index searches, so concurrent
   * searches use several cores, and help `buildIndex()` plan its batches (writes, filtered searches
   * and exact scans stay on the opening thread). 0 to 4, or `"auto"`: one per core, at most 4.
   * Default 0: everything runs on the opening thread. The server uses `"auto"`.
   */
  threads?: number | "auto";
}

export type { Where };
