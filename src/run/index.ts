/** Scripted experiment grids: manifests, the runner, shards and merging. */
export {
  ANALYSES,
  DEFAULT_ANALYSES,
  MANIFEST_VERSION,
  ManifestError,
  loadManifest,
  manifestHash,
  parseManifest,
  validateManifest,
  type AnalysisName,
  type DataSpec,
  type LoadedManifest,
  type Manifest,
  type ModelSpec,
  type SessionSpec,
  type SynthDataSpec,
  type SynthModelSpec,
} from "./manifest.js";
export { canonicalJson } from "../util/canonical-json.js";
export { runManifest, pairsHash, type RunOptions } from "./runner.js";
export { mergeRuns, type MergeOptions } from "./merge.js";
export { buildSummary, type MethodResults, type ModelResults, type RunSummary } from "./finalize.js";
export { assignShards, checkShard, parseShard, shardFromEnv, NO_SHARD, type Shard } from "./shard.js";
export { registerAnalysisRunner, analysisRunner, type AnalysisContext, type AnalysisRunner, type CellFiles } from "./registry.js";
export { createReporter, type RunEvent, type RunReporter, type CellPhase } from "./events.js";
export { synthWorld, ensureSynthModel, plantSpec, type SynthWorld } from "./synth-world.js";
export { readRunRecord, cellKey, cellDir, type RunRecord, type CellRecord, type ModelRecord, type PlanEntry, type CellStatus } from "./record.js";
