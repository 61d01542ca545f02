/**
 * Loads peer libraries from bench/peers/node_modules (installed by `pnpm bench:setup`, outside the
 * workspace), so the bench compiles and runs without them and an absent peer is a skip, not a crash.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** bench/peers. */
export const PEERS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "peers");
const peerRequire = createRequire(path.join(PEERS_DIR, "package.json"));

/** `require` of a peer module (CommonJS entry); throws when it is not installed. */
export function requirePeer<T>(specifier: string): T {
  return peerRequire(specifier) as T;
}

/** Version of an installed peer package, or "unknown". */
export function peerVersion(pkg: string): string {
  for (const dir of [path.join(PEERS_DIR, "node_modules", pkg), path.join(PEERS_DIR, pkg)]) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

/** Loads a peer and turns a failure into the reason string engines report. */
export function tryPeer<T>(specifier: string, setupHint = "run `pnpm bench:setup`"): { mod?: T; reason: string | null } {
  try {
    return { mod: requirePeer<T>(specifier), reason: null };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    return { reason: `${specifier} is not loadable (${msg}); ${setupHint}` };
  }
}

/** Total size in bytes of the regular files under `dir`. */
export function dirBytes(dir: string): number {
  let total = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}
