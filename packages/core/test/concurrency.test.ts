/**
 * Concurrency in one process (many async writers and readers sharing a database) and across
 * processes (the folder lock).
 *
 * - Batch atomicity: writers tag every record of a batch with the batch's tag; readers running
 *   between every await check that any read (get by filter, get by ids, count, filtered search)
 *   sees all of a batch or none of it, and that a re-upserted batch is seen wholly old or wholly
 *   new, while checkpoints, background index maintenance and `buildIndex` run alongside.
 * - `add` races: concurrent adds of one id, overlapping batches, add racing upsert and delete.
 * - `deleteCollection` and `close()` with writes in flight: every write either resolves and is
 *   durable after reopen, or rejects with ClosedError and left nothing behind.
 * - A second process opening the folder gets LockedError (code LOCKED) naming the holder's pid;
 *   after the holder closes, it opens.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ClosedError, type Collection, OmenDB, type OmenDBError, type StoredRecord } from "../src/index.js";
import { mulberry32 } from "../src/internal/seeded-random.js";
import { randomVectors, tempDir } from "./helpers.js";

const DIM = 8;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Marks a promise whose rejection is inspected later as handled now. */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function vectorFor(seed: number): Float32Array {
  return randomVectors(1, DIM, seed)[0]!;
}

const sameBytes = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("batch atomicity under concurrent writers and readers", () => {
  // With worker threads, unfiltered searches run on them while the writers, checkpoints and builds
  // run on the opening thread behind the read/write gate.
  for (const threads of [0, 2]) it(`no read ever sees part of a batch, through checkpoints and index maintenance (threads: ${threads})`, async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir, { durability: "relaxed", checkpointBytes: 64 * 1024, threads });
    const c = await db.createCollection("c", { dimension: DIM, index: { threshold: 150 } });
    const WRITERS = 8;
    const BATCHES = 30;
    /** Batch tag → its ids and size, for every batch written so far (possibly later replaced/deleted). */
    const batches = new Map<string, { ids: string[]; group: string }>();
    /** Group (a set of ids written together) → the tags it has carried, in order. */
    const groups = new Map<string, string[]>();
    let writersLeft = WRITERS;
    const stats = { reads: 0, batchesWritten: 0, checkpoints: 0, builds: 0 };

    const writer = async (w: number) => {
      const rand = mulberry32(1000 + w);
      const mine: string[] = [];
      for (let b = 0; b < BATCHES; b++) {
        const roll = rand();
        if (roll < 0.2 && mine.length > 0) {
          // Replace a whole earlier group with a new tag and new vectors, in one upsert.
          const group = mine[Math.floor(rand() * mine.length)]!;
          const tags = groups.get(group)!;
          const ids = batches.get(tags[0]!)!.ids;
          const tag = `${group}/r${tags.length}`;
          batches.set(tag, { ids, group });
          tags.push(tag);
          await c.upsert(ids.map((id, i) => ({ id, vector: vectorFor(w * 1e6 + b * 100 + i), metadata: { tag, group, size: ids.length } })));
        } else if (roll < 0.3 && mine.length > 0) {
          // Delete a whole group in one call.
          const group = mine.splice(Math.floor(rand() * mine.length), 1)[0]!;
          const ids = batches.get(groups.get(group)![0]!)!.ids;
          groups.get(group)!.push(`${group}/deleted`);
          await c.delete(ids);
        } else {
          const size = 1 + Math.floor(rand() * 12);
          const group = `w${w}b${b}`;
          const ids = Array.from({ length: size }, (_, i) => `${group}-${i}`);
          const tag = `${group}/r0`;
          batches.set(tag, { ids, group });
          groups.set(group, [tag]);
          mine.push(group);
          await c.upsert(ids.map((id, i) => ({ id, vector: vectorFor(w * 1e6 + b * 100 + i), metadata: { tag, group, size } })));
        }
        stats.batchesWritten++;
        if (rand() < 0.1) {
          await db.checkpoint();
          stats.checkpoints++;
        }
        if (rand() < 0.05) {
          await c.buildIndex();
          stats.builds++;
        }
      }
      writersLeft--;
    };

    /** All of a group's ids carry one tag, or none is present. */
    const checkGroup = (group: string, got: StoredRecord[]) => {
      const ids = batches.get(groups.get(group)![0]!)!.ids;
      if (got.length === 0) return;
      expect(got.length, `group ${group}: ${got.length} of ${ids.length} records visible`).toBe(ids.length);
      const tags = new Set(got.map((r) => r.metadata["tag"]));
      expect(tags.size, `group ${group} mixes tags ${[...tags].join(", ")}`).toBe(1);
    };

    const reader = async (r: number) => {
      const rand = mulberry32(2000 + r);
      while (writersLeft > 0) {
        const tags = [...batches.keys()];
        if (tags.length > 0) {
          const tag = tags[Math.floor(rand() * tags.length)]!;
          const { ids, group } = batches.get(tag)!;
          switch (Math.floor(rand() * 5)) {
            case 0: {
              const n = (await c.get({ filter: { tag } })).length;
              expect([0, ids.length], `tag ${tag}: ${n} of ${ids.length} records`).toContain(n);
              break;
            }
            case 1:
              checkGroup(group, await c.get(ids));
              break;
            case 2: {
              const n = await c.count({ filter: { tag } });
              expect([0, ids.length], `count of ${tag}: ${n} of ${ids.length}`).toContain(n);
              break;
            }
            case 3: {
              const hits = await c.search(vectorFor(rand() * 1e9), { k: 20, filter: { group } });
              checkGroup(group, hits);
              break;
            }
            case 4: {
              // Unfiltered: k distinct records, each carrying a tag its group has had.
              const hits = await c.search(vectorFor(rand() * 1e9), { k: 10 });
              expect(new Set(hits.map((h) => h.id)).size).toBe(hits.length);
              for (const h of hits) {
                const tag = h.metadata["tag"] as string;
                expect(batches.get(tag)?.ids, `hit ${h.id} carries tag ${tag}`).toContain(h.id);
              }
              break;
            }
          }
          stats.reads++;
        }
        await tick();
      }
    };

    await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), ...Array.from({ length: 4 }, (_, r) => reader(r))]);
    expect(stats.reads).toBeGreaterThan(100);
    expect(c.indexStatus().mode).toBe("index");

    // What the writers left is exactly what a reopen finds.
    const expected = new Map<string, string>();
    for (const [, tags] of groups) {
      const last = tags.at(-1)!;
      if (last.endsWith("/deleted")) continue;
      for (const id of batches.get(last)!.ids) expected.set(id, last);
    }
    await db.close();
    const again = await OmenDB.open(dir);
    const all = await again.getCollection("c").get({});
    expect(new Map(all.map((r) => [r.id, r.metadata["tag"] as string]))).toEqual(expected);
    await again.close();
    console.log(`concurrency.batches: ${JSON.stringify({ ...stats, threads, records: expected.size })}`);
  });
});

describe("add races", () => {
  it("of one id: exactly one add wins and its vector is stored", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "fsync" });
    const c = await db.createCollection("c", { dimension: DIM });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.add([{ id: "x", vector: vectorFor(i) }])));
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as OmenDBError).code).toBe("ID_EXISTS");
    }
    const [x] = await c.get(["x"], { includeVector: true });
    expect(sameBytes(x!.vector!, vectorFor(won[0]!))).toBe(true);
    await db.close();
  });

  it("of overlapping batches: each batch is written whole or not at all", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "fsync" });
    const c = await db.createCollection("c", { dimension: DIM });
    const rand = mulberry32(77);
    const calls = Array.from({ length: 40 }, (_, b) => {
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => `id${Math.floor(rand() * 30)}`))];
      return { b, ids };
    });
    const results = await Promise.allSettled(calls.map(({ b, ids }) => c.add(ids.map((id, i) => ({ id, vector: vectorFor(b * 10 + i), metadata: { b } })))));
    const owner = new Map<string, number>();
    results.forEach((r, b) => {
      if (r.status === "rejected") {
        expect((r.reason as OmenDBError).code).toBe("ID_EXISTS");
        return;
      }
      for (const id of calls[b]!.ids) {
        expect(owner.has(id), `${id} added twice`).toBe(false);
        owner.set(id, b);
      }
    });
    const stored = await c.get({});
    expect(stored).toHaveLength(owner.size);
    for (const r of stored) expect(r.metadata["b"]).toBe(owner.get(r.id));
    // Every rejected batch had at least one id another batch owns.
    results.forEach((r, b) => {
      if (r.status === "rejected") expect(calls[b]!.ids.some((id) => owner.has(id) && owner.get(id) !== b)).toBe(true);
    });
    await db.close();
  });

  it("with an upsert or delete of the same id in flight: add decides after it lands", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "fsync" });
    const c = await db.createCollection("c", { dimension: DIM });
    await c.upsert([{ id: "gone", vector: vectorFor(1) }]);
    const del = c.delete(["gone"]);
    const addAfterDelete = c.add([{ id: "gone", vector: vectorFor(2) }]);
    const up = c.upsert([{ id: "fresh", vector: vectorFor(3) }]);
    const addAfterUpsert = later(c.add([{ id: "fresh", vector: vectorFor(4) }]));
    expect(await del).toBe(1);
    await expect(addAfterDelete).resolves.toBeUndefined();
    await up;
    await expect(addAfterUpsert).rejects.toMatchObject({ code: "ID_EXISTS" });
    const got = await c.get(["gone", "fresh"], { includeVector: true });
    expect(sameBytes(got[0]!.vector!, vectorFor(2))).toBe(true);
    expect(sameBytes(got[1]!.vector!, vectorFor(3))).toBe(true);
    await db.close();
  });
});

describe("lifecycle calls with writes in flight", () => {
  it("deleteCollection lets in-flight writes land, then removes everything; other collections keep theirs", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir, { durability: "fsync" });
    const doomed = await db.createCollection("doomed", { dimension: DIM, index: { threshold: 20 } });
    const keep = await db.createCollection("keep", { dimension: DIM });
    const inflight = Array.from({ length: 50 }, (_, i) => later(doomed.upsert([{ id: `d${i}`, vector: vectorFor(i) }])));
    const kept = Array.from({ length: 50 }, (_, i) => keep.upsert([{ id: `k${i}`, vector: vectorFor(100 + i) }]));
    const deletion = db.deleteCollection("doomed");
    const late = later(doomed.upsert([{ id: "late", vector: vectorFor(999) }]));
    await deletion;
    const settled = await Promise.allSettled(inflight);
    // Submitted before the delete: each one resolved (and was then deleted with the collection).
    expect(settled.every((s) => s.status === "fulfilled")).toBe(true);
    await expect(late).rejects.toBeInstanceOf(ClosedError);
    await Promise.all(kept);
    expect(db.hasCollection("doomed")).toBe(false);
    await expect(doomed.count()).rejects.toBeInstanceOf(ClosedError);
    // A new collection of the same name starts empty, also after a crash-free reopen replays the WAL.
    const reborn = await db.createCollection("doomed", { dimension: DIM });
    expect(await reborn.count()).toBe(0);
    await db.close();
    const again = await OmenDB.open(dir);
    expect(await again.getCollection("doomed").count()).toBe(0);
    expect(await again.getCollection("keep").count()).toBe(50);
    await again.close();
  });

  it("close() with writes in flight: every write resolves and survives, or rejects with ClosedError and left nothing", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir, { durability: "fsync" });
    const colls = [await db.createCollection("a", { dimension: DIM }), await db.createCollection("b", { dimension: DIM, index: { threshold: 30 } })];
    const rand = mulberry32(5);
    const writes: { id: string; coll: number; promise: Promise<unknown> }[] = [];
    const issue = (n: number) => {
      for (let i = 0; i < n; i++) {
        const coll = Math.floor(rand() * 2);
        const id = `r${writes.length}`;
        writes.push({ id, coll, promise: later(colls[coll]!.upsert([{ id, vector: vectorFor(writes.length) }])) });
      }
    };
    issue(150);
    // Some writes join while the first group commit is in flight.
    await tick();
    issue(50);
    const closing = db.close();
    issue(20); // after close(): must be refused
    await closing;
    const settled = await Promise.allSettled(writes.map((w) => w.promise));
    let resolved = 0;
    let refused = 0;
    settled.forEach((s) => {
      if (s.status === "fulfilled") resolved++;
      else {
        expect(s.reason).toBeInstanceOf(ClosedError);
        refused++;
      }
    });
    expect(resolved).toBe(200);
    expect(refused).toBe(20);
    const again = await OmenDB.open(dir);
    const present = [
      new Set((await again.getCollection("a").get({})).map((r) => r.id)),
      new Set((await again.getCollection("b").get({})).map((r) => r.id)),
    ];
    settled.forEach((s, i) => {
      const w = writes[i]!;
      expect(present[w.coll]!.has(w.id), `${w.id}: ${s.status}`).toBe(s.status === "fulfilled");
    });
    await again.close();
  });
});

const probe = fileURLToPath(new URL("./fixtures/lock-probe.mjs", import.meta.url));

/** Runs the lock probe on `dir` in a new process and returns what it printed. */
function runProbe(dir: string): Promise<{ opened?: boolean; name?: string; code?: string; holderPid?: number; lockFile?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probe, dir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`lock probe exited with ${code}: ${err}`));
      resolve(JSON.parse(out) as never);
    });
  });
}

describe("a second writer process", () => {
  it("gets LockedError naming the holder's pid, and opens once the holder closes", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const c: Collection = await db.createCollection("c", { dimension: DIM });
    await c.upsert([{ id: "a", vector: vectorFor(1) }]);
    const refused = await runProbe(dir);
    expect(refused).toMatchObject({ name: "LockedError", code: "LOCKED", holderPid: process.pid });
    expect(refused.lockFile).toContain(dir);
    // The refused open changed nothing: the holder keeps writing.
    await c.upsert([{ id: "b", vector: vectorFor(2) }]);
    await db.close();
    expect(await runProbe(dir)).toEqual({ opened: true, collections: ["c"], count: 2 });
  });
});
