/** Projections of activation rows onto directions, the sign rule, and the common result builder. */

import { copyRows, paddedDim, workspace, writeVector, type KernelBackend } from "./kernels.js";
import { pairCount, type ConceptVector, type ExtractMethod, type FitInfo, type PairMatrices } from "./types.js";

/** Rows copied into the workspace per kernel call: bounds scratch memory to ~64 MiB whatever n is. */
export const CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * scores[i·k + s] = row_i · vectors[s] for a row-major n × d Float32 matrix, accumulated in Float64.
 * One pass over the rows serves all k vectors (a matrix–matrix product). The result for a given (row, vector)
 * does not depend on k or on the other vectors, so scores computed together or one by one are bit-identical.
 */
export function projectRows(
  rows: Float32Array,
  d: number,
  vectors: ReadonlyArray<ArrayLike<number>>,
  backend?: KernelBackend,
): Float64Array {
  if (!Number.isInteger(d) || d <= 0 || rows.length % d !== 0) throw new Error(`projectRows: ${rows.length} values do not form rows of ${d}`);
  for (const v of vectors) if (v.length !== d) throw new Error(`projectRows: vector of length ${v.length}, expected ${d}`);
  const n = rows.length / d;
  const k = vectors.length;
  const out = new Float64Array(n * k);
  if (n === 0 || k === 0) return out;
  const dp = paddedDim(d);
  const chunk = Math.max(2, Math.floor(CHUNK_BYTES / (dp * 4)) & ~1);
  const ws = workspace(backend);
  const vo = ws.alloc(k * dp * 8);
  const xo = ws.alloc(Math.min(n, chunk) * dp * 4);
  const oo = ws.alloc(Math.min(n, chunk) * k * 8);
  for (let s = 0; s < k; s++) writeVector(ws, vo + s * dp * 8, vectors[s], d, dp);
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    copyRows(ws, xo, rows.subarray(start * d, (start + m) * d), m, d, dp);
    ws.dots(xo, m, dp, vo, k, oo);
    out.set(ws.f64(oo, m * k), start * k);
  }
  return out;
}

export interface SignCount {
  sign: 1 | -1;
  /** Pairs where pos projects strictly higher than neg. */
  higher: number;
  /** Pairs where pos projects strictly lower. */
  lower: number;
  ties: number;
}

/**
 * The sign rule shared by every method (the RepE/paper `get_signs` rule): project both members of every
 * training pair on `direction`; sign = −1 if pairs with proj(pos) < proj(neg) outnumber those with
 * proj(pos) > proj(neg), else +1 (ties → +1). `swapped[i] = 1` exchanges the labels of pair i (used by the
 * label-shuffle baseline, which must not see the true labels).
 */
export function signFromPairs(pairs: PairMatrices, direction: ArrayLike<number>, swapped?: Uint8Array, backend?: KernelBackend): SignCount {
  const n = pairCount(pairs);
  const sp = projectRows(pairs.pos, pairs.dim, [direction], backend);
  const sn = projectRows(pairs.neg, pairs.dim, [direction], backend);
  let higher = 0;
  let lower = 0;
  for (let i = 0; i < n; i++) {
    let a = sp[i];
    let b = sn[i];
    if (swapped && swapped[i]) [a, b] = [b, a];
    if (a > b) higher++;
    else if (a < b) lower++;
  }
  return { sign: lower > higher ? -1 : 1, higher, lower, ties: n - higher - lower };
}

/** The sign rule from per-pair margins proj(pos_i) − proj(neg_i). */
export function signFromMargins(margins: Float64Array): SignCount {
  let higher = 0;
  let lower = 0;
  for (let i = 0; i < margins.length; i++) {
    if (margins[i] > 0) higher++;
    else if (margins[i] < 0) lower++;
  }
  return { sign: lower > higher ? -1 : 1, higher, lower, ties: margins.length - higher - lower };
}

/**
 * Builds the common result: rounds `raw` to Float32 (what is stored), applies the sign rule to it and
 * normalises. Throws on a zero or non-finite direction.
 */
export function finishVector(
  method: ExtractMethod,
  raw64: ArrayLike<number>,
  pairs: PairMatrices,
  nTrain: number,
  extra: {
    explainedVariance?: number;
    fit?: FitInfo;
    swapped?: Uint8Array;
    backend?: KernelBackend;
    /** Precomputed proj(pos_i) − proj(neg_i) on `raw` (PCA has the differences at hand); skips the projection pass. */
    margins?: (raw: Float32Array) => Float64Array;
  } = {},
): ConceptVector {
  const d = pairs.dim;
  const raw = Float32Array.from(raw64);
  let sq = 0;
  for (let j = 0; j < d; j++) sq += raw[j] * raw[j];
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) throw new Error(`${method}: the direction has non-finite entries`);
  if (norm === 0) {
    throw new Error(`${method}: the direction is the zero vector (pos and neg activations identical, or no usable pairs); cannot normalise or sign it`);
  }
  const { sign } = extra.margins ? signFromMargins(extra.margins(raw)) : signFromPairs(pairs, raw, extra.swapped, extra.backend);
  const unit = new Float32Array(d);
  const f = sign / norm;
  for (let j = 0; j < d; j++) unit[j] = raw[j] * f;
  const out: ConceptVector = { method, raw, unit, sign, nTrain };
  if (extra.explainedVariance !== undefined) out.explainedVariance = extra.explainedVariance;
  if (extra.fit) out.fit = extra.fit;
  return out;
}
