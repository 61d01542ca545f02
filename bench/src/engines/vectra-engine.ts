/**
 * vectra 0.12.3 (plain JS): the whole index (vectors and metadata) lives in one JSON file that is
 * loaded into memory and scanned exactly with cosine similarity on each query. Above ~12M floats the
 * JSON text outgrows what V8 can stringify, so larger datasets are skipped (PEERS.md: ~33 KB per
 * 1536-d vector, topping out near 10–15k vectors).
 */
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, EXACT_SWEEP, toArray, type BuildContext, type BuildInfo, type Engine, type EngineReader } from "./engine.js";
import { peerVersion, tryPeer } from "./peer-modules.js";

interface LocalIndex {
  createIndex(config: { version: number; deleteIfExists?: boolean }): Promise<void>;
  beginUpdate(): Promise<void>;
  endUpdate(): Promise<void>;
  insertItem(item: { id: string; vector: number[]; metadata: Record<string, unknown> }): Promise<unknown>;
  queryItems(vector: number[], query: string, topK: number): Promise<{ item: { id: string } }[]>;
}
interface VectraModule {
  LocalIndex: new (folder: string) => LocalIndex;
}

const MAX_FLOATS = 12_000_000;

/** The vectra engine. */
export function createVectraEngine(): Engine {
  let lib: VectraModule | undefined;
  return {
    name: "vectra",
    kind: "exact (JSON file, JS scan)",
    async load() {
      const r = tryPeer<VectraModule>("vectra");
      lib = r.mod;
      return r.reason;
    },
    version: () => peerVersion("vectra"),
    unsupported(spec: DatasetSpec) {
      if (spec.metric !== "cosine") return "vectra supports cosine similarity only";
      const floats = spec.count * spec.dim;
      if (floats > MAX_FLOATS) {
        return `vectra keeps the whole index in one JSON file; ${spec.count} × ${spec.dim} = ${(floats / 1e6).toFixed(0)}M floats exceeds the ~${MAX_FLOATS / 1e6}M it can serialise`;
      }
      return null;
    },
    defaultSweep: () => EXACT_SWEEP,
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions("vectra", ctx.options, []);
      const index = new lib!.LocalIndex(ctx.dir);
      await index.createIndex({ version: 1, deleteIfExists: true });
      await index.beginUpdate();
      const dim = ctx.spec.dim;
      for (const { start, vectors } of ctx.chunks()) {
        for (let r = 0; r < vectors.count; r++) {
          await index.insertItem({ id: String(start + r), vector: toArray(vectors.data.subarray(r * dim, (r + 1) * dim)), metadata: {} });
        }
      }
      await index.endUpdate();
      return { params: { storage: "index.json" }, buildThreads: 1 };
    },
    async open(dir: string): Promise<EngineReader> {
      const index = new lib!.LocalIndex(dir);
      return {
        async configure() {},
        async search(q, k) {
          const hits = await index.queryItems(toArray(q), "", k);
          return hits.map((h) => Number(h.item.id));
        },
        async close() {},
      };
    },
  };
}
