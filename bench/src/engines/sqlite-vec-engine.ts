/**
 * sqlite-vec 0.1.9 loaded into better-sqlite3 12 (13.x segfaults on Node 20): a `vec0` virtual table
 * with `distance_metric=cosine` (or l2), rows inserted in one transaction per chunk, KNN by
 * `embedding MATCH ? AND k = ?`. sqlite-vec has no ANN index: every query is an exact scan.
 */
import path from "node:path";
import type { DatasetSpec } from "../datasets.js";
import { checkOptions, EXACT_SWEEP, type BuildContext, type BuildInfo, type Engine, type EngineReader } from "./engine.js";
import { peerVersion, tryPeer } from "./peer-modules.js";

interface Statement {
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): { rowid: number | bigint }[];
}
interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  pragma(s: string): unknown;
  close(): void;
}
type DatabaseCtor = new (file: string, opts?: { readonly?: boolean }) => Database;
interface SqliteVecModule {
  load(db: Database): void;
}

const blob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** The sqlite-vec engine. */
export function createSqliteVecEngine(): Engine {
  let Db: DatabaseCtor | undefined;
  let vec: SqliteVecModule | undefined;
  return {
    name: "sqlite-vec",
    kind: "exact (vec0 scan)",
    async load() {
      const a = tryPeer<DatabaseCtor>("better-sqlite3");
      const b = tryPeer<SqliteVecModule>("sqlite-vec");
      Db = a.mod;
      vec = b.mod;
      return a.reason ?? b.reason;
    },
    version: () => `${peerVersion("sqlite-vec")} (better-sqlite3 ${peerVersion("better-sqlite3")})`,
    unsupported: (spec: DatasetSpec) => (spec.metric === "ip" ? "sqlite-vec has no inner-product metric" : null),
    defaultSweep: () => EXACT_SWEEP,
    async build(ctx: BuildContext): Promise<BuildInfo> {
      checkOptions("sqlite-vec", ctx.options, []);
      const db = new Db!(path.join(ctx.dir, "vectors.db"));
      vec!.load(db);
      db.pragma("journal_mode = WAL");
      db.exec(`create virtual table vectors using vec0(embedding float[${ctx.spec.dim}] distance_metric=${ctx.spec.metric})`);
      const insert = db.prepare("insert into vectors(rowid, embedding) values (?, ?)");
      const dim = ctx.spec.dim;
      const insertChunk = db.transaction((start: number, data: Float32Array, rows: number) => {
        for (let r = 0; r < rows; r++) insert.run(BigInt(start + r), blob(data.subarray(r * dim, (r + 1) * dim)));
      });
      for (const { start, vectors } of ctx.chunks()) insertChunk(start, vectors.data, vectors.count);
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
      return { params: { table: "vec0", distance_metric: ctx.spec.metric, journal_mode: "WAL" }, buildThreads: 1 };
    },
    async open(dir: string): Promise<EngineReader> {
      const db = new Db!(path.join(dir, "vectors.db"), { readonly: true });
      vec!.load(db);
      const knn = db.prepare("select rowid from vectors where embedding match ? and k = ? order by distance");
      return {
        async configure() {},
        search: (q, k) => knn.all(blob(q), k).map((r) => Number(r.rowid)),
        async close() {
          db.close();
        },
      };
    },
  };
}
