/**
 * Worker side of `checksum-thread.ts`: reads the ranges of one file in 1 MiB chunks and posts their
 * CRC-32Cs back.
 */
import fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { crc32c } from "../internal/crc32c.js";
import type { ByteRange, ChecksumAnswer } from "./checksum-thread.js";

const CHUNK = 1024 * 1024;

function checksums(file: string, ranges: readonly ByteRange[]): number[] {
  const fd = fs.openSync(file, "r");
  try {
    const buffer = new Uint8Array(CHUNK);
    return ranges.map(({ offset, length }) => {
      let crc = 0;
      for (let done = 0; done < length; ) {
        const n = fs.readSync(fd, buffer, 0, Math.min(CHUNK, length - done), offset + done);
        if (n === 0) break;
        crc = crc32c(buffer, crc, n);
        done += n;
      }
      return crc;
    });
  } finally {
    fs.closeSync(fd);
  }
}

const { file, ranges } = workerData as { file: string; ranges: ByteRange[] };
let answer: ChecksumAnswer;
try {
  answer = { crcs: checksums(file, ranges) };
} catch (err) {
  answer = { error: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
}
parentPort!.postMessage(answer);
