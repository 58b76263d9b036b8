/**
 * Cross-lingual transferability (the paper's §6). Rows are source languages, columns targets.
 *
 *   M[src][tgt] = mean over concepts of max_l acc[src][tgt][l]   (max taken separately per (src, tgt))
 *   T(src→tgt)  = M[src][tgt] − M[tgt][tgt]                      (> 0: the source's vector beats the target's own)
 *
 * The transfer rate of a target (from the paper's deleted analysis.py) is the percentage of the other source
 * languages with T ≥ 0; reported unrounded here (the script printed integers).
 */

import type { CrossLingualResult } from "./recognition.js";
import type { LangMatrix } from "./similarity.js";

export interface TransferResult {
  langs: string[];
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
