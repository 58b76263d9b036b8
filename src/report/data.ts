// Flattening AnalysisResults (as read back from JSON: NaN became null) into tidy rows for the figures and tables.
import { linguisticSimilarity, hasLang2vec, type Lang2vecType } from "../analysis/index.js";
import type { AnalysisResults } from "../pipeline/analyze.js";
import type { ControlCurvePoint, ReportInput } from "./types.js";

/** A finite number, or null (JSON turns NaN and ±Infinity into null). */
export function fin(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

export function meanOf(xs: ReadonlyArray<number | null>): number | null {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (x !== null) {
      s += x;
      n++;
    }
  }
  return n ? s / n : null;
}

export type Row = Record<string, string | number | null>;

export function modelNames(input: ReportInput): string[] {
  return Object.keys(input.models);
}

/** Union of the models' lists, in first-seen order. */
export function union(lists: ReadonlyArray<readonly string[]>): string[] {
  const out: string[] = [];
  for (const l of lists) for (const x of l) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * One (model, concept, lang): the headline held-out number (layer chosen on validation, scored on test) and the
 * paper's test-picked number, which is optimistic; its interval `lo`–`hi` is the selection-aware one.
 */
export interface RecognitionRow extends Row {
  model: string;
  concept: string;
  lang: string;
  nTest: number;
  /** Validation pairs the held-out layer choice rests on. */
  nVal: number;
  heldOutLayer: string | null;
  heldOut: number | null;
  heldOutLo: number | null;
  heldOutHi: number | null;
  /** Test-picked layer and accuracy (optimistic). */
  layer: string;
  accuracy: number | null;
  lo: number | null;
  hi: number | null;
}

export function recognitionRows(input: ReportInput): RecognitionRow[] {
  const rows: RecognitionRow[] = [];
  for (const [model, r] of Object.entries(input.models)) {
    for (const concept of r.concepts) {
      for (const lang of r.langs) {
        const s = r.recognition[concept]?.[lang];
        if (!s) continue;
        rows.push({
          model,
          concept,
          lang,
          nTest: s.nTest,
          nVal: s.heldOut?.nVal ?? 0,
          heldOutLayer: s.heldOut?.layer ?? null,
          heldOut: fin(s.heldOut?.accuracy),
          heldOutLo: fin(s.heldOut?.ci?.lo),
          heldOutHi: fin(s.heldOut?.ci?.hi),
          layer: s.oracle.layer,
          accuracy: fin(s.oracle.accuracy),
          // Older summaries lack the selection-aware interval: show none rather than the fixed-layer one.
          lo: fin(s.oracle.selectionCi?.lo),
          hi: fin(s.oracle.selectionCi?.hi),
        });
      }
    }
  }
  return rows;
}

/** Accuracy per layer of every (concept, lang), with the per-layer (fixed-layer) interval when present. */
export function layerCurveRows(r: AnalysisResults): Row[] {
  const rows: Row[] = [];
  for (const concept of r.concepts) {
    for (const lang of r.langs) {
      const s = r.recognition[concept]?.[lang];
      if (!s) continue;
      s.accuracy.forEach((a, i) => {
        rows.push({ concept, lang, layer: r.layers[i] ?? String(i + 1), pos: i + 1, accuracy: fin(a), lo: fin(s.ci?.[i]?.lo), hi: fin(s.ci?.[i]?.hi) });
      });
    }
  }
  return rows;
}

/** A lang × lang matrix as rows {a (row), b (column), value}. */
export function matrixRows(langs: readonly string[], values: ReadonlyArray<ReadonlyArray<number | null>>, extra: Row = {}): Row[] {
  const rows: Row[] = [];
  langs.forEach((a, i) => langs.forEach((b, j) => rows.push({ ...extra, a, b, value: fin(values[i]?.[j]) })));
  return rows;
}

/** Per concept, the paper's aggregation of one concept: max over layers of the cosine for each pair. */
export function perConceptSimilarity(r: AnalysisResults, concept: string): { langs: string[]; values: (number | null)[][] } | null {
  const s = r.similarity.perConcept[concept];
  if (!s) return null;
  const values = s.langs.map((_, i) =>
    s.langs.map((__, j) => {
      if (i === j) return 1;
      let best: number | null = null;
      for (const c of s.cos[i]?.[j] ?? []) {
        const v = fin(c);
        if (v !== null && (best === null || v > best)) best = v;
      }
      return best;
    }),
  );
  return { langs: [...s.langs], values };
}

/** Mean of the off-diagonal entries of a matrix. */
export function offDiagonalMean(values: ReadonlyArray<ReadonlyArray<number | null>>): number | null {
  const xs: (number | null)[] = [];
  values.forEach((row, i) => row.forEach((v, j) => i !== j && xs.push(fin(v))));
  return meanOf(xs);
}

/** Similarity vs 1 − lang2vec distance over unordered pairs of languages with lang2vec data. */
export function correlationScatterRows(input: ReportInput, types: readonly string[]): Row[] {
  const rows: Row[] = [];
  for (const [model, r] of Object.entries(input.models)) {
    if (!r.correlation) continue;
    const m = r.similarity.aggregate;
    const langs = r.correlation.langs.filter((l) => m.langs.includes(l) && hasLang2vec(l));
    for (const type of types) {
      for (let i = 0; i < langs.length; i++) {
        for (let j = i + 1; j < langs.length; j++) {
          const a = langs[i];
          const b = langs[j];
          const sim = fin(m.values[m.langs.indexOf(a)]?.[m.langs.indexOf(b)]);
          let ling: number | null = null;
          try {
            ling = fin(linguisticSimilarity(type as Lang2vecType, a, b));
          } catch {
            ling = null; // an unknown type in a hand-written results file: no point rather than no report
          }
          if (sim !== null && ling !== null) rows.push({ model, type, pair: `${a}–${b}`, linguistic: ling, similarity: sim });
        }
      }
    }
  }
  return rows;
}

export function controlMetrics(points: readonly ControlCurvePoint[], primary?: string): { primary: string | null; metrics: string[] } {
  // A metric with no finite value anywhere (e.g. a judge that was not run) would be an empty figure.
  const metrics = union([points.filter((p) => fin(p.value) !== null).map((p) => p.metric)]);
  const p = primary && metrics.includes(primary) ? primary : metrics.includes("rate") ? "rate" : (metrics[0] ?? null);
  return { primary: p, metrics: p ? [p, ...metrics.filter((m) => m !== p)] : metrics };
}
