/**
 * Decision (issue 12): keep the hand-assembled WASM. Measured with bench/kernels.mjs (1,000 pairs × 2,048 dims ×
 * 4 layers, 8 vectors, Node 20, x86-64): PCA 73 ms with WASM SIMD vs 342 ms with the JS backend (4.7×),
 * projection 14 ms vs 79 ms (5.6×; 10× against a naive one-accumulator dot loop). That is the cost of extraction
 * and recognition on every cell of a run, and it buys it without the native addon (analysis runs on stored
 * files, anywhere WebAssembly does), with results bit-identical to the JS path. The price is this file: the
 * opcode tables and both paths must change together; the test suite checks that they agree to the bit.
 *
 * Dense row kernels on a row-major Float32 matrix X (rows × d), with Float64 accumulation:
 *
 *   ata:  t_i = x_i·v − c,  acc += Σ_i t_i x_i,  returns Σ_i t_i   (one fused pass = X_cᵀX_c v)
 *   dots: out[i·k + s] = x_i·V_s                                  (X Vᵀ, V stacked k × d)
 *   axpy: acc += Σ_i r_i x_i                                       (Xᵀ r)
 *   diff: x_i ← f32(s_i (x_i − y_i)), plus/minus += x_i by sign, returns Σ ‖x_i‖²  (PCA's difference matrix)
 *
 * A small WebAssembly SIMD (f64x2) module, assembled below from raw opcodes, runs them about 4× faster than
 * scalar JS under V8. The pure-JS fallback adds in exactly the same order (4 partial sums per dot, combined as
 * (s0+s2)+(s1+s3); two rows per step), so both paths give bit-identical results; the test suite checks that.
 *
 * All operands live in one `Workspace` (a WebAssembly.Memory, or a plain ArrayBuffer for the fallback) at
 * byte offsets; rows are padded to a multiple of 4 floats so the SIMD loop needs no tail. Not reentrant:
 * callers `reset()` and lay out their regions, run kernels, then copy results out.
 */

const PAGE = 65536;
/** wasm32 addressing limit. */
const MAX_WASM_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

// ---- tiny WebAssembly assembler (only what the three kernels need) ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
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

const T_I32 = 0x7f;
const T_F64 = 0x7c;
const T_V128 = 0x7b;

const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const tee = (i: number): number[] => [0x22, ...uleb(i)];
const i32c = (k: number): number[] => [0x41, ...sleb(k)];
const I32_ADD = [0x6a];
const I32_MUL = [0x6c];
const I32_SHL = [0x74];
const I32_GE_U = [0x4f];
const F64_ADD = [0xa0];
const F64_GT = [0x64];
const SELECT = [0x1b];
const F64_SUB = [0xa1];
const f64Store = (offset: number): number[] => [0x39, 3, ...uleb(offset)];
const F64_ZERO = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
const vLoad = (offset: number): number[] => simd(0x00, 4, ...uleb(offset));
const vStore = (offset: number): number[] => simd(0x0b, 4, ...uleb(offset));
/** v128.load64_zero + f64x2.promote_low_f32x4: two f32 at `offset` → f64x2. */
const loadF32x2 = (offset: number): number[] => [...simd(0x5d, 3, ...uleb(offset)), ...simd(0x5f)];
/** v128.store64_lane lane 0: the low 8 bytes (two f32 after a demote). */
const store64Lane0 = (offset: number): number[] => simd(0x5b, 3, ...uleb(offset), 0);
const V_DEMOTE = simd(0x5e); // f32x4.demote_f64x2_zero: round to f32 like Math.fround
const V_PROMOTE = simd(0x5f);
const V_SUB = simd(0xf1);
const V_SPLAT = simd(0x14);
const V_ADD = simd(0xf0);
const V_MUL = simd(0xf2);
const lane = (k: number): number[] => simd(0x21, k);
/** Structured loop: `block loop <cond-break> body br 0 end end`. */
const loop = (breakIf: number[], body: number[]): number[] => [0x02, 0x40, 0x03, 0x40, ...breakIf, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
const incr = (l: number, k: number): number[] => [...get(l), ...i32c(k), ...I32_ADD, ...set(l)];
/** (a + b)[0] + (a + b)[1]; leaves an f64 on the stack, clobbers local `a`. */
const hsum = (a: number, b: number): number[] => [...get(a), ...get(b), ...V_ADD, ...tee(a), ...lane(0), ...get(a), ...lane(1), ...F64_ADD];

function locals(groups: Array<[number, number]>): number[] {
  return [...uleb(groups.length), ...groups.flatMap(([count, type]) => [...uleb(count), type])];
}

// ata(x, rows, rowBytes, v, acc, c) -> f64. rows must be even.
function ataBody(): number[] {
  const [X, ROWS, RB, V, ACC, C] = [0, 1, 2, 3, 4, 5];
  const [I, PJ, PV, PEND, PA] = [6, 7, 8, 9, 10];
  const [A0, A1, B0, B1, V0, V1, TA, TB] = [11, 12, 13, 14, 15, 16, 17, 18];
  const [TVA, TVB, SUM] = [19, 20, 21];
  const code = [
    ...F64_ZERO,
    ...set(SUM),
    ...loop([...get(I), ...get(ROWS), ...I32_GE_U], [
      // dots of rows a = X, b = X + rowBytes with v
      ...get(X), ...set(PJ), ...get(V), ...set(PV), ...get(X), ...get(RB), ...I32_ADD, ...set(PEND),
      ...F64_ZERO, ...V_SPLAT, ...tee(A0), ...tee(A1), ...tee(B0), ...set(B1),
      ...loop([...get(PJ), ...get(PEND), ...I32_GE_U], [
        ...get(PV), ...vLoad(0), ...set(V0), ...get(PV), ...vLoad(16), ...set(V1),
        ...get(A0), ...get(PJ), ...loadF32x2(0), ...get(V0), ...V_MUL, ...V_ADD, ...set(A0),
        ...get(A1), ...get(PJ), ...loadF32x2(8), ...get(V1), ...V_MUL, ...V_ADD, ...set(A1),
        ...get(B0), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(0), ...get(V0), ...V_MUL, ...V_ADD, ...set(B0),
        ...get(B1), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(8), ...get(V1), ...V_MUL, ...V_ADD, ...set(B1),
        ...incr(PJ, 16), ...incr(PV, 32),
      ]),
      ...hsum(A0, A1), ...get(C), ...F64_SUB, ...tee(TA),
      ...hsum(B0, B1), ...get(C), ...F64_SUB, ...tee(TB),
      ...F64_ADD, ...get(SUM), ...F64_ADD, ...set(SUM),
      // acc += ta·x_a + tb·x_b
      ...get(TA), ...V_SPLAT, ...set(TVA), ...get(TB), ...V_SPLAT, ...set(TVB),
      ...get(X), ...set(PJ), ...get(ACC), ...set(PA),
      ...loop([...get(PJ), ...get(PEND), ...I32_GE_U], [
        ...get(PA), ...get(PA), ...vLoad(0), ...get(TVA), ...get(PJ), ...loadF32x2(0), ...V_MUL, ...V_ADD,
        ...get(TVB), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(0), ...V_MUL, ...V_ADD, ...vStore(0),
        ...get(PA), ...get(PA), ...vLoad(16), ...get(TVA), ...get(PJ), ...loadF32x2(8), ...V_MUL, ...V_ADD,
        ...get(TVB), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(8), ...V_MUL, ...V_ADD, ...vStore(16),
        ...incr(PJ, 16), ...incr(PA, 32),
      ]),
      ...get(X), ...get(RB), ...i32c(1), ...I32_SHL, ...I32_ADD, ...set(X),
      ...incr(I, 2),
    ]),
    ...get(SUM),
    0x0b,
  ];
  return [...locals([[5, T_I32], [6, T_V128], [2, T_F64], [2, T_V128], [1, T_F64]]), ...code];
}

// dots(x, rows, rowBytes, V, k, vStrideBytes, out). rows must be even.
function dotsBody(): number[] {
  const [X, ROWS, RB, VB, K, VS, OUT] = [0, 1, 2, 3, 4, 5, 6];
  const [I, S, PA, PV, PEND, PO, PVS] = [7, 8, 9, 10, 11, 12, 13];
  const [A0, A1, B0, B1, V0, V1] = [14, 15, 16, 17, 18, 19];
  const code = [
    ...get(OUT), ...set(PO),
    ...loop([...get(I), ...get(ROWS), ...I32_GE_U], [
      ...i32c(0), ...set(S), ...get(VB), ...set(PVS),
      ...loop([...get(S), ...get(K), ...I32_GE_U], [
        ...get(X), ...set(PA), ...get(PVS), ...set(PV), ...get(X), ...get(RB), ...I32_ADD, ...set(PEND),
        ...F64_ZERO, ...V_SPLAT, ...tee(A0), ...tee(A1), ...tee(B0), ...set(B1),
        ...loop([...get(PA), ...get(PEND), ...I32_GE_U], [
          ...get(PV), ...vLoad(0), ...set(V0), ...get(PV), ...vLoad(16), ...set(V1),
          ...get(A0), ...get(PA), ...loadF32x2(0), ...get(V0), ...V_MUL, ...V_ADD, ...set(A0),
          ...get(A1), ...get(PA), ...loadF32x2(8), ...get(V1), ...V_MUL, ...V_ADD, ...set(A1),
          ...get(B0), ...get(PA), ...get(RB), ...I32_ADD, ...loadF32x2(0), ...get(V0), ...V_MUL, ...V_ADD, ...set(B0),
          ...get(B1), ...get(PA), ...get(RB), ...I32_ADD, ...loadF32x2(8), ...get(V1), ...V_MUL, ...V_ADD, ...set(B1),
          ...incr(PA, 16), ...incr(PV, 32),
        ]),
        // out[i·k + s] and out[(i+1)·k + s]
        ...get(PO), ...hsum(A0, A1), ...f64Store(0),
        ...get(PO), ...get(K), ...i32c(3), ...I32_SHL, ...I32_ADD, ...hsum(B0, B1), ...f64Store(0),
        ...incr(PO, 8), ...incr(S, 1), ...get(PVS), ...get(VS), ...I32_ADD, ...set(PVS),
      ]),
      ...get(PO), ...get(K), ...i32c(8), ...I32_MUL, ...I32_ADD, ...set(PO),
      ...get(X), ...get(RB), ...i32c(1), ...I32_SHL, ...I32_ADD, ...set(X),
      ...incr(I, 2),
    ]),
    0x0b,
  ];
  return [...locals([[7, T_I32], [6, T_V128]]), ...code];
}

// axpy(x, rows, rowBytes, r, acc). rows must be even.
function axpyBody(): number[] {
  const [X, ROWS, RB, R, ACC] = [0, 1, 2, 3, 4];
  const [I, PJ, PEND, PA, PR] = [5, 6, 7, 8, 9];
  const [TVA, TVB] = [10, 11];
  const code = [
    ...get(R), ...set(PR),
    ...loop([...get(I), ...get(ROWS), ...I32_GE_U], [
      ...get(PR), 0x2b, 3, 0, ...V_SPLAT, ...set(TVA), // f64.load r[i]
      ...get(PR), 0x2b, 3, 8, ...V_SPLAT, ...set(TVB), // f64.load r[i+1]
      ...get(X), ...set(PJ), ...get(ACC), ...set(PA), ...get(X), ...get(RB), ...I32_ADD, ...set(PEND),
      ...loop([...get(PJ), ...get(PEND), ...I32_GE_U], [
        ...get(PA), ...get(PA), ...vLoad(0), ...get(TVA), ...get(PJ), ...loadF32x2(0), ...V_MUL, ...V_ADD,
        ...get(TVB), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(0), ...V_MUL, ...V_ADD, ...vStore(0),
        ...get(PA), ...get(PA), ...vLoad(16), ...get(TVA), ...get(PJ), ...loadF32x2(8), ...V_MUL, ...V_ADD,
        ...get(TVB), ...get(PJ), ...get(RB), ...I32_ADD, ...loadF32x2(8), ...V_MUL, ...V_ADD, ...vStore(16),
        ...incr(PJ, 16), ...incr(PA, 32),
      ]),
      ...get(X), ...get(RB), ...i32c(1), ...I32_SHL, ...I32_ADD, ...set(X),
      ...incr(PR, 16), ...incr(I, 2),
    ]),
    0x0b,
  ];
  return [...locals([[5, T_I32], [2, T_V128]]), ...code];
}

// diff(x, y, rows, rowBytes, signs, plus, minus) -> f64. Any row count.
function diffBody(): number[] {
  const [X, Y, ROWS, RB, SIG, PLUS, MINUS] = [0, 1, 2, 3, 4, 5, 6];
  const [I, PX, PY, PEND, PA, PS] = [7, 8, 9, 10, 11, 12];
  const [SG, T, A, Q0, Q1] = [13, 14, 15, 16, 17];
  const [S, TOTAL] = [18, 19];
  // One half (2 lanes) at byte offset o of the rows, 2·o of the accumulators, into square-sum local q.
  const half = (o: number, q: number): number[] => [
    ...get(PX), ...loadF32x2(o), ...get(PY), ...loadF32x2(o), ...V_SUB, ...get(SG), ...V_MUL, ...V_DEMOTE, ...set(T),
    ...get(PX), ...get(T), ...store64Lane0(o),
    ...get(T), ...V_PROMOTE, ...set(A),
    ...get(PA), ...get(PA), ...vLoad(2 * o), ...get(A), ...V_ADD, ...vStore(2 * o),
    ...get(q), ...get(A), ...get(A), ...V_MUL, ...V_ADD, ...set(q),
  ];
  const code = [
    ...get(SIG), ...set(PS),
    ...loop([...get(I), ...get(ROWS), ...I32_GE_U], [
      ...get(PS), 0x2b, 3, 0, ...tee(S), ...V_SPLAT, ...set(SG),
      ...get(PLUS), ...get(MINUS), ...get(S), ...F64_ZERO, ...F64_GT, ...SELECT, ...set(PA),
      ...F64_ZERO, ...V_SPLAT, ...tee(Q0), ...set(Q1),
      ...get(X), ...tee(PX), ...get(RB), ...I32_ADD, ...set(PEND), ...get(Y), ...set(PY),
      ...loop([...get(PX), ...get(PEND), ...I32_GE_U], [...half(0, Q0), ...half(8, Q1), ...incr(PX, 16), ...incr(PY, 16), ...incr(PA, 32)]),
      ...hsum(Q0, Q1), ...get(TOTAL), ...F64_ADD, ...set(TOTAL),
      ...get(X), ...get(RB), ...I32_ADD, ...set(X), ...get(Y), ...get(RB), ...I32_ADD, ...set(Y),
      ...incr(PS, 8), ...incr(I, 1),
    ]),
    ...get(TOTAL),
    0x0b,
  ];
  return [...locals([[6, T_I32], [5, T_V128], [2, T_F64]]), ...code];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
}

function buildModule(): Uint8Array {
  const funcType = (params: number[], results: number[]): number[] => [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];
  const types = [
    funcType([T_I32, T_I32, T_I32, T_I32, T_I32, T_F64], [T_F64]), // ata
    funcType([T_I32, T_I32, T_I32, T_I32, T_I32, T_I32, T_I32], []), // dots
    funcType([T_I32, T_I32, T_I32, T_I32, T_I32], []), // axpy
    funcType([T_I32, T_I32, T_I32, T_I32, T_I32, T_I32, T_I32], [T_F64]), // diff
  ];
  const bodies = [ataBody(), dotsBody(), axpyBody(), diffBody()];
  const exportsList: Array<[string, number]> = [["ata", 0], ["dots", 1], ["axpy", 2], ["diff", 3]];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, ...uleb(1)]),
    ...section(3, [4, 0, 1, 2, 3]),
    ...section(7, [...uleb(exportsList.length), ...exportsList.flatMap(([n, i]) => [...name(n), 0x00, i])]),
    ...section(10, [...uleb(bodies.length), ...bodies.flatMap((b) => [...uleb(b.length), ...b])]),
  ]);
}

// Minimal typings: the project's lib/types settings do not declare the WebAssembly global.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (desc: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const WA: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface WasmKernels {
  ata(x: number, rows: number, rowBytes: number, v: number, acc: number, c: number): number;
  dots(x: number, rows: number, rowBytes: number, vecs: number, k: number, vStride: number, out: number): void;
  axpy(x: number, rows: number, rowBytes: number, r: number, acc: number): void;
  diff(x: number, y: number, rows: number, rowBytes: number, signs: number, plus: number, minus: number): number;
}

let compiled: object | null | undefined;

function wasmModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = buildModule();
    compiled = WA && WA.validate(bytes) ? new WA.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether the SIMD kernels are usable in this runtime (otherwise the JS fallback runs). */
export function simdAvailable(): boolean {
  return wasmModule() !== null;
}

export type KernelBackend = "wasm" | "js";

/** Floats per padded row: a multiple of 4 so the SIMD loops need no scalar tail. */
export function paddedDim(d: number): number {
  return (d + 3) & ~3;
}

/**
 * Bump-allocated scratch memory plus the kernels that operate on it. Offsets are in bytes and 16-aligned.
 * Growing the memory detaches earlier views, so take views (`f32`, `f64`) only after all `alloc` calls.
 */
export class Workspace {
  readonly backend: KernelBackend;
  private memory: WasmMemory | null = null;
  private jsBuffer: ArrayBuffer | null = null;
  private wasm: WasmKernels | null = null;
  private top = 0;

  constructor(backend: KernelBackend) {
    this.backend = backend;
    if (backend === "wasm") {
      const mod = wasmModule();
      if (!mod || !WA) throw new Error("WebAssembly SIMD kernels are not available in this runtime");
      this.memory = new WA.Memory({ initial: 16 });
      const inst = new WA.Instance(mod, { env: { memory: this.memory } });
      this.wasm = inst.exports as unknown as WasmKernels;
    } else {
      this.jsBuffer = new ArrayBuffer(16 * PAGE);
    }
  }

  get buffer(): ArrayBuffer {
    return this.memory ? this.memory.buffer : (this.jsBuffer as ArrayBuffer);
  }

  reset(): void {
    this.top = 0;
  }

  /** Reserves `bytes` (rounded up to 16) and returns the byte offset. Contents are not cleared. */
  alloc(bytes: number): number {
    const off = this.top;
    const end = off + ((bytes + 15) & ~15);
    if (end > MAX_WASM_BYTES) throw new RangeError(`workspace of ${end} bytes exceeds the 4 GiB wasm32 limit`);
    this.ensure(end);
    this.top = end;
    return off;
  }

  private ensure(bytes: number): void {
    const have = this.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.min(Math.max(bytes, Math.ceil(have * 1.25)), MAX_WASM_BYTES);
    if (this.memory) {
      try {
        this.memory.grow(Math.ceil((want - have) / PAGE));
      } catch (e) {
        throw new RangeError(`cannot grow the wasm workspace to ${want} bytes (${(e as Error).message}); pass backend: "js" for very large inputs`);
      }
    } else {
      const next = new ArrayBuffer(Math.ceil(want / PAGE) * PAGE);
      new Uint8Array(next).set(new Uint8Array(this.jsBuffer as ArrayBuffer));
      this.jsBuffer = next;
    }
  }

  f32(off: number, len: number): Float32Array {
    return new Float32Array(this.buffer, off, len);
  }

  f64(off: number, len: number): Float64Array {
    return new Float64Array(this.buffer, off, len);
  }

  /** Fused X_cᵀX_c v: acc += Σ (x_i·v − c) x_i over `rows` rows of `dp` (padded) floats; returns Σ (x_i·v − c). */
  ata(x: number, rows: number, dp: number, v: number, acc: number, c: number): number {
    const even = rows & ~1;
    let sum = 0;
    if (even > 0) {
      sum = this.wasm ? this.wasm.ata(x, even, dp * 4, v, acc, c) : jsAta(this.buffer, x, even, dp, v, acc, c);
    }
    if (even < rows) {
      const b = this.buffer;
      const row = new Float32Array(b, x + even * dp * 4, dp);
      const t = dot4(row, new Float64Array(b, v, dp), 0, dp) - c;
      sum = t + sum;
      const a = new Float64Array(b, acc, dp);
      for (let j = 0; j < dp; j++) a[j] += t * row[j];
    }
    return sum;
  }

  /** out[i·k + s] = x_i·V_s for `rows` rows and `k` stacked f64 vectors (each `dp` long, contiguous). */
  dots(x: number, rows: number, dp: number, vecs: number, k: number, out: number): void {
    const even = rows & ~1;
    if (even > 0) {
      if (this.wasm) this.wasm.dots(x, even, dp * 4, vecs, k, dp * 8, out);
      else jsDots(this.buffer, x, even, dp, vecs, k, out);
    }
    if (even < rows) {
      const b = this.buffer;
      const row = new Float32Array(b, x + even * dp * 4, dp);
      const V = new Float64Array(b, vecs, k * dp);
      const o = new Float64Array(b, out + even * k * 8, k);
      for (let s = 0; s < k; s++) o[s] = dot4(row, V, s * dp, dp);
    }
  }

  /**
   * In place x_i ← fround(s_i (x_i − y_i)) for `rows` rows (s: f64 ±1 per row at `signs`), adding each stored
   * row to `plus` (s_i > 0) or `minus`; returns Σ_i ‖x_i‖² of the stored rows.
   */
  diff(x: number, y: number, rows: number, dp: number, signs: number, plus: number, minus: number): number {
    if (rows === 0) return 0;
    return this.wasm ? this.wasm.diff(x, y, rows, dp * 4, signs, plus, minus) : jsDiff(this.buffer, x, y, rows, dp, signs, plus, minus);
  }

  /** acc += Σ_i r_i x_i (r: `rows` f64 at byte offset `r`). */
  axpy(x: number, rows: number, dp: number, r: number, acc: number): void {
    const even = rows & ~1;
    if (even > 0) {
      if (this.wasm) this.wasm.axpy(x, even, dp * 4, r, acc);
      else jsAxpy(this.buffer, x, even, dp, r, acc);
    }
    if (even < rows) {
      const b = this.buffer;
      const row = new Float32Array(b, x + even * dp * 4, dp);
      const t = new Float64Array(b, r + even * 8, 1)[0];
      const a = new Float64Array(b, acc, dp);
      for (let j = 0; j < dp; j++) a[j] += t * row[j];
    }
  }
}

/** x[0..dp) · V[vo..vo+dp) with the same summation order as the SIMD kernel. */
function dot4(x: Float32Array, V: Float64Array, vo: number, dp: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; j < dp; j += 4) {
    s0 += x[j] * V[vo + j];
    s1 += x[j + 1] * V[vo + j + 1];
    s2 += x[j + 2] * V[vo + j + 2];
    s3 += x[j + 3] * V[vo + j + 3];
  }
  return s0 + s2 + (s1 + s3);
}

function jsAta(buf: ArrayBuffer, x: number, rows: number, dp: number, v: number, acc: number, c: number): number {
  const X = new Float32Array(buf, x, rows * dp);
  const V = new Float64Array(buf, v, dp);
  const A = new Float64Array(buf, acc, dp);
  let sum = 0;
  for (let i = 0; i < rows; i += 2) {
    const oa = i * dp;
    const ob = oa + dp;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let j = 0; j < dp; j += 4) {
      const v0 = V[j], v1 = V[j + 1], v2 = V[j + 2], v3 = V[j + 3];
      a0 += X[oa + j] * v0;
      a1 += X[oa + j + 1] * v1;
      a2 += X[oa + j + 2] * v2;
      a3 += X[oa + j + 3] * v3;
      b0 += X[ob + j] * v0;
      b1 += X[ob + j + 1] * v1;
      b2 += X[ob + j + 2] * v2;
      b3 += X[ob + j + 3] * v3;
    }
    const ta = a0 + a2 + (a1 + a3) - c;
    const tb = b0 + b2 + (b1 + b3) - c;
    sum = ta + tb + sum;
    for (let j = 0; j < dp; j++) A[j] = A[j] + ta * X[oa + j] + tb * X[ob + j];
  }
  return sum;
}

function jsDots(buf: ArrayBuffer, x: number, rows: number, dp: number, vecs: number, k: number, out: number): void {
  const X = new Float32Array(buf, x, rows * dp);
  const V = new Float64Array(buf, vecs, k * dp);
  const O = new Float64Array(buf, out, rows * k);
  for (let i = 0; i < rows; i += 2) {
    const oa = i * dp;
    const ob = oa + dp;
    for (let s = 0; s < k; s++) {
      const vo = s * dp;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let j = 0; j < dp; j += 4) {
        const v0 = V[vo + j], v1 = V[vo + j + 1], v2 = V[vo + j + 2], v3 = V[vo + j + 3];
        a0 += X[oa + j] * v0;
        a1 += X[oa + j + 1] * v1;
        a2 += X[oa + j + 2] * v2;
        a3 += X[oa + j + 3] * v3;
        b0 += X[ob + j] * v0;
        b1 += X[ob + j + 1] * v1;
        b2 += X[ob + j + 2] * v2;
        b3 += X[ob + j + 3] * v3;
      }
      O[i * k + s] = a0 + a2 + (a1 + a3);
      O[(i + 1) * k + s] = b0 + b2 + (b1 + b3);
    }
  }
}

function jsAxpy(buf: ArrayBuffer, x: number, rows: number, dp: number, r: number, acc: number): void {
  const X = new Float32Array(buf, x, rows * dp);
  const R = new Float64Array(buf, r, rows);
  const A = new Float64Array(buf, acc, dp);
  for (let i = 0; i < rows; i += 2) {
    const oa = i * dp;
    const ob = oa + dp;
    const ta = R[i];
    const tb = R[i + 1];
    for (let j = 0; j < dp; j++) A[j] = A[j] + ta * X[oa + j] + tb * X[ob + j];
  }
}

function jsDiff(buf: ArrayBuffer, x: number, y: number, rows: number, dp: number, signs: number, plus: number, minus: number): number {
  const X = new Float32Array(buf, x, rows * dp);
  const Y = new Float32Array(buf, y, rows * dp);
  const S = new Float64Array(buf, signs, rows);
  const P = new Float64Array(buf, plus, dp);
  const M = new Float64Array(buf, minus, dp);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const s = S[i];
    const acc = s > 0 ? P : M;
    const o = i * dp;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (let j = 0; j < dp; j += 4) {
      const a0 = Math.fround((X[o + j] - Y[o + j]) * s);
      const a1 = Math.fround((X[o + j + 1] - Y[o + j + 1]) * s);
      const a2 = Math.fround((X[o + j + 2] - Y[o + j + 2]) * s);
      const a3 = Math.fround((X[o + j + 3] - Y[o + j + 3]) * s);
      X[o + j] = a0;
      X[o + j + 1] = a1;
      X[o + j + 2] = a2;
      X[o + j + 3] = a3;
      acc[j] += a0;
      acc[j + 1] += a1;
      acc[j + 2] += a2;
      acc[j + 3] += a3;
      q0 += a0 * a0;
      q1 += a1 * a1;
      q2 += a2 * a2;
      q3 += a3 * a3;
    }
    total = q0 + q2 + (q1 + q3) + total;
  }
  return total;
}

const shared: Partial<Record<KernelBackend, Workspace>> = {};

/**
 * The process-wide workspace for a backend (default: wasm when available). It keeps its high-water-mark
 * memory between calls (e.g. ~32 MiB after a 2,000 × 4,096 PCA); `releaseWorkspaces()` drops it.
 */
export function workspace(backend?: KernelBackend): Workspace {
  const b: KernelBackend = backend ?? (simdAvailable() ? "wasm" : "js");
  let ws = shared[b];
  if (!ws) {
    ws = new Workspace(b);
    shared[b] = ws;
  }
  ws.reset();
  return ws;
}

/** Frees the cached scratch memory (it is re-created on the next call). */
export function releaseWorkspaces(): void {
  delete shared.wasm;
  delete shared.js;
}

/**
 * Copies `rows` rows of `d` floats from `src` (row-major) into the workspace at byte offset `off` with row
 * stride `dp`, zeroing the padding.
 */
export function copyRows(ws: Workspace, off: number, src: Float32Array, rows: number, d: number, dp: number): void {
  const dst = ws.f32(off, rows * dp);
  if (d === dp) {
    dst.set(src.subarray(0, rows * d));
    return;
  }
  for (let i = 0; i < rows; i++) {
    dst.set(src.subarray(i * d, i * d + d), i * dp);
    for (let j = d; j < dp; j++) dst[i * dp + j] = 0;
  }
}

/** Writes `vec` (length d) into the workspace as a zero-padded f64 vector of length dp. */
export function writeVector(ws: Workspace, off: number, vec: ArrayLike<number>, d: number, dp: number): void {
  const dst = ws.f64(off, dp);
  for (let j = 0; j < d; j++) dst[j] = vec[j];
  for (let j = d; j < dp; j++) dst[j] = 0;
}
