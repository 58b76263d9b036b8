// From split pairs to the texts the engine captures.

import type { SplitPair } from "./splits.js";
import { applyTemplate, type PromptTemplate } from "./templates.js";
import type { ContrastPair, Side, Split } from "./types.js";

/** One text to capture, with the identity its activation rows are stored under (see src/store TextKey). */
export interface CaptureText {
  itemId: string;
  concept: string;
  lang: string;
  side: Side;
  split: Split;
  /** Template id (record its text via `templateRecord`). */
  template: string;
  /** The templated text fed to the model. */
  text: string;
}

export interface CaptureTextOptions {
  /** Only these splits (default all). */
  splits?: readonly Split[];
  /** Only these sides (default both, pos first). */
  sides?: readonly Side[];
}

/**
 * Two rows per pair, pos then neg, in pair order. Identical texts are NOT deduplicated: rows stay aligned
 * with pairs (row 2i is pair i's pos, 2i+1 its neg), a text may legitimately occur in several pairs (e.g. the
 * best answer of a TruthfulQA question against each wrong one) and the store keys rows by (item, side), not
 * by text. A caller wanting to save compute can memoise on `text` itself.
 */
export function captureTexts(pairs: readonly SplitPair[], template: PromptTemplate, opts: CaptureTextOptions = {}): CaptureText[] {
  const sides = opts.sides ?? (["pos", "neg"] as const);
  const splits = opts.splits ? new Set(opts.splits) : null;
  const out: CaptureText[] = [];
  for (const p of pairs) {
    if (splits && !splits.has(p.split)) continue;
    for (const side of sides) {
      out.push({
        itemId: p.id,
        concept: p.concept,
        lang: p.lang,
        side,
        split: p.split,
        template: template.id,
        text: applyTemplate(template, side === "pos" ? p.pos : p.neg),
      });
    }
  }
  return out;
}

/**
 * concept → pair id → group, for the pairs that share a source item with others (`group` set and ≠ id).
 * Capture records it in the activation file so analysis can treat a group's pairs as one cluster.
 */
export function pairGroups(pairs: readonly ContrastPair[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const p of pairs) if (p.group !== undefined && p.group !== p.id) (out[p.concept] ??= {})[p.id] = p.group;
  return out;
}
