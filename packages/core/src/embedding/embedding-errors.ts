/**
 * Errors of the embedders, and the lazy loader of their optional packages.
 *
 * Both classes extend {@link OmenDBError} so `isOmenDBError` and `err.code` work as for every other
 * OmenDB error: a failed embedding request has code `IO` (the original SDK error is `cause`), a missing
 * optional package has code `INVALID_OPTION` (the installation does not support the chosen embedder).
 */
import { ErrorCode, OmenDBError } from "../errors.js";

/** What is known about a failed embedding request. */
export interface EmbeddingRequestFacts {
  /** The embedder's model, e.g. `"text-embedding-3-small"`. */
  model: string;
  /** HTTP status of the last response, or `undefined` when no response arrived (connection failure). */
  status: number | undefined;
  /** The provider's request id (`x-request-id`) of the last response, when it sent one. */
  requestId: string | undefined;
  /** The provider's error code or type (e.g. `"rate_limit_exceeded"`), when it sent one. */
  providerCode: string | undefined;
  /** How many times the request was sent (1 + retries). */
  attempts: number;
  /** Whether the failure was of a retryable kind (429, 5xx, connection) and retries ran out. */
  retryable: boolean;
  /** Index, in the caller's `texts`, of the first input of the failed request. */
  firstInput: number;
  /** How many inputs the failed request carried. */
  inputCount: number;
  /** The estimated tokens of the failed request. */
  estimatedTokens: number;
}

/**
 * An embedding request failed for good: a non-retryable answer (400, 401, 403, 404, …) or a retryable
 * one (429, 5xx, connection error) after `maxRetries` retries. Code `IO`; `cause` is the SDK's error.
 */
export class EmbeddingRequestError extends OmenDBError implements EmbeddingRequestFacts {
  readonly model: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly providerCode: string | undefined;
  readonly attempts: number;
  readonly retryable: boolean;
  readonly firstInput: number;
  readonly inputCount: number;
  readonly estimatedTokens: number;

  constructor(facts: EmbeddingRequestFacts, detail: string, options?: { cause?: unknown }) {
    const status = facts.status === undefined ? "no response" : `HTTP ${facts.status}`;
    const request = facts.requestId === undefined ? "" : `, request id ${facts.requestId}`;
    super(
      ErrorCode.IO,
      `embedding request failed (${status}${request}) after ${facts.attempts} attempt${facts.attempts === 1 ? "" : "s"}: ` +
        `model ${facts.model}, inputs ${facts.firstInput}..${facts.firstInput + facts.inputCount - 1} (${facts.inputCount} texts, ~${facts.estimatedTokens} tokens): ${detail}`,
      options,
    );
    this.name = "EmbeddingRequestError";
    this.model = facts.model;
    this.status = facts.status;
    this.requestId = facts.requestId;
    this.providerCode = facts.providerCode;
    this.attempts = facts.attempts;
    this.retryable = facts.retryable;
    this.firstInput = facts.firstInput;
    this.inputCount = facts.inputCount;
    this.estimatedTokens = facts.estimatedTokens;
  }
}

/**
 * An optional package an embedder needs is not installed (or failed to load). Code `INVALID_OPTION`;
 * `cause` is the loader's error. The message gives the install command.
 */
export class MissingDependencyError extends OmenDBError {
  /** The npm packages to install, with versions where one is required. */
  readonly packages: readonly string[];

  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_OPTION, `${feature} needs the optional package${packages.length === 1 ? "" : "s"} ${packages.join(", ")}: npm install ${packages.join(" ")}`, options);
    this.name = "MissingDependencyError";
    this.packages = packages;
  }
}

/**
 * Imports an optional package by name, turning "not installed" into a {@link MissingDependencyError}.
 * Other load failures (a broken install) are wrapped the same way, with the original as `cause`.
 *
 * @param specifier What to `import()`.
 * @param feature Who needs it, for the message (e.g. `"OpenAIEmbedder"`).
 * @param install The packages to name in the install hint.
 * @throws MissingDependencyError (code INVALID_OPTION) when the import fails.
 */
export async function importOptional<TModule>(specifier: string, feature: string, install: readonly string[]): Promise<TModule> {
  try {
    return (await import(specifier)) as TModule;
  } catch (cause) {
    throw new MissingDependencyError(feature, install, { cause });
  }
}
