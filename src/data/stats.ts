// Per dataset and language: pair counts, items aligned across languages and, under a model's tokenizer,
// token counts — tokenizer fertility differs a lot across languages and is a confound worth seeing.
import type { ContrastPair } from "./types.js";

export interface LanguageStats {
  dataset: string;
  concept: string;
  lang: string;
  pairs: number;
  /** Distinct items (pair groups, else ids). */
  items: number;
  /** Items of this language that every language of the dataset and concept also has. */
  alignedAll: number;
  /** Items shared with English (when the dataset has English). */
  alignedEn: number | null;
  /** Mean tokens per text (both sides), when a tokenizer is given. */
  meanTokens?: number;
  /** Tokens per 100 characters: the tokenizer's fertility on this language. */
  tokensPer100Chars?: number;
}

export function datasetStats(dataset: string, pairs: readonly ContrastPair[], tokenCount?: (text: string) => number): LanguageStats[] {
  const unit = (p: ContrastPair) => p.group ?? p.id;
  const byCell = new Map<string, ContrastPair[]>();
  for (const p of pairs) {
    const k = `${p.concept}\u0000${p.lang}`;
    const list = byCell.get(k);
    if (list) list.push(p);
    else byCell.set(k, [p]);
  }
  const itemsOf = new Map<string, Set<string>>();
  for (const [k, list] of byCell) itemsOf.set(k, new Set(list.map(unit)));
  const out: LanguageStats[] = [];
  for (const [k, list] of [...byCell].sort(([a], [b]) => a.localeCompare(b))) {
    const [concept, lang] = k.split("\u0000");
    const items = itemsOf.get(k)!;
    const others = [...itemsOf].filter(([kk]) => kk.startsWith(`${concept}\u0000`)).map(([, s]) => s);
    const en = itemsOf.get(`${concept}\u0000en`);
    const s: LanguageStats = {
      dataset,
      concept,
      lang,
      pairs: list.length,
      items: items.size,
      alignedAll: [...items].filter((id) => others.every((o) => o.has(id))).length,
      alignedEn: en ? [...items].filter((id) => en.has(id)).length : null,
    };
    if (tokenCount) {
      let tokens = 0;
      let chars = 0;
      for (const p of list) {
        tokens += tokenCount(p.pos) + tokenCount(p.neg);
        chars += [...p.pos].length + [...p.neg].length;
      }
      s.meanTokens = tokens / (2 * list.length);
      s.tokensPer100Chars = (100 * tokens) / Math.max(1, chars);
    }
    out.push(s);
  }
  return out;
}
