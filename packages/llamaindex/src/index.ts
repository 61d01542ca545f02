/**
 * `@omendb/llamaindex`: a LlamaIndex.TS vector store persisted in an embedded OmenDB folder.
 */
export { OmenDBVectorStore, type OmenDBVectorStoreParams, type OmenDBQueryParams } from "./vector-store.js";
export {
  compileMetadataFilters,
  MAX_IS_EMPTY_KEYS,
  type FilterBranch,
  type FilterPlan,
  type FilterRecord,
} from "./metadata-filters.js";
export { selectMaxMarginalRelevance, type MaxMarginalRelevanceOptions } from "./max-marginal-relevance.js";
