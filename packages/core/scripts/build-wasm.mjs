/**
 * Compiles the hand-written WebAssembly text kernels (src/vector/kernels.wat -> wasm/kernels.wasm,
 * src/quantization/pq-kernels.wat -> wasm/pq-kernels.wasm) with wabt (SIMD and threads enabled: the PQ kernels' memories are shared), validates each
 * result, and writes it atomically (temp file + rename) so a concurrent build or test never reads a
 * half-written module. Run by `pnpm --filter @omendb/core build`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const sources = [
  { wat: "src/vector/kernels.wat", wasm: "wasm/kernels.wasm" },
  { wat: "src/quantization/pq-kernels.wat", wasm: "wasm/pq-kernels.wasm" },
];
const features = { simd: true, threads: true };

const wabt = await wabtInit();
for (const { wat, wasm } of sources) {
  const input = path.join(root, wat);
  const output = path.join(root, wasm);
  const text = fs.readFileSync(input, "utf8");
  const module = wabt.parseWat(wat, text, features);
  try {
    module.resolveNames();
    module.validate(features);
    const { buffer } = module.toBinary({ canonicalize_lebs: true, write_debug_names: false });
    fs.mkdirSync(path.dirname(output), { recursive: true });
    const tmp = `${output}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, buffer);
    fs.renameSync(tmp, output);
    console.log(`build-wasm: ${wat} -> ${wasm} (${buffer.length} bytes)`);
  } finally {
    module.destroy();
  }
}
