/** Shared fixtures of the server tests: temp folders, a seeded RNG, servers on 127.0.0.1:0. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { runCli } from "../src/cli/run-cli.js";
import { startServer, type OmenDBServer, type ServerOptions } from "../src/index.js";

/** A fresh temporary directory. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random vectors of length `dim` with components in [-1, 1). */
export function randomVectors(rng: () => number, n: number, dim: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => rng() * 2 - 1));
}

/** Rounds to float32, as the server stores vectors. */
export function f32(values: readonly number[]): number[] {
  return Array.from(Float32Array.from(values));
}

/** A listening server on 127.0.0.1 with a random port, silent, over a fresh folder unless `path` is given. */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<OmenDBServer & { url: string; port: number }> {
  const server = await startServer({ path: tempDir(), host: "127.0.0.1", port: 0, logger: false, apiKey: null, ...options });
  return Object.assign(server, { port: Number(new URL(server.url).port) });
}

/** The base path of the default tenant and database. */
export const DB_BASE = "/api/v2/tenants/default_tenant/databases/default_database";

/** fetch returning status and parsed JSON (or text). */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string | Buffer } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | Buffer | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

class Capture extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the `omendb` CLI in-process with captured output and an empty environment. */
export async function runCliCaptured(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A running `omendb serve` child process (see {@link serveCli}). */
export interface RunningServe {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const serveChildren: ChildProcess[] = [];

/**
 * Starts the built `omendb serve` (packages/server/dist/cli.js) on a free 127.0.0.1 port and resolves
 * once it prints its address. Children still running after a test are killed with SIGKILL.
 */
export function serveCli(dataPath: string): Promise<RunningServe> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build the packages first (pnpm -w build)`);
  const child = spawn(process.execPath, [CLI, "serve", "--path", dataPath, "--host", "127.0.0.1", "--port", "0", "--log-level", "silent"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, OMENDB_API_KEY: "" },
  });
  serveChildren.push(child);
  let err = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const match = / at (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (match !== null) resolve({ child, url: match[1]!, exited, stderr: () => err });
    });
    void exited.then(({ code }) => reject(new Error(`omendb serve exited early (${code}): ${err}`)));
  });
}

afterEach(() => {
  for (const child of serveChildren.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
