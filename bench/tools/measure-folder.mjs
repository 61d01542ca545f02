// Measures a built OmenDB folder as it is reopened: open time (open + first search), private memory
// (RssAnon growth) per record after open and after 2,000 warm searches, recall@10 against the dataset's
// ground truth, one-thread QPS and p50/p99 at the default efSearch, then QPS and p50/p99 with 2 worker
// threads and 2 searches in flight (one per core: the latency at full use of both cores) and 16 (queueing). Usage: node bench/tools/measure-folder.mjs <folder> <dataset dir with query.fvecs and gt_top100.ivecs>
// (build the folder first, e.g. `pnpm bench --dataset synthetic-1m --only omendb --keep`). Set
// OMENDB_VECTOR_READS=pread to measure positional reads.
const { OmenDB } = await import(new URL("../../packages/core/dist/index.js", import.meta.url).href);
import fs from "node:fs";
const [dir, dsDir] = process.argv.slice(2);
const anon = () => Number(fs.readFileSync("/proc/self/status", "utf8").match(/RssAnon:\s+(\d+)/)[1]) * 1024;
const file = () => Number(fs.readFileSync("/proc/self/status", "utf8").match(/RssFile:\s+(\d+)/)[1]) * 1024;
function fvecs(f, max) { const b = fs.readFileSync(f); const d = b.readInt32LE(0); const n = Math.min(max, b.length / (4 + 4 * d)); const out = []; for (let i = 0; i < n; i++) out.push(new Float32Array(b.buffer.slice(b.byteOffset + i * (4 + 4 * d) + 4, b.byteOffset + (i + 1) * (4 + 4 * d)))); return out; }
function ivecs(f) { const b = fs.readFileSync(f); const d = b.readInt32LE(0); const n = b.length / (4 + 4 * d); const out = []; for (let i = 0; i < n; i++) { const row = []; for (let j = 0; j < 10; j++) row.push(b.readInt32LE(i * (4 + 4 * d) + 4 + 4 * j)); out.push(row); } return out; }
const qs = fvecs(`${dsDir}/query.fvecs`, 1000); const gt = ivecs(`${dsDir}/gt_top100.ivecs`);
const a0 = anon();
const t0 = performance.now();
const db = await OmenDB.open(dir);
const c = db.getCollection(db.listCollections()[0].name);
await c.search(qs[0], { k: 10 });
const openS = (performance.now() - t0) / 1000;
const afterOpen = anon() - a0;
const n = c.count ? await c.count() : 1e6;
const lat = []; let hit = 0;
for (let round = 0; round < 2; round++) {
  lat.length = 0; hit = 0;
  for (let i = 0; i < qs.length; i++) { const s = performance.now(); const r = await c.search(qs[i], { k: 10 }); lat.push(performance.now() - s); const g = new Set(gt[i].map(String)); for (const h of r) if (g.has(h.id)) hit++; }
}
lat.sort((x, y) => x - y);
const qps1 = 1000 / (lat.reduce((x, y) => x + y, 0) / 1000) ;
const warm = anon() - a0;
console.log(JSON.stringify({ reads: process.env.OMENDB_VECTOR_READS ?? "default", n, openS: +openS.toFixed(2), privateAfterOpenBPerVec: Math.round(afterOpen / n), privateWarmBPerVec: Math.round(warm / n), rssFileMB: Math.round(file() / 2 ** 20), recall: hit / qs.length / 10, qps1: Math.round(qps1), p50: +lat[500].toFixed(3), p99: +lat[990].toFixed(3) }));
await db.close();
const db2 = await OmenDB.open(dir, { threads: 2 });
const c2 = db2.getCollection(db2.listCollections()[0].name);
for (let i = 0; i < 200; i++) await c2.search(qs[i], { k: 10 });
for (const inFlight of [2, 16]) {
  const lat2 = []; let next = 0; const t1 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => { while (next < 2000) { const i = next++; const s = performance.now(); await c2.search(qs[i % 1000], { k: 10 }); lat2.push(performance.now() - s); } }));
  const s2 = (performance.now() - t1) / 1000; lat2.sort((x, y) => x - y);
  console.log(JSON.stringify({ threads: 2, inFlight, qps: Math.round(2000 / s2), p50: +lat2[1000].toFixed(2), p99: +lat2[1980].toFixed(2) }));
}
await db2.close();
