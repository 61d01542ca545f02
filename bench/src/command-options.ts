/** Options shared by the OmenDB-only commands (ingest, exact, recovery). */
import fs from "node:fs";
import type { BenchPaths } from "./datasets.js";

/** What `pnpm bench ingest|exact|recovery` pass to their runner. */
export interface CommandOptions {
  paths: BenchPaths;
  smoke: boolean;
  outDir: string;
  argv: string[];
  /** Records / base size override. */
  n?: number;
  dim?: number;
  /** Query count override (exact). */
  queries?: number;
  log: (line: string) => void;
}

/** Writes `value` as pretty JSON to `file` via a temp file and rename. */
export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  fs.renameSync(tmp, file);
}
