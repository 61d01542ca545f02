/**
 * `@omendb/langchain`: a LangChain.js vector store backed by OmenDB, and its self-query translator.
 */
export {
  OmenDBVectorStore,
  type OmenDBVectorStoreConfig,
  type OmenDBAddOptions,
  type OmenDBDeleteParams,
  type OmenDBFilter,
  type DocumentPredicate,
  type CollectionIndexOptions,
} from "./vector-store.js";
export { OmenDBTranslator, type OmenDBTranslatorOptions } from "./self-query-translator.js";
