// Reads the State of the Union corpus `sotu-use-512` from the shared datasets folder, which sits
// beside the repository: <repo>/../shared/datasets (override with OMENDB_DATASETS or --datasets).
//
// base_texts.jsonl: one chunk per line {speech, year, president, party, chunk, text, id};
// base.fvecs: the chunk's Universal Sentence Encoder Lite vector (512 float32, unit norm), row i = line i.
// fvecs rows are an int32 dimension followed by that many little-endian float32 values.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(exampleDir, "../..");

/** The shared datasets folder: `OMENDB_DATASETS`, else `<repo>/../shared/datasets`. */
export function defaultDatasetsDir() {
  return process.env.OMENDB_DATASETS ?? path.resolve(repoRoot, "../shared/datasets");
}

/**
 * Loads the corpus: `rows` (metadata and text per chunk) and `vector(i)` (row i's stored vector).
 * Throws with the path it looked in when the folder is missing.
 */
export function loadSotu(datasetsDir = defaultDatasetsDir()) {
  const dir = path.join(datasetsDir, "sotu-use-512");
  const textsFile = path.join(dir, "base_texts.jsonl");
  const vectorsFile = path.join(dir, "base.fvecs");
  if (!fs.existsSync(textsFile) || !fs.existsSync(vectorsFile)) {
    throw new Error(`sotu-use-512 not found in ${dir}; set OMENDB_DATASETS to the folder holding it`);
  }
  const rows = fs
    .readFileSync(textsFile, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
  const bytes = fs.readFileSync(vectorsFile);
  const dim = bytes.readInt32LE(0);
  const rowBytes = 4 * (dim + 1);
  if (bytes.length !== rows.length * rowBytes) {
    throw new Error(`${vectorsFile}: ${bytes.length} bytes is not ${rows.length} rows of ${dim} floats`);
  }
  const vector = (i) => {
    const out = new Array(dim);
    for (let j = 0; j < dim; j++) out[j] = bytes.readFloatLE(i * rowBytes + 4 + 4 * j);
    return out;
  };
  return { dir, rows, dim, vector };
}

/** `n` row numbers spread evenly over `total` rows (all of them when n ≥ total), so every era is represented. */
export function spreadRows(total, n) {
  if (n >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}
