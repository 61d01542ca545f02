/**
 * Fault injection at the database level. `OmenDB.open` has no file-system hook, so this file wraps
 * the real `node:fs/promises` (WAL segments, the index file) and `node:fs` (the vector file) with
 * vitest module mocks: every call goes to the real file system except the one a test arms to fail
 * (EIO from fdatasync, ENOSPC from write), matched by file kind. SQLite is a native module and is
 * not reached.
 *
 * For each fault: the writes it hits reject with OmenDBError code IO, the database then refuses
 * writes (IO) while reads keep working, `close()` completes, and a reopen with the fault gone holds
 * every acknowledged write; a rejected batch is there wholly or not at all.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Collection, OmenDB, type OmenDBError } from "../src/index.js";
import { crashImage, randomVectors, tempDir } from "./helpers.js";

type Kind = "wal" | "vec" | "ann";
type Op = "write" | "datasync";

/** The armed fault, if any: which file kind, which call, which errno, and how many calls to let pass first. */
const faults = vi.hoisted(() => ({
  armed: undefined as undefined | { kind: "wal" | "vec" | "ann"; op: "write" | "datasync"; code: string; skip: number },
  injected: 0,
}));

function kindOf(file: string): Kind | undefined {
  if (/\.wal(\.tmp)?$/.test(file)) return "wal";
  if (/\.vec(\.creating)?$/.test(file)) return "vec";
  if (/\.ann(\.tmp)?$/.test(file)) return "ann";
  return undefined;
}

/** Whether the call `op` on `file` should fail now; consumes the fault when it fires. */
function shouldFail(file: string, op: Op): string | undefined {
  const armed = faults.armed;
  if (armed === undefined || armed.op !== op || kindOf(file) !== armed.kind) return undefined;
  if (armed.skip-- > 0) return undefined;
  faults.injected++;
  return armed.code;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  const open = async (...args: Parameters<typeof real.open>) => {
    const handle = await real.open(...args);
    const file = String(args[0]);
    return new Proxy(handle, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "write" || prop === "datasync" || prop === "sync") {
          const op: Op = prop === "write" ? "write" : "datasync";
          return (...a: unknown[]) => {
            const code = shouldFail(file, op);
            if (code !== undefined) return Promise.reject(errno(code));
            return (value as (...x: unknown[]) => unknown).apply(target, a);
          };
        }
        return (value as (...x: unknown[]) => unknown).bind(target);
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const paths = new Map<number, string>();
  const openSync = (...args: Parameters<typeof real.openSync>) => {
    const fd = real.openSync(...args);
    paths.set(fd, String(args[0]));
    return fd;
  };
  const closeSync = (fd: number) => {
    paths.delete(fd);
    return real.closeSync(fd);
  };
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    const code = shouldFail(paths.get(fd) ?? "", "write");
    if (code !== undefined) throw errno(code);
    return (real.writeSync as (...x: unknown[]) => number)(fd, ...rest);
  }) as typeof real.writeSync;
  const fdatasyncSync = (fd: number) => {
    const code = shouldFail(paths.get(fd) ?? "", "datasync");
    if (code !== undefined) throw errno(code);
    return real.fdatasyncSync(fd);
  };
  const patched = { ...real, openSync, closeSync, writeSync, fdatasyncSync };
  return { ...patched, default: patched };
});

afterEach(() => {
  faults.armed = undefined;
});

/** `db.checkpoint()` as a promise even if it throws synchronously (it once did; see the regression test at the end). */
const checkpointOf = (db: OmenDB) => Promise.resolve().then(() => db.checkpoint());

const DIM = 8;
const vectors = randomVectors(2000, DIM, 21);

function batch(b: number, size = 3) {
  return Array.from({ length: size }, (_, i) => ({ id: `b${b}-${i}`, vector: vectors[(b * size + i) % vectors.length]!, metadata: { b } }));
}

async function setup(options: { index?: boolean } = {}) {
  const dir = tempDir();
  const db = await OmenDB.open(dir, { durability: "fsync" });
  const c = await db.createCollection("c", { dimension: DIM, index: options.index === true ? { threshold: 40 } : {} });
  const acked = new Set<number>();
  for (let b = 0; b < 20; b++) {
    await c.upsert(batch(b));
    acked.add(b);
  }
  return { dir, db, c, acked };
}

/** Issues `n` concurrent batches from `first`; returns which were acknowledged and which rejected (with what). */
async function burst(c: Collection, first: number, n: number) {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => c.upsert(batch(first + i))));
  const acked: number[] = [];
  const rejected: { b: number; err: OmenDBError }[] = [];
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") acked.push(first + i);
    else rejected.push({ b: first + i, err: s.reason as OmenDBError });
  });
  return { acked, rejected };
}

/**
 * After a fault: writes refused with IO, reads working. Returns a crash image of the folder (the
 * process is treated as killed, as an application would restart after a storage fault); the failed
 * database is closed afterwards, so its files' handles are not left to the garbage collector.
 */
async function expectFailStopped(db: OmenDB, c: Collection, ackedCount: number): Promise<string> {
  await expect(c.upsert(batch(999))).rejects.toMatchObject({ code: "IO" });
  await expect(c.delete(["b0-0"])).rejects.toMatchObject({ code: "IO" });
  await expect(checkpointOf(db)).rejects.toMatchObject({ code: "IO" });
  expect(await c.count()).toBe(ackedCount * 3);
  expect((await c.search(vectors[0]!, { k: 1 }))[0]?.id).toBe("b0-0");
  const image = crashImage(db.path);
  await db.close().catch(() => undefined);
  return image;
}

/** Reopens with no fault armed: every acknowledged batch is there; every rejected one wholly or not at all. */
async function expectRecovered(dir: string, acked: Iterable<number>, rejected: number[]): Promise<void> {
  faults.armed = undefined;
  const db = await OmenDB.open(dir);
  const c = db.getCollection("c");
  let expected = 0;
  for (const b of acked) {
    const got = await c.get(batch(b).map((r) => r.id), { includeVector: true });
    expect(got.map((r) => r.id), `acknowledged batch ${b}`).toEqual(batch(b).map((r) => r.id));
    got.forEach((r, i) => expect(Buffer.from(r.vector!.buffer).equals(Buffer.from(batch(b)[i]!.vector.buffer))).toBe(true));
    expected += 3;
  }
  for (const b of rejected) {
    const n = (await c.get(batch(b).map((r) => r.id))).length;
    expect([0, 3], `rejected batch ${b}: ${n} of 3 records`).toContain(n);
    expected += n;
  }
  expect(await c.count()).toBe(expected);
  for (const b of acked) expect((await c.search(batch(b)[0]!.vector, { k: 1 }))[0]!.id).toBe(`b${b}-0`);
  // The folder is writable again and the log continues.
  await c.upsert(batch(1500));
  await db.close();
  const again = await OmenDB.open(dir);
  expect(await again.getCollection("c").count()).toBe(expected + 3);
  await again.close();
}

describe("faults in the WAL under concurrent writers", () => {
  for (const [op, code] of [
    ["datasync", "EIO"],
    ["write", "ENOSPC"],
  ] as const) {
    it(`${code} from ${op}: every write it covers rejects with IO, acknowledged ones survive`, async () => {
      const { dir, db, c, acked } = await setup({ index: true });
      const before = faults.injected;
      faults.armed = { kind: "wal", op, code, skip: 0 };
      const { acked: late, rejected } = await burst(c, 20, 30);
      expect(faults.injected - before).toBe(1);
      expect(rejected.length).toBeGreaterThan(0);
      for (const { err } of rejected) {
        expect(err.code).toBe("IO");
        expect((err.cause as NodeJS.ErrnoException | undefined)?.code ?? (err.cause as OmenDBError | undefined)?.code).toBeDefined();
      }
      for (const b of late) acked.add(b);
      faults.armed = undefined;
      const image = await expectFailStopped(db, c, acked.size);
      await expectRecovered(image, acked, rejected.map((r) => r.b));
      void dir;
    });
  }
});

describe("faults during a checkpoint", () => {
  it("ENOSPC writing the index file: the checkpoint rejects with IO, no .tmp is left, everything acknowledged survives", async () => {
    const { dir, db, c, acked } = await setup({ index: true });
    await c.buildIndex();
    await c.upsert(batch(20));
    acked.add(20);
    faults.armed = { kind: "ann", op: "write", code: "ENOSPC", skip: 2 };
    await expect(db.checkpoint()).rejects.toMatchObject({ code: "IO" });
    faults.armed = undefined;
    expect(fs.readdirSync(path.join(dir, "vectors")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    await expectRecovered(await expectFailStopped(db, c, acked.size), acked, []);
  });

  it("EIO syncing the vector file: the checkpoint rejects with IO and the WAL is kept for replay", async () => {
    const { dir, db, c, acked } = await setup();
    faults.armed = { kind: "vec", op: "datasync", code: "EIO", skip: 0 };
    await expect(db.checkpoint()).rejects.toMatchObject({ code: "IO" });
    faults.armed = undefined;
    await expectRecovered(await expectFailStopped(db, c, acked.size), acked, []);
    void dir;
  });
});

describe("a fault applying a durable write", () => {
  it("ENOSPC writing the vector file: the write rejects with IO; the reopen replays it from the WAL", async () => {
    const { dir, db, c, acked } = await setup();
    faults.armed = { kind: "vec", op: "write", code: "ENOSPC", skip: 0 };
    const err = (await c.upsert(batch(20, 3)).catch((e: unknown) => e)) as OmenDBError;
    expect(err?.code).toBe("IO");
    faults.armed = undefined;
    await expect(c.upsert(batch(21))).rejects.toMatchObject({ code: "IO" });
    // The WAL record was durable before the apply failed, so the batch is there after the reopen.
    await expectRecovered(crashImage(dir), [...acked, 20], []);
    await db.close().catch(() => undefined);
  });

  it("…and until then no read sees part of that batch, even when its vectors take several writes", async () => {
    const { db, c } = await setup();
    // Free two scattered slots so the next batch's slots are not contiguous: three separate writes.
    await c.delete(["b2-1", "b9-0"]);
    faults.armed = { kind: "vec", op: "write", code: "ENOSPC", skip: 1 };
    const err = (await c.upsert(batch(20, 3)).catch((e: unknown) => e)) as OmenDBError;
    expect(err.code).toBe("IO");
    expect(faults.armed.skip).toBe(-1); // the second of the batch's vector writes failed
    faults.armed = undefined;
    expect((await c.get(batch(20, 3).map((r) => r.id))).length).toBe(0);
    expect(await c.count()).toBe(58);
    await db.close().catch(() => undefined);
  });
});

describe("closing after a failure", () => {
  it("close() completes after a failure when no write was attempted since", async () => {
    const { dir, db } = await setup();
    faults.armed = { kind: "vec", op: "datasync", code: "EIO", skip: 0 };
    await expect(db.checkpoint()).rejects.toMatchObject({ code: "IO" });
    faults.armed = undefined;
    await db.close();
    await expectRecovered(dir, Array.from({ length: 20 }, (_, b) => b), []);
  });

  // Regression (found here, fixed in dfdf83c): after the database had failed, a refused write leaked
  // the collection's in-flight count (Collection.write counted it, then host.submit threw
  // synchronously), so close() awaited collection.idle() forever.
  it("close() completes after a write was refused because of an earlier failure", async () => {
    const { db, c } = await setup();
    faults.armed = { kind: "vec", op: "datasync", code: "EIO", skip: 0 };
    await expect(db.checkpoint()).rejects.toMatchObject({ code: "IO" });
    faults.armed = undefined;
    await expect(c.upsert(batch(999))).rejects.toMatchObject({ code: "IO" });
    const outcome = await Promise.race([db.close().then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("still closing after 5 s"), 5000))]);
    expect(outcome).toBe("closed");
  });
});

describe("checkpoint() on a failed database", () => {
  // Regression (found here, fixed in dfdf83c): checkpoint() on a closed or failed database threw
  // synchronously instead of returning a rejected promise, unlike every other async method.
  it("returns a rejected promise rather than throwing", async () => {
    const { db } = await setup();
    faults.armed = { kind: "vec", op: "datasync", code: "EIO", skip: 0 };
    await expect(db.checkpoint()).rejects.toMatchObject({ code: "IO" });
    faults.armed = undefined;
    let promise: Promise<void> | undefined;
    expect(() => (promise = db.checkpoint())).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: "IO" });
    await db.close();
  });
});
