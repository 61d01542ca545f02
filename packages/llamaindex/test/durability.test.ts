/**
 * Durability through the adapter: a child process adds nodes with OmenDBVectorStore (fsync
 * durability) and prints each acknowledged add; the parent SIGKILLs it mid-stream, reopens the folder
 * and checks that every acknowledged node is there intact, that each add() batch is all-or-nothing,
 * and that the store keeps working.
 *
 * The child runs the built packages (`pnpm build`, which `pnpm test` and CI run first).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { BaseEmbedding, TextNode, VectorStoreQueryMode } from "llamaindex";
import { afterEach, describe, expect, it } from "vitest";
import { OmenDBVectorStore } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const writer = path.join(here, "fixtures", "durability-writer.mjs");
const builtEntries = [path.resolve(here, "../dist/index.js"), path.resolve(here, "../../core/dist/index.js")];

class UnusedEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }

  async getTextEmbedding(): Promise<number[]> {
    throw new Error("not used");
  }
}

/** Runs the writer until `acksWanted` adds are acknowledged, SIGKILLs it, and returns the acknowledged batches. */
function runAndKill(dir: string, acksWanted: number): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, "fsync"], { stdio: ["ignore", "pipe", "pipe"] });
    const batches: string[][] = [];
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      // Lines still in the pipe when the kill lands are acknowledgements too: keep reading them.
      if (!line.startsWith("ack ")) return;
      batches.push(line.slice(4).split(" "));
      if (!killed && batches.length >= acksWanted) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(batches);
      else reject(new Error(`writer exited with code ${code} before it was killed:\n${stderr}`));
    });
  });
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("OmenDBVectorStore durability", () => {
  it("keeps every acknowledged node after the writer is SIGKILLed", async () => {
    for (const entry of builtEntries) {
      expect(fs.existsSync(entry), `${entry} is missing: run \`pnpm build\` before the tests`).toBe(true);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    const acked = await runAndKill(dir, 60);
    const ackedIds = acked.flat();
    expect(acked.length).toBeGreaterThanOrEqual(60);

    const store = await OmenDBVectorStore.open({ path: dir, embedModel: new UnusedEmbedding() });
    try {
      const collection = store.client().getCollection(store.collectionName);
      const records = await collection.get(ackedIds);
      expect(records.map((r) => r.id)).toEqual(ackedIds);
      for (const r of records) {
        const i = Number(r.id.slice("node-".length));
        expect(r.document).toBe(`chunk number ${i}`);
        expect(r.metadata["i"]).toBe(i);
        expect(r.metadata["ref_doc_id"]).toBe(`doc-${i % 5}`);
      }

      // add() batches are atomic: whatever survived beyond the acknowledgements is whole batches.
      const all = await collection.get({});
      const stored = new Set(all.map((r) => r.id));
      const byBatch = new Map<number, string[]>();
      for (const r of all) {
        const i = Number(r.id.slice("node-".length));
        const first = r.metadata["batch"] === 1 ? i : i - ((i - 1) % 4); // batches: [0] [1,2,3] [4] [5,6,7] ...
        byBatch.set(first, [...(byBatch.get(first) ?? []), r.id]);
      }
      for (const [first, ids] of byBatch) {
        const size = first % 4 === 0 ? 1 : 3;
        expect(ids.length, `batch starting at node-${first}`).toBe(size);
      }
      expect(stored.size).toBeGreaterThanOrEqual(ackedIds.length);
      expect(stored.size).toBeLessThanOrEqual(ackedIds.length + 4); // at most the one in flight

      // The nodes come back through query() and the store accepts new writes.
      const probe = records[0]!;
      const hit = await store.query({
        queryEmbedding: Array.from((await collection.get([probe.id], { includeVector: true }))[0]!.vector!),
        similarityTopK: 1,
        mode: VectorStoreQueryMode.DEFAULT,
      });
      expect(hit.ids).toEqual([probe.id]);
      expect((hit.nodes![0] as TextNode).text).toBe(probe.document);
      await store.add([new TextNode({ id_: "after-crash", text: "new", embedding: new Array(8).fill(1) })]);
      expect(await collection.count()).toBe(stored.size + 1);
    } finally {
      await store.close();
    }
  });
});
