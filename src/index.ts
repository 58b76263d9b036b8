// valuelens public API.
export { loadModel, Model, type LoadModelOptions, type TokenizeOptions } from "./engine/model.js";
export {
  Session,
  Activations,
  type SessionOptions,
  type Position,
  type CaptureOptions,
  type SteeringEntry,
  type GenerateOptions,
  type GenerationChunk,
  type GenerationResult,
  type LogprobsResult,
  type StopReason,
} from "./engine/session.js";
export { parseLayerSite, parseLayers, nativeSite, steeringBlock, layerName, allLayers, type LayerSite } from "./engine/layers.js";
export { AbortError, BusyError, DisposedError, LayerError, ModelError, UsageError, ValuelensError, isAbortError, type ErrorCode } from "./util/errors.js";
export { native as nativeBinding, type NativeBackendInfo } from "./engine/native.js";
export { quantize, QUANT_TYPES, type QuantType, type QuantizeOptions, type QuantizeResult } from "./engine/quantize.js";
export {
  synthModel,
  plantedDirections,
  readSynthInfo,
  readGguf,
  readGgufMetadata,
  readTensorF32,
  writeGguf,
  type SynthOptions,
  type SynthResult,
  type PlantedConcept,
  type PlantedConceptSpec,
  type GgufFile,
  type GgufKv,
  type GgufTensorSpec,
} from "./gguf/index.js";
export { synthPlantedModel, wordTokens, type PlantSpec, type PlantConcept, type PlantLanguage, type PlantedModel } from "./synth/planted.js";
export * from "./data/index.js";
export * from "./store/index.js";
export * from "./extract/index.js";
export * from "./analysis/index.js";
export { captureToStore, modelProvenance, type CaptureToStoreOptions, type CaptureToStoreResult } from "./pipeline/capture.js";
export { extractToStore, extractVectors, type ExtractToStoreOptions, type ExtractToStoreResult } from "./pipeline/extract.js";
export { analyze, type AnalyzeOptions, type AnalysisResults, type RecognitionSummary } from "./pipeline/analyze.js";
export { similarityIntervals, type SimilarityIntervalOptions, type SimilarityIntervalResults, type ConceptSimilarityIntervals } from "./pipeline/similarity-intervals.js";
export { loadPairs, limitUnits, mergeReports, missingData, MissingDataError, type MissingData, type PairSource } from "./pipeline/sources.js";
export { collectPairs, type PairTree, type AlignedPairs } from "./pipeline/matrices.js";
export * from "./steer/index.js";
export { createProgress, type Progress, type ProgressMode, type ProgressEvent } from "./progress/progress.js";
export { Rng } from "./util/rng.js";
export { VALUELENS_VERSION } from "./version.js";
