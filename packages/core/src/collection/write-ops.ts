/**
 * WAL payloads of the two write operations. Both are idempotent when replayed: an upsert writes the
 * same id → record mapping again, a delete removes ids that may already be gone.
 *
 * Byte layout (little-endian):
 *
 *   UPSERT  u32 collectionKey | u32 count | u32 dim | u32 reserved
 *           | count × dim × f32 vectors
 *           | count × ( u32 idBytes | id UTF-8 | i32 docBytes (-1 = null) | doc UTF-8 | i32 metaBytes (-1 = null) | metadata JSON UTF-8 )
 *   DELETE  u32 collectionKey | u32 count | count × ( u32 idBytes | id UTF-8 )
 */
import type { ValidRecord } from "./validate-records.js";

/** WAL record type of an upsert batch. */
export const OP_UPSERT = 1;
/** WAL record type of a delete-by-ids batch. */
export const OP_DELETE = 2;

/** A decoded upsert batch. */
export interface UpsertOp {
  type: typeof OP_UPSERT;
  collectionKey: number;
  records: ValidRecord[];
}

/** A decoded delete batch. */
export interface DeleteOp {
  type: typeof OP_DELETE;
  collectionKey: number;
  ids: string[];
}

/** Any write operation. */
export type WriteOp = UpsertOp | DeleteOp;

/** Encodes an upsert batch. All vectors must have length `dim`. */
export function encodeUpsert(collectionKey: number, dim: number, records: readonly ValidRecord[]): Buffer {
  let size = 16 + records.length * dim * 4;
  for (const r of records) {
    size += 12 + Buffer.byteLength(r.id, "utf8");
    if (r.document !== null) size += Buffer.byteLength(r.document, "utf8");
    if (r.metadata !== null) size += Buffer.byteLength(r.metadata, "utf8");
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(collectionKey, 0);
  buf.writeUInt32LE(records.length, 4);
  buf.writeUInt32LE(dim, 8);
  buf.writeUInt32LE(0, 12);
  let off = 16;
  for (const r of records) {
    buf.set(new Uint8Array(r.vector.buffer, r.vector.byteOffset, dim * 4), off);
    off += dim * 4;
  }
  for (const r of records) {
    off = writeString(buf, off, r.id);
    off = writeNullableString(buf, off, r.document);
    off = writeNullableString(buf, off, r.metadata);
  }
  return buf;
}

/** Encodes a delete batch. */
export function encodeDelete(collectionKey: number, ids: readonly string[]): Buffer {
  let size = 8;
  for (const id of ids) size += 4 + Buffer.byteLength(id, "utf8");
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(collectionKey, 0);
  buf.writeUInt32LE(ids.length, 4);
  let off = 8;
  for (const id of ids) off = writeString(buf, off, id);
  return buf;
}

/** Decodes a WAL payload of type {@link OP_UPSERT} or {@link OP_DELETE}; throws RangeError on a malformed payload. */
export function decodeOp(type: number, payload: Uint8Array): WriteOp {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const collectionKey = buf.readUInt32LE(0);
  const count = buf.readUInt32LE(4);
  if (type === OP_DELETE) {
    const ids = new Array<string>(count);
    let off = 8;
    for (let i = 0; i < count; i++) [ids[i], off] = readString(buf, off);
    return { type: OP_DELETE, collectionKey, ids };
  }
  if (type !== OP_UPSERT) throw new RangeError(`unknown WAL operation type ${type}`);
  const dim = buf.readUInt32LE(8);
  const vectorBytes = count * dim * 4;
  if (16 + vectorBytes > buf.length) throw new RangeError(`upsert payload of ${buf.length} bytes is too short for ${count} vectors of ${dim} dimensions`);
  // One aligned copy of all vectors; each record gets a view into it.
  const vectors = new Float32Array(count * dim);
  new Uint8Array(vectors.buffer).set(buf.subarray(16, 16 + vectorBytes));
  const records = new Array<ValidRecord>(count);
  let off = 16 + vectorBytes;
  for (let i = 0; i < count; i++) {
    let id: string;
    let document: string | null;
    let metadata: string | null;
    [id, off] = readString(buf, off);
    [document, off] = readNullableString(buf, off);
    [metadata, off] = readNullableString(buf, off);
    records[i] = { id, vector: vectors.subarray(i * dim, (i + 1) * dim), document, metadata };
  }
  return { type: OP_UPSERT, collectionKey, records };
}

function writeString(buf: Buffer, off: number, s: string): number {
  const n = buf.write(s, off + 4, "utf8");
  buf.writeUInt32LE(n, off);
  return off + 4 + n;
}

function writeNullableString(buf: Buffer, off: number, s: string | null): number {
  if (s === null) {
    buf.writeInt32LE(-1, off);
    return off + 4;
  }
  return writeString(buf, off, s);
}

function readString(buf: Buffer, off: number): [string, number] {
  const n = buf.readUInt32LE(off);
  const end = off + 4 + n;
  if (end > buf.length) throw new RangeError(`string of ${n} bytes at offset ${off} runs past the payload end (${buf.length})`);
  return [buf.toString("utf8", off + 4, end), end];
}

function readNullableString(buf: Buffer, off: number): [string | null, number] {
  if (buf.readInt32LE(off) === -1) return [null, off + 4];
  return readString(buf, off);
}
