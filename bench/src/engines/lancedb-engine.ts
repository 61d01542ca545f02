/**
 * @lancedb/lancedb 0.37.1 (Rust core via napi-rs), a table of (id int32, vector fixed_size_list<f32>)
 * written as Arrow record batches, in two configurations:
 * - "lancedb": no vector index, so every query is a flat (exact) scan on Lance's own thread pool.
 * - "lancedb-ivfpq": an IVF_PQ index (partitions ≈ √n, dim/16 sub-vectors when 16 divides dim, else
 *   dim/8, dim/4 or dim/2), swept over nprobes × refineFactor 4, 16, 64 (re-ranking refineFactor·k
 *   candidates with full vectors: PQ distances alone cannot order near neighbours at 1536-d, and with
 *   refineFactor 4 recall stalls near 0.7 on the synthetic set). Needs at least 5,000 rows to train.
 * Lance runs each query on its own thread pool, so "1 thread" QPS means one query in flight at a time.
 * Build options (lancedb-ivfpq): numPartitions, numSubVectors.
 */
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, EXACT_SWEEP, numOption, numParam, type BuildContext, type BuildInfo, type Engine, type EngineReader, type SearchSetting } from "./engine.js";
import { peerVersion, tryPeer } from "./peer-modules.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- Arrow's and Lance's generics are not worth mirroring here */
type Any = any;

interface LanceQuery {
  distanceType(t: string): LanceQuery;
  limit(k: number): LanceQuery;
  select(cols: string[]): LanceQuery;
  nprobes(n: number): LanceQuery;
  refineFactor(n: number): LanceQuery;
  toArray(): Promise<{ id: number }[]>;
}
interface LanceTable {
  add(data: unknown): Promise<unknown>;
  createIndex(column: string, opts: { config: unknown }): Promise<void>;
  vectorSearch(v: Float32Array | number[]): LanceQuery;
  close(): void;
}
interface LanceConnection {
  createTable(name: string, data: unknown, opts?: { mode?: string }): Promise<LanceTable>;
  openTable(name: string): Promise<LanceTable>;
  close(): void;
}
interface LanceModule {
  connect(uri: string): Promise<LanceConnection>;
  Index: { ivfPq(opts: Record<string, unknown>): unknown };
}

const TABLE = "vectors";
const MIN_ROWS_IVFPQ = 5000;
const REFINES = [4, 16, 64];

function makeLanceEngine(withIndex: boolean): Engine {
  let lib: LanceModule | undefined;
  let arrow: Any;
  const distanceType = (spec: DatasetSpec): string => (spec.metric === "ip" ? "dot" : spec.metric);

  function batchOf(start: number, rows: number, dim: number, data: Float32Array): Any {
    const vectorType = new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
    const schema = new arrow.Schema([new arrow.Field("id", new arrow.Int32(), false), new arrow.Field("vector", vectorType, false)]);
    const ids = new Int32Array(rows);
    for (let r = 0; r < rows; r++) ids[r] = start + r;
    const values = arrow.makeData({ type: new arrow.Float32(), length: rows * dim, data: Float32Array.from(data) });
    const vectors = arrow.makeData({ type: vectorType, length: rows, nullCount: 0, child: values });
    const idData = arrow.makeData({ type: new arrow.Int32(), length: rows, data: ids });
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows, nullCount: 0, children: [idData, vectors] });
    return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
  }

  /**
   * PQ sub-vectors: dim/16 (the 96 of PEERS.md at 1536-d) when 16 divides dim, else the finest of
   * dim/8, dim/4, dim/2. Lance's own default at dim 100 left recall near 0.2 on glove-100.
   */
  function subVectors(dim: number): number {
    for (const width of [16, 8, 4, 2]) if (dim % width === 0) return dim / width;
    return dim;
  }

  function partitions(n: number): number {
    return Math.max(1, Math.round(Math.sqrt(n)));
  }

  return {
    name: withIndex ? "lancedb-ivfpq" : "lancedb",
    kind: withIndex ? "IVF-PQ" : "exact (flat scan)",
    async load() {
      const r = tryPeer<LanceModule>("@lancedb/lancedb");
      const a = tryPeer<Any>("apache-arrow");
      lib = r.mod;
      arrow = a.mod;
      return r.reason ?? a.reason;
    },
    version: () => peerVersion("@lancedb/lancedb"),
    unsupported(spec) {
      if (withIndex && spec.count < MIN_ROWS_IVFPQ) return `IVF_PQ needs at least ${MIN_ROWS_IVFPQ} rows to train (dataset has ${spec.count})`;
      return null;
    },
    defaultSweep(): SearchSetting[] {
      if (!withIndex) return EXACT_SWEEP;
      const out: SearchSetting[] = [];
      for (const refine of REFINES) {
        for (const n of [2, 4, 8, 16, 32, 64]) out.push({ label: `nprobes=${n},refine=${refine}`, params: { nprobes: n, refineFactor: refine } });
      }
      return out;
    },
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions(withIndex ? "lancedb-ivfpq" : "lancedb-flat", ctx.options, withIndex ? ["numPartitions", "numSubVectors"] : []);
      const db = await lib!.connect(ctx.dir);
      let table: LanceTable | undefined;
      for (const { start, vectors } of ctx.chunks()) {
        const batch = batchOf(start, vectors.count, ctx.spec.dim, vectors.data);
        if (!table) table = await db.createTable(TABLE, batch, { mode: "overwrite" });
        else await table.add(batch);
      }
      const params: Record<string, unknown> = { distanceType: distanceType(ctx.spec) };
      if (withIndex) {
        const opts: Record<string, unknown> = {
          numPartitions: numOption(ctx.options, "numPartitions", partitions(ctx.spec.count)),
          numSubVectors: numOption(ctx.options, "numSubVectors", subVectors(ctx.spec.dim)),
          distanceType: distanceType(ctx.spec),
        };
        await table!.createIndex("vector", { config: lib!.Index.ivfPq(opts) });
        Object.assign(params, { index: "IVF_PQ", ...opts });
      }
      table!.close();
      db.close();
      return { params, buildThreads: ctx.threads };
    },
    async open(dir: string, spec: DatasetSpec): Promise<EngineReader> {
      const db = await lib!.connect(dir);
      const table = await db.openTable(TABLE);
      let setting: SearchSetting = EXACT_SWEEP[0]!;
      return {
        async configure(s) {
          setting = s;
        },
        async search(q, k) {
          let query = table.vectorSearch(q).distanceType(distanceType(spec)).limit(k).select(["id", "_distance"]);
          if (withIndex) {
            query = query.nprobes(numParam(setting, "nprobes", 20));
            const refine = numParam(setting, "refineFactor", 0);
            if (refine > 0) query = query.refineFactor(refine);
          }
          const rows = await query.toArray();
          return rows.map((r) => Number(r.id));
        },
        async close() {
          table.close();
          db.close();
        },
      };
    },
  };
}

/** LanceDB without a vector index (flat scan, exact). */
export function createLanceFlatEngine(): Engine {
  return makeLanceEngine(false);
}

/** LanceDB with an IVF_PQ index. */
export function createLanceIvfPqEngine(): Engine {
  return makeLanceEngine(true);
}
