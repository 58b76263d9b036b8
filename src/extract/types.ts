/** Shared types of the concept-vector extractors. */

import type { KernelBackend } from "./kernels.js";

/** Extraction methods; the names are the `method` column of the vector files (src/store/schema.ts). */
export type ExtractMethod = "mean_diff" | "pca" | "random" | "logistic";

export const EXTRACT_METHODS: readonly ExtractMethod[] = ["mean_diff", "pca", "random", "logistic"];

/**
 * Contrastive activations of one (concept, lang, layer): two row-major n × dim matrices whose row i belongs to
 * the same pair (pos = the value-aligned member).
 */
export interface PairMatrices {
  pos: Float32Array;
  neg: Float32Array;
  dim: number;
}

/** Solver diagnostics of the iterative methods. */
export interface FitInfo {
  iterations: number;
  converged: boolean;
  /** PCA: relative Ritz residual ‖Au − θu‖/θ; logistic: ‖∇‖∞ at the end. */
  residual?: number;
  /** PCA: whether the differences were recentred (false only in the degenerate fallback, see pca.ts). */
  centered?: boolean;
  /** Logistic: final objective value and intercept (in activation space, i.e. score = raw·h + intercept). */
  objective?: number;
  intercept?: number;
}

/** One extracted direction. */
export interface ConceptVector {
  method: ExtractMethod;
  /** The method's own output, before the sign (mean_diff: unnormalised mean difference; pca: unit eigenvector). */
  raw: Float32Array;
  /** sign · raw / ‖raw‖ (unit length; positives project higher on the training pairs). */
  unit: Float32Array;
  sign: 1 | -1;
  /** PCA only: λ1 / total variance of the recentred differences. */
  explainedVariance?: number;
  nTrain: number;
  fit?: FitInfo;
}

/** Options every method accepts. */
export interface CommonExtractOptions {
  /** Seed of every random choice (pair order, coin flips, start vector). Default 0. */
  seed?: number | string;
  /** Kernel backend; default wasm SIMD when available, else JS (identical results). */
  backend?: KernelBackend;
}

/** Rows in a pair matrix set, after validating shapes. Throws on malformed input. */
export function pairCount(p: PairMatrices, what = "pairs"): number {
  const { pos, neg, dim } = p;
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${what}: dim must be a positive integer, got ${dim}`);
  if (pos.length !== neg.length) throw new Error(`${what}: pos has ${pos.length} values but neg has ${neg.length}`);
  if (pos.length % dim !== 0) throw new Error(`${what}: ${pos.length} values is not a multiple of dim ${dim}`);
  return pos.length / dim;
}
