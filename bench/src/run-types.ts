/**
 * Shapes of the messages between the harness and its engine child processes, and of the results
 * files in bench/results/ (schema version {@link RESULTS_SCHEMA}).
 */
import type { DatasetSpec } from "./datasets.js";
import type { SearchSetting } from "./engines/engine.js";
import type { MachineInfo } from "./machine-info.js";

/** Bump when a results file changes shape. */
export const RESULTS_SCHEMA = 1;

/** Knobs of the search phase. */
export interface SearchKnobs {
  k: number;
  /** Seconds of single-thread querying per sweep point (at least `minQueries` queries are run). */
  budgetSeconds: number;
  /** The query set is repeated (up to 5 passes) until this many seconds have elapsed. */
  minSeconds: number;
  minQueries: number;
  /** Queries used (first rows of the query file). */
  maxQueries: number;
  /** Threads of the all-cores measurement; 1 skips it. */
  threads: number;
  /** Unmeasured queries before each measurement. */
  warmupQueries: number;
  /** At most this many points of an engine's default sweep, evenly spaced (0 = all). */
  sweepLimit: number;
}

/** A job for an engine child process. */
export type ChildJob =
  | { phase: "build"; engine: string; spec: DatasetSpec; dir: string; threads: number; options: Record<string, number | string> }
  | { phase: "search"; engine: string; spec: DatasetSpec; dir: string; settings: SearchSetting[] | null; knobs: SearchKnobs };

/** Result of a build child. */
export interface BuildOutcome {
  status: "ok" | "skipped" | "error";
  reason?: string;
  version?: string;
  kind?: string;
  params?: Record<string, unknown>;
  buildThreads?: number;
  buildSeconds?: number;
  vectorsPerSecond?: number;
  diskBytes?: number;
  peakRssBytes?: number;
  notes?: string[];
}

/** One measured sweep point. */
export interface SweepPoint {
  label: string;
  params: Record<string, number | string>;
  recall: number;
  /** Queries answered in the single-thread passes (recall is over the first pass, latencies over all). */
  queries: number;
  qps1: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** All-cores queries/s (null when threads = 1). */
  qpsAll: number | null;
  threadsAll: number;
  queriesAll: number;
}

/** Result of a search child. */
export interface SearchOutcome {
  status: "ok" | "skipped" | "error";
  reason?: string;
  /** open() until ready, then the first query, seconds. */
  reopen?: { openSeconds: number; firstQuerySeconds: number; totalSeconds: number };
  memory?: { rssAnonBytes: number; rssFileBytes: number; privateBytes: number; anonBytesPerVector: number; fileBytesPerVector: number };
  points?: SweepPoint[];
  notes?: string[];
}

/** One engine on one dataset, as stored in a results file. */
export interface EngineResult {
  engine: string;
  kind: string;
  version: string;
  status: "ok" | "skipped" | "error";
  reason?: string;
  params: Record<string, unknown>;
  buildThreads?: number;
  build?: { seconds: number; vectorsPerSecond: number; peakRssBytes: number };
  diskBytes?: number;
  diskBytesPerVector?: number;
  reopen?: SearchOutcome["reopen"];
  memory?: SearchOutcome["memory"];
  points: SweepPoint[];
  notes: string[];
  /** When and how this engine ran; loadAverage = 1/5/15-minute load at its start. */
  run: { date: string; commit: string; command: string; loadAverage?: number[] };
}

/** A results file for one dataset (`bench/results/<date>-<dataset>.json`). */
export interface AnnResultsFile {
  schema: number;
  type: "ann";
  machine: MachineInfo;
  dataset: Omit<DatasetSpec, "baseFile" | "queryFile" | "gtIdsFile" | "gtDistFile"> & { files: Record<string, string> };
  knobs: SearchKnobs;
  smoke: boolean;
  engines: EngineResult[];
}

/** Messages a child sends to the harness. */
export type ChildMessage = { type: "build"; outcome: BuildOutcome } | { type: "search"; outcome: SearchOutcome };

/** `bench ingest`: durable ingest throughput of OmenDB. */
export interface IngestResultsFile {
  schema: number;
  type: "ingest";
  machine: MachineInfo;
  dim: number;
  durability: string;
  /** fdatasync of a 4 KiB append on the same disk, for context (ms). */
  fsyncMs: { p50: number; mean: number; samples: number };
  runs: {
    name: string;
    description: string;
    records: number;
    batchSize: number;
    concurrency: number;
    seconds: number;
    vectorsPerSecond: number;
    /** Verified after reopening: count() equals the records written. */
    countAfterReopen: number;
  }[];
  goalVectorsPerSecond: number;
  smoke: boolean;
}

/** `bench exact`: exact search time against the memory-bandwidth bound. */
export interface ExactResultsFile {
  schema: number;
  type: "exact";
  machine: MachineInfo;
  dataset: string;
  n: number;
  dim: number;
  queries: number;
  /** Vector bytes one exact query must read: n × dim × 4. */
  bytesPerQuery: number;
  /** Streaming-read bandwidth (WASM SIMD sum over a buffer ≫ cache), same process, one thread. */
  bandwidth: { gbPerSecond: number; bufferBytes: number; passes: number };
  /** bytesPerQuery / bandwidth, in ms. */
  boundMs: number;
  omendb: { p50Ms: number; meanMs: number; p99Ms: number; qps: number; recall: number; effectiveGbPerSecond: number };
  /** The bench's own WASM SIMD dot-product scan over the same vectors held in WebAssembly memory. */
  reference: { meanMs: number; effectiveGbPerSecond: number };
  /** omendb p50 / boundMs (goal ≤ 2). */
  ratioToBound: number;
  smoke: boolean;
}

/** `bench recovery`: reopen time after SIGKILL with an un-checkpointed WAL. */
export interface RecoveryResultsFile {
  schema: number;
  type: "recovery";
  machine: MachineInfo;
  dim: number;
  runs: {
    name: string;
    description: string;
    recordsAcknowledged: number;
    upsertCalls: number;
    walBytes: number;
    openSeconds: number;
    countAfterOpen: number;
    secondsPer100kRecords: number;
  }[];
  goalSecondsPer100k: number;
  smoke: boolean;
}

/** Any results file. */
export type ResultsFile = AnnResultsFile | IngestResultsFile | ExactResultsFile | RecoveryResultsFile;
