/**
 * All benchmarked engines by name, and the `--only` selection rule: a token that is an engine's name
 * selects that engine, any other token every engine whose name starts with it ("faiss" → faiss-hnsw
 * and faiss-flat, "lancedb" → both LanceDB set-ups, "hnswlib" → hnswlib-node, "omendb" → omendb only, "omendb-pread" the same engine reading vectors with positional reads). OmenDB is imported lazily so a missing or unbuilt @omendb/core makes
 * that one engine unavailable instead of breaking the harness.
 */
import type { Engine } from "./engine.js";
import { createFaissFlatEngine, createFaissHnswEngine } from "./faiss-engine.js";
import { createHnswlibEngine } from "./hnswlib-engine.js";
import { createLanceFlatEngine, createLanceIvfPqEngine } from "./lancedb-engine.js";
import { createSqliteVecEngine } from "./sqlite-vec-engine.js";
import { createUsearchEngine } from "./usearch-engine.js";
import { createVectraEngine } from "./vectra-engine.js";

const FACTORIES: Record<string, () => Promise<Engine>> = {
  omendb: async () => (await import("./omendb-engine.js")).createOmenDBEngine(),
  "omendb-exact": async () => (await import("./omendb-engine.js")).createOmenDBEngine(true),
  "omendb-pread": async () => (await import("./omendb-engine.js")).createOmenDBEngine(false, "omendb-pread"),
  "hnswlib-node": async () => createHnswlibEngine(),
  usearch: async () => createUsearchEngine(),
  "faiss-hnsw": async () => createFaissHnswEngine(),
  "faiss-flat": async () => createFaissFlatEngine(),
  "lancedb-ivfpq": async () => createLanceIvfPqEngine(),
  "lancedb-flat": async () => createLanceFlatEngine(),
  "sqlite-vec": async () => createSqliteVecEngine(),
  vectra: async () => createVectraEngine(),
};

/** Environment an engine's child processes run with, beyond the harness's own. */
export const ENGINE_ENV: Record<string, Record<string, string>> = {
  "omendb-pread": { OMENDB_VECTOR_READS: "pread" },
};

/** Every engine name, OmenDB first. */
export const ENGINE_NAMES: readonly string[] = Object.keys(FACTORIES);

/** Engines run only when named (variants of another engine, for one comparison). */
const ON_REQUEST = new Set(["omendb-pread"]);

/**
 * Engines selected by `--only` tokens (when `only` is empty: all but the on-request variants).
 * Throws on a token that selects nothing.
 */
export function selectEngines(only: readonly string[] | undefined): string[] {
  if (!only || only.length === 0) return ENGINE_NAMES.filter((n) => !ON_REQUEST.has(n));
  const picked = new Set<string>();
  for (const token of only) {
    const t = token.trim().toLowerCase();
    const hits = ENGINE_NAMES.includes(t) ? [t] : ENGINE_NAMES.filter((n) => n.startsWith(t));
    if (hits.length === 0) throw new Error(`--only ${token}: no engine matches; engines: ${ENGINE_NAMES.join(", ")}`);
    hits.forEach((h) => picked.add(h));
  }
  return ENGINE_NAMES.filter((n) => picked.has(n));
}

/** Creates and loads an engine; `reason` says why it cannot run (engine absent or unloadable). */
export async function loadEngine(name: string): Promise<{ engine?: Engine; reason: string | null }> {
  const factory = FACTORIES[name];
  if (!factory) return { reason: `unknown engine ${name}` };
  let engine: Engine;
  try {
    engine = await factory();
  } catch (err) {
    return { reason: `cannot load ${name}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}` };
  }
  const reason = await engine.load();
  return reason ? { reason } : { engine, reason: null };
}
