/**
 * Correlation between cross-lingual consistency and linguistic similarity (the paper's Table 1).
 *
 * Input: the aggregated consistency matrix (aggregateSimilarity: per pair max over layers, mean over concepts)
 * over a model's languages. Linguistic similarity = 1 − lang2vec distance (shipped table, or `linguistic`).
 *
 * - direct: Pearson r over all off-diagonal ordered pairs (n(n−1) points), each consistency value paired with
 *   the same pair's linguistic similarity.
 * - split: mean of r over pairs with at least one high-resource language and r over pairs of two low-resource
 *   languages (the high set is per model family, see MODEL_PRESETS).
 * - directReleasedCode: reproduces a DEFECT of the authors' released script, for comparison only (below).
 */

import { linguisticSimilarity, PAPER_LINGUISTIC_TYPES, type Lang2vecType } from "./lang2vec.js";
import type { LangMatrix } from "./similarity.js";
import { Rng, type RngSeed } from "../util/rng.js";
import { pearson } from "./stats.js";

/** Similarity source: (type, a, b) → similarity; default the shipped lang2vec tables (1 − distance). */
export type LinguisticSimilarityFn = (type: Lang2vecType, langA: string, langB: string) => number;

export interface CorrelationOptions {
  linguistic?: LinguisticSimilarityFn;
}

function checkMatrix(sim: LangMatrix): void {
  const n = sim.langs.length;
  if (sim.values.length !== n || sim.values.some((r) => r.length !== n)) throw new Error("correlation: the matrix must be langs × langs");
  if (new Set(sim.langs).size !== n) throw new Error("correlation: duplicate languages");
}

/** Off-diagonal ordered pairs in row-major order with both values. */
export function offDiagonalPairs(
  sim: LangMatrix,
  type: Lang2vecType,
  opts: CorrelationOptions = {},
): { pairs: Array<[string, string]>; consistency: number[]; linguistic: number[] } {
  checkMatrix(sim);
  const ling = opts.linguistic ?? linguisticSimilarity;
  const pairs: Array<[string, string]> = [];
  const consistency: number[] = [];
  const linguistic: number[] = [];
  sim.langs.forEach((a, i) =>
    sim.langs.forEach((b, j) => {
      if (i === j) return;
      pairs.push([a, b]);
      consistency.push(sim.values[i][j]);
      linguistic.push(ling(type, a, b));
    }),
  );
  return { pairs, consistency, linguistic };
}

/** Pearson r over all off-diagonal ordered pairs, correctly pair-aligned. */
export function directCorrelation(sim: LangMatrix, type: Lang2vecType, opts: CorrelationOptions = {}): number {
  const p = offDiagonalPairs(sim, type, opts);
  return pearson(p.consistency, p.linguistic);
}

/**
 * REPRODUCES A DEFECT — for comparison with the paper's numbers only; use directCorrelation for analysis.
 *
 * The released consistency_analysis.py builds the consistency list inside a row-major loop over (l1, l2) and
 * appends `sim` *before* reassigning it, so the value paired with off-diagonal cell (i, j) is the previous
 * cell's: (i, j−1), or (i−1, n−1) when j = 0. The diagonal (forced to 1) thereby enters n − 1 times (at the
 * cells (i, i+1)), while the linguistic list is aligned correctly. The result depends on the language order:
 * pass the matrix in the authors' order (ModelFamilyPreset.languages) to match them.
 */
export function directReleasedCode(sim: LangMatrix, type: Lang2vecType, opts: CorrelationOptions = {}): number {
  checkMatrix(sim);
  const ling = opts.linguistic ?? linguisticSimilarity;
  const n = sim.langs.length;
  const cell = (i: number, j: number): number => (i === j ? 1 : sim.values[i][j]);
  const consistency: number[] = [];
  const linguistic: number[] = [];
  let prev = NaN; // never used: cell (0, 0) is diagonal and skipped
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j) {
        consistency.push(prev);
        linguistic.push(ling(type, sim.langs[i], sim.langs[j]));
      }
      prev = cell(i, j);
    }
  }
  return pearson(consistency, linguistic);
}

export interface SplitCorrelation {
  /** r over pairs with at least one high-resource language ("all_high" + "cross"). */
  high: number;
  /** r over pairs of two low-resource languages. */
  low: number;
  /** (high + low) / 2, the paper's Split value. */
  mean: number;
  nHigh: number;
  nLow: number;
}

/** The paper's "Split" correlation. NaN parts (fewer than 2 pairs, or a constant variable) make `mean` NaN. */
export function splitCorrelation(sim: LangMatrix, type: Lang2vecType, highResource: readonly string[], opts: CorrelationOptions = {}): SplitCorrelation {
  const p = offDiagonalPairs(sim, type, opts);
  const high = new Set(highResource);
  const hx: number[] = [];
  const hy: number[] = [];
  const lx: number[] = [];
  const ly: number[] = [];
  p.pairs.forEach(([a, b], k) => {
    if (high.has(a) || high.has(b)) {
      hx.push(p.consistency[k]);
      hy.push(p.linguistic[k]);
    } else {
      lx.push(p.consistency[k]);
      ly.push(p.linguistic[k]);
    }
  });
  const rh = pearson(hx, hy);
  const rl = pearson(lx, ly);
  return { high: rh, low: rl, mean: (rh + rl) / 2, nHigh: hx.length, nLow: lx.length };
}

/** Mantel permutation test of the direct correlation. */
export interface MantelResult {
  r: number;
  /** Two-sided: share of language permutations with |r| ≥ |r observed|. */
  p: number;
  permutations: number;
  /** All n! permutations enumerated (else Monte Carlo, p = (1 + hits) / (1 + permutations)). */
  exact: boolean;
}

/**
 * Mantel test: the consistency matrix's languages are permuted (rows and columns together) against the fixed
 * linguistic similarities, and r is recomputed. Language pairs share languages, so the n(n−1) points are not
 * independent and Pearson's own p-value is too small; permuting whole languages keeps that dependence.
 * Enumerates all n! permutations when there are at most `permutations` of them.
 */
export function mantelTest(sim: LangMatrix, type: Lang2vecType, opts: CorrelationOptions & { permutations?: number; seed?: RngSeed } = {}): MantelResult {
  const base = offDiagonalPairs(sim, type, opts);
  const n = sim.langs.length;
  const P = opts.permutations ?? 9999;
  if (!Number.isInteger(P) || P < 1) throw new Error(`mantel: permutations must be a positive integer, got ${P}`);
  const r = pearson(base.consistency, base.linguistic);
  if (!Number.isFinite(r)) return { r, p: NaN, permutations: 0, exact: false };
  const x = new Float64Array(base.consistency.length);
  const rAt = (perm: readonly number[]): number => {
    let k = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) x[k++] = sim.values[perm[i]][perm[j]];
    return pearson(x, base.linguistic);
  };
  // Tolerance: identical permuted values may differ in the last bits of r through summation order.
  const atLeast = (v: number): boolean => Math.abs(v) >= Math.abs(r) - 1e-12;
  let nFact = 1;
  for (let i = 2; i <= n && nFact <= P; i++) nFact *= i;
  if (nFact <= P) {
    let hits = 0;
    let total = 0;
    const perm = Array.from({ length: n }, (_, i) => i);
    const heap = (k: number): void => {
      if (k === 1) {
        total++;
        if (atLeast(rAt(perm))) hits++;
        return;
      }
      // Heap's algorithm: every permutation exactly once.
      heap(k - 1);
      for (let i = 0; i < k - 1; i++) {
        const j = k % 2 === 0 ? i : 0;
        [perm[j], perm[k - 1]] = [perm[k - 1], perm[j]];
        heap(k - 1);
      }
    };
    heap(n);
    return { r, p: hits / total, permutations: total, exact: true };
  }
  const rng = new Rng(opts.seed ?? 0, "mantel", type);
  const perm = Array.from({ length: n }, (_, i) => i);
  let hits = 0;
  for (let b = 0; b < P; b++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    if (atLeast(rAt(perm))) hits++;
  }
  return { r, p: (1 + hits) / (1 + P), permutations: P, exact: false };
}

export interface CorrelationRow {
  direct: number;
  /** Permutation p-value of `direct` (language-level Mantel test). */
  mantel?: MantelResult;
  split: SplitCorrelation;
  /** The released script's misaligned Direct value (defect reproduction). */
  directReleasedCode: number;
}

/** One model's Table 1 row: every type (default the paper's four) × {direct, split, released-code direct}. */
export function correlationTable(
  sim: LangMatrix,
  highResource: readonly string[],
  opts: CorrelationOptions & { types?: readonly Lang2vecType[]; mantel?: { permutations?: number; seed?: RngSeed } | false } = {},
): Record<string, CorrelationRow> {
  const out: Record<string, CorrelationRow> = {};
  for (const t of opts.types ?? PAPER_LINGUISTIC_TYPES) {
    out[t] = {
      direct: directCorrelation(sim, t, opts),
      ...(opts.mantel === false ? {} : { mantel: mantelTest(sim, t, { ...opts, ...(opts.mantel ?? {}) }) }),
      split: splitCorrelation(sim, t, highResource, opts),
      directReleasedCode: directReleasedCode(sim, t, opts),
    };
  }
  return out;
}
