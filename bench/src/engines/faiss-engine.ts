/**
 * faiss-node 0.5.1 rebuilt against Debian's libfaiss 1.7.3 (see bench/scripts/setup-peers.mjs), two
 * index types made by `index_factory`:
 * - "faiss-hnsw": HNSW32 (faiss defaults: efConstruction 40, efSearch 16). faiss-node exposes no way
 *   to set efSearch or any ParameterSpace from JS, so this engine has a single sweep point.
 * - "faiss-flat": Flat, exact search (BLAS / SIMD scan).
 * Cosine is served as inner product over vectors normalised here (faiss has no cosine metric). Search
 * processes run with OMP_NUM_THREADS=1. The binding takes `number[]` only. Build option: factory (an
 * index_factory string, e.g. "HNSW16" or "IVF316,Flat").
 */
import path from "node:path";
import type { DatasetSpec } from "../datasets.js";
import { normalizeInPlace } from "../distance.js";
import { checkOptions, EXACT_SWEEP, toArray, type BuildContext, type BuildInfo, type Engine, type EngineReader } from "./engine.js";
import { PEERS_DIR, peerVersion, tryPeer } from "./peer-modules.js";

interface FIndex {
  add(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  write(file: string): void;
  ntotal(): number;
}
interface FModule {
  Index: { fromFactory(dim: number, description: string, metric: number): FIndex; read(file: string): FIndex };
  MetricType: { METRIC_INNER_PRODUCT: number; METRIC_L2: number };
}

function makeFaissEngine(name: string, kind: string, factory: string): Engine {
  let lib: FModule | undefined;
  const metricOf = (spec: DatasetSpec): number => (spec.metric === "l2" ? lib!.MetricType.METRIC_L2 : lib!.MetricType.METRIC_INNER_PRODUCT);
  const prepare = (spec: DatasetSpec, v: Float32Array): Float32Array => (spec.metric === "cosine" ? normalizeInPlace(Float32Array.from(v)) : v);
  return {
    name,
    kind,
    async load() {
      const r = tryPeer<FModule>(path.join(PEERS_DIR, "faiss-node"), "run `pnpm bench:setup` (needs apt-get install libfaiss-dev libopenblas-dev)");
      lib = r.mod;
      return r.reason;
    },
    version: () => `${peerVersion("faiss-node")} (libfaiss 1.7.3, Debian)`,
    unsupported: () => null,
    defaultSweep: () => (factory === "Flat" ? EXACT_SWEEP : [{ label: "efSearch=16 (fixed)", params: {} }]),
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions(name, ctx.options, ["factory"]);
      const description = String(ctx.options["factory"] ?? factory);
      const index = lib!.Index.fromFactory(ctx.spec.dim, description, metricOf(ctx.spec));
      const dim = ctx.spec.dim;
      for (const { vectors } of ctx.chunks()) {
        // Add in slices of ~1M numbers: the binding copies a JS array.
        const step = Math.max(1, Math.floor(1_000_000 / dim));
        for (let r = 0; r < vectors.count; r += step) {
          const rows = Math.min(step, vectors.count - r);
          const slice = Float32Array.from(vectors.data.subarray(r * dim, (r + rows) * dim));
          if (ctx.spec.metric === "cosine") for (let i = 0; i < rows; i++) normalizeInPlace(slice, i * dim, dim);
          index.add(toArray(slice));
        }
      }
      index.write(path.join(ctx.dir, "index.faiss"));
      return {
        params: description === "Flat" ? { factory: description } : { factory: description, note: "faiss defaults (HNSW: efConstruction 40, efSearch 16); faiss-node cannot set search parameters" },
        buildThreads: ctx.threads,
      };
    },
    async open(dir: string, spec: DatasetSpec): Promise<EngineReader> {
      const index = lib!.Index.read(path.join(dir, "index.faiss"));
      return {
        async configure() {},
        search: (q, k) => index.search(toArray(prepare(spec, q)), k).labels,
        async close() {},
      };
    },
  };
}

/** faiss HNSW32 (single point: efSearch fixed at 16). */
export function createFaissHnswEngine(): Engine {
  return makeFaissEngine("faiss-hnsw", "HNSW", "HNSW32");
}

/** faiss Flat (exact). */
export function createFaissFlatEngine(): Engine {
  return makeFaissEngine("faiss-flat", "exact", "Flat");
}
