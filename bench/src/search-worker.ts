/** Reader process of {@link SearchPool}: opens the index once, then answers queries on command. */
import type { EngineReader } from "./engines/engine.js";
import { loadEngine } from "./engines/registry.js";
import type { SearchWorkerInit, WorkerCommand, WorkerReply } from "./search-pool.js";
import { readFvecs } from "./vector-files.js";

const reply = (m: WorkerReply): void => {
  process.send!(m);
};
const errorText = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

let init: SearchWorkerInit | undefined;
let reader: EngineReader | undefined;
let queries: Float32Array | undefined;

async function handle(cmd: WorkerCommand): Promise<void> {
  if (cmd.type === "init") {
    init = cmd;
    queries = readFvecs(cmd.spec.queryFile, 0, cmd.queryCount).data;
    const { engine, reason } = await loadEngine(cmd.engine);
    if (!engine) throw new Error(reason ?? "engine unavailable");
    reader = await engine.open(cmd.dir, cmd.spec, cmd.threads > 0 ? { worker: cmd.worker, threads: cmd.threads } : { worker: cmd.worker });
    reply({ type: "ready" });
  } else if (cmd.type === "configure") {
    await reader!.configure(cmd.setting);
    reply({ type: "configured" });
  } else if (cmd.type === "run") {
    const { workers, worker, queryCount, k, threads } = init!;
    const dim = init!.spec.dim;
    const start = performance.now();
    let count = 0;
    let next = worker;
    // One search at a time, or (engine worker threads) 4 per thread in flight.
    const loop = async (): Promise<void> => {
      for (let i = next; i < cmd.target; i = next) {
        next += workers;
        if (performance.now() - start > cmd.budgetMs) break;
        const q = i % queryCount;
        const r = reader!.search(queries!.subarray(q * dim, (q + 1) * dim), k);
        if (r instanceof Promise) await r;
        count++;
      }
    };
    await Promise.all(Array.from({ length: threads > 0 ? threads * 4 : 1 }, loop));
    reply({ type: "done", count });
  } else {
    await reader?.close();
    process.send!({ type: "done", count: 0 } satisfies WorkerReply, () => process.exit(0));
  }
}

process.on("message", (cmd: WorkerCommand) => {
  handle(cmd).catch((err: unknown) => reply({ type: "error", message: errorText(err) }));
});
