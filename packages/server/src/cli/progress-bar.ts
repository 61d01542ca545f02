/**
 * A progress bar on stderr. On a terminal it redraws one line (`\r`); otherwise (CI logs, pipes) it
 * prints a line at each 10% step so logs stay readable.
 */
import type { CliIO } from "./cli-io.js";

const WIDTH = 30;

/** Progress of a job measured in `total` units (bytes of input), with a record count beside it. */
export class ProgressBar {
  private lastStep = -1;
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly stream: CliIO["stderr"],
    private readonly label: string,
    private readonly total: number,
  ) {}

  /** Reports `done` units and `records` records so far; redraws at most every 100 ms on a terminal. */
  update(done: number, records: number): void {
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.stream.isTTY === true) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && fraction < 1) return;
      this.lastDraw = now;
      const filled = Math.round(fraction * WIDTH);
      const seconds = Math.max((now - this.started) / 1000, 1e-3);
      const rate = Math.round(records / seconds);
      this.stream.write(`\r${this.label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${records} records  ${rate}/s `);
    } else {
      const step = Math.floor(fraction * 10);
      if (step === this.lastStep) return;
      this.lastStep = step;
      this.stream.write(`${this.label}: ${step * 10}% (${records} records)\n`);
    }
  }

  /** Final line: count and elapsed time. */
  finish(records: number): void {
    this.update(this.total, records);
    const seconds = (Date.now() - this.started) / 1000;
    if (this.stream.isTTY === true) this.stream.write("\n");
    this.stream.write(`${this.label}: ${records} records in ${seconds.toFixed(1)} s\n`);
  }
}
