/**
 * RepE's PCA reader (n_difference = 1): put each pair's two members in a seeded random order, take
 * first − second, recentre those differences by their mean and return the first principal component.
 *
 * No d × d covariance is formed: Lanczos runs on A = X_cᵀX_c, applied as one fused pass over the n × d
 * difference matrix per step (t = X_c v, then X_cᵀ t), in Float64 via the SIMD kernels. The differences are
 * stored as Float32 (the activations' own precision; the difference of two floats is rounded once), and the
 * sign rule reads its margins proj(pos) − proj(neg) from those stored differences.
 */

import { Rng } from "../util/rng.js";
import { copyRows, paddedDim, workspace, writeVector } from "./kernels.js";
import { lanczosTop } from "./lanczos.js";
import { CHUNK_BYTES, finishVector } from "./project.js";
import { pairCount, type CommonExtractOptions, type ConceptVector, type PairMatrices } from "./types.js";

export interface PcaOptions extends CommonExtractOptions {
  /** Recentre the differences by their mean (RepE does). Default true. */
  center?: boolean;
  /** Relative change of the Ritz value between steps. Default 1e-10. */
  tol?: number;
  /** Relative Ritz residual ‖Au − θu‖/θ, required as well. Default 1e-6. */
  residualTol?: number;
  /** Maximum Lanczos steps (one pass over the data each). Default 300. */
  maxIterations?: number;
  /**
   * Start vector: "mean_diff" (default) = unit mean difference + 0.1 × a seeded unit Gaussian vector (the
   * top component is usually close to the mean difference, so this saves steps; the random part guarantees
   * overlap with every direction); "random" = the seeded Gaussian vector alone.
   */
  start?: "mean_diff" | "random";
}

/**
 * The seeded order of each pair's members: +1 = (pos, neg), difference pos − neg; −1 = (neg, pos).
 * Exported so the difference matrix can be rebuilt outside (e.g. for an exact reference decomposition).
 */
export function pcaPairSigns(n: number, seed: number | string = 0): Int8Array {
  const rng = new Rng(seed, "pca-pair-order");
  const s = new Int8Array(n);
  for (let i = 0; i < n; i++) s[i] = rng.uniform() < 0.5 ? -1 : 1;
  return s;
}

/**
 * pca: first principal component of the randomly ordered, recentred pair differences. `raw` is the unit
 * eigenvector as the solver returned it; `explainedVariance` = λ1 / trace of the recentred differences'
 * scatter. n = 1 (or differences that are all identical, so the recentred data is zero) falls back to the
 * un-centred differences: the component is then the common difference direction, explained variance 1,
 * and `fit.centered` is false.
 */
export function extractPca(pairs: PairMatrices, opts: PcaOptions = {}): ConceptVector {
  const n = pairCount(pairs);
  if (n === 0) throw new Error("pca: no training pairs");
  const d = pairs.dim;
  const dp = paddedDim(d);
  const seed = opts.seed ?? 0;
  const signs = pcaPairSigns(n, seed);
  const { pos, neg } = pairs;

  // Workspace: X (the differences), a chunk of neg rows, per-row signs, column sums by order group.
  const chunk = Math.min(n, Math.max(2, Math.floor(CHUNK_BYTES / (dp * 4))));
  const ws = workspace(opts.backend);
  const xo = ws.alloc(n * dp * 4);
  const yo = ws.alloc(chunk * dp * 4);
  const so = ws.alloc(n * 8);
  const po = ws.alloc(dp * 8);
  const qo = ws.alloc(dp * 8);
  const vo = ws.alloc(dp * 8);
  const ao = ws.alloc(dp * 8);
  const mo = ws.alloc(n * 8);
  const sig = ws.f64(so, n);
  for (let i = 0; i < n; i++) sig[i] = signs[i];
  const plusAcc = ws.f64(po, dp);
  const minusAcc = ws.f64(qo, dp);
  plusAcc.fill(0);
  minusAcc.fill(0);
  copyRows(ws, xo, pos, n, d, dp);
  // X_i = f32(s_i (pos_i − neg_i)); column sums per order group and Σ‖X_i‖², one pass per chunk.
  let sumSq = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    copyRows(ws, yo, neg.subarray(start * d, (start + rows) * d), rows, d, dp);
    sumSq += ws.diff(xo + start * dp * 4, yo, rows, dp, so + start * 8, po, qo);
  }
  const X = ws.f32(xo, n * dp);
  const sumPlus = plusAcc.subarray(0, d);
  const sumMinus = minusAcc.subarray(0, d);
  if (!Number.isFinite(sumSq)) throw new Error("pca: activations contain non-finite values");
  if (sumSq === 0) throw new Error("pca: every pair difference is zero (pos and neg activations identical)");

  let centered = opts.center ?? true;
  const mu = new Float64Array(d);
  let trace = sumSq;
  if (centered) {
    let mu2 = 0;
    for (let j = 0; j < d; j++) {
      mu[j] = (sumPlus[j] + sumMinus[j]) / n;
      mu2 += mu[j] * mu[j];
    }
    trace = sumSq - n * mu2;
    // Cancellation guard: recompute the centred scatter exactly when the mean dominates.
    if (trace <= 1e-6 * sumSq) {
      trace = 0;
      for (let i = 0; i < n; i++) {
        const x = X.subarray(i * dp, i * dp + d);
        for (let j = 0; j < d; j++) {
          const e = x[j] - mu[j];
          trace += e * e;
        }
      }
    }
    if (!(trace > 0)) {
      centered = false;
      mu.fill(0);
      trace = sumSq;
    }
  }

  // Start vector: seeded, optionally leaning on the (un-flipped) mean difference.
  const start = new Float64Array(d);
  new Rng(seed, "pca-start").fillNormal(start);
  normalise(start);
  if ((opts.start ?? "mean_diff") === "mean_diff") {
    const md = new Float64Array(d);
    for (let j = 0; j < d; j++) md[j] = sumPlus[j] - sumMinus[j];
    if (normalise(md)) for (let j = 0; j < d; j++) start[j] = md[j] + 0.1 * start[j];
  }

  const acc = ws.f64(ao, dp);
  const apply = (v: Float64Array, out: Float64Array): void => {
    writeVector(ws, vo, v, d, dp);
    acc.fill(0);
    let c = 0;
    if (centered) for (let j = 0; j < d; j++) c += mu[j] * v[j];
    const sumT = ws.ata(xo, n, dp, vo, ao, c);
    for (let j = 0; j < d; j++) out[j] = acc[j] - mu[j] * sumT;
  };
  const res = lanczosTop(d, apply, start, {
    tol: opts.tol ?? 1e-10,
    residualTol: opts.residualTol ?? 1e-6,
    maxIterations: opts.maxIterations ?? 300,
  });
  const explainedVariance = Math.min(1, Math.max(0, res.value / trace));
  return finishVector("pca", res.vector, pairs, n, {
    explainedVariance,
    fit: { iterations: res.iterations, converged: res.converged, residual: res.residual, centered },
    // proj(pos_i) − proj(neg_i) = s_i (x_i · raw), from the differences already in the workspace.
    margins: (raw) => {
      writeVector(ws, vo, raw, d, dp);
      ws.dots(xo, n, dp, vo, 1, mo);
      const m = Float64Array.from(ws.f64(mo, n));
      for (let i = 0; i < n; i++) m[i] *= signs[i];
      return m;
    },
  });
}

function normalise(v: Float64Array): boolean {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const nrm = Math.sqrt(s);
  if (!(nrm > 0) || !Number.isFinite(nrm)) return false;
  for (let j = 0; j < v.length; j++) v[j] /= nrm;
  return true;
}
