/**
 * Random baselines.
 *
 * "shuffle" (default) is what the paper's `--random-direction` flag does: keep cluster_mean but swap the labels
 * of each training pair with a seeded fair coin, so raw = (1/n) Σ s_i (pos_i − neg_i) with random s_i = ±1.
 * Caveat: the coin flips are not balanced, so raw keeps a (Σ s_i / n) ≈ ±1/√n share of the true mean
 * difference. On strongly separable, low-dimensional data this leak moves a single seed's accuracy visibly
 * away from 0.5 (in either direction; it averages out over seeds). `balanced: true` swaps exactly ⌊n/2⌋
 * pairs, which cancels the leak for a constant concept shift; it is not what the paper did.
 *
 * "gaussian" is upstream RepE's RandomRepReader: a seeded N(0, I) vector, independent of the data.
 *
 * Both variants take their sign from the shuffled labels (as the paper's code passes the shuffled labels to
 * `get_signs`), so no true-label information reaches the baseline.
 */

import { Rng } from "../gguf/rng.js";
import { meanDifference } from "./mean-diff.js";
import { finishVector } from "./project.js";
import { pairCount, type CommonExtractOptions, type ConceptVector, type PairMatrices } from "./types.js";

export interface RandomOptions extends CommonExtractOptions {
  /** Default "shuffle". */
  variant?: "shuffle" | "gaussian";
  /** Swap exactly ⌊n/2⌋ pairs (seeded) instead of an independent coin per pair. Default false (paper). */
  balanced?: boolean;
}

/** The seeded per-pair label swaps of the shuffle baseline: 1 = swapped. */
export function shuffledPairLabels(n: number, seed: number | string = 0, balanced = false): Uint8Array {
  const rng = new Rng(seed, "random-shuffle");
  const swapped = new Uint8Array(n);
  if (!balanced) {
    for (let i = 0; i < n; i++) swapped[i] = rng.uniform() < 0.5 ? 1 : 0;
    return swapped;
  }
  // Partial Fisher–Yates: the first ⌊n/2⌋ entries of a random permutation are swapped.
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    swapped[idx[i]] = 1;
  }
  return swapped;
}

export function extractRandom(pairs: PairMatrices, opts: RandomOptions = {}): ConceptVector {
  const n = pairCount(pairs);
  if (n === 0) throw new Error("random: no training pairs");
  const seed = opts.seed ?? 0;
  const swapped = shuffledPairLabels(n, seed, opts.balanced ?? false);
  const variant = opts.variant ?? "shuffle";
  let raw: Float64Array;
  if (variant === "shuffle") {
    raw = meanDifference(pairs, swapped, opts.backend);
  } else if (variant === "gaussian") {
    raw = new Float64Array(pairs.dim);
    new Rng(seed, "random-gaussian").fillNormal(raw);
  } else {
    throw new Error(`random: unknown variant '${String(variant)}' (use "shuffle" or "gaussian")`);
  }
  return finishVector("random", raw, pairs, n, { swapped, backend: opts.backend });
}
