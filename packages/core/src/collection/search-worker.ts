/**
 * A search pool worker (see `search-pool.ts`): answers index searches over the owning thread's
 * shared memory, one at a time, each inside the read side of the database's gate, and helps plan
 * the batches of a bulk index build when the owner asks (`batch-build.ts`).
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { AnnReader } from "../graph/ann-reader.js";
import { type BuildJob, serveBuild } from "../graph/batch-build.js";
import { currentEpoch, enterRead, exitRead } from "./read-write-gate.js";
import type { SearchAnswer, SearchJob, ShareUpdate } from "./search-pool.js";

const { thread, state, side } = workerData as { thread: number; state: Int32Array; side: MessagePort };
const readers = new Map<number, AnnReader>();
let epoch = 0;

/** Applies every share update posted so far (they precede the epoch the gate shows). */
function catchUp(): void {
  for (let m = receiveMessageOnPort(side); m !== undefined; m = receiveMessageOnPort(side)) {
    const update = m.message as ShareUpdate;
    readers.get(update.key)?.close();
    readers.delete(update.key);
    // A reader that cannot open the vector file is left out: its searches then run on the owner.
    if (update.share !== undefined) {
      try {
        readers.set(update.key, new AnnReader(update.share.ann, update.share.arena, thread));
      } catch {}
    }
    epoch = update.epoch;
  }
}

parentPort!.on("message", (job: SearchJob | BuildJob) => {
  if ("type" in job) {
    serveBuild(job, thread);
    return;
  }
  let answer: SearchAnswer;
  enterRead(state, thread);
  try {
    if (currentEpoch(state) !== epoch) catchUp();
    const reader = readers.get(job.key);
    if (reader === undefined) {
      answer = { id: job.id };
    } else {
      const hits = reader.search(job.query, job.k, job.efSearch);
      answer = { id: job.id, slots: hits.slots, distances: hits.distances, pool: hits.pool };
    }
  } catch (err) {
    answer = { id: job.id, error: String(err) };
  } finally {
    exitRead(state, thread);
  }
  parentPort!.postMessage(answer, answer.slots === undefined ? [] : [answer.slots.buffer as ArrayBuffer, answer.distances!.buffer as ArrayBuffer]);
});
