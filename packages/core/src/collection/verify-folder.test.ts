import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CorruptionError, LockedError, OmenDB } from "../index.js";
import { crashImage, randomVectors, tempDir } from "../../test/helpers.js";
import { verifyFolder } from "./verify-folder.js";

const DIM = 8;
const N = 150;
const vectors = randomVectors(N + 20, DIM, 31);

let fixture: string;

/** A closed folder: 150 records (10 deleted), the index built and persisted. Kept for the whole file. */
async function build(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-verify-fixture-"));
  const db = await OmenDB.open(dir);
  const c = await db.createCollection("c", { dimension: DIM, metric: "l2", index: { threshold: 50 } });
  for (let b = 0; b < N / 10; b++) {
    await c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: `r${b * 10 + i}`, vector: vectors[b * 10 + i]!, document: `doc ${b * 10 + i}`, metadata: { n: b * 10 + i } })));
  }
  await c.delete(Array.from({ length: 10 }, (_, i) => `r${140 + i}`));
  await c.buildIndex();
  await db.close();
  return dir;
}

function copy(dir: string): string {
  const to = tempDir();
  fs.cpSync(dir, to, { recursive: true });
  return to;
}

function only(dir: string, suffix: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(suffix));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]!);
}

function flipBit(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  bytes[offset]! ^= 0x10;
  fs.writeFileSync(file, bytes);
}

/** Hash of every file the engine owns (SQLite's side files and the LOCK excluded). */
function digest(dir: string): string {
  const hash = crypto.createHash("sha256");
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (!/-(wal|shm)$/.test(name) && name !== "LOCK") hash.update(p.slice(dir.length)).update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest("hex");
}

/** Every live record reads back with its vector, and finds itself by its own vector. */
async function expectAllRecords(dir: string): Promise<OmenDB> {
  const db = await OmenDB.open(dir);
  const c = db.getCollection("c");
  const ids = Array.from({ length: 140 }, (_, i) => `r${i}`);
  const got = await c.get(ids, { includeVector: true });
  expect(got.map((r) => r.id)).toEqual(ids);
  for (const r of got) {
    const n = Number(r.id.slice(1));
    expect(Buffer.from(r.vector!.buffer, r.vector!.byteOffset, r.vector!.byteLength)).toEqual(Buffer.from(vectors[n]!.buffer));
    expect(r.document).toBe(`doc ${n}`);
  }
  expect(await c.count()).toBe(140);
  return db;
}

beforeAll(async () => {
  fixture = await build();
});
afterAll(() => {
  fs.rmSync(fixture, { recursive: true, force: true });
});

describe("verifyFolder", () => {
  it("reports a clean folder as ok and changes nothing", async () => {
    const dir = copy(fixture);
    const before = digest(dir);
    const report = await verifyFolder(dir);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.collections).toHaveLength(1);
    expect(report.collections[0]).toMatchObject({ name: "c", dimension: DIM, metric: "l2", records: 140, vectorsChecked: 140, index: "ok" });
    expect(digest(dir)).toBe(before);
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
    await (await expectAllRecords(dir)).close();
  });

  it("reports a flipped bit in the index file; repair moves it aside and the next open rebuilds the index", async () => {
    const dir = copy(fixture);
    const ann = only(path.join(dir, "vectors"), ".ann");
    flipBit(ann, fs.statSync(ann).size - 3);
    await expect(OmenDB.open(dir)).rejects.toBeInstanceOf(CorruptionError);

    const found = await verifyFolder(dir);
    expect(found.ok).toBe(false);
    expect(found.problems).toHaveLength(1);
    expect(found.problems[0]).toMatchObject({ file: ann, code: "INDEX_DAMAGED", data: "derived", collection: "c" });
    expect(found.problems[0]!.repaired).toBeUndefined();
    expect(fs.existsSync(ann)).toBe(true);

    const damagedBytes = fs.readFileSync(ann);
    const repaired = await verifyFolder(dir, { repair: true });
    expect(repaired.ok).toBe(true);
    expect(repaired.collections[0]!.index).toBe("moved-aside");
    expect(repaired.problems[0]!.repaired).toMatch(/moved aside/);
    expect(fs.existsSync(ann)).toBe(false);
    const aside = fs.readdirSync(path.join(dir, "vectors")).filter((f) => f.includes(".ann.damaged-"));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "vectors", aside[0]!))).toEqual(damagedBytes);

    const db = await expectAllRecords(dir);
    const c = db.getCollection("c");
    await c.buildIndex();
    expect(c.indexStatus()).toMatchObject({ mode: "index", indexed: 140, pending: 0 });
    for (let n = 0; n < 140; n++) {
      const [hit] = await c.search(vectors[n]!, { k: 1 });
      expect(hit!.id).toBe(`r${n}`);
    }
    await db.close();
    const after = await verifyFolder(dir);
    expect(after.ok).toBe(true);
    expect(after.collections[0]!.index).toBe("ok");
    expect(after.notes.some((n) => n.includes(".ann.damaged-"))).toBe(true);
  });

  it("reports a damaged live vector slot with file and offset, and repair leaves primary data as found", async () => {
    const dir = copy(fixture);
    const vec = only(path.join(dir, "vectors"), ".vec");
    const stride = DIM * 4 + 8;
    const slotOffset = 64 + 3 * stride; // r3: slots are allocated in insertion order
    flipBit(vec, slotOffset + 5);
    const bytes = fs.readFileSync(vec);

    for (const repair of [false, true]) {
      const report = await verifyFolder(dir, { repair });
      expect(report.ok).toBe(false);
      expect(report.problems).toHaveLength(1);
      const [p] = report.problems;
      expect(p).toMatchObject({ file: vec, code: "VECTOR_SLOT", offset: slotOffset, data: "primary", collection: "c" });
      expect(p!.message).toContain('"r3"');
      expect(p!.repaired).toBeUndefined();
      expect(report.collections[0]!.vectorsChecked).toBe(139);
      if (repair) expect(report.collections[0]!.repairs.join(" ")).toMatch(/primary data/);
      expect(fs.readFileSync(vec)).toEqual(bytes);
    }
    // Opening reads no vector; returning the damaged one is the error.
    const db = await OmenDB.open(dir);
    await expect(db.getCollection("c").get(["r3"], { includeVector: true })).rejects.toMatchObject({ code: "CORRUPTION", file: vec });
    await db.close();
  });

  it("lists every damaged slot and a vector file cut short", async () => {
    const dir = copy(fixture);
    const vec = only(path.join(dir, "vectors"), ".vec");
    const stride = DIM * 4 + 8;
    for (const slot of [0, 7, 8, 60]) flipBit(vec, 64 + slot * stride + 1);
    fs.truncateSync(vec, 64 + 130 * stride + 4); // r130..r139 beyond the end
    const report = await verifyFolder(dir);
    const slots = report.problems.filter((p) => p.code === "VECTOR_SLOT");
    expect(slots.map((p) => p.offset)).toEqual([64 + 130 * stride, 64, 64 + 7 * stride, 64 + 8 * stride, 64 + 60 * stride]);
    expect(report.collections[0]!.vectorsChecked).toBe(140 - 10 - 4);
  });

  it("does not count damage in a slot the WAL rewrites on the next open", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: DIM });
    await c.upsert(Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, vector: vectors[i]! })));
    await db.checkpoint();
    await c.upsert([{ id: "r2", vector: vectors[100]! }]);
    const image = crashImage(dir);
    await db.close();
    flipBit(only(path.join(image, "vectors"), ".vec"), 64 + 2 * (DIM * 4 + 8) + 1);
    const report = await verifyFolder(image);
    expect(report.problems).toEqual([]);
    expect(report.collections[0]).toMatchObject({ records: 20, vectorsChecked: 19, rewrittenByWal: 1 });
    expect(report.wal.recordsToReplay).toBe(1);
    const reopened = await OmenDB.open(image);
    expect((await reopened.getCollection("c").get(["r2"], { includeVector: true }))[0]!.vector).toEqual(vectors[100]);
    await reopened.close();
  });

  it("reports WAL damage before the tail as primary, and a torn tail as a note without cutting it", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: DIM });
    await db.checkpoint();
    for (let b = 0; b < 4; b++) await c.upsert([{ id: `w${b}`, vector: vectors[b]! }]);
    const image = crashImage(dir);
    await db.close();
    const segment = only(path.join(image, "wal"), ".wal");

    const torn = copy(image);
    const tornSegment = path.join(torn, "wal", path.basename(segment));
    fs.appendFileSync(tornSegment, Buffer.from([9, 0, 0, 0, 1, 2]));
    const tornBytes = fs.readFileSync(tornSegment);
    const tornReport = await verifyFolder(torn);
    expect(tornReport.ok).toBe(true);
    expect(tornReport.wal.tornTailBytes).toBe(6);
    expect(tornReport.notes.some((n) => n.includes("torn tail"))).toBe(true);
    expect(fs.readFileSync(tornSegment)).toEqual(tornBytes);

    flipBit(segment, 32 + 20); // inside the first record's payload
    const report = await verifyFolder(image, { repair: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ file: segment, code: "WAL_CORRUPT", offset: 32, data: "primary" });
    expect(report.problems[0]!.repaired).toBeUndefined();
  });

  it("reports SQLite row damage: a document and a row failing their checksums, a lost row", async () => {
    const dir = copy(fixture);
    const file = path.join(dir, "omendb.sqlite");
    const raw = new Database(file);
    raw.prepare("UPDATE records SET document = 'doc X' WHERE id = 'r5'").run();
    raw.prepare("UPDATE records SET metadata = '{\"n\":99}' WHERE id = 'r6'").run();
    const seq5 = (raw.prepare("SELECT seq FROM records WHERE id = 'r5'").get() as { seq: number }).seq;
    raw.close();
    let report = await verifyFolder(dir);
    expect(report.problems.map((p) => [p.code, p.data, p.file])).toEqual([
      ["DOCUMENT_CHECKSUM", "primary", file],
      ["RECORD_CHECKSUM", "primary", file],
    ]);
    expect(report.problems[0]!.offset).toBe(seq5);

    const again = new Database(file);
    again.prepare("DELETE FROM records WHERE id = 'r9'").run();
    again.close();
    report = await verifyFolder(dir, { repair: true });
    expect(report.problems.map((p) => p.code)).toContain("RECORD_COUNT");
    expect(report.ok).toBe(false);
  });

  it("throws LockedError while the folder is open", async () => {
    const dir = copy(fixture);
    const db = await OmenDB.open(dir);
    await expect(verifyFolder(dir)).rejects.toBeInstanceOf(LockedError);
    await expect(verifyFolder(dir, { repair: true })).rejects.toMatchObject({ code: "LOCKED" });
    await db.close();
    expect((await verifyFolder(dir)).ok).toBe(true);
  });

  it("refuses a path that is not a folder", async () => {
    await expect(verifyFolder(path.join(tempDir(), "missing"))).rejects.toMatchObject({ code: "IO" });
  });
});
