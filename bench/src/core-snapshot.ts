/**
 * A frozen copy of the built @omendb/core for the duration of one benchmark run. The repository is
 * shared: another session's `pnpm build` can replace packages/core/dist between an engine's build child
 * and its search child (a changed storage format then breaks the reopen). The harness copies dist/,
 * wasm/, native/ and package.json into bench/.cache/core-snapshot/<run>/ (node_modules is a symlink to the
 * package's own) and children import OmenDB from there through OMENDB_CORE_MODULE.
 */
import fs from "node:fs";
import path from "node:path";
import type { BenchPaths } from "./datasets.js";

/** Environment variable naming the module children import OmenDB from. */
export const CORE_MODULE_ENV = "OMENDB_CORE_MODULE";

/**
 * Copies the built core into the cache and points {@link CORE_MODULE_ENV} at it (for this process and
 * the children it forks). Returns a function that removes the copy. Without a built core, does nothing.
 */
export function snapshotCore(paths: BenchPaths): () => void {
  const src = path.join(paths.repoRoot, "packages", "core");
  if (!fs.existsSync(path.join(src, "dist", "index.js"))) return () => {};
  const dst = path.join(paths.cacheDir, "core-snapshot", `${process.pid}-${Date.now()}`);
  fs.mkdirSync(dst, { recursive: true });
  // native/ holds the memory-map addon: without it the copy would silently read vectors with
  // positional reads and load the graph's lists into memory (runs before this fix did).
  for (const part of ["dist", "wasm", "native", "package.json"]) {
    if (fs.existsSync(path.join(src, part))) fs.cpSync(path.join(src, part), path.join(dst, part), { recursive: true });
  }
  fs.symlinkSync(path.join(src, "node_modules"), path.join(dst, "node_modules"), "dir");
  process.env[CORE_MODULE_ENV] = path.join(dst, "dist", "index.js");
  return () => {
    delete process.env[CORE_MODULE_ENV];
    fs.rmSync(dst, { recursive: true, force: true });
  };
}
