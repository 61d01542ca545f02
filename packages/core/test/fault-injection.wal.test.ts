/**
 * Fault injection into the write-ahead log through WalWriter's `wrapFile` hook (an option of
 * `WalWriter.open`; `OmenDB.open` does not expose it, so the writer is driven directly here and the
 * database-level faults live in fault-injection.db.test.ts).
 *
 * wal-writer.test.ts already covers a failing write/fdatasync rejecting every waiting append. This file
 * adds what happens around and after the fault:
 * - short writes (the OS writing fewer bytes than asked, down to one byte per call) lose nothing;
 * - ENOSPC after part of a batch reached the file, a write returning 0 bytes, EIO from fdatasync:
 *   every waiting append rejects with OmenDBError code IO (the fs error as `cause`), the writer
 *   refuses every later call, and the folder then reads back cleanly: every acknowledged record is
 *   there byte for byte, the records read are a dense LSN prefix, a torn record is cut as a torn
 *   tail, and a new writer continues the sequence;
 * - the same properties over seeded random fault schedules (which call fails, how, how short the
 *   writes are, how appends are grouped, which durability mode).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ErrorCode, OmenDBError } from "../src/errors.js";
import { mulberry32 } from "../src/internal/seeded-random.js";
import type { Durability } from "../src/types.js";
import { readWal } from "../src/wal/wal-reader.js";
import { type SegmentFile, WalWriter } from "../src/wal/wal-writer.js";
import { tempDir } from "./helpers.js";

const RUNS = Number(process.env["OMENDB_FAULT_RUNS"] ?? 300);

function payloadFor(n: number, length: number): Uint8Array {
  const rand = mulberry32(n * 2654435761);
  return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

async function readAll(dir: string): Promise<{ records: { lsn: number; hex: string }[]; lastLsn: number; truncatedBytes: number }> {
  const records: { lsn: number; hex: string }[] = [];
  const result = await readWal(dir, { afterLsn: 0, onRecord: (lsn, _type, payload) => records.push({ lsn, hex: Buffer.from(payload).toString("hex") }) });
  return { records, ...result };
}

/** A fault plan: which file call fails and how, and how short each write is. */
interface Plan {
  /**
   * Which call fails, counted from 0: among fdatasync calls for "eio-datasync", else among write
   * calls; -1 = none.
   */
  failAt: number;
  /** What the failing call does. */
  kind: "enospc-after-partial" | "enospc" | "eio-datasync" | "zero-write";
  /** Largest number of bytes one write call accepts (short writes); Infinity = no limit. */
  maxBytesPerWrite: number;
}

interface Counters {
  writes: number;
  syncs: number;
  faults: number;
  shortWrites: number;
}

/** Wraps the segment file per `plan`; counts calls and faults. */
function faulty(plan: Plan, counters: Counters): (file: SegmentFile) => SegmentFile {
  return (file) => ({
    write: async (buffer, offset, length, position) => {
      const call = counters.writes++;
      if (call === plan.failAt && plan.kind !== "eio-datasync") {
        counters.faults++;
        if (plan.kind === "zero-write") return { bytesWritten: 0 };
        if (plan.kind === "enospc-after-partial" && length > 1) {
          // Part of the batch reaches the file, then the disk is full.
          await file.write(buffer, offset, Math.floor(length / 2), position);
        }
        throw errno("ENOSPC");
      }
      const n = Math.min(length, plan.maxBytesPerWrite);
      if (n < length) counters.shortWrites++;
      return file.write(buffer, offset, n, position);
    },
    datasync: async () => {
      const call = counters.syncs++;
      if (call === plan.failAt && plan.kind === "eio-datasync") {
        counters.faults++;
        throw errno("EIO");
      }
      return file.datasync();
    },
    close: () => file.close(),
  });
}

/**
 * Appends `total` records in seeded bursts through a faulty writer, then checks the folder the way
 * recovery reads it. Returns what happened.
 */
async function runWithFaults(seed: number, plan: Plan, durability: Durability) {
  const dir = path.join(tempDir(), "wal");
  const counters: Counters = { writes: 0, syncs: 0, faults: 0, shortWrites: 0 };
  const rand = mulberry32(seed);
  const wal = await WalWriter.open(dir, { durability, nextLsn: 1, wrapFile: faulty(plan, counters) });
  const payloads = new Map<number, string>();
  const acked = new Set<number>();
  const failed: OmenDBError[] = [];
  const total = 20 + Math.floor(rand() * 60);
  let n = 0;
  while (n < total) {
    const burst = 1 + Math.floor(rand() * 8);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < burst && n < total; i++, n++) {
      const payload = payloadFor(seed * 1000 + n, 1 + Math.floor(rand() * 300));
      const lsn = wal.lastLsn + 1;
      payloads.set(lsn, Buffer.from(payload).toString("hex"));
      waits.push(
        wal.append(1, payload).then(
          (got) => {
            expect(got).toBe(lsn);
            acked.add(lsn);
          },
          (err: unknown) => void failed.push(err as OmenDBError),
        ),
      );
    }
    if (rand() < 0.5) await Promise.all(waits);
  }
  await wal.sync().catch((err: unknown) => failed.push(err as OmenDBError));
  const closeError = await wal.close().then(
    () => undefined,
    (err: unknown) => err as OmenDBError,
  );

  // Every failure is one OmenDBError IO carrying the fs error, and the writer stayed failed.
  for (const err of failed) {
    expect(err).toBeInstanceOf(OmenDBError);
    expect(err.code).toBe(ErrorCode.IO);
  }
  if (counters.faults > 0) {
    expect(failed.length).toBeGreaterThan(0);
    expect(closeError?.code).toBe(ErrorCode.IO);
    const cause = (failed[0]!.cause ?? {}) as { code?: string; message?: string };
    expect(cause.code ?? cause.message).toBeDefined();
  } else {
    expect(failed).toEqual([]);
    expect(closeError).toBeUndefined();
  }

  // Recovery: a dense prefix of LSNs from 1, every acknowledged record in it byte for byte.
  const { records, lastLsn, truncatedBytes } = await readAll(dir);
  records.forEach((r, i) => {
    expect(r.lsn).toBe(i + 1);
    expect(r.hex).toBe(payloads.get(r.lsn));
  });
  for (const lsn of acked) expect(lsn, `acknowledged LSN ${lsn} lost`).toBeLessThanOrEqual(records.length);
  expect(lastLsn).toBe(records.length);

  // The log continues after recovery.
  const next = await WalWriter.open(dir, { durability: "fsync", nextLsn: lastLsn + 1 });
  expect(await next.append(7, Uint8Array.of(1, 2, 3))).toBe(lastLsn + 1);
  await next.close();
  const after = await readAll(dir);
  expect(after.records.map((r) => r.lsn)).toEqual([...records.map((r) => r.lsn), lastLsn + 1]);
  expect(after.truncatedBytes).toBe(0);

  return { acked: acked.size, appended: total, failed: failed.length, recovered: records.length, truncatedBytes, ...counters };
}

describe("short writes", () => {
  for (const max of [1, 7, 100]) {
    it(`at most ${max} byte(s) per write call: nothing is lost or reordered`, async () => {
      const r = await runWithFaults(max, { failAt: -1, kind: "enospc", maxBytesPerWrite: max }, "fsync");
      expect(r.shortWrites).toBeGreaterThan(0);
      expect(r.acked).toBe(r.appended);
      expect(r.recovered).toBe(r.appended);
    });
  }
});

describe("a failing file call", () => {
  it("ENOSPC after half a batch reached the file: the batch is rejected, its torn bytes are cut at recovery", async () => {
    const r = await runWithFaults(11, { failAt: 1, kind: "enospc-after-partial", maxBytesPerWrite: Infinity }, "fsync");
    expect(r.faults).toBe(1);
    expect(r.failed).toBeGreaterThan(0);
    expect(r.truncatedBytes).toBeGreaterThan(0);
    // Whole records in the half that reached the file read back although their appends were
    // rejected: a rejected write's outcome is unknown, an acknowledged one's is not.
    expect(r.recovered).toBeGreaterThanOrEqual(r.acked);
    expect(r.recovered).toBeLessThan(r.appended);
  });

  it("a write returning 0 bytes fails the writer instead of spinning", async () => {
    const r = await runWithFaults(12, { failAt: 0, kind: "zero-write", maxBytesPerWrite: Infinity }, "fsync");
    expect(r.faults).toBe(1);
    expect(r.acked).toBe(0);
  });

  it("EIO from fdatasync: nothing it covered is acknowledged; what reached the file may be read back, as a prefix", async () => {
    const r = await runWithFaults(13, { failAt: 1, kind: "eio-datasync", maxBytesPerWrite: Infinity }, "fsync");
    expect(r.faults).toBe(1);
    expect(r.recovered).toBeGreaterThanOrEqual(r.acked);
  });
});

describe("seeded random fault schedules", () => {
  it(`keep every acknowledged record and recover a clean prefix (${RUNS} schedules)`, async () => {
    const kinds: Plan["kind"][] = ["enospc-after-partial", "enospc", "eio-datasync", "zero-write"];
    const modes: Durability[] = ["fsync", "relaxed", "none"];
    const totals = { schedules: 0, faults: 0, appended: 0, acked: 0, failed: 0, recovered: 0, shortWrites: 0, truncatedBytes: 0 };
    for (let seed = 1; seed <= RUNS; seed++) {
      const rand = mulberry32(seed * 7 + 1);
      const plan: Plan = {
        failAt: rand() < 0.1 ? -1 : Math.floor(rand() * 12),
        kind: kinds[Math.floor(rand() * kinds.length)]!,
        maxBytesPerWrite: rand() < 0.5 ? Infinity : 1 + Math.floor(rand() * 200),
      };
      const r = await runWithFaults(seed, plan, modes[seed % 3]!);
      totals.schedules++;
      totals.faults += r.faults;
      totals.appended += r.appended;
      totals.acked += r.acked;
      totals.failed += r.failed;
      totals.recovered += r.recovered;
      totals.shortWrites += r.shortWrites;
      totals.truncatedBytes += r.truncatedBytes;
    }
    console.log(`fault-injection.wal: ${JSON.stringify(totals)}`);
    expect(totals.faults).toBeGreaterThan(RUNS / 2);
  }, 300_000);
});

it("leaves no temporary segment files behind", async () => {
  const dir = path.join(tempDir(), "wal");
  const counters: Counters = { writes: 0, syncs: 0, faults: 0, shortWrites: 0 };
  const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1, wrapFile: faulty({ failAt: 0, kind: "eio-datasync", maxBytesPerWrite: Infinity }, counters) });
  await wal.append(1, Uint8Array.of(1)).catch(() => undefined);
  await wal.close().catch(() => undefined);
  expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
});
