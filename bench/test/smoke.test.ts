/**
 * The benchmark harness still works end to end: `bench --smoke --only omendb` (peers may be absent in
 * CI) builds an OmenDB index in a child process, reopens it in another, and writes sane JSON, a report
 * and a plot. Exact search must have recall@10 = 1. Also checks the hand-assembled WASM SIMD kernels
 * that compute ground truth and the bandwidth bound against plain-JS oracles.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChurnResultsFile } from "../src/churn-benchmark.js";
import type { HttpResultsFile } from "../src/http-benchmark.js";
import type { AnnResultsFile } from "../src/run-types.js";
import { Rng } from "../src/rng.js";
import { dotJs, paddedDim, SimdKernels } from "../src/simd-kernels.js";

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(benchDir, "..");

describe("bench", () => {
  beforeAll(() => {
    // The smoke run executes compiled JS in child processes: compile bench (a no-op when up to date).
    const tsc = createRequire(path.join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-b", path.join(benchDir, "tsconfig.json")], { stdio: "inherit" });
    if (!fs.existsSync(path.join(repoRoot, "packages/core/dist/index.js"))) {
      throw new Error("packages/core is not built: run `pnpm build` (the root `pnpm test` builds first)");
    }
  });

  it("--smoke --only omendb writes sane results, a report and a plot", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    const run = spawnSync(process.execPath, ["--expose-gc", path.join(benchDir, "dist/cli.js"), "--smoke", "--only", "omendb", "--out", out], {
      encoding: "utf8",
      timeout: 55_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const files = fs.readdirSync(out).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    const r = JSON.parse(fs.readFileSync(path.join(out, files[0]!), "utf8")) as AnnResultsFile;
    expect(r.type).toBe("ann");
    expect(r.smoke).toBe(true);
    expect(r.machine.node).toBe(process.version);
    expect(r.machine.cores).toBeGreaterThanOrEqual(1);
    expect(r.machine.command).toContain("--smoke");
    expect(r.dataset.count).toBeGreaterThan(0);
    expect(r.engines.map((e) => e.engine)).toEqual(["omendb"]);
    const e = r.engines[0]!;
    expect(e.status, e.reason).toBe("ok");
    expect(e.build!.vectorsPerSecond).toBeGreaterThan(0);
    expect(e.diskBytes).toBeGreaterThan(0);
    expect(e.reopen!.totalSeconds).toBeGreaterThan(0);
    expect(Number.isFinite(e.memory!.anonBytesPerVector)).toBe(true);
    expect(e.points.length).toBeGreaterThanOrEqual(1);
    for (const p of e.points) {
      expect(p.recall).toBe(1);
      expect(p.queries).toBeGreaterThan(0);
      expect(p.qps1).toBeGreaterThan(0);
      expect(p.p50Ms).toBeLessThanOrEqual(p.p99Ms);
    }
    const report = fs.readFileSync(path.join(out, "REPORT.md"), "utf8");
    expect(report).toContain(`## ${r.dataset.name}`);
    expect(report).toContain("| omendb");
    expect(fs.readFileSync(path.join(out, "plots", `${r.dataset.name}.svg`), "utf8")).toMatch(/^<svg/);
    expect(fs.statSync(path.join(out, "plots", `${r.dataset.name}.png`)).size).toBeGreaterThan(1000);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("http --smoke drives the real server from a load process and matches in-process results", () => {
    if (!fs.existsSync(path.join(repoRoot, "packages/server/dist/cli.js"))) {
      throw new Error("packages/server is not built: run `pnpm build` (the root `pnpm test` builds first)");
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    const run = spawnSync(process.execPath, ["--expose-gc", path.join(benchDir, "dist/cli.js"), "http", "--smoke", "--out", out], { encoding: "utf8", timeout: 55_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const files = fs.readdirSync(out).filter((f) => f.endsWith("-http.json"));
    expect(files).toHaveLength(1);
    const r = JSON.parse(fs.readFileSync(path.join(out, files[0]!), "utf8")) as HttpResultsFile;
    expect(r.type).toBe("http");
    expect(r.smoke).toBe(true);
    expect(r.machine.command).toContain("http --smoke");
    expect(r.inProcess.qps).toBeGreaterThan(0);
    expect(r.verification.queries).toBeGreaterThan(0);
    expect(r.verification.mismatches).toEqual([]);
    expect(r.verification.matching).toBe(r.verification.queries);
    expect(r.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    for (const l of r.levels) {
      expect(l.status, l.reason).toBe("ok");
      expect(l.errors, l.firstError).toBe(0);
      expect(l.requests).toBeGreaterThan(0);
      expect(l.requestsPerSecond).toBeCloseTo(l.requests / l.windowSeconds, 6);
      expect(l.p50Ms).toBeLessThanOrEqual(l.p99Ms);
      if (process.platform === "linux") expect(l.serverCores).toBeGreaterThan(0);
    }
    const report = fs.readFileSync(path.join(out, "REPORT.md"), "utf8");
    expect(report).toContain("## HTTP server query throughput");
    expect(report).toContain(`### ${r.dataset.name}`);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("churn --smoke deletes and inserts, consolidates, and never returns a deleted record", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
    const run = spawnSync(process.execPath, ["--expose-gc", path.join(benchDir, "dist/cli.js"), "churn", "--smoke", "--out", out], { encoding: "utf8", timeout: 55_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const files = fs.readdirSync(out).filter((f) => f.endsWith("-churn.json"));
    expect(files).toHaveLength(1);
    const r = JSON.parse(fs.readFileSync(path.join(out, files[0]!), "utf8")) as ChurnResultsFile;
    expect(r.type).toBe("churn");
    expect(r.smoke).toBe(true);
    expect(r.machine.command).toContain("churn --smoke");
    expect(r.datasets).toHaveLength(1);
    const d = r.datasets[0]!;
    expect(d.rounds.map((x) => x.round)).toEqual([0, 1, 2, "reopen"]);
    expect(d.initial + d.pool).toBe(d.dataset.count);
    for (const x of d.rounds) {
      expect(x.live).toBe(d.initial);
      expect(x.status.mode).toBe("index");
      // buildIndex() resolves with every live record indexed and every deleted node consolidated.
      expect(x.status).toMatchObject({ indexed: d.initial, pending: 0, deleted: 0 });
      expect(x.nonLiveReturned).toBe(0);
      expect(x.shortResults).toBe(0);
      expect(x.recall).toBeGreaterThan(0.9);
      expect(x.recall).toBeLessThanOrEqual(1);
      expect(x.p50Ms).toBeLessThanOrEqual(x.p99Ms);
    }
    for (const x of d.rounds.slice(1, 3)) expect([x.deleted, x.inserted]).toEqual([d.perRound, d.perRound]);
    expect(d.dropPoints).toBeCloseTo((d.rounds[0]!.recall - d.rounds[2]!.recall) * 100, 9);
    expect(d.pass).toBe(d.dropPoints <= r.maxDropPoints);
    const report = fs.readFileSync(path.join(out, "REPORT.md"), "utf8");
    expect(report).toContain("## Recall under churn (issue #3)");
    expect(report).toContain(`### ${d.dataset.name}`);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("WASM SIMD kernels agree with the JS oracles", () => {
    const rng = new Rng(3);
    const dim = 100;
    const pd = paddedDim(dim);
    const rows = 37;
    const k = new SimdKernels();
    k.ensure((rows + 2) * pd * 4 + rows * 4);
    const mem = k.f32(0, (rows + 1) * pd);
    mem.fill(0);
    for (let r = 0; r <= rows; r++) for (let i = 0; i < dim; i++) mem[r * pd + i] = rng.normal();
    const outPtr = (rows + 1) * pd * 4;
    k.dots(0, pd * 4, rows, pd, outPtr);
    const out = k.f32(outPtr, rows);
    for (let r = 0; r < rows; r++) {
      const want = dotJs(mem.subarray(0, dim), mem.subarray((r + 1) * pd, (r + 1) * pd + dim));
      expect(Math.abs(out[r]! - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
    }
    let sum = 0;
    for (let i = 0; i < 4 * pd; i++) sum += mem[i]!;
    expect(Math.abs(k.sum(0, 4 * pd * 4) - sum)).toBeLessThan(1e-3);
    expect(() => k.dots(0, 0, 1, dim, 0)).toThrow();
  });
});
