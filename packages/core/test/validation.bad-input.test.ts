import { describe, expect, it } from "vitest";
import { OmenDB, ValidationError } from "../src/index.js";
import { tempDir } from "./helpers.js";

const good = (id: string) => ({ id, vector: [0.1, 0.2, 0.3], document: "ok", metadata: { a: 1 } });

/** Each case is one bad record in a batch with a good one; the whole batch must be rejected. */
const cases: { name: string; record: unknown; code: string }[] = [
  { name: "wrong dimension", record: { id: "x", vector: [1, 2] }, code: "DIMENSION_MISMATCH" },
  { name: "NaN in vector", record: { id: "x", vector: [1, Number.NaN, 2] }, code: "INVALID_VECTOR" },
  { name: "Infinity in vector", record: { id: "x", vector: new Float32Array([1, Number.POSITIVE_INFINITY, 2]) }, code: "INVALID_VECTOR" },
  { name: "value beyond float32 range", record: { id: "x", vector: [1, 1e300, 2] }, code: "INVALID_VECTOR" },
  { name: "string in vector", record: { id: "x", vector: [1, "2", 3] }, code: "INVALID_VECTOR" },
  { name: "missing vector", record: { id: "x" }, code: "INVALID_VECTOR" },
  { name: "empty id", record: { id: "", vector: [1, 2, 3] }, code: "INVALID_ID" },
  { name: "numeric id", record: { id: 7, vector: [1, 2, 3] }, code: "INVALID_ID" },
  { name: "overlong id", record: { id: "x".repeat(600), vector: [1, 2, 3] }, code: "INVALID_ID" },
  { name: "duplicate id in batch", record: good("g"), code: "INVALID_ID" },
  { name: "metadata not an object", record: { id: "x", vector: [1, 2, 3], metadata: [1] }, code: "INVALID_METADATA" },
  { name: "metadata with a Date", record: { id: "x", vector: [1, 2, 3], metadata: { when: new Date() } }, code: "INVALID_METADATA" },
  { name: "metadata with a function", record: { id: "x", vector: [1, 2, 3], metadata: { f: () => 1 } }, code: "INVALID_METADATA" },
  { name: "metadata with NaN", record: { id: "x", vector: [1, 2, 3], metadata: { n: Number.NaN } }, code: "INVALID_METADATA" },
  { name: "metadata with $ key", record: { id: "x", vector: [1, 2, 3], metadata: { $eq: 1 } }, code: "INVALID_METADATA" },
  { name: "metadata array of objects", record: { id: "x", vector: [1, 2, 3], metadata: { a: [{ b: 1 }] } }, code: "INVALID_METADATA" },
  { name: "metadata nested too deep", record: { id: "x", vector: [1, 2, 3], metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }, code: "INVALID_METADATA" },
  { name: "metadata with bigint", record: { id: "x", vector: [1, 2, 3], metadata: { n: 1n } }, code: "INVALID_METADATA" },
  { name: "document not a string", record: { id: "x", vector: [1, 2, 3], document: 5 }, code: "INVALID_DOCUMENT" },
  { name: "oversized document", record: { id: "x", vector: [1, 2, 3], document: "é".repeat(4.5 * 1024 * 1024) }, code: "INVALID_DOCUMENT" },
  { name: "lone surrogate in the id", record: { id: "x\ud800", vector: [1, 2, 3] }, code: "INVALID_ID" },
  { name: "lone low surrogate in the document", record: { id: "x", vector: [1, 2, 3], document: "a\udc00b" }, code: "INVALID_DOCUMENT" },
];

describe("bad input gets a clear error and loses nothing", () => {
  for (const c of cases) {
    it(`rejects a batch with ${c.name}`, async () => {
      const db = await OmenDB.open(tempDir(), { durability: "none" });
      const col = await db.createCollection("c", { dimension: 3 });
      await col.upsert([good("before")]);
      const err = await col.upsert([good("g"), c.record as never]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe(c.code);
      expect(await col.count()).toBe(1);
      expect(await col.get(["g", "x"])).toEqual([]);
      await db.close();
    });
  }

  it("refuses text SQLite would change (lone surrogates), so the folder still opens; paired surrogates round-trip", async () => {
    // Regression: such an id used to be stored as U+FFFD, its row checksum then failed and every
    // later open of the folder was a CorruptionError.
    const dir = tempDir();
    const db = await OmenDB.open(dir);
    const col = await db.createCollection("c", { dimension: 3 });
    await expect(col.upsert([{ id: "\ud83dx", vector: [1, 2, 3] }])).rejects.toMatchObject({ code: "INVALID_ID" });
    await expect(col.upsert([{ id: "ok", vector: [1, 2, 3], document: "\udfff" }])).rejects.toMatchObject({ code: "INVALID_DOCUMENT" });
    await expect(db.createCollection("bad\ud800")).rejects.toMatchObject({ code: "INVALID_NAME" });
    await col.upsert([{ id: "emoji \ud83d\ude00", vector: [1, 2, 3], document: "smile \ud83d\ude00" }]);
    await db.close();
    const again = await OmenDB.open(dir);
    const [record] = await again.getCollection("c").get(["emoji \ud83d\ude00"]);
    expect(record).toMatchObject({ id: "emoji \ud83d\ude00", document: "smile \ud83d\ude00" });
    await again.close();
  });

  it("rejects invalid filters and options on reads", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    const col = await db.createCollection("c", { dimension: 3 });
    await expect(col.search([1, 2, 3], { filter: { a: { $bogus: 1 } } as never })).rejects.toMatchObject({ code: "INVALID_FILTER" });
    await expect(col.search([1, 2, 3], { k: -1 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(col.search([1, 2, 3], { k: 1.5 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(col.search([1, 2], {})).rejects.toMatchObject({ code: "DIMENSION_MISMATCH" });
    await expect(col.get({ limit: -3 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(col.delete({ filter: { $or: [] } })).rejects.toMatchObject({ code: "INVALID_FILTER" });
    await expect(col.get([""])).rejects.toMatchObject({ code: "INVALID_ID" });
    await db.close();
  });

  it("rejects bad collection names and options", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    await expect(db.createCollection("")).rejects.toMatchObject({ code: "INVALID_NAME" });
    await expect(db.createCollection("a\u0000b")).rejects.toMatchObject({ code: "INVALID_NAME" });
    await expect(db.createCollection("a", { dimension: 0 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(db.createCollection("a", { metric: "hamming" as never })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    expect(db.listCollections()).toEqual([]);
    await db.close();
  });
});
