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
export { parseLayerSite, nativeSite, steeringBlock, layerName, allLayers, type LayerSite } from "./engine/layers.js";
export { native as nativeBinding, type NativeBackendInfo } from "./engine/native.js";
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
