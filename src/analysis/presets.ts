/**
 * Per-model-family settings of the paper's analyses (method-notes §1.5, from the authors' utils.py): the four
 * languages each family excludes from the consistency/transfer/correlation analyses, the high-resource set of
 * the "Split" correlation, the pretraining shares used to order languages, and the resulting 12-language order.
 */

export type ModelFamily = "llama2-chat" | "qwen-chat" | "bloomz";

export interface ModelFamilyPreset {
  family: ModelFamily;
  /** Languages left out of consistency, transfer and correlation (recognition ran on all 16). */
  exclude: readonly string[];
  /** High-resource languages for the Split correlation. */
  highResource: readonly string[];
  /** Pretraining share per analysed language, in %. */
  pretrainingShare: Readonly<Record<string, number>>;
  /** True where shares are ordering placeholders rather than statistics (Qwen). */
  sharesArePlaceholders: boolean;
  /**
   * The 12 analysed languages by descending share, ties kept in the README's command order
   * (en fr zh es pt vi ca id ja ko fi hu ta te sw ny), i.e. exactly the authors' matrix order. The released
   * "Direct" correlation depends on this order (see directReleasedCode).
   */
  languages: readonly string[];
}

const COMMAND_ORDER = ["en", "fr", "zh", "es", "pt", "vi", "ca", "id", "ja", "ko", "fi", "hu", "ta", "te", "sw", "ny"];

// LLaMA-2 paper's language table; Qwen reuses it with zh/en placeholders (the authors' own choice).
const LLAMA_SHARES = { en: 89.7, fr: 0.16, zh: 0.13, es: 0.13, ja: 0.1, pt: 0.09, vi: 0.08, ko: 0.06, ca: 0.04, id: 0.03, fi: 0.03, hu: 0.03 };

function ordered(shares: Record<string, number>): string[] {
  // Array.prototype.sort is stable, matching Python's sorted().
  return COMMAND_ORDER.filter((l) => l in shares).sort((a, b) => shares[b] - shares[a]);
}

function preset(family: ModelFamily, exclude: string[], highResource: string[], shares: Record<string, number>, placeholders: boolean): ModelFamilyPreset {
  return Object.freeze({
    family,
    exclude: Object.freeze(exclude),
    highResource: Object.freeze(highResource),
    pretrainingShare: Object.freeze({ ...shares }),
    sharesArePlaceholders: placeholders,
    languages: Object.freeze(ordered(shares)),
  });
}

export const MODEL_PRESETS: Readonly<Record<ModelFamily, ModelFamilyPreset>> = Object.freeze({
  "llama2-chat": preset("llama2-chat", ["ny", "sw", "ta", "te"], ["en"], LLAMA_SHARES, false),
  "qwen-chat": preset("qwen-chat", ["ny", "sw", "ta", "te"], ["zh", "en"], { ...LLAMA_SHARES, zh: 60, en: 50 }, true),
  bloomz: preset(
    "bloomz",
    ["ja", "ko", "fi", "hu"],
    ["en", "zh", "fr", "es", "pt", "vi", "id", "ca"],
    { en: 30.03774, zh: 16.16741, fr: 12.89844, es: 10.8455, pt: 4.91041, vi: 2.70733, id: 1.23708, ca: 1.10206, ta: 0.49485, te: 0.18541, sw: 0.01465, ny: 0.00007 },
    false,
  ),
});

/** The 8 languages analysed for every family; the paper's layer-wise consistency curve uses them. */
export const SHARED_LANGUAGES: readonly string[] = Object.freeze(["en", "zh", "fr", "es", "pt", "vi", "ca", "id"]);

/** The preset for a model name, matched by substring like the authors' code ("llama", "qwen", "bloom"). */
export function presetForModel(model: string): ModelFamilyPreset | undefined {
  const m = model.toLowerCase();
  if (m.includes("llama")) return MODEL_PRESETS["llama2-chat"];
  if (m.includes("qwen")) return MODEL_PRESETS["qwen-chat"];
  if (m.includes("bloom")) return MODEL_PRESETS.bloomz;
  return undefined;
}

/** The languages and high-resource set one correlation uses, and what the preset dropped. */
export interface CorrelationSetting {
  /** In the authors' order when a preset applies (the released Direct value depends on it). */
  langs: string[];
  highResource: string[];
  /** Languages present but left out by the preset. */
  excluded: string[];
  family?: ModelFamily;
}

/**
 * Applies a family preset in full: drops the family's excluded languages, orders the rest as the authors did
 * and takes its high-resource set (an explicit `highResource` wins). Without a preset the languages keep
 * their order and the high-resource set is only what was given: no language is promoted by position.
 */
export function correlationSetting(langs: readonly string[], opts: { family?: ModelFamily; highResource?: readonly string[] } = {}): CorrelationSetting {
  const preset = opts.family ? MODEL_PRESETS[opts.family] : undefined;
  if (opts.family && !preset) throw new Error(`unknown model family '${opts.family}' (have: ${Object.keys(MODEL_PRESETS).join(", ")})`);
  const kept = preset ? preset.languages.filter((l) => langs.includes(l)) : [...langs];
  const excluded = langs.filter((l) => !kept.includes(l));
  const high = (opts.highResource ?? preset?.highResource ?? []).filter((l) => kept.includes(l));
  return { langs: kept, highResource: high, excluded, ...(preset ? { family: preset.family } : {}) };
}
