import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
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
