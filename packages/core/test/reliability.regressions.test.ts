/**
 * Minimal reproductions of engine bugs found by the reliability tests (model.property,
 * damage.every-file, fault-injection.db), kept as regression tests once fixed. An open bug stays
 * skipped with a `BUG:` note until the engine is fixed.
 */
import { describe, expect, it } from "vitest";
import { OmenDB } from "../src/index.js";
import { randomVectors, tempDir } from "./helpers.js";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 20)); // background indexing waits for 50 ms without writes

describe("DiskANN graph reachability", () => {
  // Regression (found by model.property, fixed in dfdf83c). Upserting the record whose slot was the
  // graph's entry point stripped the entry's out-edges for good: VamanaGraph.insert unlinked the
  // present slot and then searched for its new neighbours from `this.entry`, that same edgeless slot,
  // so it was re-linked to nothing. Every later k = 1 search returned the entry's record (k > 1 fell
  // back to an exact scan). Records inserted while the only reachable node was a tombstone were
  // isolated the same way (setPruned dropped deleted candidates).
  it("an upsert of the entry point's record keeps every other record findable by its own vector", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    const c = await db.createCollection("c", { dimension: 8, index: { threshold: 100 } });
    const vectors = randomVectors(301, 8, 1);
    await c.upsert(vectors.slice(0, 300).map((vector, i) => ({ id: `r${i}`, vector })));
    await c.buildIndex();
    // The entry point's record (internal: which slot the graph starts from).
    const store = (c as unknown as { store: { table: { idAt(s: number): string }; index: { ann: { graph: { entry: number } } } } }).store;
    const entryId = store.table.idAt(store.index.ann.graph.entry);
    await c.upsert([{ id: entryId, vector: vectors[300]! }]);
    for (let i = 0; i < 100 && c.indexStatus().pending > 0; i++) await tick();
    expect(c.indexStatus()).toMatchObject({ mode: "index", pending: 0 });
    const wrong: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (`r${i}` === entryId) continue;
      const [top] = await c.search(vectors[i]!, { k: 1 });
      if (top!.id !== `r${i}`) wrong.push(`r${i} -> ${top!.id}`);
    }
    expect(wrong).toEqual([]); // today: all 299 queries return the entry's record
    await db.close();
  });

  // Regression (fixed in dfdf83c), same root cause, public API only: a one-record index whose record is then replaced in a
  // bulk upsert leaves every record of that upsert without edges.
  it("records inserted after the only indexed record was replaced are findable by their own vectors", async () => {
    const db = await OmenDB.open(tempDir(), { durability: "none" });
    const c = await db.createCollection("c", { dimension: 4, index: { threshold: 30 } });
    const vectors = randomVectors(14, 4, 2);
    await c.upsert([{ id: "first", vector: vectors[0]! }]);
    await c.buildIndex(); // a one-node graph: "first" is its entry
    // "first" comes last in the batch, so the new records join the graph while it is a tombstone.
    await c.upsert([...vectors.slice(2).map((vector, i) => ({ id: `r${i}`, vector })), { id: "first", vector: vectors[1]! }]);
    for (let i = 0; i < 100 && c.indexStatus().pending > 0; i++) await tick();
    expect(c.indexStatus()).toMatchObject({ mode: "index", pending: 0 });
    const wrong: string[] = [];
    for (let i = 0; i < 12; i++) {
      const [top] = await c.search(vectors[i + 2]!, { k: 1 });
      if (top!.id !== `r${i}`) wrong.push(`r${i} -> ${top!.id}`);
    }
    expect(wrong).toEqual([]);
    await db.close();
  });
});
