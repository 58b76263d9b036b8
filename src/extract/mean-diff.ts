/** The paper's default reader ("cluster_mean"): mean of positive rows minus mean of negative rows. */

import { copyRows, paddedDim, workspace, type KernelBackend } from "./kernels.js";
import { CHUNK_BYTES, finishVector } from "./project.js";
import { pairCount, type CommonExtractOptions, type ConceptVector, type PairMatrices } from "./types.js";

/**
 * (1/n)(Σ_i s_i pos_i − Σ_i s_i neg_i) in Float64, with s_i = −1 where `swapped[i]` is set, else +1; i.e.
 * mean(pos) − mean(neg) when nothing is swapped.
 */
export function meanDifference(pairs: PairMatrices, swapped?: Uint8Array, backend?: KernelBackend): Float64Array {
  const n = pairCount(pairs);
  const d = pairs.dim;
  const dp = paddedDim(d);
  const out = new Float64Array(d);
  if (n === 0) return out;
  // Σ s_i pos_i − Σ s_i neg_i through the Xᵀr kernel, a chunk of rows at a time.
  const chunk = Math.max(2, Math.floor(CHUNK_BYTES / (dp * 4)) & ~1);
  const ws = workspace(backend);
  const xo = ws.alloc(Math.min(n, chunk) * dp * 4);
  const ro = ws.alloc(Math.min(n, chunk) * 8);
  const ao = ws.alloc(dp * 8);
  const r = ws.f64(ro, Math.min(n, chunk));
  const acc = ws.f64(ao, dp);
  acc.fill(0);
  for (const [m, sgn] of [[pairs.pos, 1], [pairs.neg, -1]] as const) {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      copyRows(ws, xo, m.subarray(start * d, (start + rows) * d), rows, d, dp);
      for (let i = 0; i < rows; i++) r[i] = swapped && swapped[start + i] ? -sgn : sgn;
      ws.axpy(xo, rows, dp, ro, ao);
    }
  }
  for (let j = 0; j < d; j++) out[j] = acc[j] / n;
  return out;
}

/**
 * mean_diff: raw = mean(pos rows) − mean(neg rows), not normalised (the paper's cluster_mean over raw,
 * un-recentred hidden states). Seed unused.
 */
export function extractMeanDiff(pairs: PairMatrices, opts: CommonExtractOptions = {}): ConceptVector {
  const n = pairCount(pairs);
  if (n === 0) throw new Error("mean_diff: no training pairs");
  return finishVector("mean_diff", meanDifference(pairs, undefined, opts.backend), pairs, n, { backend: opts.backend });
}
