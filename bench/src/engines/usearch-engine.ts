/**
 * usearch 2.25.3 (N-API, prebuilt SIMD kernels): HNSW with connectivity 16, expansion_add 128, f32
 * storage, built with its own thread pool (threads = 0: all cores). The search expansion is fixed
 * when an Index is constructed, so each sweep point constructs a new Index and `load()`s the saved
 * file (not timed; connectivity is read from the file). Searches pass threads = 1. Build options:
 * connectivity, expansion_add.
 */
import path from "node:path";
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, numOption, numParam, sweepOf, type BuildContext, type BuildInfo, type Engine, type EngineReader } from "./engine.js";
import { peerVersion, tryPeer } from "./peer-modules.js";

interface UIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(v: Float32Array, k: number, threads: number): { keys: BigUint64Array; distances: Float32Array };
  save(file: string): void;
  load(file: string): void;
  size(): number;
}
interface UModule {
  Index: new (config: {
    dimensions: number;
    metric: string;
    quantization: string;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
    multi: boolean;
  }) => UIndex;
}

const CONNECTIVITY = 16;
const EXPANSION_ADD = 128;

/** The usearch engine. */
export function createUsearchEngine(): Engine {
  let lib: UModule | undefined;
  const metric = (spec: DatasetSpec): string => (spec.metric === "cosine" ? "cos" : spec.metric === "l2" ? "l2sq" : "ip");
  const make = (spec: DatasetSpec, ef: number, connectivity = CONNECTIVITY, expansionAdd = EXPANSION_ADD): UIndex =>
    new lib!.Index({
      dimensions: spec.dim,
      metric: metric(spec),
      quantization: "f32",
      connectivity,
      expansion_add: expansionAdd,
      expansion_search: ef,
      multi: false,
    });
  return {
    name: "usearch",
    kind: "HNSW",
    async load() {
      const r = tryPeer<UModule>("usearch");
      lib = r.mod;
      return r.reason;
    },
    version: () => peerVersion("usearch"),
    unsupported: () => null,
    defaultSweep: () => sweepOf("ef", [10, 16, 24, 32, 48, 64, 96, 128, 256, 512]),
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions("usearch", ctx.options, ["connectivity", "expansion_add"]);
      const connectivity = numOption(ctx.options, "connectivity", CONNECTIVITY);
      const expansionAdd = numOption(ctx.options, "expansion_add", EXPANSION_ADD);
      const index = make(ctx.spec, 64, connectivity, expansionAdd);
      for (const { start, vectors } of ctx.chunks()) {
        const keys = new BigUint64Array(vectors.count);
        for (let r = 0; r < vectors.count; r++) keys[r] = BigInt(start + r);
        index.add(keys, vectors.data, 0);
      }
      index.save(path.join(ctx.dir, "index.usearch"));
      return {
        params: { connectivity, expansion_add: expansionAdd, metric: metric(ctx.spec), quantization: "f32" },
        buildThreads: ctx.threads,
      };
    },
    async open(dir: string, spec: DatasetSpec): Promise<EngineReader> {
      const file = path.join(dir, "index.usearch");
      let ef = 64;
      let index = make(spec, ef);
      index.load(file);
      return {
        async configure(setting) {
          const want = numParam(setting, "ef", 64);
          if (want === ef) return;
          ef = want;
          index = make(spec, ef);
          index.load(file);
        },
        search(q, k) {
          const keys = index.search(q, k, 1).keys;
          const out = new Array<number>(keys.length);
          for (let i = 0; i < keys.length; i++) out[i] = Number(keys[i]!);
          return out;
        },
        async close() {},
      };
    },
  };
}
