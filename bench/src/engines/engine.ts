/**
 * The contract every benchmarked engine implements, OmenDB and peers alike. An engine builds an
 * index from the dataset's base vectors into a folder it owns, closes it, and later reopens it from
 * that folder in a fresh process to be searched. Ids are base row numbers (0..n-1); engines that need
 * string ids convert at their boundary.
 *
 * The search parameter is pluggable: an engine lists its default sweep (`efSearch`, `nprobes`, ...)
 * as {@link SearchSetting}s, `--sweep engine:param=v1,v2` replaces them, and `configure` applies one.
 */
import type { DatasetSpec } from "../datasets.js";
import type { VectorMatrix } from "../vector-files.js";

/** One point of a search-parameter sweep. `params` are engine-specific (e.g. `{ ef: 64 }`). */
export interface SearchSetting {
  label: string;
  params: Record<string, number | string>;
}

/** Base vectors in chunks, in row order; each call starts a fresh pass over the file. */
export type ChunkSource = () => Iterable<{ start: number; vectors: VectorMatrix }>;

/** What {@link Engine.build} receives. */
export interface BuildContext {
  /** An empty folder the engine owns; everything it writes goes here (and is measured as disk bytes). */
  dir: string;
  spec: DatasetSpec;
  chunks: ChunkSource;
  /** Cores available to the build (engines that build in parallel may use them). */
  threads: number;
  /** `--build-option engine:key=value` settings for this engine (each engine documents its keys). */
  options: Record<string, number | string>;
}

/** What a build reports besides its timing (which the harness measures). */
export interface BuildInfo {
  /** Build parameters as the engine used them (M, efConstruction, partitions, durability, ...). */
  params: Record<string, unknown>;
  /** Threads the build used. */
  buildThreads: number;
  /** Index kind when it depends on the build (e.g. OmenDB: exact below its index threshold). */
  kind?: string;
  notes?: string[];
}

/** Options of {@link Engine.open}. */
export interface OpenOptions {
  /** Set for the extra readers of the all-cores measurement (reader processes), 0-based. */
  worker?: number;
  /** Worker threads of the engine's own (engines without them ignore it; omendb: `OmenDB.open`'s `threads`). */
  threads?: number;
}

/** An index reopened from disk, ready to answer queries. */
export interface EngineReader {
  /** Applies one sweep point (may rebuild in-memory search state; not timed). */
  configure(setting: SearchSetting): Promise<void>;
  /** The ids (base rows) of the k nearest neighbours of `query`, best first. */
  search(query: Float32Array, k: number): number[] | Promise<number[]>;
  /** The sweep once the index is open, when it depends on what was built (else the engine's default). */
  sweep?(): SearchSetting[];
  close(): Promise<void>;
}

/** A benchmarked library. */
export interface Engine {
  /** Name used by --only and in results, e.g. "hnswlib-node". */
  readonly name: string;
  /** Index kind shown in reports, e.g. "HNSW", "IVF-PQ", "exact". */
  readonly kind: string;
  /**
   * True when the engine spreads concurrent searches over its own worker threads (`OpenOptions.threads`):
   * the all-cores figure then comes from one reader process with that many threads and several
   * searches in flight, instead of one reader process (and one copy of the index in memory) per core.
   */
  readonly threadsInProcess?: boolean;
  /** Loads the library; returns null when usable, else why not (the engine is then skipped). */
  load(): Promise<string | null>;
  /** Library version (after a successful load). */
  version(): string;
  /** null when the engine can run this dataset, else why not. */
  unsupported(spec: DatasetSpec): string | null;
  /** The default sweep of the search parameter, in increasing effort. */
  defaultSweep(spec: DatasetSpec): SearchSetting[];
  build(ctx: BuildContext): Promise<BuildInfo>;
  open(dir: string, spec: DatasetSpec, opts: OpenOptions): Promise<EngineReader>;
}

/** Builds sweep settings `param=v` for each value. */
export function sweepOf(param: string, values: readonly number[]): SearchSetting[] {
  return values.map((v) => ({ label: `${param}=${v}`, params: { [param]: v } }));
}

/** A single-point sweep for engines without a search parameter. */
export const EXACT_SWEEP: SearchSetting[] = [{ label: "exact", params: {} }];

/** Copies a Float32Array row into a plain number[] (for libraries that take arrays only). */
export function toArray(v: Float32Array): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]!;
  return out;
}

/** Reads a numeric build option, falling back to `fallback`; throws on a non-number. */
export function numOption(options: Record<string, number | string>, name: string, fallback: number): number {
  const v = options[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`build option ${name}=${v} is not a number`);
  return n;
}

/** Throws when `options` holds a key the engine does not know. */
export function checkOptions(engine: string, options: Record<string, number | string>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${engine}: unknown build option "${key}" (known: ${known.join(", ") || "none"})`);
  }
}

/** Reads a numeric sweep parameter, falling back to `fallback`. */
export function numParam(setting: SearchSetting, name: string, fallback: number): number {
  const v = setting.params[name];
  return v === undefined ? fallback : Number(v);
}
