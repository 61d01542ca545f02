/**
 * CRC-32C of byte ranges of a file, computed on a worker thread (`checksum-worker.ts`), so a large
 * file's checksums run on another core while this thread does other work (opening a folder checks
 * a 1M-vector index file's ~530 MB this way while it loads the records).
 */
import { Worker } from "node:worker_threads";
import { ioError } from "../errors.js";

/** The worker script, compiled: the same relative path works from `src/` and `dist/`. */
const WORKER_URL = new URL("../../dist/storage/checksum-worker.js", import.meta.url);

/** One range of a file: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** What the worker posts back: the checksums in range order, or why it could not read the file. */
export type ChecksumAnswer = { crcs: number[] } | { error: string; code?: string };

/**
 * The CRC-32C of each range of `file` (a range past the end checksums the bytes that exist).
 * @throws OmenDBError (`IO`) when the file cannot be read or the worker fails.
 */
export function checksumRanges(file: string, ranges: readonly ByteRange[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: { file, ranges } });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.once("message", (answer: ChecksumAnswer) =>
      settle(() => {
        if ("crcs" in answer) resolve(answer.crcs);
        else reject(ioError(`checksumming ${file}`, Object.assign(new Error(answer.error), { code: answer.code })));
      }),
    );
    worker.once("error", (err) => settle(() => reject(ioError(`checksumming ${file}`, err))));
    worker.once("exit", (code) => settle(() => reject(ioError(`checksumming ${file}`, new Error(`checksum worker exited with code ${code}`)))));
  });
}
