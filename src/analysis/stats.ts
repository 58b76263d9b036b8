/** Shared statistics: Pearson r, percentiles, and the seeded percentile bootstrap for accuracies. */

import { Rng, type RngSeed } from "../util/rng.js";

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

/** Cluster membership of n items: index[i] ∈ 0..count−1 (see clusterIndex in intervals.ts). */
export interface Clusters {
  index: Int32Array;
  count: number;
}

function checkBootstrap(opts: BootstrapOptions): { B: number; level: number } {
  const B = opts.samples ?? 1000;
  if (!Number.isInteger(B) || B < 1) throw new Error(`bootstrap: samples must be a positive integer, got ${B}`);
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  return { B, level };
}

/**
 * Cluster bootstrap weights: B resamples, each drawing G clusters with replacement (seeded); calls
 * `visit(b, w)` with w[i] = how often item i's cluster was drawn. Items of one cluster (pairs sharing a
 * source item) move together, which a pair-level bootstrap ignores. Without clusters every item is its own.
 */
export function forEachClusterResample(n: number, clusters: Clusters | undefined, B: number, seed: RngSeed, visit: (b: number, w: Float64Array) => void): void {
  const G = clusters ? clusters.count : n;
  if (clusters && clusters.index.length !== n) throw new Error(`bootstrap: ${clusters.index.length} cluster labels for ${n} items`);
  const rng = new Rng(seed, "bootstrap");
  const drawn = new Int32Array(G);
  const w = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    drawn.fill(0);
    for (let k = 0; k < G; k++) drawn[rng.int(G)]++;
    for (let i = 0; i < n; i++) w[i] = drawn[clusters ? clusters.index[i] : i];
    visit(b, w);
  }
}

/** The (1−level)/2 and (1+level)/2 quantiles of the values (sorted in place). */
export function percentileInterval(values: Float64Array, level: number): Interval {
  values.sort();
  const a = (1 - level) / 2;
  return { lo: percentile(values, a), hi: percentile(values, 1 - a) };
}

/**
 * Percentile bootstrap of accuracies that share the same n items: `correct[l][i]` ∈ {0, 1} is item i's
 * correctness under statistic l (e.g. layer l). Each of the B resamples draws clusters (default: items) with
 * replacement (seeded) and recomputes every accuracy from the stored bits as Σ wᵢ bitsᵢ / Σ wᵢ; the same
 * resample is used for all l, so the CI of max_l is coherent (it carries the selection). Per-layer
 * accuracies should use accuracyInterval (Wilson/Clopper–Pearson) instead: percentile intervals collapse at
 * n/n.
 */
export function bootstrapAccuracies(correct: readonly Uint8Array[], opts: BootstrapOptions & { clusters?: Clusters } = {}): AccuracyBootstrap {
  const L = correct.length;
  if (L === 0) throw new Error("bootstrapAccuracies: no statistics");
  const n = correct[0].length;
  for (const c of correct) if (c.length !== n) throw new Error("bootstrapAccuracies: all statistics must cover the same items");
  const { B, level } = checkBootstrap(opts);
  if (n === 0) {
    const nan = { lo: NaN, hi: NaN };
    return { each: correct.map(() => nan), max: nan };
  }
  const values = Array.from({ length: L }, () => new Float64Array(B));
  const maxes = new Float64Array(B);
  forEachClusterResample(n, opts.clusters, B, opts.seed ?? 0, (b, w) => {
    let tw = 0;
    for (let i = 0; i < n; i++) tw += w[i];
    let best = -Infinity;
    for (let l = 0; l < L; l++) {
      const c = correct[l];
      let s = 0;
      for (let i = 0; i < n; i++) if (c[i]) s += w[i];
      const acc = s / tw;
      values[l][b] = acc;
      if (acc > best) best = acc;
    }
    maxes[b] = best;
  });
  return { each: values.map((v) => percentileInterval(v, level)), max: percentileInterval(maxes, level) };
}
