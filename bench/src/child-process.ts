/**
 * Runs one job in a fresh Node process (`fork` with --expose-gc and IPC) and returns its single reply.
 * A child that dies without replying (segfault, out of memory, SIGKILL, timeout) becomes an error
 * reply naming the exit code or signal, so one engine's crash never stops the run.
 */
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Options of {@link runInChild}. */
export interface ChildOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill the child after this many seconds (default: no limit). */
  timeoutSeconds?: number;
  /** Extra Node flags. */
  execArgv?: string[];
}

/**
 * Forks `script` (a file next to this module), sends `job`, resolves with the first message it sends
 * back, or with `onFailure(description)` when it exits without one.
 */
export function runInChild<J, R>(script: string, job: J, onFailure: (why: string) => R, opts: ChildOptions = {}): Promise<R> {
  return new Promise((resolve) => {
    const child = fork(path.join(here, script), [], {
      execArgv: ["--expose-gc", ...(opts.execArgv ?? [])],
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let reply: R | undefined;
    let timedOut = false;
    const timer = opts.timeoutSeconds
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutSeconds * 1000)
      : undefined;
    child.once("message", (m: R) => {
      reply = m;
    });
    child.once("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (reply !== undefined) resolve(reply);
      else if (timedOut) resolve(onFailure(`timed out after ${opts.timeoutSeconds} s`));
      else resolve(onFailure(`child process exited without a result (${signal ? `signal ${signal}` : `code ${code}`})`));
    });
    child.send(job as object);
  });
}
