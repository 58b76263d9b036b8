/**
 * Concept-vector extraction: the pure numerical core. One (concept, lang, layer) at a time, from in-memory
 * row-major Float32 activations of the training pairs. See each module for the method's exact definition.
 */

import { extractLogistic, type LogisticOptions } from "./logistic.js";
import { extractMeanDiff } from "./mean-diff.js";
import { extractPca, type PcaOptions } from "./pca.js";
import { extractRandom, type RandomOptions } from "./random.js";
import type { CommonExtractOptions, ConceptVector, ExtractMethod, PairMatrices } from "./types.js";

export { EXTRACT_METHODS, pairCount, type CommonExtractOptions, type ConceptVector, type ExtractMethod, type FitInfo, type PairMatrices } from "./types.js";
export { extractMeanDiff, meanDifference } from "./mean-diff.js";
export { extractPca, pcaPairSigns, type PcaOptions } from "./pca.js";
export { extractRandom, randomCellSeed, randomUnitVector, RANDOM_VARIANTS, shuffledPairLabels, type RandomCell, type RandomOptions, type RandomVariant } from "./random.js";
export { extractLogistic, type LogisticOptions } from "./logistic.js";
export { projectRows, signFromPairs, type SignCount } from "./project.js";
export { releaseWorkspaces, simdAvailable, type KernelBackend } from "./kernels.js";
export { lanczosTop, type LanczosOptions, type LanczosResult } from "./lanczos.js";

/** Options per method. */
export interface ExtractOptionsMap {
  mean_diff: CommonExtractOptions;
  pca: PcaOptions;
  random: RandomOptions;
  logistic: LogisticOptions;
}

/** Runs one method on one layer's training pairs. */
export function extract<M extends ExtractMethod>(method: M, pairs: PairMatrices, opts?: ExtractOptionsMap[M]): ConceptVector {
  switch (method) {
    case "mean_diff":
      return extractMeanDiff(pairs, opts);
    case "pca":
      return extractPca(pairs, opts);
    case "random":
      return extractRandom(pairs, opts);
    case "logistic":
      return extractLogistic(pairs, opts);
    default:
      throw new Error(`unknown extraction method '${String(method)}' (have: mean_diff, pca, random, logistic)`);
  }
}

/**
 * Runs one method on every layer, in the map's order. The same options (and seed) go to every layer, so
 * seeded choices (PCA pair order, label coin flips) are shared across layers, as in the paper's code, where
 * the training pairs are shuffled once per dataset.
 */
export function extractAll<M extends ExtractMethod>(
  method: M,
  layers: ReadonlyMap<string, PairMatrices>,
  opts?: ExtractOptionsMap[M],
): Map<string, ConceptVector> {
  const out = new Map<string, ConceptVector>();
  for (const [layer, pairs] of layers) {
    try {
      out.set(layer, extract(method, pairs, opts));
    } catch (e) {
      throw new Error(`layer ${layer}: ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}
