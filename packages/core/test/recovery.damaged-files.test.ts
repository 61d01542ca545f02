import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptionError, OmenDB } from "../src/index.js";
import { crashImage as copyImage, randomVectors, tempDir } from "./helpers.js";

const DIM = 8;

/**
 * Writes `batches` acknowledged batches of 5 records and returns a copy of the folder taken while
 * the database was still open: the exact image a crash at that moment leaves on disk.
 */
async function imageAfterBatches(batches: number): Promise<string> {
  const dir = tempDir();
  const db = await OmenDB.open(dir, { durability: "fsync" });
  const c = await db.createCollection("c", { dimension: DIM });
  const vectors = randomVectors(batches * 5, DIM, 11);
  for (let b = 0; b < batches; b++) {
    await c.upsert(vectors.slice(b * 5, b * 5 + 5).map((vector, i) => ({ id: `b${b}-${i}`, vector, metadata: { b } })));
  }
  const image = copyImage(dir);
  await db.close();
  return image;
}

function walSegments(dir: string): string[] {
  return fs
    .readdirSync(path.join(dir, "wal"))
    .filter((f) => f.endsWith(".wal"))
    .sort()
    .map((f) => path.join(dir, "wal", f));
}

describe("recovery from a crash image", () => {
  it("replays every acknowledged batch", async () => {
    const image = await imageAfterBatches(6);
    const db = await OmenDB.open(image);
    expect(await db.getCollection("c").count()).toBe(30);
    await db.close();
  });

  it("keeps insertion order across replay when SQLite already holds later writes", async () => {
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: 2 });
    await c.upsert([{ id: "a", vector: [1, 0] }]);
    await db.checkpoint();
    await c.upsert([{ id: "b", vector: [0, 1] }]);
    await c.delete(["b"]);
    await c.upsert([{ id: "b", vector: [0, 1] }]);
    await c.upsert([{ id: "c", vector: [1, 1] }]);
    const image = copyImage(dir);
    await db.close();
    const again = await OmenDB.open(image);
    expect((await again.getCollection("c").get({})).map((r) => r.id)).toEqual(["a", "b", "c"]);
    await again.close();
  });

  it("truncates a torn WAL tail and keeps every complete record", async () => {
    const image = await imageAfterBatches(6);
    const last = walSegments(image).at(-1)!;
    const intact = fs.readFileSync(last);
    // A crash in the middle of writing the next record: the first half of a record-shaped write.
    const lastRecordStart = intact.length - 300;
    fs.appendFileSync(last, intact.subarray(lastRecordStart, lastRecordStart + 150));
    const db = await OmenDB.open(image);
    const c = db.getCollection("c");
    expect(await c.count()).toBe(30);
    // The log continues cleanly after the truncation point.
    await c.upsert([{ id: "after", vector: randomVectors(1, DIM, 5)[0]! }]);
    await db.close();
    const again = await OmenDB.open(image);
    expect(await again.getCollection("c").count()).toBe(31);
    await again.close();
  });

  it("treats a zero-filled tail after the last record as torn", async () => {
    const image = await imageAfterBatches(6);
    const last = walSegments(image).at(-1)!;
    // A write that extended the file but never filled it leaves zeros after the last record.
    fs.appendFileSync(last, Buffer.alloc(4096));
    const db = await OmenDB.open(image);
    expect(await db.getCollection("c").count()).toBe(30);
    await db.close();
  });

  it("raises CorruptionError for a flipped byte in a WAL record before the tail", async () => {
    const image = await imageAfterBatches(6);
    const segment = walSegments(image).at(-1)!;
    const bytes = fs.readFileSync(segment);
    const at = Math.floor(bytes.length / 2); // inside a middle record, well before the tail
    bytes[at]! ^= 0x40;
    fs.writeFileSync(segment, bytes);
    const err = await OmenDB.open(image).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(segment);
  });

  it("opens without reading vectors; a flipped byte in the vector file is a CorruptionError when that vector is read", async () => {
    const dir = tempDir();
    let db = await OmenDB.open(dir);
    const c = await db.createCollection("c", { dimension: DIM });
    await c.upsert(randomVectors(20, DIM, 3).map((vector, i) => ({ id: `v${i}`, vector })));
    await db.close(); // checkpoint: vectors now live only in the vector file
    const [file] = fs.readdirSync(path.join(dir, "vectors")).map((f) => path.join(dir, "vectors", f));
    const bytes = fs.readFileSync(file!);
    const at = 64 + 7 * (DIM * 4 + 8) + 13; // inside slot 7's vector
    bytes[at]! ^= 0x01;
    fs.writeFileSync(file!, bytes);
    db = await OmenDB.open(dir);
    const reopened = db.getCollection("c");
    expect((await reopened.get(["v6"], { includeVector: true }))[0]!.vector).toBeInstanceOf(Float32Array);
    const err = await reopened.get(["v7"], { includeVector: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(file);
    await db.close();
  });
});
