/**
 * Cross-lingual transferability (the paper's §6). Rows are source languages, columns targets.
 *
 *   M[src][tgt] = mean over concepts of max_l acc[src][tgt][l]   (max taken separately per (src, tgt))
 *   T(src→tgt)  = M[src][tgt] − M[tgt][tgt]                      (> 0: the source's vector beats the target's own)
 *
 * The transfer rate of a target (from the paper's deleted analysis.py) is the percentage of the other source
 * languages with T ≥ 0; reported unrounded here (the script printed integers).
 */

import { Rng } from "../util/rng.js";
import { clusterIndex } from "./intervals.js";
import { bitsFromMargins, standardizedMargin, type CrossLingualResult, type TieRule } from "./recognition.js";
import type { LangMatrix } from "./similarity.js";
import { mean, percentileInterval, type BootstrapOptions, type Interval } from "./stats.js";

export interface TransferResult {
  langs: string[];
  /** The same with the layer chosen on validation pairs, with intervals (when validation pairs exist). */
  heldOut?: HeldOutTransfer;
  /** Mean best-layer accuracy, M[src][tgt]. */
  M: LangMatrix;
  /** Transfer score T[src][tgt] (diagonal 0). */
  T: LangMatrix;
  rate: {
    /** % of other sources with T(src→tgt) ≥ 0, per target. */
    perTarget: Record<string, number>;
    /** Mean over targets. */
    mean: number;
  };
}

/** M[src][tgt]: per concept the max over layers of acc[src][tgt], then the mean over concepts. */
export function bestLayerAccuracyMatrix(concepts: readonly CrossLingualResult[], langs?: readonly string[]): LangMatrix {
  if (concepts.length === 0) throw new Error("transfer: no concepts");
  const ls = [...(langs ?? concepts[0].sources)];
  const values = ls.map((s) =>
    ls.map((t) => {
      let sum = 0;
      for (const c of concepts) {
        const a = c.acc[s]?.[t];
        if (!a) throw new Error(`transfer: a concept has no accuracies for ${s} → ${t}`);
        sum += Math.max(...a);
      }
      return sum / concepts.length;
    }),
  );
  return { langs: ls, values };
}

export function transferAnalysis(concepts: readonly CrossLingualResult[], opts: { langs?: readonly string[] } = {}): TransferResult {
  const M = bestLayerAccuracyMatrix(concepts, opts.langs);
  const langs = M.langs;
  const T = { langs: [...langs], values: langs.map((_, s) => langs.map((__, t) => M.values[s][t] - M.values[t][t])) };
  const perTarget: Record<string, number> = {};
  let total = 0;
  langs.forEach((tgt, t) => {
    let ok = 0;
    let others = 0;
    langs.forEach((_, s) => {
      if (s === t) return;
      others++;
      if (T.values[s][t] >= 0) ok++;
    });
    perTarget[tgt] = others === 0 ? NaN : (100 * ok) / others;
    total += perTarget[tgt];
  });
  return { langs: [...langs], M, T, rate: { perTarget, mean: total / langs.length } };
}

/** One concept's cross-lingual margins, from which the held-out transfer is computed. */
export interface TransferOutcomes {
  /** Source = target language set, in matrix order. */
  langs: readonly string[];
  nLayers: number;
  /** test[s][t][l]: recognition bits of source s's vector on target t's test pairs at layer l. */
  test: Uint8Array[][][];
  /** val[s][t][l]: margins of source s's vector on target t's validation pairs at layer l. */
  val: Float64Array[][][];
  /** Per target: cluster label (source-item group) of each test pair; absent = each pair its own. */
  testGroups?: ReadonlyArray<readonly string[] | undefined>;
}

export interface HeldOutTransfer {
  langs: string[];
  /** M[src][tgt]: mean over concepts of the test accuracy at the layer chosen on tgt's validation pairs. */
  M: LangMatrix;
  T: LangMatrix;
  /** Cluster-bootstrap percentile interval of every T[src][tgt] (target test items resampled, per concept). */
  Tci: { lo: number[][]; hi: number[][] };
  rate: { perTarget: Record<string, number>; mean: number; meanCi: Interval };
  level: number;
  samples: number;
}

/**
 * The transfer analysis with the layer of every (src, tgt) chosen on the target's validation pairs (ties by
 * the standardised validation margin, then the earliest layer) and scored on its test pairs. The test-picked
 * version can only go up with the number of layers and saturates at ceiling, where every T is 0 and the
 * rate trivially 100%; here T has an interval, so a 0 between two saturated languages reads as "no
 * measurable difference" rather than as success.
 */
export function heldOutTransfer(concepts: readonly TransferOutcomes[], opts: BootstrapOptions & { ties?: TieRule } = {}): HeldOutTransfer {
  if (concepts.length === 0) throw new Error("held-out transfer: no concepts");
  const langs = [...concepts[0].langs];
  const S = langs.length;
  for (const c of concepts) if (c.langs.length !== S || c.langs.some((l, i) => l !== langs[i])) throw new Error("held-out transfer: concepts disagree on the languages");
  const B = opts.samples ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new Error(`held-out transfer: samples must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`held-out transfer: level must be in (0, 1), got ${level}`);
  // Per concept and target: the chosen bits of each source, reduced to per-cluster sums (bootstrap in O(G)).
  const per = concepts.map((c) =>
    langs.map((_, t) => {
      const n = c.test[0][t][0].length;
      const groups = c.testGroups?.[t];
      const { index, count } = clusterIndex(groups ? [...groups] : undefined, n);
      const size = new Float64Array(count);
      for (let i = 0; i < n; i++) size[index[i]]++;
      const sums = langs.map((__, s) => {
        const valAcc = c.val[s][t].map((m) => mean(bitsFromMargins(m, opts.ties)));
        const z = c.val[s][t].map(standardizedMargin);
        let h = 0;
        for (let l = 1; l < c.nLayers; l++) if (valAcc[l] > valAcc[h] || (valAcc[l] === valAcc[h] && z[l] > z[h])) h = l;
        const bits = c.test[s][t][h];
        const g = new Float64Array(count);
        for (let i = 0; i < n; i++) g[index[i]] += bits[i];
        return g;
      });
      return { size, sums, count };
    }),
  );
  const compute = (w: (ci: number, t: number) => Float64Array | null): number[][] =>
    langs.map((_, s) =>
      langs.map((__, t) => {
        let acc = 0;
        for (let ci = 0; ci < per.length; ci++) {
          const cell = per[ci][t];
          const wt = w(ci, t);
          let num = 0;
          let den = 0;
          for (let g = 0; g < cell.count; g++) {
            const k = wt ? wt[g] : 1;
            num += k * cell.sums[s][g];
            den += k * cell.size[g];
          }
          acc += num / den;
        }
        return acc / per.length;
      }),
    );
  const rates = (M: number[][]): { perTarget: number[]; mean: number } => {
    const perTarget = langs.map((_, t) => {
      let ok = 0;
      for (let s = 0; s < S; s++) if (s !== t && M[s][t] - M[t][t] >= 0) ok++;
      return S > 1 ? (100 * ok) / (S - 1) : NaN;
    });
    return { perTarget, mean: perTarget.reduce((a, b) => a + b, 0) / S };
  };
  const M = compute(() => null);
  const T = M.map((row, s) => row.map((_, t) => M[s][t] - M[t][t]));
  const r = rates(M);
  // Resample every (concept, target)'s clusters independently; all sources of a target share the draw.
  const rng = new Rng(opts.seed ?? 0, "held-out-transfer");
  const tb = langs.map(() => langs.map(() => new Float64Array(B)));
  const rb = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const weights = per.map((byT) =>
      byT.map((cell) => {
        const w = new Float64Array(cell.count);
        for (let k = 0; k < cell.count; k++) w[rng.int(cell.count)]++;
        return w;
      }),
    );
    const Mb = compute((ci, t) => weights[ci][t]);
    for (let s = 0; s < S; s++) for (let t = 0; t < S; t++) tb[s][t][b] = Mb[s][t] - Mb[t][t];
    rb[b] = rates(Mb).mean;
  }
  const ci = tb.map((row) => row.map((v) => percentileInterval(v, level)));
  const lo = ci.map((row) => row.map((c) => c.lo));
  const hi = ci.map((row) => row.map((c) => c.hi));
  return {
    langs,
    M: { langs: [...langs], values: M },
    T: { langs: [...langs], values: T },
    Tci: { lo, hi },
    rate: { perTarget: Object.fromEntries(langs.map((l, t) => [l, r.perTarget[t]])), mean: r.mean, meanCi: percentileInterval(rb, level) },
    level,
    samples: B,
  };
}
