/**
 * The read/write gate between the thread that owns a database (writes, index maintenance,
 * checkpoints) and its search threads (read-only searches over shared memory): any number of
 * searches at once, or one writer, never both. Writers go first: once one waits, new searches wait.
 *
 * State: an Int32Array over a SharedArrayBuffer, [WRITER, READERS, EPOCH, READING × threads]. WRITER
 * is 1 while the owner writes or waits to; READERS counts searches in progress; EPOCH changes
 * whenever the owner publishes new shared structures to the search threads (`search-pool.ts`),
 * always inside a write; READING[t] is 1 while thread t is counted in READERS, so the owner can
 * release the count of a thread that died mid-search ({@link ReadWriteGate.releaseDeadReader}).
 *
 * INVARIANT: READERS > 0 ⇒ no write in progress; WRITER = 1 and READERS = 0 ⇒ no search in progress.
 * The owner blocks (Atomics.wait, allowed on Node's main thread) only until the searches in progress
 * end: each is one bounded graph search.
 */

const WRITER = 0;
const READERS = 1;
const EPOCH = 2;
const READING = 3;

/** A new gate state for up to `threads` search threads (share it with them). */
export function createGateState(threads: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer((READING + threads) * 4));
}

/** The owner's side of a gate. */
export class ReadWriteGate {
  private depth = 0;

  /** @param state from {@link createGateState}; `afterWrite` runs at the end of each outermost write, still exclusive. */
  constructor(
    readonly state: Int32Array,
    private readonly afterWrite: () => void,
  ) {}

  /** Runs `fn` with no search in progress (nested calls run inside the outer write). */
  write<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    const state = this.state;
    Atomics.store(state, WRITER, 1);
    for (let readers = Atomics.load(state, READERS); readers !== 0; readers = Atomics.load(state, READERS)) {
      Atomics.wait(state, READERS, readers, 100);
    }
    this.depth++;
    try {
      const result = fn();
      this.afterWrite();
      return result;
    } finally {
      this.depth--;
      Atomics.store(state, WRITER, 0);
      Atomics.notify(state, WRITER);
    }
  }

  /** Thread `thread` died: if it was counted as searching, stop counting it (else writes would wait forever). */
  releaseDeadReader(thread: number): void {
    if (Atomics.exchange(this.state, READING + thread, 0) === 1 && Atomics.sub(this.state, READERS, 1) === 1) {
      Atomics.notify(this.state, READERS);
    }
  }

  /**
   * Publishes a new epoch: `post` sends what changed, tagged with the new epoch, before the gate
   * shows it. Only inside {@link write}.
   */
  publish(post: (epoch: number) => void): void {
    if (this.depth === 0) throw new Error("read/write gate: publish outside a write");
    const epoch = Atomics.load(this.state, EPOCH) + 1;
    post(epoch);
    Atomics.store(this.state, EPOCH, epoch);
  }
}

/** Search thread `thread` enters: waits while the owner writes, then counts itself in. */
export function enterRead(state: Int32Array, thread: number): void {
  for (;;) {
    while (Atomics.load(state, WRITER) === 1) Atomics.wait(state, WRITER, 1, 100);
    Atomics.store(state, READING + thread, 1);
    Atomics.add(state, READERS, 1);
    if (Atomics.load(state, WRITER) === 0) return;
    exitRead(state, thread); // a writer arrived meanwhile: let it go first
  }
}

/** Search thread `thread` leaves; the last one out wakes a waiting writer. */
export function exitRead(state: Int32Array, thread: number): void {
  if (Atomics.exchange(state, READING + thread, 0) === 1 && Atomics.sub(state, READERS, 1) === 1) Atomics.notify(state, READERS);
}

/** The epoch last published by the owner. */
export function currentEpoch(state: Int32Array): number {
  return Atomics.load(state, EPOCH);
}
