// Outcome scorers of the cross-lingual control experiment: refusal judge (phrases), language identification,
// model-as-judge, fluency and representation score.
export {
  createRefusalJudge,
  judgeRefusal,
  refusalRate,
  normalizeForMatch,
  expandPattern,
  quoteSpans,
  type RefusalLabel,
  type RefusalMatch,
  type RefusalResult,
  type RefusalOptions,
  type RefusalJudgeConfig,
  type RefusalJudge,
  type NormalizedText,
} from "./refusal.js";
export { REFUSAL_PHRASES, type PhraseEntry, type PhraseSet } from "./refusal-phrases/index.js";
export {
  DEFAULT_LANGUAGES,
  detectLanguage,
  sameLanguage,
  checkLanguage,
  francCode,
  toIso6393,
  fromIso6393,
  letterMass,
  type DetectLanguageOptions,
  type LanguageGuess,
  type SameLanguageOptions,
  type LanguageCheck,
} from "./language.js";
export {
  createModelJudge,
  renderJudgePrompt,
  softmaxRecord,
  type ModelJudgeOptions,
  type ModelJudgeResult,
  type ModelJudge,
  type JudgeItem,
} from "./judge-model.js";
export { fluency, fluencyBatch, type FluencyResult, type FluencyOptions, type OutputText } from "./fluency.js";
export {
  representationScore,
  representationScores,
  type RepresentationScoreOptions,
  type RepresentationItem,
  type RepresentationScore,
} from "./representation.js";
export { preferenceScore, checkContinuations, type Continuations, type PreferenceResult } from "./preference.js";
export { commandClassifier, ClassifierError, type TextClassifier } from "./classifier.js";
