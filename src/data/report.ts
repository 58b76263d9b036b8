// Book-keeping shared by the loaders and adapters: identical-pair dropping, skip reasons, missing-id reports.

import type { ContrastPair, LoadedPairs, LoadReport } from "./types.js";

/** Accumulates what a loader drops, per language, while it builds pairs. */
export class ReportBuilder {
  private readonly pairs: ContrastPair[] = [];
  private readonly dropped: Record<string, number> = {};
  private readonly reasons: Record<string, Record<string, number>> = {};
  private readonly languages = new Set<string>();
  readonly notes: string[] = [];

  /** Declares a language as loaded even if it ends up with no pairs (so it shows in the report). */
  language(lang: string): void {
    this.languages.add(lang);
  }

  /** Adds a pair, or counts it as dropped when pos === neg (the paper's filter, exact string equality). */
  add(pair: ContrastPair): boolean {
    this.languages.add(pair.lang);
    if (pair.pos === pair.neg) {
      this.dropped[pair.lang] = (this.dropped[pair.lang] ?? 0) + 1;
      return false;
    }
    this.pairs.push(pair);
    return true;
  }

  skip(lang: string, reason: string, count = 1): void {
    if (count <= 0) return;
    this.languages.add(lang);
    const r = (this.reasons[lang] ??= {});
    r[reason] = (r[reason] ?? 0) + count;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  finish(): LoadedPairs {
    assertUniqueIds(this.pairs);
    const droppedIdentical: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    const skippedReasons: Record<string, Record<string, number>> = {};
    for (const lang of [...this.languages].sort()) {
      droppedIdentical[lang] = this.dropped[lang] ?? 0;
      const r = this.reasons[lang] ?? {};
      skippedReasons[lang] = { ...r };
      skipped[lang] = Object.values(r).reduce((a, b) => a + b, 0);
    }
    const report: LoadReport = {
      droppedIdentical,
      skipped,
      missingIds: computeMissingIds(this.pairs, [...this.languages]),
      skippedReasons,
    };
    if (this.notes.length > 0) report.notes = [...this.notes];
    return { pairs: this.pairs, report };
  }
}

/** Throws when an id repeats within one (concept, lang): ids key the stored activation rows. */
export function assertUniqueIds(pairs: readonly ContrastPair[]): void {
  const seen = new Set<string>();
  for (const p of pairs) {
    const k = `${p.concept}\u0000${p.lang}\u0000${p.id}`;
    if (seen.has(k)) throw new Error(`duplicate pair id "${p.id}" for concept ${p.concept}, language ${p.lang}`);
    seen.add(k);
  }
}

/**
 * Per language, the ids that some other language of the same concept has but this one lacks (sorted). Keys
 * are languages; when pairs span several concepts an id is reported as "concept/id" to stay unambiguous.
 * `languages` adds languages that have no pairs at all.
 */
export function computeMissingIds(pairs: readonly ContrastPair[], languages: readonly string[] = []): Record<string, string[]> {
  const byConcept = new Map<string, Map<string, Set<string>>>();
  for (const p of pairs) {
    let m = byConcept.get(p.concept);
    if (!m) byConcept.set(p.concept, (m = new Map()));
    let s = m.get(p.lang);
    if (!s) m.set(p.lang, (s = new Set()));
    s.add(p.id);
  }
  const multi = byConcept.size > 1;
  const allLangs = new Set<string>(languages);
  for (const p of pairs) allLangs.add(p.lang);
  const out: Record<string, string[]> = {};
  for (const lang of [...allLangs].sort()) out[lang] = [];
  for (const [concept, m] of byConcept) {
    const union = new Set<string>();
    for (const s of m.values()) for (const id of s) union.add(id);
    for (const lang of allLangs) {
      const have = m.get(lang) ?? new Set<string>();
      for (const id of union) if (!have.has(id)) out[lang].push(multi ? `${concept}/${id}` : id);
    }
  }
  for (const lang of Object.keys(out)) out[lang].sort();
  return out;
}

/** Builds a LoadedPairs from plain pairs (e.g. read from JSONL): drops pos === neg and reports missing ids. */
export function toLoadedPairs(pairs: readonly ContrastPair[]): LoadedPairs {
  const b = new ReportBuilder();
  for (const p of pairs) b.add(p);
  return b.finish();
}

/**
 * Combines loads of the same concept from several sources. Per (concept, lang) the first part that has pairs
 * for it wins and later parts' pairs for that (concept, lang) are left out (with a note), e.g. to prefer the
 * human-translated TruthfulQA-multi es over Okapi's machine-translated es. Reports are merged and missing ids
 * recomputed over the combined pairs.
 */
export function mergeLoadedPairs(parts: readonly LoadedPairs[]): LoadedPairs {
  const owner = new Map<string, number>();
  const pairs: ContrastPair[] = [];
  const notes: string[] = [];
  const droppedIdentical: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  const skippedReasons: Record<string, Record<string, number>> = {};
  parts.forEach((part, idx) => {
    const present = new Set(part.pairs.map((p) => `${p.concept}\u0000${p.lang}`));
    const shadowed = new Set<string>();
    for (const key of present) {
      if (!owner.has(key)) owner.set(key, idx);
      else if (owner.get(key) !== idx) shadowed.add(key);
    }
    for (const p of part.pairs) if (!shadowed.has(`${p.concept}\u0000${p.lang}`)) pairs.push(p);
    for (const key of shadowed) {
      const [concept, lang] = key.split("\u0000");
      notes.push(`part ${idx}: ${concept}/${lang} left out, already provided by part ${owner.get(key)}`);
    }
    const shadowedLangs = new Set([...shadowed].map((k) => k.split("\u0000")[1]));
    for (const [lang, n] of Object.entries(part.report.droppedIdentical)) {
      if (!shadowedLangs.has(lang)) droppedIdentical[lang] = (droppedIdentical[lang] ?? 0) + n;
    }
    for (const [lang, n] of Object.entries(part.report.skipped)) {
      if (shadowedLangs.has(lang)) continue;
      skipped[lang] = (skipped[lang] ?? 0) + n;
      const r = (skippedReasons[lang] ??= {});
      const reasons = part.report.skippedReasons?.[lang] ?? (n > 0 ? { unspecified: n } : {});
      for (const [reason, c] of Object.entries(reasons)) r[reason] = (r[reason] ?? 0) + c;
    }
    for (const n of part.report.notes ?? []) notes.push(`part ${idx}: ${n}`);
  });
  assertUniqueIds(pairs);
  const langs = new Set([...Object.keys(droppedIdentical), ...Object.keys(skipped)]);
  const report: LoadReport = { droppedIdentical, skipped, missingIds: computeMissingIds(pairs, [...langs]), skippedReasons };
  if (notes.length > 0) report.notes = notes;
  return { pairs, report };
}

/** Pair counts per language. */
export function countByLanguage(pairs: readonly ContrastPair[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pairs) out[p.lang] = (out[p.lang] ?? 0) + 1;
  return out;
}
