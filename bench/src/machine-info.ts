/**
 * What every result file records about the run: machine, runtime, commit and command, so a figure
 * can always be traced to where and how it was measured.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";

/** Machine and run description stored at the top of every results file. */
export interface MachineInfo {
  /** ISO timestamp of the run start. */
  date: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  /** `os.availableParallelism()`: the thread count used for "all cores" figures. */
  cores: number;
  memoryTotalBytes: number;
  /** `git rev-parse HEAD` of the repository, with `-dirty` when the work tree has changes. */
  commit: string;
  /** The command line as typed (`pnpm bench ...` reconstructed from argv). */
  command: string;
  /** 1, 5 and 15-minute load averages at the start: other work on the machine skews every figure. */
  loadAverage: number[];
}

/** The CPU model from /proc/cpuinfo (more precise than `os.cpus()` on some VMs), else os.cpus(). */
export function cpuModel(): string {
  try {
    const text = fs.readFileSync("/proc/cpuinfo", "utf8");
    const line = text.split("\n").find((l) => l.startsWith("model name"));
    if (line) return line.split(":")[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown";
}

/** The current commit of `repoRoot`; `-dirty` marks uncommitted changes; "unknown" outside git. */
export function gitCommit(repoRoot: string): string {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoRoot, encoding: "utf8" }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return "unknown";
  }
}

/** Collects {@link MachineInfo} for this process. `argv` are the CLI arguments after the script. */
export function machineInfo(repoRoot: string, argv: readonly string[]): MachineInfo {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryTotalBytes: os.totalmem(),
    commit: gitCommit(repoRoot),
    command: ["pnpm", "bench", ...argv].join(" "),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
