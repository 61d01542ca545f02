import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** Long recall runs and crash loops: `pnpm test:slow`. */
export default mergeConfig(base, defineConfig({
  test: {
    include: ["packages/*/test/**/*.slow.test.ts", "packages/*/src/**/*.slow.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 3_600_000,
  },
}));
