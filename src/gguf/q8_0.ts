/**
 * Q8_0 blocks: 32 values -> f16 scale d followed by 32 int8 quants (34 bytes).
 * Quantization mirrors ggml's quantize_row_q8_0_ref in float32 arithmetic:
 * d = amax/127, id = d ? 1/d : 0, q = roundf(x*id) (half away from zero),
 * and dequantization is x̂ = f16(d)·q.
 */
import { QK8_0 } from "./constants.js";
import { f16ToF32, f32ToF16 } from "../util/f16.js";

export const Q8_0_BLOCK_BYTES = 34;

const fr = Math.fround;

/** C roundf: halves go away from zero. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Bytes needed for `n` values (n must be a multiple of 32). */
export function q8_0Bytes(n: number): number {
  if (n % QK8_0 !== 0) throw new Error(`Q8_0 needs a multiple of ${QK8_0} values, got ${n}`);
  return (n / QK8_0) * Q8_0_BLOCK_BYTES;
}

/** Quantize `src` into `dst` starting at byte `dstOffset`; returns `dst`. */
export function quantizeQ8_0(src: Float32Array, dst: Uint8Array = new Uint8Array(q8_0Bytes(src.length)), dstOffset = 0): Uint8Array {
  const nBytes = q8_0Bytes(src.length);
  if (dst.length - dstOffset < nBytes) throw new Error(`quantizeQ8_0: destination too short`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const qs = new Int8Array(dst.buffer, dst.byteOffset, dst.byteLength);
  let o = dstOffset;
  for (let b = 0; b < src.length; b += QK8_0) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      const a = Math.abs(src[b + j]);
      if (a > amax) amax = a;
    }
    const d = fr(amax / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    view.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK8_0; j++) {
      const q = roundHalfAway(fr(src[b + j] * id));
      qs[o + 2 + j] = Number.isFinite(q) ? q : 0; // NaN/inf input has no meaningful quant
    }
    o += Q8_0_BLOCK_BYTES;
  }
  return dst;
}

/** Dequantize `n` values from `src` (starting at byte `srcOffset`) into `dst`. */
export function dequantizeQ8_0(src: Uint8Array, n: number, dst: Float32Array = new Float32Array(n), srcOffset = 0): Float32Array {
  const nBytes = q8_0Bytes(n);
  if (src.length - srcOffset < nBytes) throw new Error(`dequantizeQ8_0: source too short (${src.length - srcOffset} < ${nBytes} bytes)`);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const qs = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  let o = srcOffset;
  for (let b = 0; b < n; b += QK8_0) {
    const d = f16ToF32(view.getUint16(o, true));
    for (let j = 0; j < QK8_0; j++) dst[b + j] = d * qs[o + 2 + j];
    o += Q8_0_BLOCK_BYTES;
  }
  return dst;
}
