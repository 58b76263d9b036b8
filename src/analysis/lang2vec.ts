/** Accessors for the shipped lang2vec distance tables (see lang2vec-data.ts for provenance). */

import { LANG2VEC_DISTANCES, LANG2VEC_ISO3, LANG2VEC_LANGS, LANG2VEC_TYPES, type Lang2vecLang, type Lang2vecType } from "./lang2vec-data.js";

export { LANG2VEC_DISTANCES, LANG2VEC_ISO3, LANG2VEC_LANGS, LANG2VEC_TYPES, type Lang2vecLang, type Lang2vecType };

/** The four types the paper correlates against (Table 1 column order). */
export const PAPER_LINGUISTIC_TYPES = ["genetic", "syntactic", "geographic", "phonological"] as const satisfies readonly Lang2vecType[];

const INDEX = new Map<string, number>();
LANG2VEC_LANGS.forEach((l, i) => {
  INDEX.set(l, i);
  INDEX.set(LANG2VEC_ISO3[l], i);
});

function langIndex(lang: string): number {
  const i = INDEX.get(lang.toLowerCase());
  if (i === undefined) {
    throw new Error(`lang2vec: no data for language '${lang}' (shipped: ${LANG2VEC_LANGS.join(", ")}; ISO 639-3 codes ${Object.values(LANG2VEC_ISO3).join(", ")} also accepted)`);
  }
  return i;
}

function table(type: string): readonly (readonly number[])[] {
  if (!(LANG2VEC_TYPES as readonly string[]).includes(type)) {
    throw new Error(`lang2vec: unknown feature type '${type}' (have: ${LANG2VEC_TYPES.join(", ")})`);
  }
  return LANG2VEC_DISTANCES[type as Lang2vecType];
}

/** lang2vec distance (as stored by the authors) between two languages (ISO 639-1, or the ISO 639-3 codes used). */
export function linguisticDistance(type: Lang2vecType, langA: string, langB: string): number {
  return table(type)[langIndex(langA)][langIndex(langB)];
}

/** The paper's linguistic similarity: 1 − lang2vec distance. */
export function linguisticSimilarity(type: Lang2vecType, langA: string, langB: string): number {
  return 1 - linguisticDistance(type, langA, langB);
}

/** Whether the language has shipped lang2vec data. */
export function hasLang2vec(lang: string): boolean {
  return INDEX.has(lang.toLowerCase());
}
