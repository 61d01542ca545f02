/**
 * Model-based property test: random sequences of collection operations run against the engine and
 * against a plain in-memory model (a Map per collection), compared after every step.
 *
 * Each run opens a fresh folder with two collections of a random dimension (4–8) and metric: one
 * searched exactly (default threshold) and one with `index: { threshold: 30 }`, so the DiskANN path
 * (background training and joining, `buildIndex`, exact tail scan, consolidation, persistence at
 * checkpoint and reload on reopen) runs under the same operations. Operations: upsert, add, delete
 * by ids, delete by filter, get by ids, get by filter (limit/offset), count, search (k, filter, query
 * equal to a stored vector or random), checkpoint, close + reopen, a crash image (the folder copied
 * while open, then reopened: what `kill -9` leaves), buildIndex and background-maintenance turns.
 *
 * What is compared:
 * - writes: the return value (deleted count) or the error class and code (`add` of an existing id);
 * - reads: get by ids (order, documents, metadata, vectors byte for byte), get by filter (insertion
 *   order, limit, offset), count with and without filter, after every single step;
 * - exact search: the distance sequence equals the model's exact top-k and each hit's distance is
 *   its true distance;
 * - indexed search (approximate): hits are live, match the filter, are distinct and ascending, carry
 *   their true distance, number exactly min(k, matches); a query equal to a stored vector gets an
 *   exact nearest record first (cosine/l2: the stored record or one at distance 0).
 *
 * Seeded: `OMENDB_PROPERTY_SEED` / `OMENDB_PROPERTY_RUNS` override the defaults (seed 20251126, 200 runs).
 */
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Collection, type Metric, OmenDB, type OmenDBError, type Where } from "../src/index.js";
import { mulberry32 } from "../src/internal/seeded-random.js";
import { crashImage, tempDir, unreachable } from "./helpers.js";

const SEED = Number(process.env["OMENDB_PROPERTY_SEED"] ?? 20251126);
const RUNS = Number(process.env["OMENDB_PROPERTY_RUNS"] ?? 200);
const ID_UNIVERSE = 60;
const INDEX_THRESHOLD = 30;
/**
 * Regression switches for two bugs this test found (both fixed: 2b6d9fb and dfdf83c). Setting one to
 * false tolerates the old behaviour again, to keep exploring while such a bug is open:
 * - insertion order after a crash: WAL replay re-inserted a record deleted and re-added since the
 *   checkpoint with a fresh SQLite rowid, changing `get({ filter })` order. False: a crash step
 *   checks the records as a set and adopts the engine's order.
 * - exact top-1 from the index: records became unreachable from the DiskANN graph's entry point
 *   (re-inserting the entry's own slot stripped its edges; records inserted while the only reachable
 *   node was a tombstone got none), so a k = 1 search returned the entry's record for every query
 *   (reproduced in reliability.regressions.test.ts). False: a miss of an unreachable record is counted.
 *   A third way, fixed since: re-inserting a present slot dropped its out-edges at once and could
 *   orphan a node whose only in-edge came from it (graph-level regression test in
 *   reliability.regressions.test.ts).
 */
const CRASH_REPLAY_KEEPS_INSERTION_ORDER = true;
const INDEX_FINDS_STORED_VECTOR_FIRST = true;

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

interface ModelRecord {
  id: string;
  vector: Float32Array;
  document: string | null;
  metadata: Record<string, number | string>;
}

/** A collection in the model: a Map whose iteration order is insertion order, as the engine's. */
type ModelCollection = Map<string, ModelRecord>;

/** Reference evaluator for the filter subset the generator produces. */
function matches(filter: ModelFilter, m: Record<string, number | string>): boolean {
  switch (filter.op) {
    case "all":
      return true;
    case "eq":
      return m[filter.key] === filter.value;
    case "gte":
      return typeof m[filter.key] === "number" && (m[filter.key] as number) >= (filter.value as number);
    case "ne":
      return m[filter.key] !== filter.value;
    case "in":
      return filter.values.includes(m[filter.key] as never);
    case "exists":
      return (filter.key in m) === filter.value;
    case "or":
      return filter.any.some((f) => matches(f, m));
    case "and":
      return filter.all.every((f) => matches(f, m));
  }
}

type ModelFilter =
  | { op: "all" }
  | { op: "eq"; key: "g" | "tag"; value: number | string }
  | { op: "gte"; key: "g"; value: number }
  | { op: "ne"; key: "g" | "tag"; value: number | string }
  | { op: "in"; key: "g" | "tag"; values: (number | string)[] }
  | { op: "exists"; key: "g" | "tag"; value: boolean }
  | { op: "or"; any: ModelFilter[] }
  | { op: "and"; all: ModelFilter[] };

/** The filter language form of a model filter. */
function toWhere(filter: ModelFilter): Where {
  switch (filter.op) {
    case "all":
      return {};
    case "eq":
      return { [filter.key]: filter.value };
    case "gte":
      return { [filter.key]: { $gte: filter.value } };
    case "ne":
      return { [filter.key]: { $ne: filter.value } };
    case "in":
      return { [filter.key]: { $in: filter.values } };
    case "exists":
      return { [filter.key]: { $exists: filter.value } };
    case "or":
      return { $or: filter.any.map(toWhere) };
    case "and":
      return { $and: filter.all.map(toWhere) };
  }
}

/** The metric's distance in float64 (see the metric table in the core README). */
function distance(metric: Metric, a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
    l2 += (a[i]! - b[i]!) ** 2;
  }
  if (metric === "l2") return l2;
  if (metric === "ip") return 1 - dot;
  return 1 - dot / Math.sqrt(na * nb);
}

/** Float32 kernels against float64 reference: absolute plus relative slack. */
const closeTo = (a: number, b: number) => Math.abs(a - b) <= 2e-4 * (1 + Math.abs(b));

function vectorOf(seed: number, dim: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: dim }, () => rand() * 2 - 1);
}

// ---------------------------------------------------------------------------------------------
// Operations and their generators
// ---------------------------------------------------------------------------------------------

interface GenRecord {
  id: number;
  vseed: number;
  g: number | null;
  tag: string | null;
  doc: string | null;
}

type Op =
  | { kind: "upsert" | "add"; coll: number; records: GenRecord[] }
  | { kind: "bulk"; coll: number; from: number; count: number; vseed: number }
  | { kind: "deleteIds"; coll: number; ids: number[] }
  | { kind: "deleteFilter"; coll: number; filter: ModelFilter }
  | { kind: "get"; coll: number; ids: number[]; includeVector: boolean }
  | { kind: "getFilter"; coll: number; filter: ModelFilter | null; limit: number | null; offset: number | null }
  | { kind: "count"; coll: number; filter: ModelFilter | null }
  | { kind: "search"; coll: number; k: number; filter: ModelFilter | null; query: { stored: number } | { seed: number } }
  | { kind: "checkpoint" }
  | { kind: "reopen" }
  | { kind: "crash" }
  | { kind: "buildIndex"; coll: number }
  | { kind: "maintain"; turns: number };

/** Two thirds of the operations go to the indexed collection, so it spends most runs past its threshold. */
const collArb = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) });
const idArb = fc.integer({ min: 0, max: ID_UNIVERSE - 1 });
const gArb = fc.option(fc.integer({ min: 0, max: 3 }), { nil: null });
const tagArb = fc.option(fc.constantFrom("x", "y", "z"), { nil: null });
const recordArb: fc.Arbitrary<GenRecord> = fc.record({
  id: idArb,
  vseed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  g: gArb,
  tag: tagArb,
  doc: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
});
const batchArb = fc.uniqueArray(recordArb, { selector: (r) => r.id, minLength: 1, maxLength: 8 });

const leafFilterArb: fc.Arbitrary<ModelFilter> = fc.oneof(
  fc.record({ op: fc.constant("eq" as const), key: fc.constant("g" as const), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant("eq" as const), key: fc.constant("tag" as const), value: fc.constantFrom("x", "y", "z") }),
  fc.record({ op: fc.constant("gte" as const), key: fc.constant("g" as const), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant("ne" as const), key: fc.constant("tag" as const), value: fc.constantFrom("x", "y") }),
  fc.record({ op: fc.constant("in" as const), key: fc.constant("g" as const), values: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant("exists" as const), key: fc.constantFrom("g" as const, "tag" as const), value: fc.boolean() }),
);
const filterArb: fc.Arbitrary<ModelFilter> = fc.oneof(
  { weight: 6, arbitrary: leafFilterArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("or" as const), any: fc.array(leafFilterArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("and" as const), all: fc.array(leafFilterArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: "all" as const }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant("upsert" as const), coll: collArb, records: batchArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("add" as const), coll: collArb, records: batchArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("bulk" as const),
      coll: collArb,
      from: fc.integer({ min: 0, max: ID_UNIVERSE - 1 }),
      count: fc.integer({ min: 10, max: 40 }),
      vseed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("deleteIds" as const), coll: collArb, ids: fc.array(idArb, { maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("deleteFilter" as const), coll: collArb, filter: filterArb.filter((f) => f.op !== "all") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), coll: collArb, ids: fc.array(idArb, { maxLength: 8 }), includeVector: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("getFilter" as const),
      coll: collArb,
      filter: fc.option(filterArb, { nil: null }),
      limit: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      offset: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("count" as const), coll: collArb, filter: fc.option(filterArb, { nil: null }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("search" as const),
      coll: collArb,
      k: fc.integer({ min: 1, max: 12 }),
      filter: fc.option(filterArb, { nil: null, freq: 3 }),
      query: fc.oneof(
        { weight: 3, arbitrary: fc.record({ stored: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "checkpoint" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("buildIndex" as const), coll: fc.constant(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("maintain" as const), turns: fc.integer({ min: 1, max: 6 }) }) },
);

const configArb = fc.record({
  dim: fc.integer({ min: 4, max: 8 }),
  metrics: fc.tuple(fc.constantFrom<Metric>("cosine", "l2", "ip"), fc.constantFrom<Metric>("cosine", "l2", "ip")),
  // fsync costs milliseconds per call on real disks; crash images are taken in-process, so every mode
  // leaves the same files and "none" keeps the default suite fast.
  durability: fc.constantFrom("none" as const, "none" as const, "none" as const, "relaxed" as const, "fsync" as const),
  checkpointBytes: fc.constantFrom(16 * 1024, 64 * 1024 * 1024),
});

/** Index internals for a failure message: where the missed record is and how the graph looks. */
function diagnose(c: Collection, id: string): string {
  const store = (c as unknown as { store: { table: { slotOf(id: string): number | undefined }; index: { ann?: { has(s: number): boolean; graph: { entry: number; degrees: Uint16Array; present: Uint8Array; deleted: Uint8Array; presentCount: number; deletedCount: number } }; unindexed: Set<number> } } }).store;
  const slot = store.table.slotOf(id)!;
  const ann = store.index.ann;
  if (ann === undefined) return `slot ${slot}, no index`;
  const g = ann.graph;
  return (
    `slot ${slot} inIndex=${ann.has(slot)} unindexed=${store.index.unindexed.has(slot)} degree=${g.degrees[slot]}; ` +
    `entry ${g.entry} (degree ${g.degrees[g.entry]}, deleted ${g.deleted[g.entry]}), present ${g.presentCount}, deleted ${g.deletedCount}, status ${JSON.stringify(c.indexStatus())}`
  );
}

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

type Config = { dim: number; metrics: [Metric, Metric]; durability: "fsync" | "relaxed" | "none"; checkpointBytes: number };

class Harness {
  db!: OmenDB;
  colls: Collection[] = [];
  readonly models: ModelCollection[] = [new Map(), new Map()];
  dir: string;
  /** Totals over the whole test, for the report. */
  static stats = { runs: 0, ops: 0, writesChecked: 0, reopens: 0, crashes: 0, indexedSearches: 0, top1Checks: 0, top1Misses: 0 };

  /** Every folder this run used (the first and each crash image), removed when the run ends. */
  readonly dirs: string[] = [];

  constructor(readonly config: Config) {
    this.dir = tempDir();
    this.dirs.push(this.dir);
  }

  async open(): Promise<void> {
    this.db = await OmenDB.open(this.dir, { durability: this.config.durability, checkpointBytes: this.config.checkpointBytes });
    if (this.db.listCollections().length === 0) {
      await this.db.createCollection("exact", { dimension: this.config.dim, metric: this.config.metrics[0] });
      await this.db.createCollection("indexed", { dimension: this.config.dim, metric: this.config.metrics[1], index: { threshold: INDEX_THRESHOLD } });
    }
    this.colls = [this.db.getCollection("exact"), this.db.getCollection("indexed")];
  }

  record(r: GenRecord): { input: { id: string; vector: Float32Array; document?: string | null; metadata?: Record<string, number | string> }; model: ModelRecord } {
    const metadata: Record<string, number | string> = {};
    if (r.g !== null) metadata["g"] = r.g;
    if (r.tag !== null) metadata["tag"] = r.tag;
    const vector = vectorOf(r.vseed, this.config.dim);
    const input = { id: `id${r.id}`, vector, document: r.doc, metadata: r.g === null && r.tag === null ? undefined : metadata };
    return { input, model: { id: input.id, vector, document: r.doc, metadata } };
  }

  async run(op: Op): Promise<void> {
    Harness.stats.ops++;
    switch (op.kind) {
      case "upsert":
      case "add": {
        const c = this.colls[op.coll]!;
        const model = this.models[op.coll]!;
        const built = op.records.map((r) => this.record(r));
        if (op.kind === "add" && built.some((b) => model.has(b.model.id))) {
          const err = (await c.add(built.map((b) => b.input)).catch((e: unknown) => e)) as OmenDBError;
          expect(err?.name).toBe("AlreadyExistsError");
          expect(err.code).toBe("ID_EXISTS");
          return;
        }
        await (op.kind === "add" ? c.add(built.map((b) => b.input)) : c.upsert(built.map((b) => b.input)));
        for (const b of built) model.set(b.model.id, b.model);
        Harness.stats.writesChecked += built.length;
        return;
      }
      case "bulk": {
        const records: GenRecord[] = [];
        for (let i = 0; i < op.count; i++) {
          records.push({ id: (op.from + i) % ID_UNIVERSE, vseed: op.vseed + i, g: i % 5 === 4 ? null : i % 4, tag: ["x", "y", null][i % 3]!, doc: `bulk ${i}` });
        }
        const unique = [...new Map(records.map((r) => [r.id, r])).values()];
        return this.run({ kind: "upsert", coll: op.coll, records: unique });
      }
      case "deleteIds": {
        const model = this.models[op.coll]!;
        const ids = op.ids.map((i) => `id${i}`);
        const expected = new Set(ids.filter((id) => model.has(id))).size;
        expect(await this.colls[op.coll]!.delete(ids)).toBe(expected);
        for (const id of ids) model.delete(id);
        Harness.stats.writesChecked += expected;
        return;
      }
      case "deleteFilter": {
        const model = this.models[op.coll]!;
        const doomed = [...model.values()].filter((r) => matches(op.filter, r.metadata)).map((r) => r.id);
        expect(await this.colls[op.coll]!.delete({ filter: toWhere(op.filter) })).toBe(doomed.length);
        for (const id of doomed) model.delete(id);
        Harness.stats.writesChecked += doomed.length;
        return;
      }
      case "get": {
        const model = this.models[op.coll]!;
        const ids = op.ids.map((i) => `id${i}`);
        const got = await this.colls[op.coll]!.get(ids, { includeVector: op.includeVector });
        const want = ids.filter((id) => model.has(id)).map((id) => model.get(id)!);
        expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
        got.forEach((r, i) => {
          expect(r.document).toBe(want[i]!.document);
          expect(r.metadata).toEqual(want[i]!.metadata);
          if (op.includeVector) expect(Buffer.from(r.vector!.buffer, r.vector!.byteOffset, r.vector!.byteLength).equals(Buffer.from(want[i]!.vector.buffer))).toBe(true);
          else expect(r.vector).toBeUndefined();
        });
        return;
      }
      case "getFilter": {
        const model = this.models[op.coll]!;
        const all = [...model.values()].filter((r) => op.filter === null || matches(op.filter, r.metadata));
        const offset = op.offset ?? 0;
        const want = all.slice(offset, op.limit === null ? undefined : offset + op.limit);
        const options: { filter?: Where; limit?: number; offset?: number } = {};
        if (op.filter !== null) options.filter = toWhere(op.filter);
        if (op.limit !== null) options.limit = op.limit;
        if (op.offset !== null) options.offset = op.offset;
        const got = await this.colls[op.coll]!.get(options);
        expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
        return;
      }
      case "count": {
        const model = this.models[op.coll]!;
        const want = op.filter === null ? model.size : [...model.values()].filter((r) => matches(op.filter!, r.metadata)).length;
        expect(await this.colls[op.coll]!.count(op.filter === null ? undefined : { filter: toWhere(op.filter) })).toBe(want);
        return;
      }
      case "search":
        return this.search(op);
      case "checkpoint":
        await this.db.checkpoint();
        return;
      case "reopen":
        await this.db.close();
        await this.open();
        Harness.stats.reopens++;
        await this.checkAll();
        return;
      case "crash": {
        // The files exactly as a kill -9 would leave them now (a background checkpoint may be mid-way).
        const image = crashImage(this.dir);
        this.dirs.push(image);
        await this.db.close();
        this.dir = image;
        await this.open();
        Harness.stats.crashes++;
        if (!CRASH_REPLAY_KEEPS_INSERTION_ORDER) await this.adoptOrder();
        await this.checkAll();
        return;
      }
      case "buildIndex":
        await this.colls[op.coll]!.buildIndex();
        if (this.models[op.coll]!.size > 0 && this.colls[op.coll]!.indexStatus().mode === "index") {
          expect(this.colls[op.coll]!.indexStatus().pending).toBe(0);
        }
        return;
      case "maintain":
        // Background index work runs once writes have been quiet for 50 ms.
        await new Promise((resolve) => setTimeout(resolve, 60));
        for (let i = 0; i < op.turns; i++) await new Promise((resolve) => setImmediate(resolve));
        return;
    }
  }

  async search(op: Extract<Op, { kind: "search" }>): Promise<void> {
    const model = this.models[op.coll]!;
    const metric = this.config.metrics[op.coll]!;
    const c = this.colls[op.coll]!;
    const live = [...model.values()];
    let query: Float32Array;
    let fromStored = false;
    if ("stored" in op.query && live.length > 0) {
      query = live[op.query.stored % live.length]!.vector;
      fromStored = true;
    } else {
      query = vectorOf("seed" in op.query ? op.query.seed : op.query.stored, this.config.dim);
    }
    const candidates = live.filter((r) => op.filter === null || matches(op.filter, r.metadata));
    const truth = candidates.map((r) => ({ id: r.id, d: distance(metric, query, r.vector) })).sort((a, b) => a.d - b.d);
    const hits = await c.search(query, op.filter === null ? { k: op.k } : { k: op.k, filter: toWhere(op.filter) });
    // Structural properties hold for exact and approximate search alike.
    expect(hits.length).toBe(Math.min(op.k, candidates.length));
    expect(new Set(hits.map((h) => h.id)).size).toBe(hits.length);
    const trueDistance = new Map(truth.map((t) => [t.id, t.d]));
    for (let i = 0; i < hits.length; i++) {
      const h = hits[i]!;
      expect(trueDistance.has(h.id), `hit ${h.id} is not a live record matching the filter`).toBe(true);
      expect(closeTo(h.distance, trueDistance.get(h.id)!), `hit ${h.id}: distance ${h.distance} vs true ${trueDistance.get(h.id)}`).toBe(true);
      if (i > 0) expect(h.distance).toBeGreaterThanOrEqual(hits[i - 1]!.distance);
    }
    const indexed = c.indexStatus().mode === "index";
    if (!indexed) {
      // Exact search: the distances are exactly the model's top-k (ids may differ only on ties).
      hits.forEach((h, i) => expect(closeTo(h.distance, truth[i]!.d), `rank ${i}: ${h.distance} vs ${truth[i]!.d}`).toBe(true));
    } else {
      Harness.stats.indexedSearches++;
      // Approximate search: a stored vector (cosine, l2) must find an exact nearest record first.
      if (fromStored && metric !== "ip" && hits.length > 0 && candidates.some((r) => r.vector === query)) {
        Harness.stats.top1Checks++;
        const ok = closeTo(hits[0]!.distance, truth[0]!.d);
        if (!ok) Harness.stats.top1Misses++;
        // While the known bug stands, only a miss it explains (the record is cut off from the graph's
        // entry point) passes; a reachable record that is missed still fails.
        const explained = !INDEX_FINDS_STORED_VECTOR_FIRST && unreachable(c, truth[0]!.id);
        if (!explained) {
          expect(ok, `top-1 ${hits[0]!.id} at ${hits[0]!.distance}, exact ${truth[0]!.id} at ${truth[0]!.d}; ${diagnose(c, truth[0]!.id)}`).toBe(true);
        }
      }
    }
  }

  /** Reorders the model to the engine's insertion order once both hold the same ids. */
  async adoptOrder(): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const model = this.models[i]!;
      const ids = (await this.colls[i]!.get({})).map((r) => r.id);
      expect([...ids].sort()).toEqual([...model.keys()].sort());
      const reordered = new Map(ids.map((id) => [id, model.get(id)!]));
      model.clear();
      for (const [id, r] of reordered) model.set(id, r);
    }
  }

  /** Every record of the model is stored exactly, and nothing else is. */
  async checkAll(): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const model = this.models[i]!;
      const c = this.colls[i]!;
      expect(await c.count()).toBe(model.size);
      const got = await c.get({ includeVector: true });
      expect(got.map((r) => r.id)).toEqual([...model.keys()]);
      for (const r of got) {
        const want = model.get(r.id)!;
        expect(r.document).toBe(want.document);
        expect(r.metadata).toEqual(want.metadata);
        expect(Buffer.from(r.vector!.buffer, r.vector!.byteOffset, r.vector!.byteLength).equals(Buffer.from(want.vector.buffer))).toBe(true);
      }
    }
  }
}

describe("collection operations against an in-memory model", () => {
  it(`agrees with the model over ${RUNS} random operation sequences (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { minLength: 10, maxLength: 80, size: "max" }), async (config, ops) => {
        const h = new Harness(config as Config);
        await h.open();
        Harness.stats.runs++;
        try {
          for (const op of ops) {
            await h.run(op);
            for (let i = 0; i < 2; i++) expect(await h.colls[i]!.count()).toBe(h.models[i]!.size);
          }
          await h.db.close();
          await h.open();
          await h.checkAll();
        } finally {
          await h.db.close();
          for (const dir of h.dirs) fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env["OMENDB_PROPERTY_SHRINK"] !== "1" },
    );
    console.log(`model.property: ${JSON.stringify(Harness.stats)}`);
  }, Math.max(600_000, RUNS * 2_000));
});
