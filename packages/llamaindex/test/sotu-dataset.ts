/**
 * Reader for the `sotu-use-512` corpus in the shared datasets folder (beside the repository):
 * 10,066 State of the Union chunks with 512-d Universal Sentence Encoder vectors, 1,000 held-out
 * query chunks and exact cosine top-100 ground truth.
 *
 * Formats: `.fvecs` rows are `int32 dim | dim × float32`, `.ivecs` rows `int32 n | n × int32`,
 * little-endian; `*_texts.jsonl` line i describes row i.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is packages/llamaindex/test/sotu-dataset.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The shared datasets folder, laid beside the repository (also in CI's fresh clone). */
export const DATASETS_DIR = path.resolve(REPO_ROOT, "../shared/datasets");

/** One chunk's description. */
export interface SotuChunk {
  speech: string;
  year: number;
  president: string;
  party: string;
  chunk: number;
  text: string;
}

/** The loaded corpus. */
export interface SotuDataset {
  base: Float32Array[];
  baseTexts: SotuChunk[];
  queries: Float32Array[];
  queryTexts: SotuChunk[];
  /** Row ids of the exact cosine top-100 of each query, best first. */
  groundTruth: Int32Array[];
  /** Cosine distances (1 − cos) matching `groundTruth`. */
  groundTruthDistances: Float32Array[];
}

function readVecs(file: string): Uint8Array[] {
  const bytes = fs.readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; ) {
    const n = view.getInt32(offset, true);
    rows.push(bytes.subarray(offset + 4, offset + 4 + 4 * n));
    offset += 4 + 4 * n;
  }
  return rows;
}

/** A standalone copy of a row's bytes (Buffer#slice would share the whole file's memory). */
function copyBytes(row: Uint8Array): ArrayBuffer {
  return row.buffer.slice(row.byteOffset, row.byteOffset + row.byteLength) as ArrayBuffer;
}

function readFvecs(file: string): Float32Array[] {
  return readVecs(file).map((row) => new Float32Array(copyBytes(row)));
}

function readIvecs(file: string): Int32Array[] {
  return readVecs(file).map((row) => new Int32Array(copyBytes(row)));
}

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** Loads `sotu-use-512`. */
export function loadSotu(dir = path.join(DATASETS_DIR, "sotu-use-512")): SotuDataset {
  return {
    base: readFvecs(path.join(dir, "base.fvecs")),
    baseTexts: readJsonl<SotuChunk>(path.join(dir, "base_texts.jsonl")),
    queries: readFvecs(path.join(dir, "query.fvecs")),
    queryTexts: readJsonl<SotuChunk>(path.join(dir, "query_texts.jsonl")),
    groundTruth: readIvecs(path.join(dir, "gt_cosine_top100.ivecs")),
    groundTruthDistances: readFvecs(path.join(dir, "gt_cosine_top100.dist.fvecs")),
  };
}
