/**
 * One writing process per data folder. The lock is a file created exclusively (`O_EXCL`) that holds
 * the owner's pid. A lock left by a process that no longer exists (after `kill -9` or a power loss)
 * is stale and taken over; a live holder makes `acquire` throw {@link LockedError} naming its pid.
 * A process-wide registry also refuses a second open of the same folder from the same process.
 */
import fs from "node:fs";
import { LockedError, ioError } from "../errors.js";

const heldInThisProcess = new Set<string>();

/** A held lock; `release()` removes the file. */
export interface HeldLock {
  readonly file: string;
  release(): void;
}

/** Takes the lock at `file` or throws LockedError. */
export function acquireLock(file: string): HeldLock {
  if (heldInThisProcess.has(file)) throw new LockedError(file, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, `${process.pid}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      heldInThisProcess.add(file);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          heldInThisProcess.delete(file);
          fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw ioError(`creating lock file ${file}`, err);
    }
    const holder = readHolder(file);
    if (holder !== undefined && isAlive(holder)) throw new LockedError(file, holder);
    // Stale (holder gone, or the file was half-written by a crashed process): remove and retry.
    fs.rmSync(file, { force: true });
  }
  throw new LockedError(file, readHolder(file) ?? -1);
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  // Our own pid without a registry entry is a lock this process left behind (an open that failed).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
