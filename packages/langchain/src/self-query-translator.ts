/**
 * `OmenDBTranslator`: turns LangChain's self-query IR (`@langchain/core/structured_query`) into an
 * OmenDB `Where` filter, so `SelfQueryRetriever` can target an {@link OmenDBVectorStore}.
 *
 * Output (already in OmenDB's filter language, validated by `parseFilter`):
 *   eq(a, v) → { a: { $eq: v } }   (likewise ne/gt/gte/lt/lte → $ne/$gt/$gte/$lt/$lte)
 *   and(x, y, …) → { $and: [x, y, …] }      or(x, y, …) → { $or: [x, y, …] }
 *   not(x) → { $not: [x] }                  not(x, y, …) → { $not: [{ $or: [x, y, …] }] } (none holds)
 * Values go through LangChain's `castValue`, which turns numeric strings ("2020") into numbers.
 */
import {
  BasicTranslator,
  Comparators,
  Operators,
  type Comparator,
  type Operation,
  type Operator,
  type VisitorOperationResult,
} from "@langchain/core/structured_query";
import type { VectorStore } from "@langchain/core/vectorstores";
import type { OmenDBVectorStore } from "./vector-store.js";

/** Options of {@link OmenDBTranslator}: restrict the operators/comparators offered to the LLM. */
export interface OmenDBTranslatorOptions {
  /** Default: and, or, not. */
  allowedOperators?: Operator[];
  /** Default: eq, ne, gt, gte, lt, lte. */
  allowedComparators?: Comparator[];
}

/**
 * The self-query translator for OmenDB (a `BasicTranslator` that also allows `not`).
 *
 * @example
 * const retriever = SelfQueryRetriever.fromLLM({ llm, vectorStore: store, documentContents, attributeInfo,
 *   structuredQueryTranslator: new OmenDBTranslator() });
 */
export class OmenDBTranslator<T extends VectorStore = OmenDBVectorStore> extends BasicTranslator<T> {
  constructor(options: OmenDBTranslatorOptions = {}) {
    super({
      allowedOperators: options.allowedOperators ?? [Operators["and"]!, Operators["or"]!, Operators["not"]!],
      allowedComparators: options.allowedComparators ?? [
        Comparators["eq"]!,
        Comparators["ne"]!,
        Comparators["gt"]!,
        Comparators["gte"]!,
        Comparators["lt"]!,
        Comparators["lte"]!,
      ],
    });
  }

  /** As `BasicTranslator`, except that `not` over several arguments means "none of them holds". */
  override visitOperation(operation: Operation): this["VisitOperationOutput"] {
    if (operation.operator === Operators["not"] && (operation.args?.length ?? 0) > 1) {
      const args = operation.args!.map((arg) => arg.accept(this) as VisitorOperationResult);
      return { [this.formatFunction(operation.operator)]: [{ $or: args }] };
    }
    return super.visitOperation(operation);
  }
}
