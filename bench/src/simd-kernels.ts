/**
 * Two WebAssembly SIMD128 kernels, assembled here from opcodes (no toolchain needed at run time), used
 * for brute-force ground truth and for the memory-bandwidth reference of `bench exact`:
 *
 * - `dots(q, base, rows, dim, out)`: out[r] = Σ q[i]·base[r·dim + i] for r < rows, with four f32x4
 *   accumulators (64 bytes per step). `dim` must be a positive multiple of 16: callers pad rows with
 *   zeros, which leaves dot products unchanged. Pointers are byte offsets into the module's memory,
 *   16-byte aligned.
 * - `sum(ptr, bytes)`: the f32 sum of `bytes / 4` floats read sequentially (a streaming read, four
 *   f32x4 accumulators); `bytes` must be a positive multiple of 64.
 *
 * The memory is exported, starts at one page and can grow to 4 GiB (65536 pages).
 * `dotJs` is the plain-JS oracle the tests compare against.
 */

const enum Op {
  block = 0x02,
  loop = 0x03,
  br = 0x0c,
  brIf = 0x0d,
  end = 0x0b,
  localGet = 0x20,
  localSet = 0x21,
  localTee = 0x22,
  f32Store = 0x38,
  i32Const = 0x41,
  i32LtU = 0x49,
  i32GeU = 0x4f,
  i32Add = 0x6a,
  i32Shl = 0x74,
  f32Add = 0x92,
  simd = 0xfd,
}
const VOID = 0x40;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, "utf8")];
const get = (i: number): number[] => [Op.localGet, i];
const set = (i: number): number[] => [Op.localSet, i];
const i32c = (n: number): number[] => [Op.i32Const, ...sleb(n)];
const v128Load = (offset: number): number[] => [Op.simd, 0x00, 4, ...uleb(offset)];
const v128Zero = (): number[] => [Op.simd, 0x0c, ...new Array<number>(16).fill(0)];
const f32x4Add = (): number[] => [Op.simd, ...uleb(0xe4)];
const f32x4Mul = (): number[] => [Op.simd, ...uleb(0xe6)];
const lane = (l: number): number[] => [Op.simd, 0x1f, l];

/** Horizontal sum of four v128 locals into an f32 left on the stack. */
function horizontal(a: number, b: number, c: number, d: number): number[] {
  return [
    ...get(a), ...get(b), ...f32x4Add(), ...get(c), ...get(d), ...f32x4Add(), ...f32x4Add(), ...set(a),
    ...get(a), ...lane(0), ...get(a), ...lane(1), Op.f32Add,
    ...get(a), ...lane(2), ...get(a), ...lane(3), Op.f32Add, Op.f32Add,
  ];
}

function dotsBody(): number[] {
  // params: 0 q, 1 base, 2 rows, 3 dim, 4 out
  // locals: 5 r, 6 qp (query cursor), 7 p (row start), 8 bytes, 9 bp (row cursor), 10 qEnd (i32);
  //         11..14 acc (v128)
  const step = (acc: number, off: number): number[] => [
    ...get(acc), ...get(6), ...v128Load(off), ...get(9), ...v128Load(off), ...f32x4Mul(), ...f32x4Add(), ...set(acc),
  ];
  const code = [
    ...get(3), ...i32c(2), Op.i32Shl, ...set(8),
    ...get(0), ...get(8), Op.i32Add, ...set(10),
    ...get(1), ...set(7),
    Op.block, VOID,
    Op.loop, VOID,
    ...get(5), ...get(2), Op.i32GeU, Op.brIf, 1,
    ...v128Zero(), ...set(11), ...v128Zero(), ...set(12), ...v128Zero(), ...set(13), ...v128Zero(), ...set(14),
    ...get(0), ...set(6),
    ...get(7), ...set(9),
    Op.loop, VOID,
    ...step(11, 0), ...step(12, 16), ...step(13, 32), ...step(14, 48),
    ...get(9), ...i32c(64), Op.i32Add, ...set(9),
    ...get(6), ...i32c(64), Op.i32Add, Op.localTee, 6, ...get(10), Op.i32LtU, Op.brIf, 0,
    Op.end,
    ...get(4), ...get(5), ...i32c(2), Op.i32Shl, Op.i32Add,
    ...horizontal(11, 12, 13, 14),
    Op.f32Store, 2, 0,
    ...get(7), ...get(8), Op.i32Add, ...set(7),
    ...get(5), ...i32c(1), Op.i32Add, ...set(5),
    Op.br, 0,
    Op.end,
    Op.end,
    Op.end,
  ];
  const locals = vec([[6, I32], [4, V128]]);
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function sumBody(): number[] {
  // params: 0 ptr, 1 bytes; locals: 2 unused, 3 end (i32); 4..7 acc (v128)
  const step = (acc: number, off: number): number[] => [...get(acc), ...get(0), ...v128Load(off), ...f32x4Add(), ...set(acc)];
  const code = [
    ...get(0), ...get(1), Op.i32Add, ...set(3),
    Op.loop, VOID,
    ...step(4, 0), ...step(5, 16), ...step(6, 32), ...step(7, 48),
    ...get(0), ...i32c(64), Op.i32Add, Op.localTee, 0, ...get(3), Op.i32LtU, Op.brIf, 0,
    Op.end,
    ...horizontal(4, 5, 6, 7),
    Op.end,
  ];
  const locals = vec([[2, I32], [4, V128]]);
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function moduleBytes(): Uint8Array {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32]]), ...vec([[F32]])],
  ]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x01, ...uleb(1), ...uleb(65536)]])),
    ...section(7, vec([[...name("memory"), 0x02, 0], [...name("dots"), 0x00, 0], [...name("sum"), 0x00, 1]])),
    ...section(10, vec([dotsBody(), sumBody()])),
  ];
  return Uint8Array.from(bytes);
}

let compiled: WebAssembly.Module | undefined;

/** One instance of the kernels with its own memory. Not shared between threads. */
export class SimdKernels {
  readonly memory: WebAssembly.Memory;
  private readonly dotsFn: (q: number, base: number, rows: number, dim: number, out: number) => void;
  private readonly sumFn: (ptr: number, bytes: number) => number;

  constructor() {
    compiled ??= new WebAssembly.Module(moduleBytes());
    const instance = new WebAssembly.Instance(compiled, {});
    this.memory = instance.exports["memory"] as WebAssembly.Memory;
    this.dotsFn = instance.exports["dots"] as SimdKernels["dotsFn"];
    this.sumFn = instance.exports["sum"] as SimdKernels["sumFn"];
  }

  /** Grows the memory to at least `bytes` (at most 4 GiB). Views taken before a grow are detached. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  /** A Float32Array view of `count` floats at byte offset `ptr` (re-take after {@link ensure}). */
  f32(ptr: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, count);
  }

  /** out[r] = q · base[r] for r < rows; `dim` a positive multiple of 16, pointers 16-byte aligned. */
  dots(q: number, base: number, rows: number, dim: number, out: number): void {
    if (dim <= 0 || dim % 16 !== 0) throw new Error(`dots: dim ${dim} must be a positive multiple of 16`);
    this.dotsFn(q | 0, base | 0, rows, dim, out | 0);
  }

  /** Sum of the floats in [ptr, ptr + bytes); `bytes` a positive multiple of 64. */
  sum(ptr: number, bytes: number): number {
    if (bytes <= 0 || bytes % 64 !== 0) throw new Error(`sum: ${bytes} bytes must be a positive multiple of 64`);
    return this.sumFn(ptr | 0, bytes | 0);
  }
}

/** Rounds a dimension up to the kernels' stride (16 floats). */
export function paddedDim(dim: number): number {
  return Math.ceil(dim / 16) * 16;
}

/** Plain-JS dot product in float64: the oracle for {@link SimdKernels.dots}. */
export function dotJs(a: Float32Array, b: Float32Array, dim = a.length): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += a[i]! * b[i]!;
  return s;
}
