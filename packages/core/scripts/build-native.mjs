/**
 * Compiles the memory-map addon (native/mmap.cc -> native/mmap.node) with the machine's C++ compiler
 * against the headers of the Node that runs this script (the addon uses V8's API, so it is built
 * for that Node). Optional by design: when there is no compiler, no headers or the
 * platform is Windows, it says why and exits 0, and the vector file is read with positional reads
 * instead (src/storage/vector-pages.ts). Writes atomically (temp file + rename). Run by the build.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, "native", "mmap.cc");
const output = path.join(root, "native", "mmap.node");

function headerDir() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, "include", "node"),
    path.join(path.dirname(path.dirname(process.execPath)), "include", "node"),
    "/usr/include/node",
  ];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, "node.h")) && fs.existsSync(path.join(dir, "v8.h")));
}

function skip(reason) {
  fs.rmSync(output, { force: true });
  console.log(`build-native: memory-map addon not built (${reason}); vectors will be read with positional reads`);
  process.exit(0);
}

if (process.platform === "win32") skip("no mmap on Windows");
const include = headerDir();
if (include === undefined) skip("Node's headers (node.h, v8.h) were not found");
const compiler = process.env.CXX ?? "c++";
const tmp = `${output}.${process.pid}.tmp`;
const args = ["-std=c++17", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-Wno-cast-function-type", "-isystem", include, "-o", tmp, source];
if (process.platform === "darwin") args.unshift("-undefined", "dynamic_lookup");
try {
  execFileSync(compiler, args, { stdio: ["ignore", "inherit", "inherit"] });
} catch (err) {
  fs.rmSync(tmp, { force: true });
  skip(`${compiler} failed: ${err.message.split("\n")[0]}`);
}
fs.renameSync(tmp, output);
console.log(`build-native: native/mmap.cc -> native/mmap.node (${fs.statSync(output).size} bytes)`);
