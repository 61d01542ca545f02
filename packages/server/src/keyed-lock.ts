/**
 * A FIFO async mutex per key. The server uses it to make its read-modify-write operations (Chroma's
 * `add` that skips existing ids, `update` and `upsert` that merge metadata) atomic per collection,
 * and to serialise catalogue changes. Reads never take it.
 */

/** Runs async sections one at a time per key, in arrival order. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `section` once every earlier section for `key` has settled; resolves with its result. */
  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** How many keys have a section running or queued (for metrics and tests). */
  get activeKeys(): number {
    return this.tails.size;
  }
}
