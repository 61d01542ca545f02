import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { ClosedError, ErrorCode, OmenDBError, ValidationError } from "../errors.js";
import { readWal } from "./wal-reader.js";
import { encodeSegmentHeader, segmentFileName } from "./wal-record.js";
import { RELAXED_SYNC_DELAY_MS, type SegmentFile, WalWriter } from "./wal-writer.js";

let root: string;
let dir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "omendb-"));
  dir = path.join(root, "wal");
});

afterEach(() => {
  vi.useRealTimers();
  fs.rmSync(root, { recursive: true, force: true });
});

interface ReadRecord {
  lsn: number;
  type: number;
  payload: string;
}

async function readAll(afterLsn = 0): Promise<{ records: ReadRecord[]; lastLsn: number; truncatedBytes: number }> {
  const records: ReadRecord[] = [];
  const result = await readWal(dir, {
    afterLsn,
    onRecord: (lsn, type, payload) => records.push({ lsn, type, payload: Buffer.from(payload).toString("hex") }),
  });
  return { records, ...result };
}

function payloadFor(lsn: number, length = 16): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (lsn * 31 + i * 7) & 0xff);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function segmentNames(): string[] {
  return fs.readdirSync(dir).sort();
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** Wraps the real segment file and logs each completed write and datasync. */
function logging(events: string[]): (file: SegmentFile) => SegmentFile {
  return (file) => ({
    write: async (buffer, offset, length, position) => {
      const result = await file.write(buffer, offset, length, position);
      events.push("write");
      return result;
    },
    datasync: async () => {
      await file.datasync();
      events.push("datasync");
    },
    close: () => file.close(),
  });
}

describe("WalWriter round trip", () => {
  it("assigns dense LSNs from nextLsn and the reader returns every record", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    const lsns: number[] = [];
    for (let lsn = 1; lsn <= 20; lsn++) lsns.push(await wal.append(lsn % 5, payloadFor(lsn, lsn * 3)));
    expect(lsns).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(wal.lastLsn).toBe(20);
    await wal.close();

    const { records, lastLsn, truncatedBytes } = await readAll();
    expect(lastLsn).toBe(20);
    expect(truncatedBytes).toBe(0);
    expect(records).toEqual(lsns.map((lsn) => ({ lsn, type: lsn % 5, payload: hex(payloadFor(lsn, lsn * 3)) })));
    expect(segmentNames()).toEqual([segmentFileName(1)]);
  });

  it("copies the payload, so the caller may reuse its buffer at once", async () => {
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1 });
    const buffer = new Uint8Array(8).fill(1);
    const first = wal.append(0, buffer);
    buffer.fill(2);
    const second = wal.append(0, buffer);
    await Promise.all([first, second]);
    await wal.close();
    expect((await readAll()).records.map((r) => r.payload)).toEqual(["0101010101010101", "0202020202020202"]);
  });

  it("accepts an empty payload and the largest type", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    expect(await wal.append(255, new Uint8Array(0))).toBe(1);
    await wal.close();
    expect((await readAll()).records).toEqual([{ lsn: 1, type: 255, payload: "" }]);
  });

  it("rejects a bad type or payload without using an LSN", async () => {
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1 });
    await expect(wal.append(256, new Uint8Array(1))).rejects.toBeInstanceOf(RangeError);
    await expect(wal.append(-1, new Uint8Array(1))).rejects.toBeInstanceOf(RangeError);
    await expect(wal.append(0, [1, 2] as unknown as Uint8Array)).rejects.toBeInstanceOf(TypeError);
    expect(await wal.append(0, new Uint8Array(1))).toBe(1);
    await wal.close();
    expect((await readAll()).lastLsn).toBe(1);
  });

  it("property: any sequence of appends reads back identically", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 600 }) }), { maxLength: 40 }),
        fc.integer({ min: 200, max: 4000 }),
        async (appends, maxSegmentBytes) => {
          dir = path.join(root, `wal-${run++}`);
          const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1, maxSegmentBytes });
          const lsns = await Promise.all(appends.map((a) => wal.append(a.type, a.payload)));
          await wal.close();
          expect(lsns).toEqual(appends.map((_, i) => i + 1));
          const { records, lastLsn } = await readAll();
          expect(lastLsn).toBe(appends.length);
          expect(records).toEqual(appends.map((a, i) => ({ lsn: i + 1, type: a.type, payload: hex(a.payload) })));
        },
      ),
      { seed: 4242, numRuns: 25 },
    );
  });
});

describe("WalWriter group commit", () => {
  it("writes 1000 appends made in one tick with one write and one fdatasync, resolving in LSN order", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    const resolved: number[] = [];
    const promises = Array.from({ length: 1000 }, (_, i) => wal.append(1, payloadFor(i + 1)).then((lsn) => (resolved.push(lsn), lsn)));
    const lsns = await Promise.all(promises);
    expect(lsns).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(resolved).toEqual(lsns);
    expect(wal.counters).toEqual({ appends: 1000, writes: 1, syncs: 1 });
    await wal.close();
    expect((await readAll()).records).toHaveLength(1000);
  });

  it("batches every append that arrives while a write + fdatasync is in flight into the next single write + sync", async () => {
    let syncStarted!: () => void;
    const started = new Promise<void>((resolve) => (syncStarted = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gated = false;
    const wal = await WalWriter.open(dir, {
      durability: "fsync",
      nextLsn: 1,
      wrapFile: (file) => ({
        write: (b, o, l, p) => file.write(b, o, l, p),
        datasync: async () => {
          if (!gated) {
            gated = true;
            syncStarted();
            await gate;
          }
          await file.datasync();
        },
        close: () => file.close(),
      }),
    });
    const resolved: number[] = [];
    const first = wal.append(1, payloadFor(1)).then((lsn) => resolved.push(lsn));
    await started;
    // These arrive over several event-loop turns while the first fdatasync is blocked.
    const rest: Promise<number>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 100; i++) rest.push(wal.append(1, payloadFor(2 + turn * 100 + i)).then((lsn) => (resolved.push(lsn), lsn)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(resolved).toEqual([]);
    release();
    await first;
    await Promise.all(rest);
    expect(resolved).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
    expect(wal.counters).toEqual({ appends: 501, writes: 2, syncs: 2 });
    await wal.close();
  });

  it("uses far fewer fdatasyncs than appends under concurrent load", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    const promises: Promise<number>[] = [];
    for (let turn = 0; turn < 50; turn++) {
      for (let i = 0; i < 20; i++) promises.push(wal.append(2, payloadFor(promises.length + 1, 100)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(promises);
    const { appends, writes, syncs } = wal.counters;
    expect(appends).toBe(1000);
    expect(syncs).toBe(writes);
    expect(syncs).toBeLessThanOrEqual(50);
    await wal.close();
    expect((await readAll()).lastLsn).toBe(1000);
  });
});

describe("WalWriter durability modes", () => {
  it('"fsync" acknowledges only after the fdatasync that covers the record', async () => {
    const events: string[] = [];
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1, wrapFile: logging(events) });
    await wal.append(1, payloadFor(1)).then(() => events.push("ack"));
    expect(events).toEqual(["write", "datasync", "ack"]);
    await wal.close();
  });

  it('"relaxed" acknowledges after the write and fdatasyncs on a timer', async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const events: string[] = [];
    let synced!: () => void;
    const syncSeen = new Promise<void>((resolve) => (synced = resolve));
    const wal = await WalWriter.open(dir, {
      durability: "relaxed",
      nextLsn: 1,
      wrapFile: (file) => {
        const inner = logging(events)(file);
        return { ...inner, datasync: () => inner.datasync().then(synced) };
      },
    });
    await wal.append(1, payloadFor(1)).then(() => events.push("ack"));
    await wal.append(1, payloadFor(2)).then(() => events.push("ack"));
    expect(events).toEqual(["write", "ack", "write", "ack"]);
    expect(wal.counters.syncs).toBe(0);
    vi.advanceTimersByTime(RELAXED_SYNC_DELAY_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wal.counters.syncs).toBe(0);
    vi.advanceTimersByTime(1);
    await syncSeen;
    expect(events).toEqual(["write", "ack", "write", "ack", "datasync"]);
    expect(wal.counters).toEqual({ appends: 2, writes: 2, syncs: 1 });
    await wal.close();
    expect(wal.counters.syncs).toBe(1); // nothing left to sync at close
  });

  it('"none" acknowledges after the write and never fdatasyncs until sync() or close()', async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const events: string[] = [];
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1, wrapFile: logging(events) });
    await wal.append(1, payloadFor(1)).then(() => events.push("ack"));
    vi.advanceTimersByTime(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(["write", "ack"]);
    await wal.sync();
    expect(events).toEqual(["write", "ack", "datasync"]);
    await wal.append(1, payloadFor(2));
    await wal.close();
    expect(events).toEqual(["write", "ack", "datasync", "write", "datasync"]);
    expect((await readAll()).lastLsn).toBe(2);
  });

  it("sync() resolves at once when everything is already durable", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    await wal.append(1, payloadFor(1));
    await wal.sync();
    expect(wal.counters.syncs).toBe(1);
    await wal.close();
  });
});

describe("WalWriter failures", () => {
  function failing(on: "write" | "datasync", error: Error): (file: SegmentFile) => SegmentFile {
    return (file) => ({
      write: on === "write" ? () => Promise.reject(error) : (b, o, l, p) => file.write(b, o, l, p),
      datasync: on === "datasync" ? () => Promise.reject(error) : () => file.datasync(),
      close: () => file.close(),
    });
  }

  for (const on of ["write", "datasync"] as const) {
    it(`a failed ${on} rejects every waiting append with IO, keeps the cause and fails the writer`, async () => {
      const injected = Object.assign(new Error(`injected ${on} failure`), { code: "EIO" });
      const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1, wrapFile: failing(on, injected) });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => wal.append(1, payloadFor(i + 1))));
      for (const result of results) {
        expect(result.status).toBe("rejected");
        const error = (result as PromiseRejectedResult).reason as OmenDBError;
        expect(error).toBeInstanceOf(OmenDBError);
        expect(error.code).toBe(ErrorCode.IO);
        expect(error.cause).toBe(injected);
      }
      const later = (await caught(wal.append(1, payloadFor(11)))) as OmenDBError;
      expect(later.code).toBe(ErrorCode.IO);
      expect(((await caught(wal.sync())) as OmenDBError).code).toBe(ErrorCode.IO);
      expect(((await caught(wal.close())) as OmenDBError).code).toBe(ErrorCode.IO);
    });
  }

  it("rejects the batch in flight and every queued append when the fdatasync fails", async () => {
    const injected = new Error("injected EIO");
    let started!: () => void;
    const syncStarted = new Promise<void>((resolve) => (started = resolve));
    let fail!: () => void;
    const failNow = new Promise<void>((resolve) => (fail = resolve));
    const wal = await WalWriter.open(dir, {
      durability: "fsync",
      nextLsn: 1,
      wrapFile: (file) => ({
        write: (b, o, l, p) => file.write(b, o, l, p),
        datasync: async () => {
          started();
          await failNow;
          throw injected;
        },
        close: () => file.close(),
      }),
    });
    const first = wal.append(1, payloadFor(1));
    await syncStarted;
    const queued = Array.from({ length: 5 }, (_, i) => wal.append(1, payloadFor(i + 2)));
    const sync = wal.sync();
    fail();
    const settled = await Promise.allSettled([first, ...queued, sync]);
    expect(settled.every((s) => s.status === "rejected" && (s.reason as OmenDBError).code === ErrorCode.IO)).toBe(true);
    await expect(wal.close()).rejects.toBeInstanceOf(OmenDBError);
    // The first record was written before the failed sync; the queued ones never were.
    const { records } = await readAll();
    expect(records.map((r) => r.lsn)).toEqual([1]);
  });

  it("a failed relaxed-mode timer sync fails the writer for later appends", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const injected = new Error("injected EIO");
    let called!: () => void;
    const syncCalled = new Promise<void>((resolve) => (called = resolve));
    const wal = await WalWriter.open(dir, {
      durability: "relaxed",
      nextLsn: 1,
      wrapFile: (file) => ({
        write: (b, o, l, p) => file.write(b, o, l, p),
        datasync: () => {
          called();
          return Promise.reject(injected);
        },
        close: () => file.close(),
      }),
    });
    expect(await wal.append(1, payloadFor(1))).toBe(1);
    vi.advanceTimersByTime(RELAXED_SYNC_DELAY_MS);
    await syncCalled;
    await new Promise((resolve) => setImmediate(resolve));
    const error = (await caught(wal.append(1, payloadFor(2)))) as OmenDBError;
    expect(error.code).toBe(ErrorCode.IO);
    expect(error.cause).toBe(injected);
    expect(((await caught(wal.sync())) as OmenDBError).code).toBe(ErrorCode.IO);
    await expect(wal.close()).rejects.toBeInstanceOf(OmenDBError);
  });
});

describe("WalWriter rotation and segment removal", () => {
  it("rotate() starts a segment at the next LSN; removeSegmentsUpTo deletes fully covered ones, never the active", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    for (let lsn = 1; lsn <= 5; lsn++) await wal.append(1, payloadFor(lsn));
    expect(await wal.rotate()).toBe(6);
    expect(await wal.rotate()).toBe(6); // empty active segment: nothing to do
    for (let lsn = 6; lsn <= 8; lsn++) await wal.append(1, payloadFor(lsn));
    expect(await wal.rotate()).toBe(9);
    expect(segmentNames()).toEqual([segmentFileName(1), segmentFileName(6), segmentFileName(9)]);

    expect(await wal.removeSegmentsUpTo(4)).toBe(0);
    expect(await wal.removeSegmentsUpTo(5)).toBe(1);
    expect(segmentNames()).toEqual([segmentFileName(6), segmentFileName(9)]);
    expect(await wal.removeSegmentsUpTo(7)).toBe(0);
    expect(await wal.removeSegmentsUpTo(1000)).toBe(1);
    expect(segmentNames()).toEqual([segmentFileName(9)]);
    await wal.append(1, payloadFor(9));
    await wal.close();

    const { records, lastLsn } = await readAll(8);
    expect(lastLsn).toBe(9);
    expect(records.map((r) => r.lsn)).toEqual([9]);
  });

  it("rotate() keeps records appended before it in the old segment and later ones in the new", async () => {
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1 });
    const before = [wal.append(1, payloadFor(1)), wal.append(1, payloadFor(2))];
    const rotated = wal.rotate();
    await Promise.all(before);
    const next = await rotated;
    expect(next).toBe(3);
    const after = await wal.append(1, payloadFor(9));
    await wal.close();
    expect(after).toBe(next);
    expect(segmentNames()).toEqual([segmentFileName(1), segmentFileName(next)]);
    expect((await readAll()).records.map((r) => r.lsn)).toEqual([1, 2, 3]);
  });

  it("starts a new segment when the active one reaches maxSegmentBytes", async () => {
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1, maxSegmentBytes: 1000 });
    for (let lsn = 1; lsn <= 30; lsn++) await wal.append(3, payloadFor(lsn, 100));
    await wal.close();
    const names = segmentNames();
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names.slice(0, -1)) expect(fs.statSync(path.join(dir, name)).size).toBeLessThan(1000 + 117);
    const { records } = await readAll();
    expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

describe("WalWriter open and close", () => {
  it("reopening continues the LSN sequence after readWal", async () => {
    let wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 1 });
    for (let lsn = 1; lsn <= 10; lsn++) await wal.append(1, payloadFor(lsn));
    await wal.close();
    const first = await readAll();
    expect(first.lastLsn).toBe(10);
    wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: first.lastLsn + 1 });
    expect(wal.lastLsn).toBe(10);
    expect(await wal.append(2, payloadFor(11))).toBe(11);
    await wal.close();
    const second = await readAll();
    expect(second.records.map((r) => r.lsn)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(segmentNames()).toEqual([segmentFileName(1), segmentFileName(11)]);
  });

  it("can open past the WAL's end when the checkpoint is ahead of it; the covered gap reads cleanly", async () => {
    let wal = await WalWriter.open(dir, { durability: "relaxed", nextLsn: 1 });
    for (let lsn = 1; lsn <= 3; lsn++) await wal.append(1, payloadFor(lsn));
    await wal.close();
    // Say LSNs 4 and 5 were applied and checkpointed but their WAL records were lost in a crash.
    const checkpointLsn = 5;
    const { lastLsn } = await readAll(checkpointLsn);
    expect(lastLsn).toBe(5);
    wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: lastLsn + 1 });
    expect(await wal.append(1, payloadFor(6))).toBe(6);
    expect((await readAll(checkpointLsn)).records.map((r) => r.lsn)).toEqual([6]);
    expect(await wal.removeSegmentsUpTo(checkpointLsn)).toBe(1);
    await wal.close();
    expect(segmentNames()).toEqual([segmentFileName(6)]);
  });

  it("reuses a header-only segment named nextLsn instead of creating another", async () => {
    let wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 7 });
    await wal.close();
    const { lastLsn } = await readAll(6);
    expect(lastLsn).toBe(6);
    wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 7 });
    expect(await wal.append(1, payloadFor(7))).toBe(7);
    await wal.close();
    expect(segmentNames()).toEqual([segmentFileName(7)]);
    expect((await readAll(6)).records.map((r) => r.lsn)).toEqual([7]);
  });

  it("deletes a leftover .tmp segment", async () => {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, `${segmentFileName(1)}.tmp`), encodeSegmentHeader(1).subarray(0, 10));
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1 });
    await wal.close();
    expect(segmentNames()).toEqual([segmentFileName(1)]);
  });

  it("refuses a nextLsn below the last segment or inside a segment that holds records", async () => {
    const wal = await WalWriter.open(dir, { durability: "fsync", nextLsn: 5 });
    await wal.append(1, payloadFor(5));
    await wal.close();
    for (const nextLsn of [3, 5]) {
      const error = await caught(WalWriter.open(dir, { durability: "fsync", nextLsn }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(ErrorCode.INVALID_OPTION);
    }
  });

  it("validates its options", async () => {
    for (const options of [
      { durability: "always" as never, nextLsn: 1 },
      { durability: "fsync" as const, nextLsn: 0 },
      { durability: "fsync" as const, nextLsn: 1.5 },
      { durability: "fsync" as const, nextLsn: 1, maxSegmentBytes: 10 },
    ]) {
      const error = await caught(WalWriter.open(dir, options));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(ErrorCode.INVALID_OPTION);
    }
  });

  it("after close(), appends and rotations reject with ClosedError; close() again is a no-op", async () => {
    const wal = await WalWriter.open(dir, { durability: "none", nextLsn: 1 });
    const pending = wal.append(1, payloadFor(1));
    const closing = wal.close();
    expect(await pending).toBe(1);
    await closing;
    await wal.close();
    for (const call of [wal.append(1, payloadFor(2)), wal.rotate(), wal.sync(), wal.removeSegmentsUpTo(1)]) {
      const error = await caught(call);
      expect(error).toBeInstanceOf(ClosedError);
      expect((error as ClosedError).code).toBe(ErrorCode.CLOSED);
    }
    expect((await readAll()).lastLsn).toBe(1);
  });
});
