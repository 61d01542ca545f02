/**
 * Growable `SharedArrayBuffer`s (ES2024; Node ≥ 20), typed here because this repository compiles
 * against the ES2023 library. Growth happens in place and is seen by every thread holding the
 * buffer; typed-array views should be fixed-length (created with an explicit length) and recreated
 * after growth: V8 reads length-tracking views about ten times slower in hot loops (measured).
 */

/** A `SharedArrayBuffer` that can grow in place up to `maxByteLength`. */
export interface GrowableSharedBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  /** Grows to `byteLength` bytes (never shrinks). @throws RangeError beyond `maxByteLength`. */
  grow(byteLength: number): void;
}

/** True for a buffer made by {@link growableSharedBuffer} (or any growable one). */
export function isGrowable(buffer: SharedArrayBuffer): buffer is GrowableSharedBuffer {
  return (buffer as { growable?: boolean }).growable === true;
}

/** The most bytes one growable shared buffer may reserve in this runtime (V8: 4 GiB). */
export const MAX_GROWABLE_BYTES = 2 ** 32;

/** The most bytes one shared buffer of whole `unitBytes`-byte units may span ({@link MAX_GROWABLE_BYTES} rounded down). */
export function wholeUnitBytes(unitBytes: number): number {
  return Math.floor(MAX_GROWABLE_BYTES / unitBytes) * unitBytes;
}

/**
 * A zero-filled shared buffer of `byteLength` bytes that can grow to `maxByteLength` (address space
 * is reserved up front; memory is committed as it grows).
 */
export function growableSharedBuffer(byteLength: number, maxByteLength: number): GrowableSharedBuffer {
  const Shared = SharedArrayBuffer as unknown as new (n: number, options: { maxByteLength: number }) => GrowableSharedBuffer;
  return new Shared(byteLength, { maxByteLength });
}
