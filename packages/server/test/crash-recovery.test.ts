/**
 * The built `omendb serve` (packages/server/dist/cli.js) as a separate process: SIGKILL in the middle
 * of a write stream, then a restart, must keep every acknowledged record; SIGTERM shuts down cleanly
 * (exit 0). Needs the packages built (`pnpm -w build`; `pnpm test` builds first).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { call, DB_BASE, randomVectors, seededRandom, serveCli as serve, tempDir } from "./helpers.js";

describe("omendb serve process", () => {
  it("keeps every acknowledged write after SIGKILL during a write stream", async () => {
    const dataPath = path.join(tempDir(), "data");
    const first = await serve(dataPath);
    const base = `${first.url}${DB_BASE}`;
    const created = await call(`${base}/collections`, { body: { name: "stream", metadata: { "hnsw:space": "cosine" } } });
    expect(created.status).toBe(200);
    const addUrl = `${base}/collections/${created.body.id}/add`;

    const rng = seededRandom(99);
    const acknowledged: string[] = [];
    let batchNo = 0;
    let killed = false;
    // Three concurrent writers; after 30 acknowledged batches the process is killed mid-stream.
    const writer = async (lane: number) => {
      while (!killed) {
        const n = batchNo++;
        const ids = Array.from({ length: 20 }, (_, i) => `l${lane}-b${n}-r${i}`);
        try {
          const res = await fetch(addUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ids, embeddings: randomVectors(rng, 20, 16), metadatas: ids.map((id) => ({ lane, id })) }),
          });
          if (res.status === 201) acknowledged.push(...ids);
          else await res.text();
        } catch {
          return; // connection reset by the kill: not acknowledged
        }
        if (acknowledged.length >= 30 * 20 && !killed) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all([writer(0), writer(1), writer(2)]);
    const exit = await first.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(600);

    const second = await serve(dataPath);
    try {
      const base2 = `${second.url}${DB_BASE}`;
      const col = await call(`${base2}/collections/stream`);
      expect(col.body.id).toBe(created.body.id);
      const count = await call(`${base2}/collections/${created.body.id}/count`);
      expect(count.body).toBeGreaterThanOrEqual(acknowledged.length);
      for (let i = 0; i < acknowledged.length; i += 500) {
        const slice = acknowledged.slice(i, i + 500);
        const got = await call(`${base2}/collections/${created.body.id}/get`, { body: { ids: slice, include: ["metadatas"] } });
        expect(got.body.ids).toEqual(slice);
        got.body.metadatas.forEach((m: { id: string }, j: number) => expect(m.id).toBe(slice[j]));
      }
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("shuts down on SIGTERM with exit code 0 and its data intact", async () => {
    const dataPath = path.join(tempDir(), "data");
    const first = await serve(dataPath);
    const base = `${first.url}${DB_BASE}`;
    const created = await call(`${base}/collections`, { body: { name: "graceful" } });
    const add = await call(`${base}/collections/${created.body.id}/add`, { body: { ids: ["a", "b"], embeddings: [[1, 0], [0, 1]], documents: ["A", "B"] } });
    expect(add.status).toBe(201);
    first.child.kill("SIGTERM");
    const exit = await first.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toContain("stopped");

    const second = await serve(dataPath);
    try {
      const got = await call(`${second.url}${DB_BASE}/collections/${created.body.id}/get`, { body: { ids: ["a", "b"] } });
      expect(got.body.documents).toEqual(["A", "B"]);
    } finally {
      second.child.kill("SIGTERM");
      expect((await second.exited).code).toBe(0);
    }
  });
});
