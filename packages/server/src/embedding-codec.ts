/**
 * Decodes Chroma's embedding payloads. An embedding arrives either as a JSON array of numbers or as a
 * base64 string of little-endian IEEE-754 float32 values (what the `chromadb` client sends when
 * `pre-flight-checks` reports `supports_base64_encoding`), 4 bytes per dimension, no header.
 */
import os from "node:os";
import { ChromaHttpError, HttpErrorCode } from "./chroma-errors.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HOST_IS_LITTLE_ENDIAN = os.endianness() === "LE";

/**
 * One embedding from the wire: a number array or a base64 float32 string.
 * @throws ChromaHttpError BAD_REQUEST when the string is not base64 or not a whole number of float32s.
 */
export function decodeEmbedding(value: readonly number[] | string, where: string): Float32Array {
  if (typeof value !== "string") return Float32Array.from(value);
  if (value.length % 4 !== 0 || !BASE64.test(value)) {
    throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `${where}: not a base64 string`);
  }
  const bytes = Buffer.from(value, "base64");
  if (bytes.length % 4 !== 0) {
    throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `${where}: base64 payload of ${bytes.length} bytes is not a whole number of float32 values`);
  }
  const out = new Float32Array(bytes.length / 4);
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  }
  return out;
}

/**
 * Every embedding of a batch, checked to be non-empty and finite (a JSON number such as 1e39
 * overflows float32 to Infinity).
 * @throws ChromaHttpError BAD_REQUEST naming the index of the first bad embedding.
 */
export function decodeEmbeddings(values: readonly (readonly number[] | string)[], field: string): Float32Array[] {
  return values.map((value, i) => {
    const vector = decodeEmbedding(value, `${field}[${i}]`);
    if (vector.length === 0) throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `${field}[${i}]: empty embedding`);
    for (let j = 0; j < vector.length; j++) {
      if (!Number.isFinite(vector[j]!)) {
        throw new ChromaHttpError(HttpErrorCode.BAD_REQUEST, `${field}[${i}][${j}]: not a finite float32 value`);
      }
    }
    return vector;
  });
}

/** Encodes a vector as Chroma's base64 float32 (little-endian). Used by tests and the CLI. */
export function encodeEmbedding(vector: Float32Array | readonly number[]): string {
  const floats = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  const bytes = Buffer.alloc(floats.length * 4);
  for (let i = 0; i < floats.length; i++) bytes.writeFloatLE(floats[i]!, i * 4);
  return bytes.toString("base64");
}
