/**
 * `@omendb/core`: an embedded vector database for TypeScript. Durable writes through a checksummed
 * write-ahead log, text and metadata in SQLite, metadata filters, exact search in WebAssembly SIMD.
 */
export { OmenDB } from "./collection/database.js";
export { Collection } from "./collection/collection.js";
export type { MatchOptions, RecordPredicate, RecordView, SearchPlan } from "./collection/collection.js";
export { verifyFolder } from "./collection/verify-folder.js";
export type { CollectionVerifyReport, VerifyOptions, VerifyProblem, VerifyProblemCode, VerifyReport } from "./collection/verify-folder.js";

export type {
  CollectionInfo,
  CollectionOptions,
  Durability,
  GetOptions,
  Metadata,
  MetadataValue,
  Metric,
  OpenOptions,
  RecordInput,
  SearchOptions,
  SearchResult,
  StoredRecord,
  Where,
} from "./types.js";
export type { FieldOperators, FilterLiteral } from "./filter/filter-ast.js";
export { parseFilter } from "./filter/parse-filter.js";

export {
  AlreadyExistsError,
  ClosedError,
  CorruptionError,
  ErrorCode,
  LockedError,
  NotFoundError,
  OmenDBError,
  ValidationError,
  isOmenDBError,
} from "./errors.js";

export type { Embedder } from "./embedding/embedder.js";
export { OpenAIEmbedder } from "./embedding/openai-embedder.js";
export type { EmbeddingRetryEvent, OpenAIEmbedderOptions } from "./embedding/openai-embedder.js";
export { OfflineEmbedder } from "./embedding/offline-embedder.js";
export type { OfflineEmbedderOptions } from "./embedding/offline-embedder.js";
export { EmbeddingRequestError, MissingDependencyError } from "./embedding/embedding-errors.js";
export type { EmbeddingRequestFacts } from "./embedding/embedding-errors.js";
