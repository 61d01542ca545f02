/**
 * OmenDB (@omendb/core from this repository), through its public API only: one collection, records
 * `{ id: String(row), vector }` upserted in batches of 1,000 with the default durability ("fsync"),
 * then `close()` (which checkpoints) — all inside the timed build.
 *
 * Its sweep is pluggable: the default is the single point "exact" (search options `{ k }`) until the
 * core's graph index lands; `--sweep omendb:<option>=v1,v2` passes `<option>: v` in the search options
 * of each point. One process at a time may open a data folder (a LOCK file), so the extra all-cores
 * reader processes each open a copy of the folder, removed when the reader closes.
 */
import fs from "node:fs";
import path from "node:path";
import { OmenDB, type Collection } from "@omendb/core";
import type { DatasetSpec } from "../datasets.js";
import { EXACT_SWEEP, type BuildContext, type BuildInfo, type Engine, type EngineReader, type SearchSetting } from "./engine.js";

const COLLECTION = "bench";
const BATCH = 1000;

function coreVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.resolve("@omendb/core")), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return "workspace";
  }
}

/** The OmenDB engine. */
export function createOmenDBEngine(): Engine {
  return {
    name: "omendb",
    kind: "exact (WASM SIMD scan)",
    async load() {
      return typeof OmenDB?.open === "function" ? null : "@omendb/core does not export OmenDB.open";
    },
    version: coreVersion,
    unsupported: () => null,
    defaultSweep: () => EXACT_SWEEP,
    async build(ctx: BuildContext): Promise<BuildInfo> {
      const db = await OmenDB.open(ctx.dir);
      const collection = await db.createCollection(COLLECTION, { dimension: ctx.spec.dim, metric: ctx.spec.metric });
      const dim = ctx.spec.dim;
      for (const { start, vectors } of ctx.chunks()) {
        for (let r = 0; r < vectors.count; r += BATCH) {
          const rows = Math.min(BATCH, vectors.count - r);
          const records = new Array(rows);
          for (let i = 0; i < rows; i++) {
            records[i] = { id: String(start + r + i), vector: vectors.data.subarray((r + i) * dim, (r + i + 1) * dim) };
          }
          await collection.upsert(records);
        }
      }
      await db.close();
      return { params: { durability: "fsync", batch: BATCH, metric: ctx.spec.metric }, buildThreads: 1 };
    },
    async open(dir: string, spec: DatasetSpec, opts): Promise<EngineReader> {
      let folder = dir;
      if (opts.worker !== undefined) {
        folder = `${dir}.reader-${opts.worker}`;
        fs.rmSync(folder, { recursive: true, force: true });
        // The LOCK file names the process holding `dir` open (the measuring process): leave it out.
        fs.cpSync(dir, folder, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
      }
      const db = await OmenDB.open(folder);
      const collection: Collection = db.getCollection(COLLECTION);
      if (collection.dimension !== spec.dim) throw new Error(`omendb: collection has dimension ${collection.dimension}, dataset ${spec.dim}`);
      let extra: Record<string, number | string> = {};
      return {
        async configure(setting: SearchSetting) {
          extra = setting.params;
        },
        async search(q, k) {
          const hits = await collection.search(q, { ...extra, k });
          return hits.map((h) => Number(h.id));
        },
        async close() {
          await db.close();
          if (folder !== dir) fs.rmSync(folder, { recursive: true, force: true });
        },
      };
    },
  };
}
