#!/usr/bin/env node
/** The `omendb` executable (this package's bin). See `omendb --help`. */
import { runCli } from "./cli/run-cli.js";

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exitCode = code;
if (process.argv[2] === "serve") process.exit(code);
