/**
 * Runs the quickstart as a user would (`node src/main.mjs`, a child process that starts the BUILT
 * `omendb serve` and uses the real chromadb client) and checks its output against an exact answer
 * computed here with OfflineEmbedder and a brute force over the same notes and filters. Then reopens
 * the data folder directly: the server's SIGTERM shutdown released it with every record on disk.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OfflineEmbedder, OmenDB } from "@omendb/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain JavaScript module of the example, no type declarations
import { notes, questions } from "../src/notes.mjs";

interface Note {
  id: string;
  text: string;
  topic: string;
  year: number;
}
const allNotes = notes as Note[];
const asked = questions as Array<{ question: string; where: unknown }>;

const run = promisify(execFile);
const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(exampleDir, "../..");

async function runExample(args: string[]) {
  const env = { ...process.env };
  for (const name of ["OMENDB_DATA", "OMENDB_API_KEY"]) delete env[name];
  return run(process.execPath, ["src/main.mjs", ...args], { cwd: exampleDir, env, timeout: 60_000 });
}

/** Filters equal to the example's `where` clauses, in the same order. */
const keeps: Array<(n: Note) => boolean> = [(n) => n.topic === "space", (n) => n.topic === "medicine" && n.year >= 1950, (n) => n.year < 1960];

let tmp: string;
const embedder = new OfflineEmbedder();

beforeAll(async () => {
  for (const pkg of ["core", "server"]) {
    const entry = path.join(repoRoot, "packages", pkg, "dist", "index.js");
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` at the repository root first`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  await embedder.load();
});

afterAll(() => {
  if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("examples/server-quickstart", () => {
  it("serves a folder, adds and queries through chromadb with where filters, and stops cleanly on SIGTERM", async () => {
    const data = path.join(tmp, "data");
    const { stdout, stderr } = await runExample(["--data", data]);
    expect(stdout).toMatch(/^omendb serve is listening at http:\/\/127\.0\.0\.1:\d+ \(data folder /m);
    expect(stdout).toContain('collection "notes" holds 12 records');
    expect(stdout).toMatch(/omendb serve stopped \(exit code 0\)\s*$/);
    expect(stderr).toContain("omendb: stopped");

    // Parse each question's hits: "  1. id (topic, year) distance d: text".
    const blocks = stdout.split("\nQ: ").slice(1);
    expect(blocks).toHaveLength(asked.length);
    const vectors = await embedder.embedDocuments(allNotes.map((n) => n.text));
    for (const [q, block] of blocks.entries()) {
      expect(block.startsWith(`${asked[q]!.question}  [where: ${JSON.stringify(asked[q]!.where)}]`)).toBe(true);
      const hits = [...block.matchAll(/^ {2}(\d)\. (\S+) \((\w+), (\d+)\) distance ([\d.]+): (.*)$/gm)].map((m) => ({ id: m[2]!, distance: Number(m[5]), text: m[6]! }));
      const query = await embedder.embedQuery(asked[q]!.question);
      const expected = allNotes
        .map((n, i) => ({ note: n, distance: 1 - cosine(query, vectors[i]!) }))
        .filter(({ note }) => keeps[q]!(note))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, 3);
      expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.note.id));
      hits.forEach((h, i) => {
        expect(Math.abs(h.distance - expected[i]!.distance)).toBeLessThanOrEqual(0.00005 + 1e-6); // printed to 4 decimals
        expect(h.text).toBe(expected[i]!.note.text);
      });
    }
    // The telescope question finds the telescopes.
    expect(blocks[0]).toMatch(/1\. (hubble|jwst) /);

    // The folder is released and complete.
    const db = await OmenDB.open(data);
    try {
      const collection = db.getCollection("notes");
      expect(await collection.count()).toBe(12);
      expect(collection.metric).toBe("cosine");
      expect(collection.dimension).toBe(512);
    } finally {
      await db.close();
    }
  });

  it("runs again on the same folder: add skips existing ids", async () => {
    const { stdout } = await runExample(["--data", path.join(tmp, "data")]);
    expect(stdout).toContain('collection "notes" holds 12 records');
    expect(stdout).toMatch(/omendb serve stopped \(exit code 0\)\s*$/);
  });
});

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
