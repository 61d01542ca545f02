/**
 * Crash loop: a child process runs a deterministic stream of mixed operations (upserts of new and
 * existing ids, deletes by id and by filter, checkpoints, buildIndex, pauses that let background
 * index maintenance and consolidation run) on two collections with `index: { threshold: 200 }`, with
 * up to 8 operations in flight, in a random durability mode, and is killed with SIGKILL at a random
 * moment — often during its own recovery. After every kill the parent:
 *
 * 1. copies the folder (the crash image; the original is left for the next child to recover) and
 *    opens the copy: no file may be unreadable;
 * 2. reads every record with its vector and checks it byte for byte against the (id, version) it
 *    claims: vector, document and metadata;
 * 3. finds the prefix of issued operations the folder reflects: it must include every acknowledged
 *    operation (every acknowledged write present, every acknowledged delete absent) and may include
 *    operations that were in flight; nothing else may differ;
 * 4. searches each record's own vector (k = 1) and requires the record itself back first (the index
 *    agrees with the records), and never a deleted id.
 *
 * `pnpm test:slow` runs it; OMENDB_CRASH_ITERATIONS (default 1000) and OMENDB_CRASH_SEED (default 7)
 * change the run. Figures go to stdout as `crash-loop:` lines.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { OmenDB } from "../src/index.js";
import { mulberry32 } from "../src/internal/seeded-random.js";
import { unreachable } from "./helpers.js";
// @ts-expect-error plain .mjs fixture shared with the child process
import { COLLECTIONS, THRESHOLD, applyToModel, changesModel, isDataOp, opAt, recordOf } from "./fixtures/crash-loop-ops.mjs";

const ITERATIONS = Number(process.env["OMENDB_CRASH_ITERATIONS"] ?? 1000);
const SEED = Number(process.env["OMENDB_CRASH_SEED"] ?? 7);
/**
 * Records once became unreachable from the DiskANN graph's entry point; the last way, found by this
 * test (re-inserting a present slot dropped its out-edges and could orphan a node whose only in-edge
 * came from it), was fixed in 6571676 (regression tests in reliability.regressions.test.ts). False
 * tolerates, and counts, a k = 1 miss of a record unreachable from the entry; true fails on any miss.
 */
const INDEX_FINDS_STORED_VECTOR_FIRST = true;

const child = fileURLToPath(new URL("./fixtures/crash-loop-child.mjs", import.meta.url));

type Op = { n: number; kind: string; coll: number; ids?: string[]; bucket?: number };
type Model = Map<string, number>[];

interface Run {
  submitted: number[];
  acked: number[];
  ready: boolean;
}

/** Runs the child from operation `first` and SIGKILLs it after `killMs` (from spawn or from its first ack). */
function runAndKill(dir: string, first: number, depth: number, durability: string, killMs: number, fromFirstAck: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, String(first), String(depth), durability], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer ??= setTimeout(() => proc.kill("SIGKILL"), killMs));
    if (!fromFirstAck) arm();
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (fromFirstAck && out.includes("ack ")) arm();
    });
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    // 'close' fires after stdout is drained: every line the child wrote before dying is counted.
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`child exited with code ${code} signal ${signal}: ${err}`));
      resolve({
        submitted: [...out.matchAll(/^sub (\d+)$/gm)].map((m) => Number(m[1])),
        acked: [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])),
        ready: /^ready$/m.test(out),
      });
    });
  });
}

const sameBytes = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function equalModels(a: Model, b: Model): boolean {
  for (let c = 0; c < a.length; c++) {
    if (a[c]!.size !== b[c]!.size) return false;
    for (const [id, v] of a[c]!) if (b[c]!.get(id) !== v) return false;
  }
  return true;
}

function describeDiff(want: Model, got: Model): string {
  const lines: string[] = [];
  for (let c = 0; c < want.length; c++) {
    for (const [id, v] of want[c]!) if (got[c]!.get(id) !== v) lines.push(`${id}: want v${v}, got ${got[c]!.has(id) ? `v${got[c]!.get(id)}` : "absent"}`);
    for (const [id, v] of got[c]!) if (!want[c]!.has(id)) lines.push(`${id}: want absent, got v${v}`);
  }
  return lines.slice(0, 10).join("; ");
}

describe("crash loop", () => {
  it(`keeps every acknowledged write through ${ITERATIONS} SIGKILLs (seed ${SEED})`, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-crash-loop-"));
    const dir = path.join(root, "data");
    const rand = mulberry32(SEED);
    let model: Model = COLLECTIONS.map(() => new Map<string, number>());
    let next = 1;
    const figures = {
      iterations: 0,
      kills: 0,
      killsBeforeReady: 0,
      opsSubmitted: 0,
      opsAcknowledged: 0,
      dataOpsAcknowledged: 0,
      acknowledgedOpsLost: 0,
      inFlightOpsLanded: 0,
      recordsVerified: 0,
      searchesChecked: 0,
      indexedIterations: 0,
      top1MissesUnreachable: 0,
      /** Over all verifications of indexed collections: records searchable through the graph / still in the exact tail. */
      recordsInGraph: 0,
      recordsPendingIndex: 0,
      maxRecords: 0,
      durability: { fsync: 0, relaxed: 0, none: 0 } as Record<string, number>,
    };
    const started = Date.now();
    try {
      for (let iteration = 0; iteration < ITERATIONS; iteration++) {
        const depth = 1 + Math.floor(rand() * 8);
        const r = rand();
        const durability = r < 0.7 ? "fsync" : r < 0.85 ? "relaxed" : "none";
        // A third of the kills are timed from spawn, so many land in start-up and recovery.
        const fromFirstAck = rand() < 0.67;
        const killMs = fromFirstAck ? Math.floor(rand() * 800) : Math.floor(rand() * 350);
        const run = await runAndKill(dir, next, depth, durability, killMs, fromFirstAck);
        figures.iterations++;
        figures.kills++;
        figures.durability[durability]!++;
        if (!run.ready) figures.killsBeforeReady++;
        figures.opsSubmitted += run.submitted.length;
        figures.opsAcknowledged += run.acked.length;

        const lastSubmitted = run.submitted.length > 0 ? Math.max(...run.submitted) : next - 1;
        const ackedSet = new Set(run.acked);

        if (!fs.existsSync(dir)) {
          // Killed before the folder was created.
          expect(run.acked).toEqual([]);
          next = lastSubmitted + 1;
          continue;
        }

        // The crash image, opened like a restart would.
        const image = path.join(root, `image-${iteration}`);
        fs.cpSync(dir, image, { recursive: true });
        fs.rmSync(path.join(image, "LOCK"), { force: true });
        const db = await OmenDB.open(image);
        try {
          const collections = COLLECTIONS.map((c: { name: string }) => (db.hasCollection(c.name) ? db.getCollection(c.name) : undefined));
          const found: Model = COLLECTIONS.map(() => new Map<string, number>());
          for (let c = 0; c < COLLECTIONS.length; c++) {
            const coll = collections[c];
            if (coll === undefined) continue;
            for (const rec of await coll.get({ includeVector: true })) {
              const v = rec.metadata["v"] as number;
              const want = recordOf(rec.id, v) as { vector: Float32Array; document: string; metadata: object };
              expect(sameBytes(rec.vector!, want.vector), `iteration ${iteration}: vector of ${rec.id} v${v}`).toBe(true);
              expect(rec.document, `iteration ${iteration}: document of ${rec.id}`).toBe(want.document);
              expect(rec.metadata, `iteration ${iteration}: metadata of ${rec.id}`).toEqual(want.metadata);
              found[c]!.set(rec.id, v);
            }
            expect(await coll.count()).toBe(found[c]!.size);
          }

          // The state must be the model after some prefix of the submitted operations that includes
          // every acknowledged one that changed anything (a delete of absent ids never reaches the WAL
          // and may be acknowledged before the operations in flight ahead of it).
          const candidate: Model = model.map((m) => new Map(m));
          let lastAckedData = next - 1;
          const matches: number[] = equalModels(candidate, found) ? [next - 1] : [];
          for (let n = next; n <= lastSubmitted; n++) {
            const op = opAt(n) as Op;
            if (!isDataOp(op)) continue;
            const effective = changesModel(candidate, op);
            applyToModel(candidate, op);
            if (ackedSet.has(n)) {
              figures.dataOpsAcknowledged++;
              if (effective) lastAckedData = n;
            }
            if (equalModels(candidate, found)) matches.push(n);
          }
          const matched = matches.filter((n) => n >= lastAckedData).at(-1);
          if (matched === undefined) {
            figures.acknowledgedOpsLost++;
            const acknowledgedState: Model = model.map((m) => new Map(m));
            for (let n = next; n <= lastAckedData; n++) {
              const op = opAt(n) as Op;
              if (isDataOp(op)) applyToModel(acknowledgedState, op);
            }
            // Which of this run's upserts are visible, to tell a lost write from a harness error.
            const visible: string[] = [];
            for (let n = next; n <= lastSubmitted; n++) {
              const op = opAt(n) as Op;
              if (op.kind !== "upsert") continue;
              visible.push(`${n}${ackedSet.has(n) ? "(acked)" : ""}:${op.ids!.filter((id) => found[op.coll]!.get(id) === n).length}/${op.ids!.length}`);
            }
            const kept = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-crash-loop-failure-"));
            fs.cpSync(dir, kept, { recursive: true });
            throw new Error(
              `iteration ${iteration} (first op ${next}, depth ${depth}, ${durability}, kill ${killMs} ms ${fromFirstAck ? "after the first ack" : "after spawn"}): ` +
                `the folder matches no prefix from the last acknowledged op ${lastAckedData} to the last submitted ${lastSubmitted}; ` +
                `against the acknowledged state: ${describeDiff(acknowledgedState, found)}; upserts visible: ${visible.join(" ")}; crash image kept in ${kept}`,
            );
          }
          for (let n = lastAckedData + 1; n <= matched; n++) if (isDataOp(opAt(n))) figures.inFlightOpsLanded++;
          model = found;
          let records = 0;
          for (const m of found) records += m.size;
          figures.recordsVerified += records;
          figures.maxRecords = Math.max(figures.maxRecords, records);

          // The index agrees with the records: each record's own vector finds it first.
          let indexed = false;
          for (let c = 0; c < COLLECTIONS.length; c++) {
            const coll = collections[c];
            if (coll === undefined) continue;
            const status = coll.indexStatus();
            indexed ||= status.mode === "index";
            if (status.mode === "index") {
              figures.recordsInGraph += status.indexed;
              figures.recordsPendingIndex += status.pending;
            }
            for (const id of found[c]!.keys()) {
              const [top] = await coll.search(recordOf(id, found[c]!.get(id)!).vector, { k: 1 });
              figures.searchesChecked++;
              expect(top !== undefined && found[c]!.has(top.id), `iteration ${iteration}: search returned ${top?.id}, not a live record`).toBe(true);
              if (top!.id === id) continue;
              const cutOff = unreachable(coll, id);
              if (!INDEX_FINDS_STORED_VECTOR_FIRST && cutOff) {
                figures.top1MissesUnreachable++;
                continue;
              }
              const kept = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-crash-loop-failure-"));
              fs.cpSync(dir, kept, { recursive: true });
              const [wide] = await coll.search(recordOf(id, found[c]!.get(id)!).vector, { k: 1, efSearch: 2000 });
              expect(
                top!.id,
                `iteration ${iteration}: own vector of ${id} (status ${JSON.stringify(coll.indexStatus())}, ` +
                  `${cutOff ? "unreachable" : "reachable"} from the entry, efSearch 2000 finds ${wide?.id}); crash image kept in ${kept}`,
              ).toBe(id);
            }
          }
          if (indexed) figures.indexedIterations++;
        } finally {
          await db.close();
          fs.rmSync(image, { recursive: true, force: true });
        }
        next = lastSubmitted + 1;
        if ((iteration + 1) % 50 === 0) {
          console.log(`crash-loop: ${JSON.stringify({ ...figures, minutes: +((Date.now() - started) / 60000).toFixed(1) })}`);
        }
      }
      // Finally, the original folder (recovered by nobody yet since the last kill) opens and matches.
      const db = await OmenDB.open(dir);
      for (let c = 0; c < COLLECTIONS.length; c++) {
        const name = (COLLECTIONS[c] as { name: string }).name;
        if (!db.hasCollection(name)) continue;
        const ids = (await db.getCollection(name).get({})).map((r) => r.id).sort();
        expect(ids).toEqual([...model[c]!.keys()].sort());
      }
      await db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    console.log(`crash-loop final: ${JSON.stringify({ ...figures, threshold: THRESHOLD, minutes: +((Date.now() - started) / 60000).toFixed(1) })}`);
    expect(figures.acknowledgedOpsLost).toBe(0);
    expect(figures.iterations).toBe(ITERATIONS);
  });
});
