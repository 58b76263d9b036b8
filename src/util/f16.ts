/**
 * IEEE 754 binary16 <-> binary32 conversion on raw bits.
 * Rounding is round-to-nearest-even, NaN becomes the quiet NaN 0x7e00 (as ggml
 * does), overflow becomes ±inf, and results below half the smallest subnormal
 * flush to ±0.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Convert the bit pattern of a float32 to float16 bits. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal result: value = m·2^(exp-150), i.e. m >> (126-exp) units of 2^-24.
    if (exp === 0) return sign; // float32 subnormals are far below 2^-25
    const shift = 126 - exp; // >= 14
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1) !== 0)) q++;
    return sign | q; // a carry into bit 10 correctly yields the smallest normal
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1) !== 0)) q++; // may carry up to inf: correct
  return sign | q;
}

/** Convert a number (rounded to float32 first, as C would) to float16 bits. */
export function f32ToF16(v: number): number {
  f32[0] = v;
  return f32BitsToF16Bits(u32[0]);
}

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// All 65536 decodings are cheap to precompute and make bulk decoding a lookup.
const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Slow(h);
  return t;
})();

/** Decode float16 bits to a number (exact). */
export function f16ToF32(h: number): number {
  return F16_TABLE[h & 0xffff];
}

/** Encode `src` into `dst` (same length) as float16 bits. */
export function f32ArrayToF16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (dst.length < src.length) throw new Error(`f32ArrayToF16: destination too short (${dst.length} < ${src.length})`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) dst[i] = f32BitsToF16Bits(bits[i]);
  return dst;
}

/** Decode float16 bits `src` into `dst` (same length). */
export function f16ArrayToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (dst.length < src.length) throw new Error(`f16ArrayToF32: destination too short (${dst.length} < ${src.length})`);
  for (let i = 0; i < src.length; i++) dst[i] = F16_TABLE[src[i]];
  return dst;
}

/** Round a number to the nearest float16 value (returned as a number). */
export function roundToF16(v: number): number {
  return F16_TABLE[f32ToF16(v)];
}
