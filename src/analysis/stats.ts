/** Shared statistics: Pearson r, percentiles, and the seeded percentile bootstrap for accuracies. */

import { Rng, type RngSeed } from "../gguf/rng.js";

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/**
 * Pearson correlation (as numpy.corrcoef). NaN when fewer than 2 points or either variable is constant
 * (numpy also returns nan there); throws when the lengths differ.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: length mismatch (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx;
    const b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** q-quantile (q ∈ [0, 1]) of ascending-sorted values, linear interpolation (numpy's default method). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Resamples B. Default 1000. */
  samples?: number;
  /** Default 0. */
  seed?: RngSeed;
  /** Coverage. Default 0.95. */
  level?: number;
}

export interface Interval {
  lo: number;
  hi: number;
}

export interface AccuracyBootstrap {
  /** Percentile CI of each statistic's accuracy. */
  each: Interval[];
  /** Percentile CI of max over statistics, the max re-taken inside every resample. */
  max: Interval;
}

/**
 * Percentile bootstrap of accuracies that share the same n items: `correct[l][i]` ∈ {0, 1} is item i's
 * correctness under statistic l (e.g. layer l). Each of the B resamples draws n item indices with
 * replacement (seeded) and recomputes every accuracy from the stored bits (no re-projection); the same
 * resample is used for all l, so the CI of max_l is coherent. CI = the (1−level)/2 and (1+level)/2
 * quantiles of the B resampled values (linear interpolation).
 */
export function bootstrapAccuracies(correct: readonly Uint8Array[], opts: BootstrapOptions = {}): AccuracyBootstrap {
  const L = correct.length;
  if (L === 0) throw new Error("bootstrapAccuracies: no statistics");
  const n = correct[0].length;
  for (const c of correct) if (c.length !== n) throw new Error("bootstrapAccuracies: all statistics must cover the same items");
  const B = opts.samples ?? 1000;
  if (!Number.isInteger(B) || B < 1) throw new Error(`bootstrap: samples must be a positive integer, got ${B}`);
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  if (n === 0) {
    const nan = { lo: NaN, hi: NaN };
    return { each: correct.map(() => nan), max: nan };
  }
  const rng = new Rng(opts.seed ?? 0, "bootstrap");
  const values = Array.from({ length: L }, () => new Float64Array(B));
  const maxes = new Float64Array(B);
  const counts = new Int32Array(n);
  for (let b = 0; b < B; b++) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[rng.int(n)]++;
    let best = -Infinity;
    for (let l = 0; l < L; l++) {
      const c = correct[l];
      let s = 0;
      for (let i = 0; i < n; i++) if (c[i]) s += counts[i];
      const acc = s / n;
      values[l][b] = acc;
      if (acc > best) best = acc;
    }
    maxes[b] = best;
  }
  const a = (1 - level) / 2;
  const ci = (v: Float64Array): Interval => {
    v.sort();
    return { lo: percentile(v, a), hi: percentile(v, 1 - a) };
  };
  return { each: values.map(ci), max: ci(maxes) };
}
