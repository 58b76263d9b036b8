// Synthetic models with planted concepts given as words: the words are tokenized with the model's
// own vocabulary (through the engine), and each (concept, language) gets a known direction.
import { existsSync } from "node:fs";
import { loadModel } from "../engine/model.js";
import { plantedDirections, synthModel, type PlantedConceptSpec, type SynthOptions, type SynthResult } from "../gguf/index.js";

export interface PlantLanguage {
  /** Angle θ (degrees) between this language's direction and the concept's base direction u. */
  angleDeg?: number;
  /** Words whose tokens get +alpha·direction in the embedding. */
  pos: readonly string[];
  /** Words whose tokens get −alpha·direction. */
  neg: readonly string[];
}

export interface PlantConcept {
  concept: string;
  alpha: number;
  langs: Readonly<Record<string, PlantLanguage>>;
}

/**
 * Planted ground truth. For one concept, language k's unit direction is d_k = cos θ_k·u + sin θ_k·w_k with
 * w_k orthonormal to u and to each other, so cos(d_a, d_b) = cos θ_a · cos θ_b for a ≠ b.
 */
export interface PlantSpec {
  seed?: number;
  concepts: readonly PlantConcept[];
}

export interface PlantedModel extends SynthResult {
  /** concept → lang → unit direction. */
  directions: Map<string, Map<string, Float32Array>>;
}

/** Token ids of a word as it appears at the start of a text and after a space, without bare-space pieces. */
export async function wordTokens(vocabPath: string, words: readonly string[]): Promise<number[]> {
  const vocab = await loadModel(vocabPath, { vocabOnly: true });
  try {
    const ids = new Set<number>();
    for (const w of words) {
      for (const form of [w, ` ${w}`]) {
        for (const t of vocab.tokenize(form, { addSpecial: false })) {
          if (vocab.detokenize([t]).trim().length > 0) ids.add(t);
        }
      }
    }
    return [...ids];
  } finally {
    vocab.dispose();
  }
}

export async function synthPlantedModel(opts: Omit<SynthOptions, "planted">, spec: PlantSpec): Promise<PlantedModel> {
  // Without a vocab file the built-in vocab is used; write the model once to get a tokenizer for it.
  let vocabPath = opts.vocabGguf;
  if (!vocabPath) {
    await synthModel({ ...opts, nLayer: 1 });
    vocabPath = opts.out;
  } else if (!existsSync(vocabPath)) {
    throw new Error(`vocabulary file '${vocabPath}' does not exist`);
  }
  const planted: PlantedConceptSpec[] = [];
  const directions = new Map<string, Map<string, Float32Array>>();
  const seed = spec.seed ?? 1;
  for (const [ci, c] of spec.concepts.entries()) {
    if (!(c.alpha > 0)) throw new Error(`plant spec: concept '${c.concept}' needs alpha > 0`);
    const langs = Object.entries(c.langs);
    if (langs.length === 0) throw new Error(`plant spec: concept '${c.concept}' has no languages`);
    const dirs = plantedDirections(opts.nEmbd, seed * 1000 + ci, { angles: langs.map(([, l]) => ((l.angleDeg ?? 0) * Math.PI) / 180) });
    const perLang = new Map<string, Float32Array>();
    for (const [k, [lang, l]] of langs.entries()) {
      const pos = await wordTokens(vocabPath, l.pos);
      const neg = await wordTokens(vocabPath, l.neg);
      // A token on both sides would cancel out; keep it on neither.
      const both = new Set(pos.filter((t) => neg.includes(t)));
      planted.push({ concept: c.concept, lang, posTokens: pos.filter((t) => !both.has(t)), negTokens: neg.filter((t) => !both.has(t)), direction: dirs.directions[k], alpha: c.alpha });
      perLang.set(lang, dirs.directions[k]);
    }
    directions.set(c.concept, perLang);
  }
  const result = await synthModel({ ...opts, planted });
  return { ...result, directions };
}
