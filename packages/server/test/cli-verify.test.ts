/** `omendb verify`: exit codes, --json, --repair of a damaged index file, a locked folder, --help. */
import fs from "node:fs";
import path from "node:path";
import { OmenDB } from "@omendb/core";
import { describe, expect, it } from "vitest";
import { f32, randomVectors, runCliCaptured as run, seededRandom, tempDir } from "./helpers.js";

const DIM = 6;
const vectors = randomVectors(seededRandom(11), 80, DIM);

/** A closed folder with 80 records and a persisted index. */
async function folder(): Promise<string> {
  const data = path.join(tempDir(), "data");
  const db = await OmenDB.open(data);
  const c = await db.createCollection("docs", { dimension: DIM, index: { threshold: 20 } });
  await c.upsert(vectors.map((v, i) => ({ id: `d${i}`, vector: v, document: `text ${i}` })));
  await c.buildIndex();
  await db.close();
  return data;
}

function only(dir: string, suffix: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(suffix));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]!);
}

describe("omendb verify", () => {
  it("exits 0 on a clean folder, as text and as JSON", async () => {
    const data = await folder();
    const text = await run("verify", data);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(": ok");
    expect(text.stdout).toMatch(/collection "docs".*80 records, 80 vectors verified.*index ok/);
    const json = await run("verify", "--path", data, "--json");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, problems: [], collections: [{ name: "docs", records: 80 }] });
  });

  it("exits 1 on a damaged index file, and 0 after --repair; the folder then opens with every record", async () => {
    const data = await folder();
    const ann = only(path.join(data, "vectors"), ".ann");
    const bytes = fs.readFileSync(ann);
    bytes[100]! ^= 0x01;
    fs.writeFileSync(ann, bytes);

    const found = await run("verify", data);
    expect(found.code).toBe(1);
    expect(found.stdout).toContain("PROBLEM INDEX_DAMAGED (derived data)");
    expect(found.stdout).toContain("--repair");
    const repaired = await run("verify", data, "--repair", "--json");
    expect(repaired.code).toBe(0);
    const report = JSON.parse(repaired.stdout);
    expect(report.problems).toEqual([expect.objectContaining({ code: "INDEX_DAMAGED", file: ann, repaired: expect.stringContaining("moved aside") })]);
    expect((await run("verify", data)).code).toBe(0);

    const db = await OmenDB.open(data);
    const c = db.getCollection("docs");
    const got = await c.get(vectors.map((_, i) => `d${i}`), { includeVector: true });
    expect(got).toHaveLength(80);
    got.forEach((r, i) => expect(Array.from(r.vector!)).toEqual(f32(vectors[i]!)));
    await db.close();
  });

  it("exits 1 on a damaged vector slot, with or without --repair, and leaves it as found", async () => {
    const data = await folder();
    const vec = only(path.join(data, "vectors"), ".vec");
    const bytes = fs.readFileSync(vec);
    bytes[64 + 2]! ^= 0x40;
    fs.writeFileSync(vec, bytes);
    for (const flags of [[], ["--repair"]]) {
      const res = await run("verify", data, ...flags);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(`PROBLEM VECTOR_SLOT (primary data) ${vec} @ 64`);
      expect(fs.readFileSync(vec)).toEqual(bytes);
    }
  });

  it("refuses a folder in use (exit 1), a missing folder (1) and bad usage (2); prints help", async () => {
    const data = await folder();
    const db = await OmenDB.open(data);
    const locked = await run("verify", data);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain("in use by another process");
    await db.close();
    expect((await run("verify", path.join(tempDir(), "absent"))).code).toBe(1);
    expect((await run("verify", data, "--path", data)).code).toBe(2);
    expect((await run("verify", data, "--fix")).code).toBe(2);
    const help = await run("verify", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: omendb verify");
    expect((await run("--help")).stdout).toContain("verify");
  });
});
