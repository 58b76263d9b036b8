// Analyses implemented outside this module (e.g. cross-lingual control, which steers the model) plug in here.
// A manifest may list such an analysis; without a registered runner the run records a note and goes on.
import type { AnalysisName, Manifest } from "./manifest.js";

export interface CellFiles {
  concept: string;
  lang: string;
  dir: string;
  activations: string;
  vectors: string;
}

export interface AnalysisContext {
  manifest: Manifest;
  modelId: string;
  /** The GGUF path the run used (absent in a merge on a machine without it, in which case check existsSync). */
  modelPath: string;
  /** Every finished cell of this model. */
  cells: readonly CellFiles[];
  /** A folder of its own for outputs: <out>/results/<model>/<analysis>/. */
  outDir: string;
  signal?: AbortSignal;
}

export interface AnalysisRunner {
  /** Returns a JSON-serialisable, deterministic table (it lands in the summary's results). */
  run(ctx: AnalysisContext): Promise<unknown>;
}

const runners = new Map<AnalysisName, AnalysisRunner>();

export function registerAnalysisRunner(name: AnalysisName, runner: AnalysisRunner): void {
  runners.set(name, runner);
}

export function analysisRunner(name: AnalysisName): AnalysisRunner | undefined {
  return runners.get(name);
}
