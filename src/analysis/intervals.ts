/**
 * Confidence intervals for a proportion (an accuracy over test pairs), with correct coverage at the boundary,
 * for pairs that come in clusters, and for a number picked as the best of several.
 *
 * - Wilson score interval (default) or Clopper–Pearson ("exact", conservative). Unlike a percentile bootstrap,
 *   neither collapses to [1, 1] at n/n.
 * - Clusters: pairs that share a source item (a TruthfulQA question, a deontology scenario: their `group`) are
 *   not independent. The interval is then computed on the effective sample size n / deff, where the design
 *   effect deff is the ratio of the cluster-robust variance of p̂ to the binomial one (Kish; Korn & Graubard
 *   1998 do the same with Clopper–Pearson). At p̂ ∈ {0, 1} the variance ratio is 0/0, so the worst case is
 *   used: every cluster counts once (n_eff = number of clusters).
 * - Selection: the best of L layers picked on the test set is covered by the Bonferroni interval at level
 *   1 − (1 − level)/L, which holds for all L layers at once and so for whichever was picked.
 */

import type { Interval } from "./stats.js";

export type ProportionMethod = "wilson" | "clopper-pearson";
export const PROPORTION_METHODS: readonly ProportionMethod[] = ["wilson", "clopper-pearson"];

export interface ProportionOptions {
  /** Default "wilson". */
  method?: ProportionMethod;
  /** Coverage. Default 0.95. */
  level?: number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`interval level must be in (0, 1), got ${level}`);
}

/**
 * Standard normal quantile Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation (relative error < 1.2e-9),
 * which is far below any statistical precision needed here.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Wilson score interval for k successes in n trials (k, n may be non-integer effective counts). */
export function wilsonInterval(k: number, n: number, level = 0.95): Interval {
  checkLevel(level);
  if (!(n > 0) || !(k >= 0 && k <= n)) throw new Error(`wilsonInterval: need 0 ≤ k ≤ n and n > 0, got k = ${k}, n = ${n}`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const z2 = z * z;
  const p = k / n;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function lnGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let s = g[0];
  for (let i = 1; i < 9; i++) s += g[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) return h;
  }
  throw new Error(`incomplete beta: no convergence for a = ${a}, b = ${b}, x = ${x}`);
}

/** Regularised incomplete beta I_x(a, b), a, b > 0, x ∈ [0, 1]. */
export function betaRegularized(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`betaRegularized: a and b must be positive, got ${a}, ${b}`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) beyond.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Quantile of Beta(a, b) by bisection on I_x(a, b) (monotone; 200 halvings reach double precision). */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`betaQuantile: p must be in [0, 1], got ${p}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (betaRegularized(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Clopper–Pearson interval: the Beta quantiles, valid for non-integer effective counts too. */
export function clopperPearsonInterval(k: number, n: number, level = 0.95): Interval {
  checkLevel(level);
  if (!(n > 0) || !(k >= 0 && k <= n)) throw new Error(`clopperPearsonInterval: need 0 ≤ k ≤ n and n > 0, got k = ${k}, n = ${n}`);
  const a = (1 - level) / 2;
  return { lo: k === 0 ? 0 : betaQuantile(a, k, n - k + 1), hi: k === n ? 1 : betaQuantile(1 - a, k + 1, n - k) };
}

export function proportionInterval(k: number, n: number, opts: ProportionOptions = {}): Interval {
  const method = opts.method ?? "wilson";
  const level = opts.level ?? 0.95;
  if (method === "wilson") return wilsonInterval(k, n, level);
  if (method === "clopper-pearson") return clopperPearsonInterval(k, n, level);
  throw new Error(`unknown interval method '${String(method)}' (have: ${PROPORTION_METHODS.join(", ")})`);
}

/** Accuracy, its cluster-aware effective size, and the interval. */
export interface AccuracyInterval extends Interval {
  /** Effective sample size n / deff (= n without clusters). */
  nEff: number;
  /** Clusters (= n without clusters). */
  clusters: number;
}

/**
 * Dense cluster indices 0..G−1 for per-item labels (first-appearance order); undefined → every item its own.
 */
export function clusterIndex(labels: readonly string[] | undefined, n: number): { index: Int32Array; count: number } {
  const index = new Int32Array(n);
  if (!labels) {
    for (let i = 0; i < n; i++) index[i] = i;
    return { index, count: n };
  }
  if (labels.length !== n) throw new Error(`clusters: ${labels.length} labels for ${n} items`);
  const ids = new Map<string, number>();
  labels.forEach((l, i) => {
    let g = ids.get(l);
    if (g === undefined) ids.set(l, (g = ids.size));
    index[i] = g;
  });
  return { index, count: ids.size };
}

/**
 * Effective sample size of a mean of 0/1 bits under clustering: n · v_srs / v_cluster, capped at n (clusters
 * never add information), and the number of clusters where p̂ is 0 or 1 (see the module comment).
 */
export function effectiveSize(bits: Uint8Array, cluster: { index: Int32Array; count: number }): number {
  const n = bits.length;
  const G = cluster.count;
  if (G === n) return n;
  const tot = new Float64Array(G);
  const size = new Float64Array(G);
  let k = 0;
  for (let i = 0; i < n; i++) {
    tot[cluster.index[i]] += bits[i];
    size[cluster.index[i]] += 1;
    k += bits[i];
  }
  const p = k / n;
  if (p === 0 || p === 1) return G;
  if (G < 2) return 1;
  let ss = 0;
  for (let g = 0; g < G; g++) ss += (tot[g] - p * size[g]) ** 2;
  const vCluster = ((G / (G - 1)) * ss) / (n * n);
  const vSrs = (p * (1 - p)) / n;
  return Math.min(n, (n * vSrs) / vCluster);
}

/**
 * The interval of an accuracy from its per-pair bits; `cluster` (from clusterIndex) makes it cluster-aware;
 * `comparisons` > 1 widens it to the Bonferroni level for a value picked as the best of that many.
 */
export function accuracyInterval(
  bits: Uint8Array,
  opts: ProportionOptions & { cluster?: { index: Int32Array; count: number }; comparisons?: number } = {},
): AccuracyInterval {
  const n = bits.length;
  if (n === 0) return { lo: NaN, hi: NaN, nEff: 0, clusters: 0 };
  const L = opts.comparisons ?? 1;
  if (!Number.isInteger(L) || L < 1) throw new Error(`comparisons must be a positive integer, got ${L}`);
  const level = opts.level ?? 0.95;
  checkLevel(level);
  let k = 0;
  for (let i = 0; i < n; i++) k += bits[i];
  const cluster = opts.cluster ?? { index: new Int32Array(0), count: n };
  if (opts.cluster && opts.cluster.index.length !== n) throw new Error(`accuracyInterval: ${opts.cluster.index.length} cluster labels for ${n} pairs`);
  const nEff = opts.cluster ? effectiveSize(bits, cluster) : n;
  const ci = proportionInterval((k / n) * nEff, nEff, { method: opts.method, level: 1 - (1 - level) / L });
  return { ...ci, nEff, clusters: cluster.count };
}
