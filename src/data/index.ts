// Public API of src/data: pairs in, texts to capture out.

export { CONCEPTS, PAPER_LANGUAGES, type Concept, type ContrastPair, type LoadReport, type LoadedPairs, type Side, type Split } from "./types.js";
export {
  loadMvalue,
  loadMvalueConcept,
  listMvalueLanguages,
  parseMvalueFile,
  mvaluePairText,
  truthfulText,
  type MvalueOptions,
  type MvalueSample,
  type ParsedMvalueFile,
} from "./mvalue.js";
export { readPairsJsonl, writePairsJsonl, parsePairsJsonl, formatPairsJsonl, pairFromJson } from "./jsonl.js";
export {
  INPUT_PLACEHOLDER,
  LLAMA2_CHAT_TEMPLATE,
  QWEN_CHAT_TEMPLATE,
  BLOOMZ_TEMPLATE,
  RAW_TEMPLATE,
  BUILTIN_TEMPLATES,
  applyTemplate,
  customTemplate,
  validateTemplateText,
  resolveTemplate,
  templateForModel,
  detectChatTemplateFamily,
  builtinChatRenderer,
  chatTemplate,
  templateRecord,
  type PromptTemplate,
  type ChatTemplateRenderer,
  type ChatTemplateFamily,
} from "./templates.js";
export {
  DEFAULT_SPLIT_SEED,
  PAPER_TRAIN_FRACTION,
  splitByItem,
  splitIds,
  paperSplit,
  shuffleInPlace,
  splitUnit,
  type ItemSplitOptions,
  type SplitPair,
  type SplitResult,
  type UnitCounts,
} from "./splits.js";
export { captureTexts, type CaptureText, type CaptureTextOptions } from "./pairs.js";
export { ReportBuilder, computeMissingIds, toLoadedPairs, mergeLoadedPairs, assertUniqueIds, countByLanguage } from "./report.js";
export { parseCsv, readCsvFile, readCsvTable, csvTable, stripBom, CsvError, type CsvRecord, type CsvTable } from "./csv.js";
export { parseOrderedJson, OrderedObject, JsonSyntaxError, type OrderedJson } from "./json-ordered.js";
export {
  ADAPTERS,
  getAdapter,
  adaptersForConcept,
  loadAdapters,
  type AdapterOptions,
  type DatasetAdapter,
  type EthicsFile,
  type ResponsePhrases,
} from "./adapters.js";
export { HARM_RESPONSES } from "./adapters/harm-responses.js";
