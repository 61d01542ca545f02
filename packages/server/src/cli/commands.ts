/**
 * The `omendb` commands: `serve`, `import`, `export`, `stats`, `verify`. Each parses its own arguments with
 * `node:util` `parseArgs` (strict: unknown options are errors), prints `--help`, and returns an exit
 * code: 0 success, 1 failure, 2 bad usage.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  isOmenDBError,
  OmenDB,
  verifyFolder,
  type Collection,
  type Durability,
  type Metric,
  type RecordInput,
  type VerifyProblem,
  type VerifyReport,
} from "@omendb/core";
import { startServer } from "../index.js";
import { ChromaCatalog } from "../chroma-catalog.js";
import { DEFAULT_BODY_LIMIT, DEFAULT_HOST, DEFAULT_MAX_BATCH_SIZE, DEFAULT_PORT } from "../server-options.js";
import { CliUsageError, parseInteger, parseSize, println, type CliIO } from "./cli-io.js";
import { ProgressBar } from "./progress-bar.js";
import { formatOf, readFvecs, readJsonl, type ImportFormat, type SourceItem } from "./record-sources.js";

/** The data folder used when `--path` is not given. */
export const DEFAULT_DATA_PATH = "./omendb-data";

const PATH_HELP = `  --path <dir>          data folder (default ${DEFAULT_DATA_PATH}; created if missing)`;

/** Help texts, by command. */
export const HELP = {
  main: `omendb: the OmenDB command line

Usage: omendb <command> [options]

Commands:
  serve     serve a data folder over a Chroma v2-compatible HTTP API
  import    load records from a JSONL or .fvecs file into a collection
  export    write a collection's records as JSONL
  stats     list collections with their dimension, metric and record count
  verify    check every file of a data folder; --repair rebuilds damaged index files

Run 'omendb <command> --help' for a command's options.
  --version             print the version
`,
  serve: `Usage: omendb serve [options]

Serve a data folder over a Chroma v2-compatible HTTP API (point the chromadb client at it).

${PATH_HELP}
  --host <addr>         interface to bind (default ${DEFAULT_HOST}; use 0.0.0.0 to expose, with an API key)
  --port <n>            port (default ${DEFAULT_PORT}; 0 picks a free port)
  --body-limit <size>   largest request body, e.g. 32MiB (default ${DEFAULT_BODY_LIMIT} bytes)
  --max-batch-size <n>  most records per write request (default ${DEFAULT_MAX_BATCH_SIZE})
  --durability <mode>   fsync | relaxed | none (default fsync: acknowledged writes are on disk)
  --threads <n>         worker threads that answer queries, 0-4 or auto (default auto: one per core)
  --log-level <level>   fatal | error | warn | info | debug | trace | silent (default info)
  -h, --help            show this help

Environment:
  OMENDB_API_KEY        when set, every request except heartbeat/version/healthcheck/openapi needs
                        'Authorization: Bearer <key>' or 'x-chroma-token: <key>'

Logs are JSON lines on stdout; the listening address is printed on stderr.
SIGTERM or SIGINT: stop accepting, finish requests in flight, checkpoint, exit 0.
`,
  import: `Usage: omendb import <file> --collection <name> [options]

Load records into a collection (created if missing, with the first vector's dimension).
Records whose id exists are replaced (upsert).

  <file>                  .jsonl: one {"id", "vector"|"embedding", "document"?, "metadata"?} per line
                          .fvecs: [int32 dim][dim float32] records; ids are <id-prefix><row>
${PATH_HELP}
  --collection <name>     target collection (required)
  --format <fmt>          jsonl | fvecs (default: from the file extension)
  --metric <m>            cosine | l2 | ip, for a new collection (default cosine)
  --batch-size <n>        records per write (default 1000)
  --id-prefix <text>      .fvecs id prefix (default "")
  -h, --help              show this help

A progress bar is drawn on stderr.
`,
  export: `Usage: omendb export --collection <name> [options]

Write every record of a collection as JSONL {"id","vector","document","metadata"}, in insertion order.

${PATH_HELP}
  --collection <name>   collection to export (required)
  --out <file>          output file (default: stdout)
  --batch-size <n>      records read per batch (default 1000)
  -h, --help            show this help
`,
  stats: `Usage: omendb stats [options]

List the collections of a data folder: name, id, dimension, metric, records; and the folder size.
Collections created over HTTP but never written to show dimension "-".

${PATH_HELP}
  --json                print JSON instead of a table
  -h, --help            show this help
`,
  verify: `Usage: omendb verify [<dir>] [options]

Check every file of a data folder (the server must not be running on it): SQLite integrity and
per-record checksums, every WAL segment, every live vector slot, the index files.
Exit code 0 when no problem remains, 1 when one does.

  <dir>                 data folder (or --path; default ${DEFAULT_DATA_PATH})
  --path <dir>          data folder, as for the other commands
  --repair              move damaged index files aside (<name>.ann.damaged-<time>) so the next open
                        rebuilds them from the records; damage to records is reported, never dropped
  --json                print the full report as JSON
  -h, --help            show this help
`,
} as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed command-line options. */
interface ParsedArgs {
  /** A string option's value. */
  str(name: string): string | undefined;
  /** Whether a boolean option was given. */
  flag(name: string): boolean;
  positionals: string[];
}

function parse(args: string[], options: Options, allowPositionals = false): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals, strict: true });
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return {
    str: (name) => {
      const v = values[name];
      return typeof v === "string" ? v : undefined;
    },
    flag: (name) => values[name] === true,
    positionals: parsed.positionals,
  };
}

async function openDatabase(dataPath: string, durability: Durability = "fsync", threads: number | "auto" = 0): Promise<OmenDB> {
  try {
    return await OmenDB.open(dataPath, { durability, threads });
  } catch (err) {
    if (isOmenDBError(err) && err.code === "LOCKED") {
      throw new Error(`${dataPath} is in use by another process (is 'omendb serve' running on it?): ${err.message}`);
    }
    throw err;
  }
}

/** `omendb serve`: resolves with the exit code once the server has shut down. */
export async function serveCommand(args: string[], io: CliIO): Promise<number> {
  const a = parse(args, {
    path: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "body-limit": { type: "string" },
    "max-batch-size": { type: "string" },
    durability: { type: "string" },
    threads: { type: "string" },
    "log-level": { type: "string" },
  });
  if (a.flag("help")) return help(io, "serve");
  const threadsArg = a.str("threads") ?? "auto";
  const threads = threadsArg === "auto" ? "auto" : parseInteger(threadsArg, "--threads");
  if (threads !== "auto" && threads > 4) throw new CliUsageError("--threads: expected auto or 0 to 4");
  const durability = (a.str("durability") ?? "fsync") as string;
  if (!["fsync", "relaxed", "none"].includes(durability)) throw new CliUsageError(`--durability: expected fsync, relaxed or none, got ${durability}`);
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  const logLevel = (a.str("log-level") ?? "info") as string;
  if (!levels.includes(logLevel)) throw new CliUsageError(`--log-level: expected one of ${levels.join(", ")}`);
  const dataPath = a.str("path") ?? DEFAULT_DATA_PATH;
  const port = a.str("port") === undefined ? DEFAULT_PORT : parseInteger(a.str("port")!, "--port");
  if (port > 65535) throw new CliUsageError("--port: must be at most 65535");

  const db = await openDatabase(dataPath, durability as Durability, threads);
  let server;
  try {
    server = await startServer({
      db,
      host: a.str("host") ?? DEFAULT_HOST,
      port,
      apiKey: io.env["OMENDB_API_KEY"] ?? null,
      bodyLimit: a.str("body-limit") === undefined ? undefined : parseSize(a.str("body-limit")!, "--body-limit"),
      maxBatchSize: a.str("max-batch-size") === undefined ? undefined : parseInteger(a.str("max-batch-size")!, "--max-batch-size", 1),
      logger: logLevel === "silent" ? false : (logLevel as "info"),
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const auth = server.options.apiKey === undefined ? "no API key: set OMENDB_API_KEY to require one" : "API key required";
  println(io.stderr, `omendb: serving ${path.resolve(dataPath)} at ${server.url} (${auth}); docs at ${server.url}/docs`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        println(io.stderr, `omendb: ${signal} again, exiting without a checkpoint`);
        process.exit(1);
      }
      stopping = true;
      println(io.stderr, `omendb: ${signal}: draining requests, then checkpointing`);
      server
        .close()
        .then(() => db.close())
        .then(
          () => {
            println(io.stderr, "omendb: stopped");
            resolve(0);
          },
          (err: unknown) => {
            println(io.stderr, `omendb: shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}

/** `omendb import`. */
export async function importCommand(args: string[], io: CliIO): Promise<number> {
  const a = parse(
    args,
    {
      path: { type: "string" },
      collection: { type: "string" },
      format: { type: "string" },
      metric: { type: "string" },
      "batch-size": { type: "string" },
      "id-prefix": { type: "string" },
    },
    true,
  );
  if (a.flag("help")) return help(io, "import");
  if (a.positionals.length !== 1) throw new CliUsageError("import needs exactly one input file");
  const file = a.positionals[0]!;
  const name = a.str("collection");
  if (name === undefined) throw new CliUsageError("--collection is required");
  const format = (a.str("format") ?? formatOf(file)) as ImportFormat;
  if (format !== "jsonl" && format !== "fvecs") throw new CliUsageError(`--format: expected jsonl or fvecs, got ${String(format)}`);
  const metric = (a.str("metric") ?? "cosine") as Metric;
  if (!["cosine", "l2", "ip"].includes(metric)) throw new CliUsageError(`--metric: expected cosine, l2 or ip, got ${metric}`);
  const batchSize = a.str("batch-size") === undefined ? 1000 : parseInteger(a.str("batch-size")!, "--batch-size", 1);
  if (!fs.existsSync(file)) throw new CliUsageError(`${file}: no such file`);
  const total = fs.statSync(file).size;

  const db = await openDatabase(a.str("path") ?? DEFAULT_DATA_PATH);
  try {
    const catalog = ChromaCatalog.open(db);
    const source = format === "fvecs" ? readFvecs(file, a.str("id-prefix") ?? "") : readJsonl(file);
    const bar = new ProgressBar(io.stderr, `import ${path.basename(file)}`, total);
    let collection: Collection | undefined;
    let batch: RecordInput[] = [];
    let written = 0;
    let lastBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      collection ??= await targetCollection(db, catalog, name, batch[0]!.vector.length, metric);
      await collection.upsert(batch);
      written += batch.length;
      batch = [];
      bar.update(lastBytes, written);
    };
    for await (const item of source as AsyncGenerator<SourceItem>) {
      batch.push(item.record);
      lastBytes = item.bytesRead;
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    bar.finish(written);
    return 0;
  } finally {
    await db.close();
  }
}

/** The import target: an existing core collection, a pending Chroma one (materialized now), or a new one. */
async function targetCollection(db: OmenDB, catalog: ChromaCatalog, name: string, dimension: number, metric: Metric): Promise<Collection> {
  const known = catalog.findByName(name);
  if (known?.core != null) return known.core;
  if (known !== undefined) return catalog.materialize(known.id, dimension);
  return db.createCollection(name, { dimension, metric });
}

/** `omendb export`. */
export async function exportCommand(args: string[], io: CliIO): Promise<number> {
  const a = parse(args, {
    path: { type: "string" },
    collection: { type: "string" },
    out: { type: "string" },
    "batch-size": { type: "string" },
  });
  if (a.flag("help")) return help(io, "export");
  const name = a.str("collection");
  if (name === undefined) throw new CliUsageError("--collection is required");
  const batchSize = a.str("batch-size") === undefined ? 1000 : parseInteger(a.str("batch-size")!, "--batch-size", 1);
  const db = await openDatabase(a.str("path") ?? DEFAULT_DATA_PATH);
  const out = a.str("out") === undefined ? io.stdout : fs.createWriteStream(a.str("out")!);
  try {
    const collection = ChromaCatalog.open(db).findByName(name);
    if (collection === undefined) throw new Error(`no collection named ${JSON.stringify(name)}`);
    let exported = 0;
    if (collection.core !== null) {
      for (let offset = 0; ; offset += batchSize) {
        const records = await collection.core.get({ limit: batchSize, offset, includeVector: true });
        let chunk = "";
        for (const r of records) {
          chunk += `${JSON.stringify({ id: r.id, vector: Array.from(r.vector!), document: r.document, metadata: r.metadata })}\n`;
        }
        if (chunk.length > 0 && !out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
        exported += records.length;
        if (records.length < batchSize) break;
      }
    }
    if (out !== io.stdout) await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    println(io.stderr, `export ${name}: ${exported} records`);
    return 0;
  } finally {
    await db.close();
  }
}

/** `omendb stats`. */
export async function statsCommand(args: string[], io: CliIO): Promise<number> {
  const a = parse(args, { path: { type: "string" }, json: { type: "boolean" } });
  if (a.flag("help")) return help(io, "stats");
  const dataPath = a.str("path") ?? DEFAULT_DATA_PATH;
  if (!fs.existsSync(dataPath)) throw new Error(`${dataPath}: no such data folder`);
  const db = await openDatabase(dataPath);
  try {
    const rows = [];
    for (const c of ChromaCatalog.open(db).list()) {
      rows.push({ name: c.name, id: c.id, dimension: c.dimension, metric: c.metric, records: c.core === null ? 0 : await c.core.count() });
    }
    const bytes = folderBytes(dataPath);
    if (a.flag("json")) {
      println(io.stdout, JSON.stringify({ path: path.resolve(dataPath), bytesOnDisk: bytes, collections: rows }, null, 2));
      return 0;
    }
    println(io.stdout, `${path.resolve(dataPath)}: ${rows.length} collection(s), ${formatBytes(bytes)} on disk`);
    if (rows.length > 0) {
      const table = [["NAME", "ID", "DIM", "METRIC", "RECORDS"], ...rows.map((r) => [r.name, r.id, r.dimension === null ? "-" : String(r.dimension), r.metric, String(r.records)])];
      const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
      for (const row of table) println(io.stdout, row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd());
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** `omendb verify`: 0 when no problem remains, 1 otherwise. */
export async function verifyCommand(args: string[], io: CliIO): Promise<number> {
  const a = parse(args, { path: { type: "string" }, repair: { type: "boolean" }, json: { type: "boolean" } }, true);
  if (a.flag("help")) return help(io, "verify");
  if (a.positionals.length > 1) throw new CliUsageError(`expected one data folder, got ${a.positionals.length}`);
  const positional = a.positionals[0];
  if (positional !== undefined && a.str("path") !== undefined) throw new CliUsageError("give the data folder either as <dir> or as --path, not both");
  const dataPath = positional ?? a.str("path") ?? DEFAULT_DATA_PATH;
  if (!fs.existsSync(dataPath)) throw new Error(`${dataPath}: no such data folder`);
  let report: VerifyReport;
  try {
    report = await verifyFolder(dataPath, { repair: a.flag("repair") });
  } catch (err) {
    if (isOmenDBError(err) && err.code === "LOCKED") {
      throw new Error(`${dataPath} is in use by another process (stop 'omendb serve' on it first): ${err.message}`);
    }
    throw err;
  }
  if (a.flag("json")) println(io.stdout, JSON.stringify(report, null, 2));
  else printVerifyReport(io, report);
  return report.ok ? 0 : 1;
}

function printVerifyReport(io: CliIO, report: VerifyReport): void {
  const out = (line: string) => println(io.stdout, line);
  const remaining = report.problems.filter((p) => p.repaired === undefined).length;
  const repaired = report.problems.length - remaining;
  out(`${report.path}: ${remaining === 0 ? "ok" : `${remaining} problem(s) remain`}${repaired > 0 ? `, ${repaired} repaired` : ""}`);
  const line = (p: VerifyProblem) =>
    `  ${p.repaired === undefined ? "PROBLEM" : "REPAIRED"} ${p.code} (${p.data} data) ${p.file}${p.offset === undefined ? "" : ` @ ${p.offset}`}: ${p.message}`;
  for (const p of report.problems.filter((q) => q.collection === undefined)) out(line(p));
  for (const c of report.collections) {
    const extra = c.rewrittenByWal > 0 ? `, ${c.rewrittenByWal} rewritten by the WAL at the next open` : "";
    out(`collection ${JSON.stringify(c.name)} (${c.uuid}, ${c.dimension}-d ${c.metric}): ${c.records} records, ${c.vectorsChecked} vectors verified${extra}, index ${c.index}`);
    for (const p of c.problems) out(line(p));
    for (const r of c.repairs) if (!c.problems.some((p) => p.repaired === r)) out(`  repair: ${r}`);
    for (const p of c.problems) if (p.repaired !== undefined) out(`  repair: ${p.repaired}`);
  }
  out(`WAL: ${report.wal.segments} segment(s), ${report.wal.recordsToReplay} record(s) to replay at the next open, torn tail ${report.wal.tornTailBytes} bytes`);
  for (const note of report.notes) out(`note: ${note}`);
  if (remaining > 0 && !report.repair && report.problems.some((p) => p.data === "derived")) out("run with --repair to rebuild the derived files listed");
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function help(io: CliIO, command: keyof typeof HELP): number {
  io.stdout.write(HELP[command]);
  return 0;
}
