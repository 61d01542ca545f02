/**
 * Seeded synthetic datasets: unit-norm vectors from a two-level Gaussian mixture, the stand-in for
 * real 1536-d OpenAI embeddings (none are available offline in bulk). Every figure measured on them
 * must say "synthetic".
 *
 * Generator (all draws from one {@link Rng} seeded with `seed`):
 * - S = max(4, round(C / 32)) super-centres g_s ~ N(0, I/dim), unit-normalised;
 * - C = max(8, round(n / 100)) cluster centres c = normalise(g_s + 0.8 · N(0, I/dim)) around a random
 *   super-centre, each with a weight w ~ Exp(1) and a spread σ ~ U(0.8, 1.4);
 * - a point picks a cluster with probability ∝ w and is normalise(c + σ · N(0, I/dim)).
 * Queries are further draws from the same mixture (never base points), from the stream after the base.
 * Files (in the cache folder): base.fvecs, query.fvecs, gt_top100.ivecs, gt_top100.dist.fvecs,
 * manifest.json; written to a temp folder and renamed, so a half-written set is never used.
 */
import fs from "node:fs";
import path from "node:path";
import { writeGroundTruth } from "./ground-truth.js";
import { normalizeInPlace } from "./distance.js";
import { Rng } from "./rng.js";
import { readFvecs, VecsWriter } from "./vector-files.js";

/** Parameters that identify one synthetic set. */
export interface SyntheticParams {
  n: number;
  dim: number;
  queries: number;
  seed: number;
}

/** Folder name of a synthetic set inside the cache: synthetic-<dim>d-<n>-q<queries>-seed<seed>. */
export function syntheticFolderName(p: SyntheticParams): string {
  return `synthetic-${p.dim}d-${p.n}-q${p.queries}-seed${p.seed}`;
}

class Mixture {
  private readonly centres: Float32Array;
  private readonly spreads: Float64Array;
  private readonly cumulative: Float64Array;
  readonly clusters: number;

  constructor(private readonly rng: Rng, readonly dim: number, n: number) {
    const clusters = Math.max(8, Math.round(n / 100));
    const supers = Math.max(4, Math.round(clusters / 32));
    this.clusters = clusters;
    const scale = 1 / Math.sqrt(dim);
    const superCentres = new Float32Array(supers * dim);
    for (let i = 0; i < superCentres.length; i++) superCentres[i] = rng.normal() * scale;
    for (let s = 0; s < supers; s++) normalizeInPlace(superCentres, s * dim, dim);
    this.centres = new Float32Array(clusters * dim);
    this.spreads = new Float64Array(clusters);
    this.cumulative = new Float64Array(clusters);
    let total = 0;
    for (let c = 0; c < clusters; c++) {
      const s = rng.int(supers);
      for (let i = 0; i < dim; i++) this.centres[c * dim + i] = superCentres[s * dim + i]! + 0.8 * rng.normal() * scale;
      normalizeInPlace(this.centres, c * dim, dim);
      this.spreads[c] = 0.8 + 0.6 * rng.uniform();
      total += -Math.log(1 - rng.uniform());
      this.cumulative[c] = total;
    }
    for (let c = 0; c < clusters; c++) this.cumulative[c] = this.cumulative[c]! / total;
  }

  /** Writes one point into `out` at row offset `o`. */
  draw(out: Float32Array, o: number): void {
    const u = this.rng.uniform();
    let lo = 0;
    let hi = this.clusters - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    const sigma = this.spreads[lo]! / Math.sqrt(this.dim);
    const c = lo * this.dim;
    for (let i = 0; i < this.dim; i++) out[o + i] = this.centres[c + i]! + sigma * this.rng.normal();
    normalizeInPlace(out, o, this.dim);
  }
}

/**
 * Makes sure the synthetic set exists under `cacheDir` (generating it and its exact ground truth once)
 * and returns its folder. `log` receives progress lines.
 */
export async function ensureSynthetic(cacheDir: string, p: SyntheticParams, log: (line: string) => void): Promise<string> {
  const dir = path.join(cacheDir, syntheticFolderName(p));
  if (fs.existsSync(path.join(dir, "manifest.json"))) return dir;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const t0 = performance.now();
  log(`generating ${syntheticFolderName(p)} (${p.n} × ${p.dim}, ${p.queries} queries)`);
  const rng = new Rng(p.seed);
  const mixture = new Mixture(rng, p.dim, p.n);
  const chunkRows = Math.max(1, Math.floor((64 << 20) / (4 * p.dim)));
  const buf = new Float32Array(chunkRows * p.dim);
  const base = new VecsWriter(path.join(tmp, "base.fvecs"), p.dim);
  for (let done = 0; done < p.n; ) {
    const rows = Math.min(chunkRows, p.n - done);
    for (let r = 0; r < rows; r++) mixture.draw(buf, r * p.dim);
    base.write(buf.subarray(0, rows * p.dim));
    done += rows;
  }
  base.close();
  const qbuf = new Float32Array(p.queries * p.dim);
  for (let q = 0; q < p.queries; q++) mixture.draw(qbuf, q * p.dim);
  const qw = new VecsWriter(path.join(tmp, "query.fvecs"), p.dim);
  qw.write(qbuf);
  qw.close();
  const t1 = performance.now();
  log(`  vectors written in ${((t1 - t0) / 1000).toFixed(1)} s; exact ground truth (top 100)...`);
  await writeGroundTruth(
    { baseFile: path.join(tmp, "base.fvecs"), baseCount: p.n, queries: readFvecs(path.join(tmp, "query.fvecs")), metric: "cosine", k: 100 },
    path.join(tmp, "gt_top100"),
  );
  const t2 = performance.now();
  log(`  ground truth in ${((t2 - t1) / 1000).toFixed(1)} s`);
  const manifest = {
    name: syntheticFolderName(p),
    description: "Synthetic unit-norm two-level Gaussian mixture (see bench/src/synthetic-dataset.ts). Not real embeddings.",
    metric: "cosine",
    dim: p.dim,
    base: { file: "base.fvecs", count: p.n },
    queries: [{ file: "query.fvecs", count: p.queries, groundtruth: { ids: "gt_top100.ivecs", distances: "gt_top100.dist.fvecs", k: Math.min(100, p.n), metric: "cosine" } }],
    generator: { ...p, clusters: mixture.clusters },
    groundTruthSeconds: (t2 - t1) / 1000,
  };
  fs.writeFileSync(path.join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  fs.renameSync(tmp, dir);
  return dir;
}
