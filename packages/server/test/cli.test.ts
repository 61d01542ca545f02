/** The `omendb` commands run in-process: import (JSONL, .fvecs), export, stats, help and usage errors. */
import fs from "node:fs";
import path from "node:path";
import { OmenDB } from "@omendb/core";
import { describe, expect, it } from "vitest";
import { ChromaCatalog } from "../src/index.js";
import { f32, randomVectors, runCliCaptured as run, seededRandom, tempDir } from "./helpers.js";

function writeFvecs(file: string, vectors: number[][]): void {
  const parts = vectors.map((v) => {
    const buf = Buffer.alloc(4 + 4 * v.length);
    buf.writeInt32LE(v.length, 0);
    v.forEach((x, i) => buf.writeFloatLE(x, 4 + 4 * i));
    return buf;
  });
  fs.writeFileSync(file, Buffer.concat(parts));
}

describe("omendb CLI", () => {
  it("imports JSONL, reports stats, and exports the same records", async () => {
    const dir = tempDir();
    const data = path.join(dir, "data");
    const vectors = randomVectors(seededRandom(3), 25, 6);
    const lines = vectors.map((v, i) =>
      JSON.stringify(i % 2 === 0 ? { id: `doc-${i}`, vector: v, document: `text ${i}`, metadata: { i } } : { id: `doc-${i}`, embedding: v }),
    );
    const input = path.join(dir, "in.jsonl");
    fs.writeFileSync(input, `${lines.slice(0, 10).join("\n")}\n\n${lines.slice(10).join("\n")}`); // blank line, no final newline

    const imported = await run("import", input, "--path", data, "--collection", "docs", "--batch-size", "7", "--metric", "l2");
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain("100%");
    expect(imported.stderr).toContain("25 records");

    const stats = await run("stats", "--path", data, "--json");
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout);
    expect(parsed.collections).toEqual([expect.objectContaining({ name: "docs", dimension: 6, metric: "l2", records: 25 })]);
    expect(parsed.bytesOnDisk).toBeGreaterThan(0);
    const table = await run("stats", "--path", data);
    expect(table.stdout).toMatch(/docs\s+\S+\s+6\s+l2\s+25/);

    const out = path.join(dir, "out.jsonl");
    const exported = await run("export", "--path", data, "--collection", "docs", "--out", out, "--batch-size", "10");
    expect(exported.code).toBe(0);
    const rows = fs.readFileSync(out, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(vectors.map((_, i) => `doc-${i}`));
    rows.forEach((r, i) => {
      expect(r.vector).toEqual(f32(vectors[i]!));
      expect(r.document).toBe(i % 2 === 0 ? `text ${i}` : null);
      expect(r.metadata).toEqual(i % 2 === 0 ? { i } : {});
    });

    const toStdout = await run("export", "--path", data, "--collection", "docs");
    expect(toStdout.stdout.trimEnd().split("\n")).toHaveLength(25);
  });

  it("imports .fvecs with an id prefix, and re-import replaces by id", async () => {
    const dir = tempDir();
    const data = path.join(dir, "data");
    const file = path.join(dir, "base.fvecs");
    const vectors = randomVectors(seededRandom(5), 40, 12);
    writeFvecs(file, vectors);
    expect((await run("import", file, "--path", data, "--collection", "sift", "--id-prefix", "v")).code).toBe(0);
    expect((await run("import", file, "--path", data, "--collection", "sift", "--id-prefix", "v")).code).toBe(0);
    const db = await OmenDB.open(data);
    try {
      const c = db.getCollection("sift");
      expect(c.dimension).toBe(12);
      expect(c.metric).toBe("cosine");
      expect(await c.count()).toBe(40);
      const [r] = await c.get(["v17"], { includeVector: true });
      expect(Array.from(r!.vector!)).toEqual(f32(vectors[17]!));
    } finally {
      await db.close();
    }
  });

  it("imports into a collection created over HTTP but never written, keeping its Chroma id", async () => {
    const dir = tempDir();
    const data = path.join(dir, "data");
    let id: string;
    {
      const db = await OmenDB.open(data);
      id = (await ChromaCatalog.open(db).create({ name: "pending-one" })).collection.id;
      await db.close();
    }
    const input = path.join(dir, "in.jsonl");
    fs.writeFileSync(input, `${JSON.stringify({ id: "a", vector: [1, 2, 3] })}\n`);
    expect((await run("import", input, "--path", data, "--collection", "pending-one")).code).toBe(0);
    const db = await OmenDB.open(data);
    try {
      const view = ChromaCatalog.open(db).findByName("pending-one")!;
      expect(view.id).toBe(id);
      expect(view.dimension).toBe(3);
      expect(view.metric).toBe("l2");
    } finally {
      await db.close();
    }
  });

  it("reports malformed input with the line number and exit code 2", async () => {
    const dir = tempDir();
    const input = path.join(dir, "bad.jsonl");
    fs.writeFileSync(input, `${JSON.stringify({ id: "a", vector: [1] })}\n{"id": "b", "vector": "nope"}\n`);
    const res = await run("import", input, "--path", path.join(dir, "data"), "--collection", "c");
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("bad.jsonl:2");
    const truncated = path.join(dir, "t.fvecs");
    writeFvecs(truncated, [[1, 2, 3]]);
    fs.appendFileSync(truncated, Buffer.from([3, 0, 0, 0, 1]));
    const res2 = await run("import", truncated, "--path", path.join(dir, "data2"), "--collection", "c");
    expect(res2.code).toBe(2);
    expect(res2.stderr).toContain("truncated");
  });

  it("prints help for each command and rejects bad usage", async () => {
    for (const cmd of ["serve", "import", "export", "stats"]) {
      const res = await run(cmd, "--help");
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`Usage: omendb ${cmd}`);
    }
    expect((await run("--help")).stdout).toContain("Commands:");
    expect((await run()).code).toBe(2);
    expect((await run("--version")).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("stats", "--nope")).code).toBe(2);
    expect((await run("import", "--collection", "c")).code).toBe(2);
    expect((await run("export", "--path", tempDir())).code).toBe(2);
    expect((await run("serve", "--durability", "sometimes")).code).toBe(2);
    const missing = await run("stats", "--path", path.join(tempDir(), "absent"));
    expect(missing.code).toBe(1);
    const noCollection = await run("export", "--path", tempDir(), "--collection", "ghost");
    expect(noCollection.code).toBe(1);
    expect(noCollection.stderr).toContain("ghost");
  });
});
