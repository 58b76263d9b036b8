/**
 * Intervals for cross-lingual similarity of mean-difference vectors: a paired cluster bootstrap over the training
 * items. One resample draws the concept's source-item clusters (groups, shared by the aligned items of every
 * language) with replacement; each language's vector is the weighted mean of its per-item differences pos − neg;
 * the cosines of the resampled vectors give a percentile interval per language pair and layer. Layers are fed one
 * at a time with the same resamples, so "max over layers" (the paper's aggregation) gets an interval that carries
 * its layer choice, and any function of the matrix (e.g. a correlation with lang2vec) can be resampled too.
 */
import { Rng, type RngSeed } from "../util/rng.js";
import { cosineOrNaN } from "./similarity.js";
import { percentileInterval } from "./stats.js";

/** One language's training pairs at one layer: per-item differences pos − neg, row-major [n × dim]. */
export interface ItemDifferences {
  itemIds: readonly string[];
  diffs: Float32Array;
  dim: number;
}

/** Cluster weights of B resamples over a fixed list of cluster labels. */
export interface ClusterResamples {
  clusters: readonly string[];
  /** weights[b][g]: how often cluster g was drawn in resample b. */
  weights: Int32Array[];
}

/** B resamples of the clusters (G draws with replacement each), seeded. */
export function resampleClusters(clusters: readonly string[], samples: number, seed: RngSeed = 0, label = "similarity"): ClusterResamples {
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`bootstrap samples must be a positive integer (got ${samples})`);
  const G = clusters.length;
  if (G === 0) throw new Error("similarity intervals: no items to resample");
  const rng = new Rng(seed, label);
  const weights = Array.from({ length: samples }, () => {
    const w = new Int32Array(G);
    for (let k = 0; k < G; k++) w[rng.int(G)]++;
    return w;
  });
  return { clusters: [...clusters], weights };
}

/**
 * The resampled mean difference of one language for every resample (b-th row = Σ_i w_{g(i)} d_i / Σ_i w_{g(i)}),
 * plus the full-data mean (weights 1). Items whose cluster is not in the resample list are an error.
 */
export function resampledMeans(x: ItemDifferences, r: ClusterResamples, clusterOf: (itemId: string) => string): { full: Float64Array; boot: Float64Array[] } {
  const n = x.itemIds.length;
  const d = x.dim;
  if (x.diffs.length !== n * d) throw new Error(`similarity intervals: ${x.diffs.length} values for ${n} items × ${d}`);
  const at = new Map(r.clusters.map((c, g) => [c, g]));
  const g = Int32Array.from(x.itemIds, (id) => {
    const k = at.get(clusterOf(id));
    if (k === undefined) throw new Error(`similarity intervals: item ${id} has no cluster in the resample list`);
    return k;
  });
  const full = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) full[j] += x.diffs[i * d + j];
  for (let j = 0; j < d; j++) full[j] /= n;
  const boot = r.weights.map((w) => {
    const m = new Float64Array(d);
    let W = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[g[i]];
      if (wi === 0) continue;
      W += wi;
      const o = i * d;
      for (let j = 0; j < d; j++) m[j] += wi * x.diffs[o + j];
    }
    // A resample that drew none of this language's clusters has no vector: NaN, dropped from the interval.
    if (W === 0) m.fill(NaN);
    else for (let j = 0; j < d; j++) m[j] /= W;
    return m;
  });
  return { full, boot };
}

/** Cosines of every language pair at one layer: full data and per resample (pairs in (i, j > i) order). */
export function layerCosines(means: ReadonlyArray<{ full: Float64Array; boot: Float64Array[] }>): { full: Float64Array; boot: Float64Array[] } {
  const L = means.length;
  const P = (L * (L - 1)) / 2;
  const B = means[0]?.boot.length ?? 0;
  const full = new Float64Array(P);
  const boot = Array.from({ length: B }, () => new Float64Array(P));
  let p = 0;
  for (let i = 0; i < L; i++) {
    for (let j = i + 1; j < L; j++, p++) {
      full[p] = cosineOrNaN(means[i].full, means[j].full);
      for (let b = 0; b < B; b++) boot[b][p] = cosineOrNaN(means[i].boot[b], means[j].boot[b]);
    }
  }
  return { full, boot };
}

export interface SimilarityInterval {
  value: number;
  lo: number;
  hi: number;
}

/** Percentile intervals per pair from resampled values (NaN resamples dropped). */
export function pairIntervals(full: Float64Array, boot: readonly Float64Array[], level = 0.95): SimilarityInterval[] {
  return Array.from(full, (value, p) => {
    const v = Float64Array.from(boot.map((x) => x[p]).filter((x) => Number.isFinite(x)));
    const ci = v.length > 0 ? percentileInterval(v, level) : { lo: NaN, hi: NaN };
    return { value, lo: ci.lo, hi: ci.hi };
  });
}

/** Language pairs in the order of layerCosines. */
export function langPairs(langs: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < langs.length; i++) for (let j = i + 1; j < langs.length; j++) out.push([langs[i], langs[j]]);
  return out;
}
