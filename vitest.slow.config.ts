import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/** Long recall runs, crash loops and throughput checks: `pnpm test:slow`. */
export default defineConfig({
  resolve: { alias: { "@omendb/core": src("core") } },
  test: {
    include: ["packages/*/src/**/*.slow.test.ts", "packages/*/test/**/*.slow.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: "forks",
  },
});
