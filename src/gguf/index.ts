/** GGUF reading/writing, quantization helpers and the synthetic model generator. */
export {
  GGML_MAX_DIMS,
  GGML_TYPE_INFO,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  LlamaFileType,
  QK8_0,
  ggmlTensorBytes,
  ggmlTypeName,
  ggufValueTypeName,
  type GgmlTypeInfo,
} from "./constants.js";
export { f16ArrayToF32, f16ToF32, f32ArrayToF16, f32BitsToF16Bits, f32ToF16, roundToF16 } from "../util/f16.js";
export { Q8_0_BLOCK_BYTES, dequantizeQ8_0, q8_0Bytes, quantizeQ8_0 } from "./q8_0.js";
export { Rng, type RngSeed } from "../util/rng.js";
export {
  kv,
  withKey,
  type GgufArrayValue,
  type GgufBigIntType,
  type GgufFile,
  type GgufKv,
  type GgufNumberType,
  type GgufRowSource,
  type GgufScalarType,
  type GgufScalarValue,
  type GgufTensorInfo,
  type GgufTensorSpec,
  type GgufValue,
  type GgufWriteSpec,
} from "./types.js";
export { writeGguf, type GgufWriteResult } from "./writer.js";
export {
  metaBool,
  metaNumber,
  metaString,
  metaStringArray,
  readGguf,
  readGgufMetadata,
  readTensorF32,
  readTensorRowsF32,
  readTokenizerMetadata,
  requireNumber,
  requireString,
} from "./reader.js";
export {
  SYNTH_FORMAT_VERSION,
  SYNTH_KEYS,
  plantedDirections,
  readSynthInfo,
  synthModel,
  type PlantedConcept,
  type PlantedConceptSpec,
  type PlantedDirectionSpec,
  type PlantedDirections,
  type PlantedJson,
  type SynthInfo,
  type SynthOptions,
  type SynthResult,
  type SynthTensorInfo,
  type SynthWeightType,
} from "./synth.js";
