/**
 * Streaming readers of import files.
 *
 * JSONL: one JSON object per line, `{ "id": string, "vector" | "embedding": number[], "document"?:
 * string | null, "metadata"?: object | null }`; blank lines are skipped.
 *
 * .fvecs (the TEXMEX/ANN-benchmark format): a sequence of `[int32 LE dim][dim × float32 LE]` records,
 * no header. Records get ids `<prefix><row index>` (row index from 0) and no document or metadata.
 */
import fs from "node:fs";
import type { RecordInput } from "@omendb/core";
import { CliUsageError } from "./cli-io.js";

/** One record read, with how many bytes of the file have been consumed so far. */
export interface SourceItem {
  record: RecordInput;
  bytesRead: number;
}

/** Supported input formats. */
export type ImportFormat = "jsonl" | "fvecs";

/** The format implied by a file name (`.fvecs` → fvecs, else jsonl). */
export function formatOf(file: string): ImportFormat {
  return file.toLowerCase().endsWith(".fvecs") ? "fvecs" : "jsonl";
}

/**
 * Reads a JSONL file record by record.
 * @throws CliUsageError naming the line of the first malformed record.
 */
export async function* readJsonl(file: string): AsyncGenerator<SourceItem> {
  let bytesRead = 0;
  let lineNo = 0;
  let carry = "";
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of fs.createReadStream(file)) {
    const buf = chunk as Buffer;
    const text = carry + decoder.decode(buf, { stream: true });
    const lines = text.split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      lineNo++;
      bytesRead += Buffer.byteLength(line, "utf8") + 1;
      const record = parseJsonlLine(line, lineNo, file);
      if (record !== undefined) yield { record, bytesRead };
    }
  }
  carry += decoder.decode();
  if (carry.length > 0) {
    lineNo++;
    bytesRead += Buffer.byteLength(carry, "utf8");
    const record = parseJsonlLine(carry, lineNo, file);
    if (record !== undefined) yield { record, bytesRead };
  }
}

function parseJsonlLine(line: string, lineNo: number, file: string): RecordInput | undefined {
  const trimmed = line.trim();
  if (trimmed.length === 0) return undefined;
  const where = `${file}:${lineNo}`;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    throw new CliUsageError(`${where}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CliUsageError(`${where}: expected a JSON object`);
  const o = value as Record<string, unknown>;
  if (typeof o["id"] !== "string") throw new CliUsageError(`${where}: "id" must be a string`);
  const vector = o["vector"] ?? o["embedding"];
  if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number")) {
    throw new CliUsageError(`${where}: "vector" (or "embedding") must be a non-empty array of numbers`);
  }
  const document = o["document"] ?? null;
  if (document !== null && typeof document !== "string") throw new CliUsageError(`${where}: "document" must be a string or null`);
  const metadata = o["metadata"] ?? null;
  if (metadata !== null && (typeof metadata !== "object" || Array.isArray(metadata))) {
    throw new CliUsageError(`${where}: "metadata" must be an object or null`);
  }
  return { id: o["id"], vector: Float32Array.from(vector as number[]), document, metadata: metadata as RecordInput["metadata"] };
}

/**
 * Reads an .fvecs file vector by vector.
 * @throws CliUsageError for a non-positive or inconsistent dimension, or a truncated last record.
 */
export async function* readFvecs(file: string, idPrefix: string): AsyncGenerator<SourceItem> {
  let pending: Buffer = Buffer.alloc(0);
  let bytesRead = 0;
  let row = 0;
  let dim = -1;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
    let offset = 0;
    while (pending.length - offset >= 4) {
      const d = pending.readInt32LE(offset);
      if (d <= 0 || d > 1 << 20) throw new CliUsageError(`${file}: record ${row} has dimension ${d}; not an .fvecs file?`);
      if (dim === -1) dim = d;
      else if (d !== dim) throw new CliUsageError(`${file}: record ${row} has dimension ${d}, earlier records ${dim}`);
      const size = 4 + 4 * d;
      if (pending.length - offset < size) break;
      const vector = new Float32Array(d);
      for (let i = 0; i < d; i++) vector[i] = pending.readFloatLE(offset + 4 + 4 * i);
      offset += size;
      bytesRead += size;
      yield { record: { id: `${idPrefix}${row}`, vector }, bytesRead };
      row++;
    }
    pending = pending.subarray(offset);
  }
  if (pending.length > 0) throw new CliUsageError(`${file}: truncated: ${pending.length} trailing bytes after record ${row - 1}`);
}
