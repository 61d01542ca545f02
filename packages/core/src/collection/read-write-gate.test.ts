import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ReadWriteGate, createGateState, enterRead, exitRead } from "./read-write-gate.js";

describe("ReadWriteGate", () => {
  it("a write waits for a search in progress on another thread to end", async () => {
    const state = createGateState(1);
    const gate = new ReadWriteGate(state, () => undefined);
    const left = new Int32Array(new SharedArrayBuffer(4));
    // A thread that enters the read side, holds it for 100 ms, marks that it is done, then leaves
    // (the gate's own protocol, inlined).
    const worker = new Worker(
      `const { workerData } = require("node:worker_threads");
       const { s, left } = workerData; const READERS = 1, READING = 3;
       Atomics.store(s, READING, 1); Atomics.add(s, READERS, 1);
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
       Atomics.store(left, 0, 1);
       Atomics.store(s, READING, 0); if (Atomics.sub(s, READERS, 1) === 1) Atomics.notify(s, READERS);`,
      { eval: true, workerData: { s: state, left } },
    );
    while (Atomics.load(state, 1) === 0) await new Promise((r) => setTimeout(r, 5));
    // The write runs only after the reader has finished its search and left.
    expect(gate.write(() => [Atomics.load(left, 0), Atomics.load(state, 1)])).toEqual([1, 0]);
    await worker.terminate();
  });

  it("releases the count of a reader that died mid-search, so writes do not wait forever", () => {
    const state = createGateState(2);
    const gate = new ReadWriteGate(state, () => undefined);
    enterRead(state, 1); // thread 1 enters and never leaves
    enterRead(state, 0);
    exitRead(state, 0);
    expect(Atomics.load(state, 1)).toBe(1);
    gate.releaseDeadReader(1);
    expect(gate.write(() => "written")).toBe("written");
    gate.releaseDeadReader(1); // idempotent: nothing left to release
    expect(Atomics.load(state, 1)).toBe(0);
  });

  it("publishes epochs only inside a write, after the update was posted", () => {
    const state = createGateState(1);
    const gate = new ReadWriteGate(state, () => undefined);
    expect(() => gate.publish(() => undefined)).toThrow();
    const posted: number[] = [];
    gate.write(() => gate.publish((epoch) => posted.push(epoch, Atomics.load(state, 2))));
    expect(posted).toEqual([1, 0]); // the update carried epoch 1 while the gate still showed 0
    expect(Atomics.load(state, 2)).toBe(1);
  });
});
