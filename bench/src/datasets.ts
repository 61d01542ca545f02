/**
 * Finds the datasets a run uses and describes each as a {@link DatasetSpec}: file paths, sizes, metric
 * and ground truth, everything an engine child process needs (the spec is plain JSON).
 *
 * - Real sets: every folder of `<repo>/../shared/datasets` with a manifest.json (their own ground truth).
 *   With `--n` below the folder's size, the base is truncated to its first n rows and exact ground truth
 *   for that prefix is computed once into bench/.cache/gt/.
 * - Synthetic sets: `synthetic-100k`, `synthetic-1m`, or `synthetic-<n>` (with k/m suffixes), 1536-d
 *   unless `--dim`, generated from a seed into bench/.cache/datasets/ (see synthetic-dataset.ts).
 */
import fs from "node:fs";
import path from "node:path";
import type { MetricName } from "./distance.js";
import { writeGroundTruth } from "./ground-truth.js";
import { ensureSynthetic, syntheticFolderName } from "./synthetic-dataset.js";
import { readFvecs, vecsShape } from "./vector-files.js";

/** Everything needed to load a dataset, serialisable to a child process. */
export interface DatasetSpec {
  /** Name used in result file names and reports, e.g. "sotu-use-512" or "synthetic-1536d-100k". */
  name: string;
  kind: "real" | "synthetic";
  description: string;
  metric: MetricName;
  dim: number;
  /** Base rows used (the first `count` rows of `baseFile`). */
  count: number;
  baseFile: string;
  queryFile: string;
  /** Queries used (the first `queryCount` rows of `queryFile`). */
  queryCount: number;
  /** True when the queries are the base vectors themselves (rank 0 is usually the query). */
  selfQuery: boolean;
  gtIdsFile: string;
  gtDistFile: string;
  /** Ground-truth neighbours stored per query. */
  gtK: number;
  /** Where the data came from: folder and license, or generator parameters. */
  source: Record<string, unknown>;
}

/** Paths the harness works with. */
export interface BenchPaths {
  repoRoot: string;
  benchDir: string;
  datasetsDir: string;
  cacheDir: string;
}

interface ManifestQueries {
  file: string;
  count: number;
  rows?: string;
  groundtruth: { ids: string; distances: string; k: number; metric?: string };
}

/** Names of the real dataset folders (those with a manifest.json), sorted. [] when the folder is absent. */
export function realDatasetNames(paths: BenchPaths): string[] {
  if (!fs.existsSync(paths.datasetsDir)) return [];
  return fs
    .readdirSync(paths.datasetsDir)
    .filter((d) => fs.existsSync(path.join(paths.datasetsDir, d, "manifest.json")))
    .sort();
}

/** Parses "100k", "1m", "2000" into a count; NaN when it is not one. */
export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) return NaN;
  const mult = m[2]!.toLowerCase() === "k" ? 1e3 : m[2]!.toLowerCase() === "m" ? 1e6 : 1;
  return Math.round(Number(m[1]) * mult);
}

/** "100000" → "100k", "1000000" → "1m", "2500" → "2500". */
export function humanCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}m`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** Options of {@link resolveDataset}. */
export interface ResolveOptions {
  /** Truncate a real set / size a synthetic one. */
  n?: number;
  /** Dimension of synthetic sets (default 1536). */
  dim?: number;
  /** Synthetic queries (default 1000). */
  queries?: number;
  seed?: number;
  log: (line: string) => void;
}

/** Resolves a dataset name into a spec, generating synthetic data or truncated ground truth if needed. */
export async function resolveDataset(name: string, paths: BenchPaths, opts: ResolveOptions): Promise<DatasetSpec> {
  const synthetic = /^synthetic(?:-(\d+(?:\.\d+)?[km]?))?$/i.exec(name);
  if (synthetic) {
    const n = synthetic[1] ? parseCount(synthetic[1]) : (opts.n ?? 100_000);
    const dim = opts.dim ?? 1536;
    const p = { n, dim, queries: opts.queries ?? 1000, seed: opts.seed ?? 42 };
    const dir = await ensureSynthetic(path.join(paths.cacheDir, "datasets"), p, opts.log);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { generator: Record<string, unknown> };
    return {
      name: `synthetic-${dim}d-${humanCount(n)}`,
      kind: "synthetic",
      description: `synthetic unit-norm Gaussian mixture, ${manifest.generator["clusters"]} clusters, seed ${p.seed}`,
      metric: "cosine",
      dim,
      count: n,
      baseFile: path.join(dir, "base.fvecs"),
      queryFile: path.join(dir, "query.fvecs"),
      queryCount: p.queries,
      selfQuery: false,
      gtIdsFile: path.join(dir, "gt_top100.ivecs"),
      gtDistFile: path.join(dir, "gt_top100.dist.fvecs"),
      gtK: Math.min(100, n),
      source: { generator: manifest.generator, folder: path.relative(paths.repoRoot, dir), file: "bench/src/synthetic-dataset.ts" },
    };
  }
  const dir = path.join(paths.datasetsDir, name);
  const manifestFile = path.join(dir, "manifest.json");
  if (!fs.existsSync(manifestFile)) {
    const known = [...realDatasetNames(paths), "synthetic-100k", "synthetic-1m", "synthetic-<n>"];
    throw new Error(`unknown dataset "${name}" (no ${manifestFile}); known: ${known.join(", ")}`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as {
    name?: string;
    description?: string;
    metric: MetricName;
    dim: number;
    base: { file: string; count: number };
    queries: ManifestQueries[] | ManifestQueries;
    license?: unknown;
    source?: unknown;
  };
  const q = Array.isArray(manifest.queries) ? manifest.queries[0]! : manifest.queries;
  const baseFile = path.join(dir, manifest.base.file);
  const fullCount = vecsShape(baseFile).count;
  const queryFile = path.join(dir, q.file);
  const selfQuery = q.file === manifest.base.file;
  const spec: DatasetSpec = {
    name,
    kind: "real",
    description: (manifest.description ?? "").split(". ")[0] ?? "",
    metric: manifest.metric,
    dim: manifest.dim,
    count: fullCount,
    baseFile,
    queryFile,
    queryCount: vecsShape(queryFile).count,
    selfQuery,
    gtIdsFile: path.join(dir, q.groundtruth.ids),
    gtDistFile: path.join(dir, q.groundtruth.distances),
    gtK: q.groundtruth.k,
    source: { folder: path.relative(paths.repoRoot, dir), license: manifest.license ?? null },
  };
  const n = opts.n;
  if (n === undefined || n >= fullCount) return spec;
  // Truncated base: ground truth for the prefix, computed once.
  const gtDir = path.join(paths.cacheDir, "gt", `${name}-n${n}`);
  const prefix = path.join(gtDir, "gt_top100");
  if (!fs.existsSync(`${prefix}.dist.fvecs`)) {
    fs.mkdirSync(gtDir, { recursive: true });
    opts.log(`exact ground truth for the first ${n} rows of ${name}...`);
    await writeGroundTruth({ baseFile, baseCount: n, queries: readFvecs(queryFile), metric: spec.metric, k: 100 }, prefix);
  }
  return {
    ...spec,
    name: `${name}@${humanCount(n)}`,
    count: n,
    gtIdsFile: `${prefix}.ivecs`,
    gtDistFile: `${prefix}.dist.fvecs`,
    gtK: Math.min(100, n),
    source: { ...spec.source, truncatedTo: n },
  };
}

export { syntheticFolderName };
