// The data model shared by loaders, adapters, capture and analysis.

/** The seven value concepts of Xu et al. 2024 (their repository keys). */
export const CONCEPTS = ["morality", "deontology", "utilitarianism", "fairness", "truthfulness", "toxicity", "harmfulness"] as const;
export type Concept = (typeof CONCEPTS)[number];

/** The paper's 16 languages (ISO 639-1). Other codes are allowed; these are the ones with lang2vec data shipped. */
export const PAPER_LANGUAGES = ["en", "zh", "fr", "es", "pt", "vi", "ca", "id", "ja", "ko", "fi", "hu", "ta", "te", "sw", "ny"] as const;

/** Which member of a pair a text is: pos = the value-aligned side (moral, truthful, non-toxic, harmless, ...). */
export type Side = "pos" | "neg";
export type Split = "train" | "val" | "test";

/**
 * One contrastive pair. `id` is shared by the translations of the same source item, so data is aligned across
 * languages. `pos`/`neg` are the final texts before the model template is applied (e.g. deontology already has
 * "scenario + ' ' + excuse", truthfulness "Question: q Answer: a").
 */
export interface ContrastPair {
  id: string;
  concept: string;
  lang: string;
  pos: string;
  neg: string;
  /**
   * Split unit when several pairs come from one source item (e.g. one TruthfulQA question with several wrong
   * answers): every pair of a group lands in the same split, so no question leaks from train into test.
   * Absent = the pair's own id. Like `id`, it is shared across languages.
   */
  group?: string;
  meta?: Record<string, string | number | boolean>;
}

/** What a loader or adapter reports besides the pairs. */
export interface LoadReport {
  /** Pairs dropped because pos === neg, per language. */
  droppedIdentical: Record<string, number>;
  /** Other rows skipped, with a reason each (malformed, unpaired, ...), per language. */
  skipped: Record<string, number>;
  /** Per language: ids present in some other language of the same concept but missing here. */
  missingIds: Record<string, string[]>;
  /** Per language, the `skipped` count broken down by reason (sums to `skipped[lang]`). */
  skippedReasons?: Record<string, Record<string, number>>;
  /** Human-readable remarks (files not found, alignment quality, ...). */
  notes?: string[];
}

export interface LoadedPairs {
  pairs: ContrastPair[];
  report: LoadReport;
}
