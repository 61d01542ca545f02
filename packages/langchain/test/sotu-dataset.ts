/**
 * Reads the `sotu-use-512` corpus from the shared datasets folder (beside the repository:
 * `<repo>/../shared/datasets`): 10,066 State of the Union chunks with Universal Sentence Encoder
 * vectors (512-d, unit norm), 1,000 held-out query chunks and their exact cosine top-100.
 * Formats: `.fvecs`/`.ivecs` rows are an int32 dim then dim float32/int32 values (little-endian);
 * `.jsonl` line i belongs to row i.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** The shared datasets folder. */
export const datasetsDir = path.resolve(repoRoot, "../shared/datasets");

/** A matrix of `count` rows × `dim`, row-major. */
export interface Rows<T extends Float32Array | Int32Array> {
  count: number;
  dim: number;
  data: T;
}

function readVecs<T extends Float32Array | Int32Array>(file: string, make: (buf: ArrayBuffer, offset: number, length: number) => T): Rows<T> {
  const bytes = fs.readFileSync(file);
  const dim = bytes.readInt32LE(0);
  const rowBytes = 4 * (dim + 1);
  if (dim <= 0 || bytes.length % rowBytes !== 0) throw new Error(`${file}: not a vecs file (dim ${dim}, ${bytes.length} bytes)`);
  const count = bytes.length / rowBytes;
  const data = make(new ArrayBuffer(count * dim * 4), 0, count * dim);
  for (let r = 0; r < count; r++) {
    if (bytes.readInt32LE(r * rowBytes) !== dim) throw new Error(`${file}: row ${r} has another dimension`);
    const row = make(bytes.buffer.slice(bytes.byteOffset + r * rowBytes + 4, bytes.byteOffset + (r + 1) * rowBytes), 0, dim);
    data.set(row, r * dim);
  }
  return { count, dim, data };
}

/** Reads an `.fvecs` file. */
export const readFvecs = (file: string) => readVecs(file, (b, o, n) => new Float32Array(b, o, n));
/** Reads an `.ivecs` file. */
export const readIvecs = (file: string) => readVecs(file, (b, o, n) => new Int32Array(b, o, n));

/** One chunk's text and metadata. */
export interface SotuRow {
  id: number;
  speech: string;
  year: number;
  president: string;
  party: string;
  chunk: number;
  text: string;
}

/** Reads a `.jsonl` file. */
export function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** The whole sotu-use-512 folder. */
export function loadSotu() {
  const dir = path.join(datasetsDir, "sotu-use-512");
  return {
    base: readFvecs(path.join(dir, "base.fvecs")),
    baseRows: readJsonl<SotuRow>(path.join(dir, "base_texts.jsonl")),
    queries: readFvecs(path.join(dir, "query.fvecs")),
    queryRows: readJsonl<SotuRow>(path.join(dir, "query_texts.jsonl")),
    gtIds: readIvecs(path.join(dir, "gt_cosine_top100.ivecs")),
    gtDist: readFvecs(path.join(dir, "gt_cosine_top100.dist.fvecs")),
  };
}
