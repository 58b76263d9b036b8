/**
 * Largest eigenpair of a symmetric positive semi-definite operator by Lanczos with full
 * reorthogonalisation. Krylov methods need far fewer operator applications than power iteration for the
 * same accuracy (convergence governed by √gap rather than gap), and the only expensive step is `apply`.
 */

export interface LanczosOptions {
  /** Stop when the top Ritz value changes by ≤ tol·θ between steps (and the residual test passes). */
  tol: number;
  /** ... and the Ritz residual ‖Au − θu‖ ≤ residualTol·θ. */
  residualTol: number;
  /** Maximum Krylov dimension (operator applications). */
  maxIterations: number;
}

export interface LanczosResult {
  value: number;
  vector: Float64Array;
  iterations: number;
  converged: boolean;
  /** Relative Ritz residual ‖Au − θu‖/θ (0 after an exact invariant-subspace breakdown). */
  residual: number;
}

/** Number of eigenvalues of the symmetric tridiagonal (alpha, beta) below x (Sturm sequence). */
function sturmCount(alpha: Float64Array, beta: Float64Array, k: number, x: number, pivmin: number): number {
  let count = 0;
  let q = alpha[0] - x;
  if (Math.abs(q) < pivmin) q = -pivmin;
  if (q < 0) count++;
  for (let i = 1; i < k; i++) {
    q = alpha[i] - x - (beta[i - 1] * beta[i - 1]) / q;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
  }
  return count;
}

/** Largest eigenvalue of the k × k symmetric tridiagonal matrix by bisection, to full precision. */
export function tridiagonalMaxEigenvalue(alpha: Float64Array, beta: Float64Array, k: number, lowerBound = -Infinity): number {
  if (k === 1) return alpha[0];
  let lo = Infinity;
  let hi = -Infinity;
  let maxB2 = 0;
  for (let i = 0; i < k; i++) {
    const r = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < k - 1 ? Math.abs(beta[i]) : 0);
    lo = Math.min(lo, alpha[i] - r);
    hi = Math.max(hi, alpha[i] + r);
    if (i < k - 1) maxB2 = Math.max(maxB2, beta[i] * beta[i]);
  }
  const pivmin = Number.MIN_VALUE * Math.max(1, maxB2) * 1e10;
  if (lowerBound > lo && lowerBound < hi) lo = lowerBound;
  // Invariant: at least one eigenvalue ≥ lo, none ≥ hi.
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (hi - lo <= 2 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi))) break;
    if (sturmCount(alpha, beta, k, mid, pivmin) <= k - 1) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Eigenvector of the tridiagonal matrix for an (accurate) eigenvalue `theta` by two steps of inverse
 * iteration, solving (T − θI)y = b with partial pivoting. Unit length; the sign is arbitrary.
 */
export function tridiagonalEigenvector(alpha: Float64Array, beta: Float64Array, k: number, theta: number): Float64Array {
  const y = new Float64Array(k);
  if (k === 1) {
    y[0] = 1;
    return y;
  }
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(alpha[i]) + (i < k - 1 ? Math.abs(beta[i]) : 0));
  const tiny = Number.EPSILON * Math.max(scale, Number.MIN_VALUE);
  const d = new Float64Array(k);
  const dl = new Float64Array(k);
  const du = new Float64Array(k);
  // Start from a vector with no special structure so it is not orthogonal to the eigenvector.
  for (let i = 0; i < k; i++) y[i] = 1 + 0.5 * Math.sin(i + 1);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < k; i++) {
      d[i] = alpha[i] - theta;
      if (i < k - 1) {
        dl[i] = beta[i];
        du[i] = beta[i];
      }
    }
    // Gaussian elimination with row interchanges; dl[i] becomes the second superdiagonal when rows swap.
    for (let i = 0; i < k - 1; i++) {
      if (Math.abs(d[i]) >= Math.abs(dl[i])) {
        if (d[i] === 0) d[i] = tiny;
        const fact = dl[i] / d[i];
        d[i + 1] -= fact * du[i];
        y[i + 1] -= fact * y[i];
        dl[i] = 0;
      } else {
        const fact = d[i] / dl[i];
        d[i] = dl[i];
        const t = d[i + 1];
        d[i + 1] = du[i] - fact * t;
        if (i < k - 2) {
          dl[i] = du[i + 1];
          du[i + 1] = -fact * dl[i];
        } else {
          dl[i] = 0;
        }
        du[i] = t;
        const b = y[i];
        y[i] = y[i + 1];
        y[i + 1] = b - fact * y[i + 1];
      }
    }
    if (d[k - 1] === 0) d[k - 1] = tiny;
    y[k - 1] /= d[k - 1];
    y[k - 2] = (y[k - 2] - du[k - 2] * y[k - 1]) / d[k - 2];
    for (let i = k - 3; i >= 0; i--) y[i] = (y[i] - du[i] * y[i + 1] - dl[i] * y[i + 2]) / d[i];
    let nrm = 0;
    for (let i = 0; i < k; i++) nrm += y[i] * y[i];
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0) || !Number.isFinite(nrm)) {
      // Cannot happen for a finite symmetric T; keep a defined output anyway.
      y.fill(0);
      y[k - 1] = 1;
      return y;
    }
    for (let i = 0; i < k; i++) y[i] /= nrm;
  }
  return y;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = a.length;
  let j = 0;
  for (; j + 1 < n; j += 2) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
  }
  if (j < n) s0 += a[j] * b[j];
  return s0 + s1;
}

/**
 * Top eigenpair of the n × n PSD operator `apply` (out = A v), starting from `start` (need not be
 * normalised, must be non-zero). Deterministic for a given start vector.
 */
export function lanczosTop(n: number, apply: (v: Float64Array, out: Float64Array) => void, start: Float64Array, opts: LanczosOptions): LanczosResult {
  const m = Math.max(1, Math.min(opts.maxIterations, n));
  const Q: Float64Array[] = [];
  const alpha = new Float64Array(m);
  const beta = new Float64Array(m);
  let q: Float64Array = Float64Array.from(start);
  let nq = Math.sqrt(dot(q, q));
  if (!(nq > 0) || !Number.isFinite(nq)) throw new Error("lanczos: start vector must be finite and non-zero");
  for (let j = 0; j < n; j++) q[j] /= nq;
  const w = new Float64Array(n);
  let theta = 0;
  let prevTheta = -Infinity;
  let y: Float64Array = new Float64Array(1);
  let residual = Infinity;
  let converged = false;
  let k = 0;
  for (; k < m; k++) {
    Q.push(q);
    apply(q, w);
    const a = dot(q, w);
    alpha[k] = a;
    for (let j = 0; j < n; j++) w[j] -= a * q[j];
    if (k > 0) {
      const qp = Q[k - 1];
      const b = beta[k - 1];
      for (let j = 0; j < n; j++) w[j] -= b * qp[j];
    }
    // Full reorthogonalisation, twice ("twice is enough"), keeps the basis orthogonal to rounding level.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= k; i++) {
        const qi = Q[i];
        const h = dot(qi, w);
        if (h !== 0) for (let j = 0; j < n; j++) w[j] -= h * qi[j];
      }
    }
    const b = Math.sqrt(dot(w, w));
    theta = tridiagonalMaxEigenvalue(alpha, beta, k + 1, prevTheta);
    y = tridiagonalEigenvector(alpha, beta, k + 1, theta);
    const scale = Math.max(Math.abs(theta), Number.MIN_VALUE);
    residual = (b * Math.abs(y[k])) / scale;
    // Breakdown: the Krylov space is invariant, so the Ritz pair is exact.
    if (b <= 1e-13 * Math.max(scale, Math.abs(a))) {
      residual = 0;
      converged = true;
      k++;
      break;
    }
    if (Math.abs(theta - prevTheta) <= opts.tol * scale && residual <= opts.residualTol) {
      converged = true;
      k++;
      break;
    }
    prevTheta = theta;
    beta[k] = b;
    if (k + 1 < m) {
      q = new Float64Array(n);
      for (let j = 0; j < n; j++) q[j] = w[j] / b;
    }
  }
  // A full-dimension Krylov space (k = n) is exact too.
  if (!converged && Q.length === n) {
    converged = true;
    residual = 0;
  }
  const vec = new Float64Array(n);
  for (let i = 0; i < Q.length; i++) {
    const qi = Q[i];
    const c = y[i];
    for (let j = 0; j < n; j++) vec[j] += c * qi[j];
  }
  nq = Math.sqrt(dot(vec, vec));
  for (let j = 0; j < n; j++) vec[j] /= nq;
  return { value: theta, vector: vec, iterations: Q.length, converged, residual };
}
