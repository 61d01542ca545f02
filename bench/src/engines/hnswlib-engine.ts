/**
 * hnswlib-node 3.0.0 (N-API binding of hnswlib): HNSW with M = 16, efConstruction = 128, built one
 * vector at a time on one thread (the binding has no parallel add). It takes `number[]` only, so every
 * vector is copied into an array; the binding is compiled without -march (SSE kernels).
 * Sweep: efSearch. Saved as one file with writeIndexSync. Build options: M, efConstruction.
 */
import path from "node:path";
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, numOption, sweepOf, toArray, numParam, type BuildContext, type BuildInfo, type Engine, type EngineReader } from "./engine.js";
import { peerVersion, tryPeer } from "./peer-modules.js";

interface HnswIndex {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number }): void;
  addPoint(point: number[], label: number): void;
  writeIndexSync(file: string): void;
  readIndexSync(file: string): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number): { distances: number[]; neighbors: number[] };
}
interface HnswModule {
  HierarchicalNSW: new (space: "l2" | "ip" | "cosine", dim: number) => HnswIndex;
}

const M = 16;
const EF_CONSTRUCTION = 128;

/** The hnswlib-node engine. */
export function createHnswlibEngine(): Engine {
  let lib: HnswModule | undefined;
  const space = (spec: DatasetSpec): "l2" | "ip" | "cosine" => spec.metric;
  return {
    name: "hnswlib-node",
    kind: "HNSW",
    async load() {
      const r = tryPeer<HnswModule>("hnswlib-node");
      lib = r.mod;
      return r.reason;
    },
    version: () => peerVersion("hnswlib-node"),
    unsupported: () => null,
    defaultSweep: () => sweepOf("ef", [10, 16, 24, 32, 48, 64, 96, 128, 256, 512]),
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions("hnswlib-node", ctx.options, ["M", "efConstruction"]);
      const m = numOption(ctx.options, "M", M);
      const efConstruction = numOption(ctx.options, "efConstruction", EF_CONSTRUCTION);
      const index = new lib!.HierarchicalNSW(space(ctx.spec), ctx.spec.dim);
      index.initIndex({ maxElements: ctx.spec.count, m, efConstruction, randomSeed: 100 });
      const dim = ctx.spec.dim;
      for (const { start, vectors } of ctx.chunks()) {
        for (let r = 0; r < vectors.count; r++) index.addPoint(toArray(vectors.data.subarray(r * dim, (r + 1) * dim)), start + r);
      }
      index.writeIndexSync(path.join(ctx.dir, "index.hnsw"));
      return { params: { M: m, efConstruction, space: space(ctx.spec) }, buildThreads: 1 };
    },
    async open(dir: string, spec: DatasetSpec): Promise<EngineReader> {
      const index = new lib!.HierarchicalNSW(space(spec), spec.dim);
      index.readIndexSync(path.join(dir, "index.hnsw"));
      return {
        async configure(setting) {
          index.setEf(numParam(setting, "ef", 10));
        },
        search: (q, k) => index.searchKnn(toArray(q), k).neighbors,
        async close() {},
      };
    },
  };
}
