/** Dispatches `omendb <command> ...` and turns failures into messages and exit codes. */
import { isOmenDBError } from "@omendb/core";
import { SERVER_VERSION } from "../app.js";
import { CliUsageError, println, type CliIO } from "./cli-io.js";
import { exportCommand, HELP, importCommand, serveCommand, statsCommand, verifyCommand } from "./commands.js";

const COMMANDS: Record<string, (args: string[], io: CliIO) => Promise<number>> = {
  serve: serveCommand,
  import: importCommand,
  export: exportCommand,
  stats: statsCommand,
  verify: verifyCommand,
};

/**
 * Runs the CLI with `argv` (without `node` and the script path).
 * @returns the exit code: 0 success, 1 failure (message on stderr), 2 bad usage.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.stdout.write(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v") {
    println(io.stdout, SERVER_VERSION);
    return 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    println(io.stderr, `omendb: unknown command ${JSON.stringify(command)}; run 'omendb --help'`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    if (err instanceof CliUsageError) {
      println(io.stderr, `omendb ${command}: ${err.message} (see 'omendb ${command} --help')`);
      return 2;
    }
    const code = isOmenDBError(err) ? ` [${err.code}]` : "";
    println(io.stderr, `omendb ${command}: ${(err as Error).message ?? String(err)}${code}`);
    return 1;
  }
}
