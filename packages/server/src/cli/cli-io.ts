/** What a CLI command writes to and reads from; injectable so tests run commands in-process. */
import type { Writable } from "node:stream";

/** Output streams and environment of a CLI run. */
export interface CliIO {
  stdout: Writable;
  /** Progress bars and messages; `isTTY` decides between a redrawn bar and periodic lines. */
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
}

/** A bad command line: printed with a hint to use --help, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/**
 * Parses a byte size: a plain integer, or a number with KB/MB/GB (powers of 1000) or KiB/MiB/GiB
 * (powers of 1024). Case-insensitive.
 * @throws CliUsageError for anything else.
 */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i.exec(text.trim());
  if (match === null) throw new CliUsageError(`${option}: expected a size such as 33554432 or 32MiB, got ${JSON.stringify(text)}`);
  const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  const bytes = Math.floor(Number(match[1]) * units[(match[2] ?? "b").toLowerCase()]!);
  if (bytes <= 0) throw new CliUsageError(`${option}: must be positive`);
  return bytes;
}

/**
 * Parses a non-negative integer option.
 * @throws CliUsageError when it is not one, or is below `min`.
 */
export function parseInteger(text: string, option: string, min = 0): number {
  if (!/^\d+$/.test(text.trim())) throw new CliUsageError(`${option}: expected an integer, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min) throw new CliUsageError(`${option}: must be at least ${min}`);
  return n;
}

/** Writes a line. */
export function println(stream: Writable, line = ""): void {
  stream.write(`${line}\n`);
}
