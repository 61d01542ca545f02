#!/usr/bin/env node
// Installs the peer vector libraries that `pnpm bench` compares OmenDB with, into bench/peers/
// (its own package.json, not a workspace package, so a peer that fails to build never breaks the
// workspace install or CI).
//
// 1. `npm install` in bench/peers: every peer is an optionalDependency, so npm skips one whose build
//    fails and installs the rest.
// 2. faiss-node 0.5.1: its install script downloads a prebuilt binary (or clones faiss from GitHub) and
//    fails offline. We unpack the npm tarball into bench/peers/faiss-node/ and compile its single C++
//    file with node-gyp against Debian's libfaiss-dev (faiss 1.7.3) + libopenblas-dev. faiss 1.7.3
//    declares `idx_t` inside `faiss::Index`, 1.7.4 (which faiss-node targets) at namespace level; a
//    one-line header force-included into the compile bridges that.
// 3. Every peer is loaded in a child process and reported as ready or skipped, with the reason.
//
// Usage: node bench/scripts/setup-peers.mjs [--skip-npm] [--skip-faiss]
// Exit code is 0 even when peers are skipped: skipping is reported, not fatal.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const peersDir = path.join(benchDir, "peers");
const faissDir = path.join(peersDir, "faiss-node");
const FAISS_VERSION = "0.5.1";
const args = new Set(process.argv.slice(2));

/** Runs a command, streaming its output; returns true when it exits 0. */
function run(cmd, cmdArgs, cwd, extraEnv = {}) {
  console.log(`\n$ (cd ${path.relative(process.cwd(), cwd) || "."} && ${cmd} ${cmdArgs.join(" ")})`);
  const r = spawnSync(cmd, cmdArgs, { cwd, stdio: "inherit", env: { ...process.env, ...extraEnv } });
  if (r.error) console.log(`  failed to start: ${r.error.message}`);
  return r.status === 0;
}

/** npm's bundled node-gyp, so no download is needed. */
function nodeGypPath() {
  const npmRoot = spawnSync("npm", ["root", "-g"], { encoding: "utf8" }).stdout.trim();
  const candidates = [
    path.join(npmRoot, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((p) => fs.existsSync(p));
}

/** Node headers for node-gyp: the local install when it ships them, else node-gyp's default (download). */
function nodeDirArgs() {
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  return fs.existsSync(path.join(prefix, "include", "node", "node_api.h")) ? [`--nodedir=${prefix}`] : [];
}

function setupFaiss() {
  const header = ["/usr/include/faiss/IndexFlat.h", "/usr/local/include/faiss/IndexFlat.h"].find((p) => fs.existsSync(p));
  if (!header) {
    return "libfaiss-dev is not installed (as root: apt-get install -y libfaiss-dev libopenblas-dev), so faiss-node cannot be built";
  }
  const gyp = nodeGypPath();
  if (!gyp) return "npm's bundled node-gyp was not found";
  fs.rmSync(faissDir, { recursive: true, force: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-faiss-"));
  try {
    if (!run("npm", ["pack", `faiss-node@${FAISS_VERSION}`, "--pack-destination", tmp], tmp)) return "npm pack faiss-node failed";
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith(".tgz"));
    if (!tgz) return "npm pack produced no tarball";
    if (!run("tar", ["xzf", path.join(tmp, tgz), "-C", tmp], tmp)) return "could not unpack the faiss-node tarball";
    fs.cpSync(path.join(tmp, "package"), faissDir, { recursive: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // Its runtime dependencies (bindings, node-addon-api); --ignore-scripts skips the downloading install.
  if (!run("npm", ["install", "--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund", "--no-package-lock"], faissDir)) {
    return "npm install of faiss-node's dependencies failed";
  }
  fs.writeFileSync(
    path.join(faissDir, "idx-shim.h"),
    "// faiss 1.7.3 (Debian) declares idx_t in faiss::Index; faiss-node expects faiss::idx_t (1.7.4+).\n" +
      "#include <faiss/Index.h>\nnamespace faiss { using idx_t = faiss::Index::idx_t; }\n",
  );
  const gypFile = {
    targets: [
      {
        target_name: "faiss-node",
        sources: ["src/faiss.cc"],
        include_dirs: ["<!(node -p \"require('node-addon-api').include_dir\")"],
        defines: ["NAPI_VERSION=6"],
        "cflags_cc!": ["-fno-exceptions"],
        cflags_cc: ["-std=c++17", "-fexceptions", "-O2", "-include", "<(module_root_dir)/idx-shim.h"],
        libraries: ["-lfaiss", "-lopenblas", "-fopenmp"],
        ldflags: ["-fopenmp"],
      },
    ],
  };
  fs.writeFileSync(path.join(faissDir, "binding.gyp"), JSON.stringify(gypFile, null, 2) + "\n");
  // The package's own install script would run again on `npm rebuild`; drop it.
  const pkgPath = path.join(faissDir, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgPath, "utf8"));
  delete pkg.scripts;
  fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + "\n");
  if (!run(process.execPath, [gyp, "rebuild", ...nodeDirArgs()], faissDir)) return "node-gyp could not compile faiss-node against libfaiss-dev";
  return null;
}

/** Each peer and the module to load to prove it works. */
const PEERS = [
  { name: "hnswlib-node", probe: "require('hnswlib-node').HierarchicalNSW" },
  { name: "usearch", probe: "require('usearch').Index" },
  { name: "@lancedb/lancedb", probe: "await import('@lancedb/lancedb')" },
  { name: "sqlite-vec", probe: "(() => { const D = require('better-sqlite3'); const db = new D(':memory:'); require('sqlite-vec').load(db); return db.prepare('select vec_version() v').get().v; })()" },
  { name: "vectra", probe: "require('vectra').LocalIndex" },
  { name: "faiss-node", probe: "require('./faiss-node').Index.fromFactory(4, 'HNSW8', 0).ntotal() === 0" },
];

function probe(peer) {
  const code = `const { createRequire } = await import('node:module'); const require = createRequire(${JSON.stringify(path.join(peersDir, "x.js"))});\n` +
    `const v = ${peer.probe}; if (!v) throw new Error('probe returned ' + v);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: peersDir, encoding: "utf8" });
  if (r.status === 0) return null;
  const lines = (r.stderr || r.stdout || "").trim().split("\n").filter((l) => /Error|error:/.test(l));
  return lines[0]?.trim() ?? `exit code ${r.status}`;
}

let faissReason = null;
if (!args.has("--skip-npm")) {
  if (!run("npm", ["install", "--no-audit", "--no-fund"], peersDir)) console.log("npm install reported an error; probing what did install");
}
if (!args.has("--skip-faiss")) faissReason = setupFaiss();

console.log("\nPeers:");
for (const peer of PEERS) {
  const reason = peer.name === "faiss-node" && faissReason ? faissReason : probe(peer);
  console.log(`  ${reason ? "SKIP" : "ok  "} ${peer.name}${reason ? ` — ${reason}` : ""}`);
}
