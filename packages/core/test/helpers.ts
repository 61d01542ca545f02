import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { Collection } from "../src/index.js";
import { mulberry32 } from "../src/internal/seeded-random.js";

const made: string[] = [];

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-test-"));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A copy of a live database folder as a kill -9 would leave it now, in a fresh temporary folder
 * (LOCK left out). The JS thread is blocked while it copies, so SQLite cannot change; a file that an
 * in-flight background operation removes mid-copy (a trimmed WAL segment, a replaced index temp file)
 * was no longer needed, and is skipped as a crash just after its removal would have left it.
 */
export function crashImage(dir: string): string {
  const image = tempDir();
  copyTree(dir, image);
  fs.rmSync(path.join(image, "LOCK"), { force: true });
  return image;
}

function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    try {
      if (entry.isDirectory()) copyTree(source, target);
      else fs.copyFileSync(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

/** `n` seeded random vectors of `dim` values in [-1, 1). */
export function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => rand() * 2 - 1));
}

/** True when `id`'s slot cannot be reached from the index's entry point over the graph's edges. */
export function unreachable(c: Collection, id: string): boolean {
  const store = (c as unknown as {
    store: { table: { slotOf(id: string): number | undefined }; index: { ann?: { graph: { entry: number; neighbors(slot: number): Uint32Array } } } };
  }).store;
  const graph = store.index.ann?.graph;
  const target = store.table.slotOf(id);
  if (graph === undefined || target === undefined || graph.entry < 0) return false;
  const seen = new Set([graph.entry]);
  for (const queue = [graph.entry]; queue.length > 0; ) {
    const slot = queue.pop()!;
    if (slot === target) return false;
    for (const nb of graph.neighbors(slot)) if (!seen.has(nb)) seen.add(nb), queue.push(nb);
  }
  return true;
}

/** The error `fn` throws (fails the test when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
