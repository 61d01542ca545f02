/**
 * Mixed-load soak of the built `omendb serve` (packages/server/dist/cli.js) in a child process.
 *
 * For OMENDB_SOAK_SECONDS (default 600), OMENDB_SOAK_CLIENTS (default 6) concurrent clients each
 * loop over seeded random operations on one collection: upserts of 1–25 records, deletes by ids,
 * deletes by `where`, gets by ids (checked against the client's model), gets by `where` with a limit,
 * filtered queries and counts. Each client owns its own ids (`c<client>-<n>`, a pool of
 * OMENDB_SOAK_POOL per client, reused all run long), so it knows exactly what its acknowledged
 * operations left; its reads are checked against that model while the load runs.
 *
 * The server's RSS is sampled every 5 s. Bound: after a warm-up (the first 10 % of the run) the RSS
 * may not exceed max(2 × the warm-up RSS, warm-up RSS + 128 MiB) in the second half of the run.
 *
 * At the deadline the server is killed with SIGKILL while the clients are still writing, restarted on
 * the same folder, and every id of every pool is checked: an id the model holds is present with the
 * acknowledged vector (as float32), document and metadata; every other id is absent. The one
 * operation per client in flight at the kill may be either applied or not, wholly.
 *
 * Run: pnpm --filter @omendb/core build && pnpm --filter @omendb/server build &&
 *      pnpm vitest run --config vitest.slow.config.ts packages/server/test/soak.slow.test.ts
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DB_BASE, f32, seededRandom, serveCli as serve, tempDir } from "./helpers.js";

const SECONDS = Number(process.env["OMENDB_SOAK_SECONDS"] ?? 600);
const CLIENTS = Number(process.env["OMENDB_SOAK_CLIENTS"] ?? 6);
const POOL = Number(process.env["OMENDB_SOAK_POOL"] ?? 3000);
const SEED = Number(process.env["OMENDB_SOAK_SEED"] ?? 4242);
const DIM = 16;
const TAGS = ["red", "green", "blue", "cyan", "gray"];
const SAMPLE_MS = 5000;
const MiB = 1024 * 1024;

/** Resident set size of `pid` in bytes (Linux /proc, else ps). */
function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    if (kb !== null) return Number(kb[1]) * 1024;
  } catch {
    // not Linux
  }
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)]).toString().trim()) * 1024;
}

interface Rec {
  vector: number[];
  document: string;
  metadata: { client: number; n: number; tag: string; v: number };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

describe("omendb serve under mixed load", () => {
  it(
    `stays up with bounded memory and loses no acknowledged write (${SECONDS} s, ${CLIENTS} clients)`,
    async () => {
      const dataPath = path.join(tempDir(), "data");
      const first = await serve(dataPath);
      const base = `${first.url}${DB_BASE}`;
      const created = await post(`${base}/collections`, { name: "soak", metadata: { "hnsw:space": "l2" } });
      expect(created.status).toBe(200);
      const col = `${base}/collections/${created.body.id}`;

      const started = performance.now();
      const deadline = started + SECONDS * 1000;
      const samples: { t: number; rss: number }[] = [{ t: 0, rss: rssOf(first.child.pid!) }];
      const sampler = setInterval(() => {
        try {
          samples.push({ t: (performance.now() - started) / 1000, rss: rssOf(first.child.pid!) });
        } catch {
          // the process is gone (killed at the end)
        }
      }, SAMPLE_MS);

      const counts: Record<string, number> = { upsert: 0, deleteIds: 0, deleteWhere: 0, getIds: 0, getWhere: 0, query: 0, count: 0 };
      let ackedWrites = 0;
      let readsChecked = 0;
      const failures: string[] = [];
      const models: Map<string, Rec>[] = [];
      /** Per client: the state each id would have if the op in flight at the kill was applied. */
      const inFlight: (Map<string, Rec | undefined> | undefined)[] = [];
      let killed = false;

      const client = async (c: number): Promise<void> => {
        const rng = seededRandom(SEED + c * 7919);
        const int = (n: number) => Math.floor(rng() * n);
        const model = new Map<string, Rec>();
        models[c] = model;
        let version = 0;
        const idOf = (n: number) => `c${c}-${n}`;
        while (performance.now() < deadline && !killed) {
          const roll = rng();
          // The state every touched id would have if this operation is applied.
          const after = new Map<string, Rec | undefined>();
          let op: string;
          let request: () => Promise<{ status: number; body: any }>;
          let check: (res: { status: number; body: any }) => void = () => undefined;
          if (roll < 0.4) {
            op = "upsert";
            const ns = [...new Set(Array.from({ length: 1 + int(25) }, () => int(POOL)))];
            const recs = ns.map((n): [string, Rec] => [
              idOf(n),
              {
                vector: f32(Array.from({ length: DIM }, () => rng() * 2 - 1)),
                document: `doc ${c}/${n} v${++version} ${"ab".repeat(int(40))}`,
                metadata: { client: c, n, tag: TAGS[int(TAGS.length)]!, v: version },
              },
            ]);
            for (const [id, r] of recs) after.set(id, r);
            request = () =>
              post(`${col}/upsert`, {
                ids: recs.map(([id]) => id),
                embeddings: recs.map(([, r]) => r.vector),
                documents: recs.map(([, r]) => r.document),
                metadatas: recs.map(([, r]) => r.metadata),
              });
          } else if (roll < 0.52) {
            op = "deleteIds";
            const ids = [...new Set(Array.from({ length: 1 + int(10) }, () => idOf(int(POOL))))];
            for (const id of ids) after.set(id, undefined);
            const expected = ids.filter((id) => model.has(id)).length;
            request = () => post(`${col}/delete`, { ids });
            check = (res) => {
              if (res.body?.deleted !== expected) failures.push(`client ${c} deleteIds: deleted ${res.body?.deleted}, expected ${expected}`);
            };
          } else if (roll < 0.55) {
            op = "deleteWhere";
            const tag = TAGS[int(TAGS.length)]!;
            const below = int(POOL);
            for (const [id, r] of model) if (r.metadata.tag === tag && r.metadata.n < below) after.set(id, undefined);
            const expected = after.size;
            request = () => post(`${col}/delete`, { where: { $and: [{ client: c }, { tag }, { n: { $lt: below } }] } });
            check = (res) => {
              if (res.body?.deleted !== expected) failures.push(`client ${c} deleteWhere: deleted ${res.body?.deleted}, expected ${expected}`);
            };
          } else if (roll < 0.72) {
            op = "getIds";
            const ids = [...new Set(Array.from({ length: 1 + int(20) }, () => idOf(int(POOL))))];
            request = () => post(`${col}/get`, { ids, include: ["embeddings", "documents", "metadatas"] });
            check = (res) => {
              const want = ids.filter((id) => model.has(id));
              const got: string[] = res.body?.ids ?? [];
              if ([...got].sort().join() !== [...want].sort().join()) {
                failures.push(`client ${c} getIds: got ${got.length} ids, expected ${want.length}`);
                return;
              }
              got.forEach((id, i) => {
                const r = model.get(id)!;
                readsChecked++;
                if (
                  res.body.documents[i] !== r.document ||
                  JSON.stringify(res.body.metadatas[i]) !== JSON.stringify(r.metadata) ||
                  JSON.stringify(res.body.embeddings[i]) !== JSON.stringify(r.vector)
                ) {
                  failures.push(`client ${c} getIds: ${id} differs from its acknowledged state`);
                }
              });
            };
          } else if (roll < 0.82) {
            op = "getWhere";
            const tag = TAGS[int(TAGS.length)]!;
            const limit = 1 + int(50);
            const matching = [...model.values()].filter((r) => r.metadata.tag === tag).length;
            request = () => post(`${col}/get`, { where: { $and: [{ client: c }, { tag }] }, limit, include: ["metadatas"] });
            check = (res) => {
              const metas: Rec["metadata"][] = res.body?.metadatas ?? [];
              if (metas.length !== Math.min(limit, matching)) failures.push(`client ${c} getWhere: ${metas.length} rows, expected ${Math.min(limit, matching)}`);
              for (const m of metas) if (m.client !== c || m.tag !== tag) failures.push(`client ${c} getWhere: a row that does not match the filter`);
              readsChecked += metas.length;
            };
          } else if (roll < 0.97) {
            op = "query";
            const k = 1 + int(10);
            const queryVector = Array.from({ length: DIM }, () => rng() * 2 - 1);
            const tag = TAGS[int(TAGS.length)]!;
            const where = rng() < 0.5 ? { client: c } : { $and: [{ client: c }, { tag }] };
            const matchingTag = [...model.values()].filter((r) => r.metadata.tag === tag).length;
            const expected = Math.min(k, "$and" in where ? matchingTag : model.size);
            request = () => post(`${col}/query`, { query_embeddings: [queryVector], n_results: k, where, include: ["metadatas", "distances"] });
            check = (res) => {
              const metas: Rec["metadata"][] = res.body?.metadatas?.[0] ?? [];
              const distances: number[] = res.body?.distances?.[0] ?? [];
              if (metas.length !== expected) failures.push(`client ${c} query: ${metas.length} hits, expected ${expected}`);
              for (const m of metas) if (m.client !== c || ("$and" in where && m.tag !== tag)) failures.push(`client ${c} query: a hit that does not match the filter`);
              for (let i = 1; i < distances.length; i++) if (distances[i]! < distances[i - 1]!) failures.push(`client ${c} query: distances not ascending`);
              readsChecked += metas.length;
            };
          } else {
            op = "count";
            request = async () => {
              const res = await fetch(`${col}/count`);
              return { status: res.status, body: JSON.parse(await res.text()) };
            };
            check = (res) => {
              if (typeof res.body !== "number" || res.body < model.size) failures.push(`client ${c} count: ${res.body} < own records ${model.size}`);
            };
          }
          inFlight[c] = after.size > 0 ? after : undefined;
          let res: { status: number; body: any };
          try {
            res = await request();
          } catch (err) {
            if (killed) return; // the op in flight at the kill: inFlight[c] holds its possible effect
            failures.push(`client ${c} ${op}: ${(err as Error).message}`);
            return;
          }
          if (res.status < 200 || res.status >= 300) {
            failures.push(`client ${c} ${op}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
            return;
          }
          inFlight[c] = undefined;
          counts[op]!++;
          if (after.size > 0) {
            ackedWrites++;
            for (const [id, r] of after) {
              if (r === undefined) model.delete(id);
              else model.set(id, r);
            }
          }
          check(res);
          if (failures.length > 0) return;
        }
      };

      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
      const done = Promise.all(clients);
      // At the deadline, kill the server while the clients are still writing.
      await Promise.race([done, new Promise((r) => setTimeout(r, SECONDS * 1000))]);
      killed = true;
      clearInterval(sampler);
      samples.push({ t: (performance.now() - started) / 1000, rss: rssOf(first.child.pid!) });
      first.child.kill("SIGKILL");
      await done;
      const exit = await first.exited;
      expect(failures).toEqual([]);
      expect(exit.signal).toBe("SIGKILL");

      // Memory: bounded after warm-up.
      const warmEnd = SECONDS * 0.1;
      const warm = samples.filter((s) => s.t <= warmEnd).at(-1)!.rss;
      const bound = Math.max(2 * warm, warm + 128 * MiB);
      const secondHalf = samples.filter((s) => s.t >= SECONDS / 2);
      const maxRss = Math.max(...samples.map((s) => s.rss));
      const maxLate = Math.max(...secondHalf.map((s) => s.rss));

      // Restart and check every id of every pool.
      const second = await serve(dataPath);
      let checked = 0;
      let present = 0;
      let inFlightApplied = 0;
      try {
        const col2 = `${second.url}${DB_BASE}/collections/${created.body.id}`;
        for (let c = 0; c < CLIENTS; c++) {
          const model = models[c]!;
          const pending = inFlight[c];
          const ids = Array.from({ length: POOL }, (_, n) => `c${c}-${n}`);
          let appliedSeen = false;
          let notAppliedSeen = false;
          for (let i = 0; i < ids.length; i += 500) {
            const slice = ids.slice(i, i + 500);
            const got = await post(`${col2}/get`, { ids: slice, include: ["embeddings", "documents", "metadatas"] });
            expect(got.status).toBe(200);
            const byId = new Map<string, Rec>();
            got.body.ids.forEach((id: string, j: number) =>
              byId.set(id, { vector: got.body.embeddings[j], document: got.body.documents[j], metadata: got.body.metadatas[j] }),
            );
            for (const id of slice) {
              checked++;
              const actual = byId.get(id);
              if (actual !== undefined) present++;
              const same = (want: Rec | undefined) =>
                want === undefined ? actual === undefined : actual !== undefined && JSON.stringify(actual) === JSON.stringify(want);
              if (same(model.get(id))) {
                if (pending?.has(id) === true && !same(pending.get(id))) notAppliedSeen = true;
                continue;
              }
              if (pending?.has(id) === true && same(pending.get(id))) {
                appliedSeen = true;
                continue;
              }
              throw new Error(`${id}: after restart ${JSON.stringify(actual)?.slice(0, 200)}, acknowledged ${JSON.stringify(model.get(id))?.slice(0, 200)}`);
            }
          }
          // The operation in flight at the kill is wholly applied or wholly absent.
          expect(appliedSeen && notAppliedSeen).toBe(false);
          if (appliedSeen) inFlightApplied++;
        }
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
      const modelRecords = models.reduce((n, m) => n + m.size, 0);
      const figures = {
        seconds: SECONDS,
        clients: CLIENTS,
        operations: counts,
        totalOperations: Object.values(counts).reduce((a, b) => a + b, 0),
        acknowledgedWrites: ackedWrites,
        readsCheckedDuringLoad: readsChecked,
        idsCheckedAfterRestart: checked,
        recordsPresentAfterRestart: present,
        modelRecords,
        inFlightAtKillApplied: inFlightApplied,
        rssMiB: {
          first: +(samples[0]!.rss / MiB).toFixed(1),
          warmUp: +(warm / MiB).toFixed(1),
          max: +(maxRss / MiB).toFixed(1),
          maxSecondHalf: +(maxLate / MiB).toFixed(1),
          last: +(samples.at(-1)!.rss / MiB).toFixed(1),
          bound: +(bound / MiB).toFixed(1),
          samples: samples.length,
        },
      };
      console.log(`soak figures: ${JSON.stringify(figures, null, 2)}`);
      if (process.env["OMENDB_SOAK_REPORT"]) fs.writeFileSync(process.env["OMENDB_SOAK_REPORT"], `${JSON.stringify({ figures, samples }, null, 2)}\n`);
      expect(maxLate).toBeLessThanOrEqual(bound);
    },
    (SECONDS + 600) * 1000,
  );
});
