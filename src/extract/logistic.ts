/**
 * L2-regularised logistic-regression probe: pos rows are label 1, neg rows label 0 (2n samples), fitted by
 * L-BFGS (Armijo backtracking) from zero, deterministically.
 *
 *   J(w, b) = (1/2n) Σ log(1 + exp(−y_i (w·x̃_i + b))) + (λ/2)‖w‖²       (bias not penalised)
 *
 * λ is on the mean-loss scale (sklearn's C = 1/(λ·2n)). With `standardize` (default true) x̃ = (x − μ)/σ per
 * feature (training mean and population std over all 2n rows; constant features get weight 0): this makes λ
 * comparable across layers and models whose activation scales differ by orders of magnitude (LLM residual
 * streams have a few huge outlier dimensions) and keeps L-BFGS well conditioned. The returned `raw` is the
 * probe's normal in activation space, w/σ, so scores are plain projections h·raw (+ `fit.intercept`).
 * Each L-BFGS step costs one or two passes over the data (X w and Xᵀ r through the SIMD kernels).
 */

import { copyRows, paddedDim, workspace, writeVector } from "./kernels.js";
import { finishVector } from "./project.js";
import { pairCount, type CommonExtractOptions, type ConceptVector, type PairMatrices } from "./types.js";

export interface LogisticOptions extends CommonExtractOptions {
  /** L2 strength on the mean-loss scale. Default 1e-2. */
  lambda?: number;
  /** Standardise features first (see above). Default true. */
  standardize?: boolean;
  /** Maximum L-BFGS iterations. Default 300. */
  maxIterations?: number;
  /** Stop when ‖∇J‖∞ ≤ gradTol. Default 1e-5. */
  gradTol?: number;
  /** L-BFGS history length. Default 10. */
  memory?: number;
}

export function extractLogistic(pairs: PairMatrices, opts: LogisticOptions = {}): ConceptVector {
  const n = pairCount(pairs);
  if (n === 0) throw new Error("logistic: no training pairs");
  const lambda = opts.lambda ?? 1e-2;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`logistic: lambda must be a finite number ≥ 0, got ${lambda}`);
  const standardize = opts.standardize ?? true;
  const maxIter = opts.maxIterations ?? 300;
  const gradTol = opts.gradTol ?? 1e-5;
  const mem = Math.max(1, opts.memory ?? 10);
  const d = pairs.dim;
  const dp = paddedDim(d);
  const N = 2 * n;
  const { pos, neg } = pairs;

  // Feature statistics (two passes for an exact variance).
  const mu = new Float64Array(d);
  const invSigma = new Float64Array(d).fill(1);
  if (standardize) {
    for (const m of [pos, neg]) for (let i = 0; i < n; i++) for (let j = 0, o = i * d; j < d; j++) mu[j] += m[o + j];
    for (let j = 0; j < d; j++) mu[j] /= N;
    const v = new Float64Array(d);
    for (const m of [pos, neg]) {
      for (let i = 0; i < n; i++) {
        for (let j = 0, o = i * d; j < d; j++) {
          const e = m[o + j] - mu[j];
          v[j] += e * e;
        }
      }
    }
    for (let j = 0; j < d; j++) {
      const sd = Math.sqrt(v[j] / N);
      invSigma[j] = sd > 1e-12 * (Math.abs(mu[j]) + 1e-30) && sd > 0 ? 1 / sd : 0;
    }
  }

  const ws = workspace(opts.backend);
  const xo = ws.alloc(N * dp * 4);
  const wo = ws.alloc(dp * 8);
  const zo = ws.alloc(N * 8);
  const go = ws.alloc(dp * 8);
  copyRows(ws, xo, pos, n, d, dp);
  copyRows(ws, xo + n * dp * 4, neg, n, d, dp);
  const z = ws.f64(zo, N);
  const gacc = ws.f64(go, dp);

  const P = d + 1; // parameters: standardised weights, then bias
  const weff = new Float64Array(d);
  /** Objective and gradient at theta (gradient written to `grad`). */
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    let shift = theta[d];
    let wsq = 0;
    for (let j = 0; j < d; j++) {
      weff[j] = theta[j] * invSigma[j];
      shift -= weff[j] * mu[j];
      wsq += theta[j] * theta[j];
    }
    writeVector(ws, wo, weff, d, dp);
    ws.dots(xo, N, dp, wo, 1, zo);
    let loss = 0;
    let sumR = 0;
    for (let i = 0; i < N; i++) {
      const y = i < n ? 1 : -1;
      const m = y * (z[i] + shift);
      loss += Math.max(-m, 0) + Math.log1p(Math.exp(-Math.abs(m)));
      // dℓ/dz = −y·σ(−m); stable form of σ(−m) for either sign of m.
      const sig = m >= 0 ? Math.exp(-m) / (1 + Math.exp(-m)) : 1 / (1 + Math.exp(m));
      const r = (-y * sig) / N;
      z[i] = r;
      sumR += r;
    }
    gacc.fill(0);
    ws.axpy(xo, N, dp, zo, go);
    for (let j = 0; j < d; j++) grad[j] = (gacc[j] - mu[j] * sumR) * invSigma[j] + lambda * theta[j];
    grad[d] = sumR;
    return loss / N + 0.5 * lambda * wsq;
  };

  const theta = new Float64Array(P);
  const grad = new Float64Array(P);
  let f = evaluate(theta, grad);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(P);
  const trial = new Float64Array(P);
  const gTrial = new Float64Array(P);
  let iterations = 0;
  let gnorm = infNorm(grad);
  while (gnorm > gradTol && iterations < maxIter) {
    iterations++;
    // Two-loop recursion: dir = −H ∇.
    for (let j = 0; j < P; j++) dir[j] = -grad[j];
    const alphas = new Float64Array(S.length);
    for (let h = S.length - 1; h >= 0; h--) {
      alphas[h] = rho[h] * dotP(S[h], dir);
      axpyP(-alphas[h], Y[h], dir);
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dotP(S[last], Y[last]) / dotP(Y[last], Y[last]);
      for (let j = 0; j < P; j++) dir[j] *= gamma;
    } else {
      const s = 1 / Math.max(gnorm, 1);
      for (let j = 0; j < P; j++) dir[j] *= s;
    }
    for (let h = 0; h < S.length; h++) {
      const beta = rho[h] * dotP(Y[h], dir);
      axpyP(alphas[h] - beta, S[h], dir);
    }
    let slope = dotP(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (lost curvature information): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let j = 0; j < P; j++) dir[j] = -grad[j] / Math.max(gnorm, 1);
      slope = dotP(grad, dir);
    }
    let step = 1;
    let fTrial = Infinity;
    let accepted = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < P; j++) trial[j] = theta[j] + step * dir[j];
      fTrial = evaluate(trial, gTrial);
      if (fTrial <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break; // no decrease representable: at the optimum to rounding
    const s = new Float64Array(P);
    const y = new Float64Array(P);
    for (let j = 0; j < P; j++) {
      s[j] = trial[j] - theta[j];
      y[j] = gTrial[j] - grad[j];
    }
    const sy = dotP(s, y);
    if (sy > 1e-12 * Math.sqrt(dotP(s, s) * dotP(y, y))) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > mem) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const fPrev = f;
    theta.set(trial);
    grad.set(gTrial);
    f = fTrial;
    gnorm = infNorm(grad);
    if (fPrev - f <= 1e-15 * Math.max(1, Math.abs(f))) break; // stalled
  }

  const raw = new Float64Array(d);
  let intercept = theta[d];
  for (let j = 0; j < d; j++) {
    raw[j] = theta[j] * invSigma[j];
    intercept -= raw[j] * mu[j];
  }
  return finishVector("logistic", raw, pairs, n, {
    fit: { iterations, converged: gnorm <= gradTol, residual: gnorm, objective: f, intercept },
    backend: opts.backend,
  });
}

function dotP(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function axpyP(c: number, x: Float64Array, y: Float64Array): void {
  for (let j = 0; j < y.length; j++) y[j] += c * x[j];
}

function infNorm(a: Float64Array): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j]));
  return m;
}
