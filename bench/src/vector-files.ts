/**
 * Readers and writers for the TEXMEX vector formats used by ../shared/datasets and bench/.cache:
 * `.fvecs` / `.ivecs` rows are a little-endian int32 `dim` followed by `dim` float32 (or int32)
 * values, so a file of `rows` rows is `rows * 4 * (dim + 1)` bytes. Large files are read in chunks
 * with positional reads so a 1M × 1536 base (6 GB) never has to sit in one buffer.
 */
import fs from "node:fs";

/** A row-major matrix of `count` rows of `dim` values. */
export interface VectorMatrix<T extends Float32Array | Int32Array = Float32Array> {
  count: number;
  dim: number;
  data: T;
}

/** Row count and dimension of an fvecs/ivecs file, from its first int32 and its size. */
export function vecsShape(file: string): { count: number; dim: number } {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(4);
    if (fs.readSync(fd, head, 0, 4, 0) !== 4) return { count: 0, dim: 0 };
    const dim = head.readInt32LE(0);
    const size = fs.fstatSync(fd).size;
    const rowBytes = 4 * (dim + 1);
    if (dim <= 0 || size % rowBytes !== 0) throw new Error(`${file}: size ${size} is not a multiple of row size ${rowBytes}`);
    return { count: size / rowBytes, dim };
  } finally {
    fs.closeSync(fd);
  }
}

function readRows(file: string, start: number, rows: number, asInt: boolean): VectorMatrix<Float32Array> | VectorMatrix<Int32Array> {
  const { count, dim } = vecsShape(file);
  if (start < 0 || start + rows > count) throw new Error(`${file}: rows ${start}..${start + rows} outside 0..${count}`);
  const rowBytes = 4 * (dim + 1);
  const buf = Buffer.allocUnsafe(rows * rowBytes);
  const fd = fs.openSync(file, "r");
  try {
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(fd, buf, done, Math.min(buf.length - done, 1 << 30), start * rowBytes + done);
      if (n <= 0) throw new Error(`${file}: short read`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const words = new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const data = asInt ? new Int32Array(rows * dim) : new Float32Array(rows * dim);
  const src = asInt ? words : new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  for (let r = 0; r < rows; r++) {
    if (words[r * (dim + 1)] !== dim) throw new Error(`${file}: row ${start + r} has dim ${words[r * (dim + 1)]}, expected ${dim}`);
    data.set(src.subarray(r * (dim + 1) + 1, (r + 1) * (dim + 1)), r * dim);
  }
  return { count: rows, dim, data } as VectorMatrix<Float32Array> | VectorMatrix<Int32Array>;
}

/** Reads `rows` float vectors starting at row `start` (default: the whole file). */
export function readFvecs(file: string, start = 0, rows?: number): VectorMatrix<Float32Array> {
  const n = rows ?? vecsShape(file).count - start;
  return readRows(file, start, n, false) as VectorMatrix<Float32Array>;
}

/** Reads `rows` int vectors starting at row `start` (default: the whole file). */
export function readIvecs(file: string, start = 0, rows?: number): VectorMatrix<Int32Array> {
  const n = rows ?? vecsShape(file).count - start;
  return readRows(file, start, n, true) as VectorMatrix<Int32Array>;
}

/** Yields the first `limit` rows of an fvecs file in chunks of at most `chunkRows` rows. */
export function* fvecsChunks(file: string, limit: number, chunkRows: number): Generator<{ start: number; vectors: VectorMatrix<Float32Array> }> {
  for (let start = 0; start < limit; start += chunkRows) {
    const rows = Math.min(chunkRows, limit - start);
    yield { start, vectors: readFvecs(file, start, rows) };
  }
}

/** Writes fvecs/ivecs rows, appending as they come; `close()` flushes and fsyncs. */
export class VecsWriter {
  private readonly fd: number;
  rows = 0;

  constructor(readonly file: string, readonly dim: number) {
    this.fd = fs.openSync(file, "w");
  }

  /** Appends `data.length / dim` rows. */
  write(data: Float32Array | Int32Array): void {
    const rows = data.length / this.dim;
    if (!Number.isInteger(rows)) throw new Error(`VecsWriter: ${data.length} values is not a multiple of dim ${this.dim}`);
    const buf = Buffer.allocUnsafe(rows * 4 * (this.dim + 1));
    const words = new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const out = data instanceof Float32Array ? new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) : words;
    for (let r = 0; r < rows; r++) {
      words[r * (this.dim + 1)] = this.dim;
      out.set(data.subarray(r * this.dim, (r + 1) * this.dim), r * (this.dim + 1) + 1);
    }
    fs.writeSync(this.fd, buf);
    this.rows += rows;
  }

  close(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

/** Writes a whole matrix to `file` (via a temp file and rename, so a crash never leaves half a file). */
export function writeVecs(file: string, m: VectorMatrix<Float32Array> | VectorMatrix<Int32Array>): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const w = new VecsWriter(tmp, m.dim);
  w.write(m.data);
  w.close();
  fs.renameSync(tmp, file);
}

/** Reads single rows of an fvecs file by position, for checking the true distance of a few ids. */
export class FvecsRowReader {
  private readonly fd: number;
  readonly dim: number;
  readonly count: number;
  private readonly buf: Buffer;

  constructor(readonly file: string) {
    const shape = vecsShape(file);
    this.dim = shape.dim;
    this.count = shape.count;
    this.fd = fs.openSync(file, "r");
    this.buf = Buffer.alloc(4 * (this.dim + 1));
  }

  /** A copy of row `i`. */
  row(i: number): Float32Array {
    if (i < 0 || i >= this.count) throw new Error(`${this.file}: row ${i} outside 0..${this.count}`);
    fs.readSync(this.fd, this.buf, 0, this.buf.length, i * this.buf.length);
    return new Float32Array(this.buf.buffer.slice(this.buf.byteOffset + 4, this.buf.byteOffset + this.buf.length));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
