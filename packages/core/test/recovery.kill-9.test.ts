import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { OmenDB } from "../src/index.js";
import { mulberry32 } from "../src/internal/seeded-random.js";
// @ts-expect-error plain .mjs fixture shared with the child process
import { expectedBatch } from "./fixtures/crash-batches.mjs";
import { tempDir } from "./helpers.js";

const writer = fileURLToPath(new URL("./fixtures/crash-writer.mjs", import.meta.url));
const DIM = 32;

type Batch = { upserts: { id: string; vector: Float32Array; document: string; metadata: object }[]; deletes: string[] };

/** Runs the writer from `first`, kills it with SIGKILL after `ms`, returns the acknowledged batches. */
function runAndKill(dir: string, first: number, ms: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(first), String(DIM)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    // Start the clock at the first acknowledgement so every kill lands mid-stream, not during start-up.
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once("data", () => (timer = setTimeout(() => child.kill("SIGKILL"), ms)));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`writer exited with ${code}: ${err}`));
      resolve([...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])));
    });
  });
}

describe("durability under SIGKILL", () => {
  it("keeps every acknowledged write, byte for byte, across 20 kills", async () => {
    const dir = tempDir();
    const rand = mulberry32(2024);
    let next = 0;
    const deleted = new Set<string>();
    let checkedRecords = 0;
    for (let iteration = 0; iteration < 20; iteration++) {
      const acked = await runAndKill(dir, next, 20 + Math.floor(rand() * 200));
      expect(acked.length).toBeGreaterThan(0);
      const db = await OmenDB.open(dir);
      const c = db.getCollection("crash");
      const lastAcked = acked[acked.length - 1]!;
      for (let b = next; b <= lastAcked; b++) {
        const batch = expectedBatch(b, DIM) as Batch;
        for (const id of batch.deletes) deleted.add(id);
      }
      // The batch in flight at the kill may have landed its delete (of record 0 of the last batch).
      const inflight = expectedBatch(lastAcked + 1, DIM) as Batch;
      const maybeDeleted = new Set(inflight.deletes);
      // Every acknowledged batch of this run is there exactly, except later deletes.
      for (let b = next; b <= lastAcked; b++) {
        const batch = expectedBatch(b, DIM) as Batch;
        const got = await c.get(batch.upserts.map((r) => r.id), { includeVector: true });
        const gotIds = new Set(got.map((r) => r.id));
        const want = batch.upserts.filter((r) => !deleted.has(r.id) && (gotIds.has(r.id) || !maybeDeleted.has(r.id)));
        expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
        got.forEach((r, i) => {
          expect(r.document).toBe(want[i]!.document);
          expect(r.metadata).toEqual(want[i]!.metadata);
          expect(Buffer.from(r.vector!.buffer).equals(Buffer.from(want[i]!.vector.buffer))).toBe(true);
        });
        checkedRecords += got.length;
      }
      // The batch in flight at the kill is either wholly there or wholly absent.
      const present = (await c.get(inflight.upserts.map((r) => r.id))).length;
      expect([0, inflight.upserts.length]).toContain(present);
      // Continue after whatever landed, so ids never collide with a half-known batch.
      next = lastAcked + 2;
      await db.close();
    }
    expect(checkedRecords).toBeGreaterThan(100);
  }, 180_000);
});

