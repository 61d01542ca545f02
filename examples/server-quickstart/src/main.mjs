// Quickstart: start `omendb serve` (the CLI of @omendb/server), talk to it with the official
// `chromadb` client, shut it down with SIGTERM.
//
//   node src/main.mjs [--data DIR]
//
// Embeddings are computed here, client-side, with OmenDB's OfflineEmbedder (Universal Sentence
// Encoder Lite, 512-d, runs locally with no API key); the server stores and searches vectors.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ChromaClient } from "chromadb";
import { OfflineEmbedder } from "@omendb/core";
import { notes, questions } from "./notes.mjs";

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: flags } = parseArgs({
  options: { data: { type: "string", default: process.env.OMENDB_DATA ?? path.join(exampleDir, "omendb-data") } },
});

/** The `omendb` executable: the `bin` entry of the installed @omendb/server package. */
function omendbBin() {
  let dir = path.dirname(fileURLToPath(import.meta.resolve("@omendb/server")));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
      if (pkg.name === "@omendb/server") return path.join(dir, typeof pkg.bin === "string" ? pkg.bin : pkg.bin.omendb);
    }
    if (path.dirname(dir) === dir) throw new Error("cannot find the package.json of @omendb/server");
    dir = path.dirname(dir);
  }
}

/**
 * Runs `omendb serve` on a free port (`--port 0`) and resolves with the child process and the URL it
 * prints on stderr once it listens.
 */
function startServer(dataDir) {
  const child = spawn(process.execPath, [omendbBin(), "serve", "--path", dataDir, "--port", "0", "--log-level", "warn"], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const onData = (chunk) => {
      stderr += chunk;
      const match = /omendb: serving .* at (http:\/\/\S+) /.exec(stderr);
      if (match) {
        child.stderr.off("data", onData);
        child.off("exit", onExit);
        child.stderr.pipe(process.stderr); // later server messages (shutdown) go to our stderr
        resolve({ child, url: new URL(match[1]) });
      }
    };
    const onExit = (code) => reject(new Error(`omendb serve exited with code ${code} before listening:\n${stderr}`));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Sends SIGTERM and resolves with the exit code: the server drains requests and checkpoints first. */
function stopServer(child) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal));
    child.kill("SIGTERM");
  });
}

const embedder = new OfflineEmbedder();
const { child, url } = await startServer(flags.data);
console.log(`omendb serve is listening at ${url.origin} (data folder ${flags.data})`);
try {
  const client = new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: false });
  await client.heartbeat();
  console.log(`chromadb client connected (Chroma API ${await client.version()})`);

  // Cosine distance; embeddingFunction: null because embeddings are passed in.
  const collection = await client.getOrCreateCollection({ name: "notes", metadata: { "hnsw:space": "cosine" }, embeddingFunction: null });
  const embeddings = await embedder.embedDocuments(notes.map((n) => n.text));
  // `add` skips ids that already exist (Chroma's semantics), so a second run adds nothing.
  await collection.add({
    ids: notes.map((n) => n.id),
    embeddings: embeddings.map((v) => Array.from(v)),
    documents: notes.map((n) => n.text),
    metadatas: notes.map(({ topic, year }) => ({ topic, year })),
  });
  console.log(`collection "notes" holds ${await collection.count()} records`);

  for (const { question, where } of questions) {
    const result = await collection.query({
      queryEmbeddings: [Array.from(await embedder.embedQuery(question))],
      nResults: 3,
      where,
      include: ["documents", "metadatas", "distances"],
    });
    console.log(`\nQ: ${question}  [where: ${JSON.stringify(where)}]`);
    result.ids[0].forEach((id, i) => {
      const { topic, year } = result.metadatas[0][i];
      console.log(`  ${i + 1}. ${id} (${topic}, ${year}) distance ${result.distances[0][i].toFixed(4)}: ${result.documents[0][i]}`);
    });
  }
} finally {
  const code = await stopServer(child);
  console.log(`\nomendb serve stopped (exit code ${code})`);
  if (code !== 0) process.exitCode = 1;
}
