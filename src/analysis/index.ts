/** Cross-lingual concept analysis: recognition, consistency, transfer and linguistic correlation. */

export {
  bootstrapAccuracies,
  forEachClusterResample,
  mean,
  pearson,
  percentile,
  percentileInterval,
  type AccuracyBootstrap,
  type BootstrapOptions,
  type Clusters,
  type Interval,
} from "./stats.js";
export {
  accuracyInterval,
  betaQuantile,
  betaRegularized,
  clopperPearsonInterval,
  clusterIndex,
  effectiveSize,
  normalQuantile,
  proportionInterval,
  PROPORTION_METHODS,
  wilsonInterval,
  type AccuracyInterval,
  type ProportionMethod,
  type ProportionOptions,
} from "./intervals.js";
export {
  bitsFromMargins,
  crossLingualRecognition,
  pairCorrectness,
  pairMargins,
  recognitionAccuracy,
  recognitionCurve,
  recognitionStats,
  standardizedMargin,
  type BestLayer,
  type HeldOutLayer,
  type LayerOutcomes,
  type OracleLayer,
  type RecognitionStats,
  type RecognitionStatsOptions,
  type CrossLingualInput,
  type CrossLingualResult,
  type RecognitionCurve,
  type RecognitionCurveInput,
  type RecognitionCurveOptions,
  type RecognitionOptions,
  type TieRule,
} from "./recognition.js";
export { langPairs, layerCosines, pairIntervals, resampleClusters, resampledMeans, type ClusterResamples, type ItemDifferences, type SimilarityInterval } from "./similarity-intervals.js";
export { aggregateSimilarity, cosine, cosineOrNaN, layerDepth, layerSimilarities, layerwiseSimilarity, type LangMatrix, type LayerSimilarity, type LayerwiseCurve } from "./similarity.js";
export { bestLayerAccuracyMatrix, heldOutTransfer, transferAnalysis, type HeldOutTransfer, type TransferOutcomes, type TransferResult } from "./transfer.js";
export {
  correlationTable,
  directCorrelation,
  directReleasedCode,
  mantelTest,
  offDiagonalPairs,
  splitCorrelation,
  type CorrelationOptions,
  type CorrelationRow,
  type LinguisticSimilarityFn,
  type MantelResult,
  type SplitCorrelation,
} from "./correlation.js";
export {
  hasLang2vec,
  LANG2VEC_DISTANCES,
  LANG2VEC_ISO3,
  LANG2VEC_LANGS,
  LANG2VEC_TYPES,
  linguisticDistance,
  linguisticSimilarity,
  PAPER_LINGUISTIC_TYPES,
  type Lang2vecLang,
  type Lang2vecType,
} from "./lang2vec.js";
export {
  correlationSetting,
  MODEL_PRESETS,
  presetForModel,
  SHARED_LANGUAGES,
  type CorrelationSetting,
  type ModelFamily,
  type ModelFamilyPreset,
} from "./presets.js";
