import { describe, expect, it } from "vitest";
import { KeyedLock } from "./keyed-lock.js";

describe("KeyedLock", () => {
  it("runs sections of one key one at a time, in arrival order", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = lock.run("k", async () => {
      log.push("first:start");
      await gate;
      log.push("first:end");
    });
    const second = lock.run("k", async () => {
      log.push("second");
    });
    const other = lock.run("other", async () => {
      log.push("other");
    });
    await other;
    expect(log).toEqual(["first:start", "other"]);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(["first:start", "other", "first:end", "second"]);
    expect(lock.activeKeys).toBe(0);
  });

  it("keeps going after a section throws", async () => {
    const lock = new KeyedLock();
    await expect(lock.run("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lock.run("k", async () => 7)).resolves.toBe(7);
  });
});
