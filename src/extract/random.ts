/**
 * Random baselines: directions that carry no information about the concept.
 *
 * "gaussian" (default) is upstream RepE's RandomRepReader: a seeded N(0, I) vector, normalised, with sign +1.
 * It never looks at the activations (only at their width), so it is independent of the data by construction;
 * its sign is fixed rather than fitted, because fitting a sign on the true labels would leak one bit of the
 * concept into the baseline.
 *
 * "shuffle" is the paper's `--random-direction` flag: mean difference after swapping the labels of a random
 * half of the training pairs. The swap is balanced (exactly ⌊n/2⌋ pairs): an unbalanced coin leaves a
 * (Σ s_i / n) share of the true mean difference in the result, which on well separated data turns the
 * "baseline" into (anti-)concept direction. The sign follows the shuffled labels.
 *
 * Both draw from a seed per cell (see randomCellSeed): one seed for all cells would give aligned items in two
 * languages the same label swaps (tying the languages' baselines together) and every layer the same draw.
 */

import { Rng, type RngSeed } from "../util/rng.js";
import { meanDifference } from "./mean-diff.js";
import { finishVector } from "./project.js";
import { pairCount, type CommonExtractOptions, type ConceptVector, type PairMatrices } from "./types.js";

export type RandomVariant = "gaussian" | "shuffle";
export const RANDOM_VARIANTS: readonly RandomVariant[] = ["gaussian", "shuffle"];

export interface RandomOptions extends CommonExtractOptions {
  /** Default "gaussian". */
  variant?: RandomVariant;
  /** Draw index; replicate r of a cell uses its own stream (default 0, the one stored in vector files). */
  replicate?: number;
}

/** The cell a random draw belongs to: every field enters the seed, so no two cells share a draw. */
export interface RandomCell {
  /** Model identity (sha256 of the GGUF). */
  model: string;
  concept: string;
  lang: string;
  layer: string;
}

/** The seed of one cell's random baseline, from the run's base seed and the cell's identity. */
export function randomCellSeed(base: RngSeed, cell: RandomCell): string {
  return JSON.stringify([String(base), cell.model, cell.concept, cell.lang, cell.layer]);
}

/** The seeded per-pair label swaps of the shuffle baseline (1 = swapped): exactly ⌊n/2⌋ pairs, chosen at random. */
export function shuffledPairLabels(n: number, seed: RngSeed = 0, replicate = 0): Uint8Array {
  const rng = new Rng(seed, "random-shuffle", replicate);
  const swapped = new Uint8Array(n);
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

/** A seeded uniformly random unit vector of length `dim` (normalised N(0, I) draw). */
export function randomUnitVector(dim: number, seed: RngSeed = 0, replicate = 0): Float32Array {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`random: dim must be a positive integer, got ${dim}`);
  const g = new Float64Array(dim);
  new Rng(seed, "random-gaussian", replicate).fillNormal(g);
  let s = 0;
  for (let j = 0; j < dim; j++) s += g[j] * g[j];
  const f = 1 / Math.sqrt(s);
  return Float32Array.from(g, (x) => x * f);
}

function checkReplicate(r: number | undefined): number {
  const rep = r ?? 0;
  if (!Number.isInteger(rep) || rep < 0) throw new Error(`random: replicate must be a non-negative integer, got ${r}`);
  return rep;
}

export function extractRandom(pairs: PairMatrices, opts: RandomOptions = {}): ConceptVector {
  const n = pairCount(pairs);
  if (n === 0) throw new Error("random: no training pairs");
  const seed = opts.seed ?? 0;
  const replicate = checkReplicate(opts.replicate);
  const variant = opts.variant ?? "gaussian";
  if (variant === "gaussian") {
    const unit = randomUnitVector(pairs.dim, seed, replicate);
    return { method: "random", raw: unit, unit: Float32Array.from(unit), sign: 1, nTrain: n };
  }
  if (variant === "shuffle") {
    const swapped = shuffledPairLabels(n, seed, replicate);
    return finishVector("random", meanDifference(pairs, swapped, opts.backend), pairs, n, { swapped, backend: opts.backend });
  }
  throw new Error(`random: unknown variant '${String(variant)}' (use ${RANDOM_VARIANTS.map((v) => `"${v}"`).join(" or ")})`);
}
