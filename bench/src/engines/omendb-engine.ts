/**
 * OmenDB (@omendb/core from this repository), through its public API only: one collection, records
 * `{ id: String(row), vector }` upserted in batches of 1,000 with the default durability ("fsync"),
 * then, when the collection is past its index threshold, `collection.buildIndex()` (finishes the
 * DiskANN index it would otherwise build in the background; with `--threads` > 1 the database is
 * opened with `threads: threads − 1`, whose threads help plan the build) and `close()`
 * (checkpoint) — all inside the timed build. Searches run on the measuring thread (no search threads).
 *
 * Collections below the core's index threshold (`indexStatus().threshold`: 5,000 records at 1536-d,
 * more at lower dimensions) are searched exactly: one sweep point. Above it the sweep is `efSearch`, passed per query; a
 * `--sweep omendb:<option>=v1,v2` replaces it. Build options (`--build-option omendb:key=value`) go to
 * `createCollection(..., { index: { key: value } })`: threshold, maxDegree, buildListSize, alpha,
 * efSearch, pqSubspaces.
 *
 * One process at a time may open a data folder (a LOCK file), so the extra all-cores reader processes
 * each open a copy of the folder, removed when the reader closes.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type * as Core from "@omendb/core";
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, EXACT_SWEEP, sweepOf, type BuildContext, type BuildInfo, type Engine, type EngineReader, type SearchSetting } from "./engine.js";

const COLLECTION = "bench";
const BATCH = 1000;
const INDEX_OPTIONS = ["threshold", "maxDegree", "buildListSize", "alpha", "efSearch", "pqSubspaces"] as const;
const EF_SWEEP = [10, 16, 24, 32, 48, 64, 96, 128, 150, 200, 256, 400];
const INDEX_KIND = "DiskANN (Vamana over PQ, re-ranked)";
const EXACT_KIND = "exact (WASM SIMD scan)";

/** The core module: the run's frozen snapshot when the harness made one (core-snapshot.ts), else @omendb/core. */
function coreModuleUrl(): string {
  const snapshot = process.env["OMENDB_CORE_MODULE"];
  return snapshot ? pathToFileURL(snapshot).href : import.meta.resolve("@omendb/core");
}

/**
 * How the engine reads vectors (and loads the graph's lists): "mmap" with the core's memory-map
 * addon, "pread" without it or when `OMENDB_VECTOR_READS=pread`. Recorded with every result.
 */
function vectorReads(): string {
  if (process.env["OMENDB_VECTOR_READS"] === "pread") return "pread";
  return fs.existsSync(new URL("../native/mmap.node", coreModuleUrl())) ? "mmap" : "pread (memory-map addon not built)";
}

function coreVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", coreModuleUrl()), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return "workspace";
  }
}

/**
 * The OmenDB engine. `exactOnly` ("omendb-exact") sets the collection's index threshold out of reach,
 * so every search is the exact scan: OmenDB's exact baseline on every dataset. `name` "omendb-pread"
 * is the default engine run with `OMENDB_VECTOR_READS=pread` (set by the harness, `ENGINE_ENV`):
 * vectors read with positional reads instead of the memory map.
 */
export function createOmenDBEngine(exactOnly = false, name = exactOnly ? "omendb-exact" : "omendb"): Engine {
  let OmenDB: typeof Core.OmenDB;
  return {
    name,
    kind: EXACT_KIND,
    threadsInProcess: true,
    async load() {
      try {
        OmenDB = ((await import(coreModuleUrl())) as typeof Core).OmenDB;
      } catch (err) {
        return `@omendb/core cannot be loaded (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); run \`pnpm build\``;
      }
      return typeof OmenDB?.open === "function" ? null : "@omendb/core does not export OmenDB.open";
    },
    version: coreVersion,
    unsupported: () => null,
    defaultSweep: () => EXACT_SWEEP,
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions(name, ctx.options, exactOnly ? [] : INDEX_OPTIONS);
      const indexOptions = exactOnly ? { threshold: Number.MAX_SAFE_INTEGER } : (ctx.options as Record<string, number>);
      const index = Object.keys(indexOptions).length > 0 ? { index: indexOptions } : {};
      // With more than one thread, the bulk build is planned by this thread and threads − 1 helpers.
      const helpers = Math.min(4, ctx.threads - 1);
      const db = await OmenDB.open(ctx.dir, helpers > 0 ? { threads: helpers } : {});
      const collection = await db.createCollection(COLLECTION, { dimension: ctx.spec.dim, metric: ctx.spec.metric, ...index });
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
      // buildIndex() would build an index at any size; call it only where the collection would build
      // one by itself, so small collections stay exact as they do for users.
      const threshold = collection.indexStatus().threshold;
      if (ctx.spec.count >= threshold) await collection.buildIndex();
      const status = collection.indexStatus();
      await db.close();
      return {
        params: { durability: "fsync", batch: BATCH, metric: ctx.spec.metric, index: indexOptions, threshold, status, vectorReads: vectorReads() },
        buildThreads: helpers + 1,
        kind: status.mode === "index" ? INDEX_KIND : EXACT_KIND,
      };
    },
    async open(dir: string, spec: DatasetSpec, opts): Promise<EngineReader> {
      let folder = dir;
      if (opts.worker !== undefined) {
        folder = `${dir}.reader-${opts.worker}`;
        fs.rmSync(folder, { recursive: true, force: true });
        // The LOCK file names the process holding `dir` open (the measuring process): leave it out.
        fs.cpSync(dir, folder, { recursive: true, filter: (src) => path.basename(src) !== "LOCK" });
      }
      const db = await OmenDB.open(folder, opts.threads === undefined ? {} : { threads: opts.threads });
      const collection: Core.Collection = db.getCollection(COLLECTION);
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
        sweep: () => (collection.indexStatus().mode === "index" ? sweepOf("efSearch", EF_SWEEP) : EXACT_SWEEP),
        async close() {
          await db.close();
          if (folder !== dir) fs.rmSync(folder, { recursive: true, force: true });
        },
      };
    },
  };
}
