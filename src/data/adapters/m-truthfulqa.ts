// Okapi m_truthfulqa (Lai et al. 2023): TruthfulQA machine-translated into 10 of the target languages,
// <root>/m_truthfulqa/<lang>_validation.json, a JSON array of {question, mc1_targets_choices/labels,
// mc2_targets_choices/labels}. There is no id, items that failed translation were dropped per language, and
// the order is a shuffle of the English one (the same shuffle in every language).
//
// Alignment, so the ids match the other truthfulness sources ("tqa:<n>"):
//  1. Every language is aligned to a pivot language (es, else the largest) by a monotone alignment (they share
//     one order, with deletions): items may match only if their answer structure (mc1 size + mc2 label
//     sequence) is equal; among those, character-trigram similarity decides.
//  2. Pivot items are matched to TruthfulQA question numbers through the professional HiTZ translations of
//     the same language (es, plus ca through step 1): candidates by question similarity, then a score mixing
//     question and question+answers similarity, assigned greedily one-to-one, best first.
// Items left unmatched are skipped (counted). Without the HiTZ files, ids fall back to "okapi:<pivot index>",
// aligned among the Okapi languages only. Spot checks show few errors (near-duplicate questions such as "which
// films are banned in <country>" can swap when one of them is missing).

import { join } from "node:path";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { exists, isRecord, pickLanguages, readJsonFile, str, strArray, type AdapterOptions, type DatasetAdapter } from "./common.js";
import { addQuestionPairs, readHitz, type HitzItem } from "./truthfulqa.js";

const DIR = "m_truthfulqa";
const LANGS = ["fr", "zh", "es", "pt", "vi", "ca", "id", "hu", "ta", "te"] as const;
/** Below this alignment score a pivot item is left without a TruthfulQA id. */
export const MIN_TQA_SCORE = 0.3;

export interface OkapiItem {
  question: string;
  mc1: string[];
  mc1Labels: number[];
  mc2: string[];
  mc2Labels: number[];
}

export async function readOkapi(root: string, lang: string): Promise<OkapiItem[]> {
  const path = join(root, DIR, `${lang}_validation.json`);
  const data = await readJsonFile(path);
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array`);
  return data.map((x, i) => {
    const where = `${path}: item ${i}`;
    if (!isRecord(x)) throw new Error(`${where}: not an object`);
    const labels = (k: string, n: number): number[] => {
      const v = x[k];
      if (!Array.isArray(v) || v.length !== n || v.some((l) => l !== 0 && l !== 1)) {
        throw new Error(`${where}: "${k}" must be ${n} labels of 0/1`);
      }
      return v as number[];
    };
    const mc1 = strArray(x.mc1_targets_choices, `${where}: mc1_targets_choices`);
    const mc2 = strArray(x.mc2_targets_choices, `${where}: mc2_targets_choices`);
    return { question: str(x, "question", where), mc1, mc1Labels: labels("mc1_targets_labels", mc1.length), mc2, mc2Labels: labels("mc2_targets_labels", mc2.length) };
  });
}

// ---- similarity ------------------------------------------------------------------------------------------

/** Sorted hashes of the character trigrams of the NFKC-lowercased, space-collapsed text (a multiset). */
export function trigramProfile(text: string): Uint32Array {
  const s = text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  const cps = Array.from(s);
  const out = new Uint32Array(Math.max(0, cps.length - 2));
  for (let i = 0; i + 2 < cps.length; i++) {
    let h = 0x811c9dc5;
    for (const ch of cps[i] + cps[i + 1] + cps[i + 2]) {
      h ^= ch.codePointAt(0) ?? 0;
      h = Math.imul(h, 0x01000193);
    }
    out[i] = h >>> 0;
  }
  return out.sort();
}

/** Dice coefficient of two trigram multisets. */
export function dice(a: Uint32Array, b: Uint32Array): number {
  if (a.length + b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return (2 * common) / (a.length + b.length);
}

interface Profiled {
  sig: string;
  full: Uint32Array;
  question: Uint32Array;
}

function okapiProfile(it: OkapiItem): Profiled {
  return {
    sig: `${it.mc1.length}|${it.mc2Labels.join("")}`,
    full: trigramProfile(`${it.question} ${it.mc2.join(" ")}`),
    question: trigramProfile(it.question),
  };
}

function hitzProfile(it: HitzItem): Profiled {
  return {
    sig: `${it.mc1Count}|${it.mc2Labels.join("")}`,
    full: trigramProfile(`${it.question} ${it.mc2.join(" ")}`),
    question: trigramProfile(it.question),
  };
}

/**
 * Monotone alignment of `b` onto `a` (both subsequences of one hidden order): maximises the sum over matched
 * pairs of 1 + similarity, matching only equal signatures; gaps are free. Returns b index → a index.
 */
export function alignMonotone(a: readonly Profiled[], b: readonly Profiled[]): Map<number, number> {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const score = new Float64Array((n + 1) * w);
  const move = new Uint8Array((n + 1) * w); // 1 up, 2 left, 3 diagonal
  // Only cells near the (scaled) diagonal: an item sits at most about |n − m| + (deletions on both sides)
  // from it. Cells outside the band keep score −∞ so no path uses them.
  const band = Math.abs(n - m) + 100;
  score.fill(-Infinity);
  for (let j = 0; j <= m; j++) score[j] = 0;
  for (let i = 0; i <= n; i++) score[i * w] = 0;
  for (let i = 1; i <= n; i++) {
    const centre = n === 0 ? 0 : Math.round((i * m) / n);
    const lo = Math.max(1, centre - band);
    const hi = Math.min(m, centre + band);
    for (let j = lo; j <= hi; j++) {
      let best = score[(i - 1) * w + j];
      let mv = 1;
      const left = score[i * w + j - 1];
      if (left > best) {
        best = left;
        mv = 2;
      }
      if (a[i - 1].sig === b[j - 1].sig) {
        const d = score[(i - 1) * w + j - 1] + 1 + dice(a[i - 1].full, b[j - 1].full);
        if (d > best) {
          best = d;
          mv = 3;
        }
      }
      score[i * w + j] = best;
      move[i * w + j] = mv;
    }
  }
  const out = new Map<number, number>();
  for (let i = n, j = m; i > 0 && j > 0; ) {
    const mv = move[i * w + j];
    if (mv === 3) {
      out.set(j - 1, i - 1);
      i--;
      j--;
    } else if (mv === 1) i--;
    else j--;
  }
  return out;
}

/** Pivot index → HiTZ item index, from one or more languages' (pivot-aligned item, HiTZ) evidence. */
function matchToTqa(evidence: { items: Map<number, Profiled>; hitz: Profiled[] }[], pivotCount: number): Map<number, { k: number; score: number }> {
  const CANDIDATES = 10;
  const cands: { s: number; p: number; k: number }[] = [];
  for (let p = 0; p < pivotCount; p++) {
    const ks = new Set<number>();
    for (const ev of evidence) {
      const it = ev.items.get(p);
      if (!it) continue;
      const scored = ev.hitz.map((h, k) => ({ k, s: dice(it.question, h.question) }));
      scored.sort((x, y) => y.s - x.s || x.k - y.k);
      for (const c of scored.slice(0, CANDIDATES)) ks.add(c.k);
    }
    for (const k of ks) {
      let full = 0;
      let q = 0;
      let n = 0;
      let sigEq = false;
      for (const ev of evidence) {
        const it = ev.items.get(p);
        if (!it) continue;
        full += dice(it.full, ev.hitz[k].full);
        q += dice(it.question, ev.hitz[k].question);
        sigEq ||= it.sig === ev.hitz[k].sig;
        n++;
      }
      cands.push({ s: (0.5 * full + 0.5 * q) / n + (sigEq ? 0.05 : 0), p, k });
    }
  }
  cands.sort((x, y) => y.s - x.s || x.p - y.p || x.k - y.k);
  const out = new Map<number, { k: number; score: number }>();
  const taken = new Set<number>();
  for (const c of cands) {
    if (c.s < MIN_TQA_SCORE) break;
    if (out.has(c.p) || taken.has(c.k)) continue;
    out.set(c.p, { k: c.k, score: c.s });
    taken.add(c.k);
  }
  return out;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const available: string[] = [];
  for (const l of LANGS) if (await exists(join(root, DIR, `${l}_validation.json`))) available.push(l);
  const langs = pickLanguages("m-truthfulqa", available, opts);
  const b = new ReportBuilder();
  for (const l of langs) b.language(l);

  const items = new Map<string, OkapiItem[]>();
  for (const l of available) items.set(l, await readOkapi(root, l));
  const profiles = new Map<string, Profiled[]>();
  for (const [l, its] of items) profiles.set(l, its.map(okapiProfile));
  const pivot = available.includes("es") ? "es" : [...available].sort((x, y) => items.get(y)!.length - items.get(x)!.length || (x < y ? -1 : 1))[0];
  const pivotProf = profiles.get(pivot)!;

  // Step 1: each language onto the pivot.
  const toPivot = new Map<string, Map<number, number>>();
  for (const l of available) {
    if (l === pivot) toPivot.set(l, new Map(pivotProf.map((_, i) => [i, i])));
    else toPivot.set(l, alignMonotone(pivotProf, profiles.get(l)!));
  }

  // Step 2: pivot → TruthfulQA number through the HiTZ translations of the same languages.
  const evidence: { lang: string; items: Map<number, Profiled>; hitz: Profiled[] }[] = [];
  let tqaIds: number[] = []; // evidence hitz arrays are indexed like this list
  for (const l of ["es", "ca"]) {
    if (!items.has(l) || !(await exists(join(root, "truthfulqa_multi", l, "validation.json")))) continue;
    const hitzItems = await readHitz(root, l);
    if (evidence.length === 0) tqaIds = hitzItems.map((h) => h.id);
    const byId = new Map(hitzItems.map((h) => [h.id, hitzProfile(h)]));
    const none: Profiled = { sig: "", full: new Uint32Array(0), question: new Uint32Array(0) };
    const byPivot = new Map<number, Profiled>();
    for (const [i, p] of toPivot.get(l)!) byPivot.set(p, profiles.get(l)![i]);
    evidence.push({ lang: l, items: byPivot, hitz: tqaIds.map((id) => byId.get(id) ?? none) });
  }
  let idOfPivot: (p: number) => string | undefined;
  if (evidence.length > 0) {
    const m = matchToTqa(evidence, pivotProf.length);
    idOfPivot = (p) => {
      const r = m.get(p);
      return r ? `tqa:${tqaIds[r.k]}` : undefined;
    };
    b.note(`m_truthfulqa: pivot ${pivot}, ${m.size}/${pivotProf.length} pivot items matched to TruthfulQA ids via HiTZ ${evidence.map((e) => e.lang).join("+")}`);
  } else {
    idOfPivot = (p) => `okapi:${p}`;
    b.note(`m_truthfulqa: truthfulqa_multi not found, ids are okapi:<${pivot} index> (aligned among Okapi languages only)`);
  }

  const mode = opts.truthfulPairs ?? "all";
  for (const lang of langs) {
    const its = items.get(lang)!;
    const tp = toPivot.get(lang)!;
    its.forEach((it, i) => {
      const p = tp.get(i);
      const group = p === undefined ? undefined : idOfPivot(p);
      if (group === undefined) {
        b.skip(lang, p === undefined ? "not aligned to the pivot language" : "pivot item not matched to a TruthfulQA question");
        return;
      }
      const correct = it.mc1.filter((_, k) => it.mc1Labels[k] === 1);
      if (correct.length !== 1) {
        b.skip(lang, "mc1 without exactly one correct choice");
        return;
      }
      addQuestionPairs(b, {
        group,
        lang,
        question: it.question,
        best: correct[0],
        incorrect: it.mc1.filter((_, k) => it.mc1Labels[k] === 0),
        mode,
        meta: { source: "okapi", index: i },
      });
    });
  }
  return b.finish();
}

export const mTruthfulqaAdapter: DatasetAdapter = {
  name: "m-truthfulqa",
  concepts: ["truthfulness"],
  languages: LANGS,
  dirs: [DIR, "truthfulqa_multi"],
  description:
    "Okapi m_truthfulqa (ChatGPT-translated TruthfulQA; fr zh es pt vi ca id hu ta te). pos = \"Question: q Answer: <mc1 " +
    'correct choice>", neg = the same with each mc1 incorrect choice (truthfulPairs as for truthfulqa). The files have no ' +
    "id and a shuffled order; items are aligned to TruthfulQA ids tqa:<n> through the HiTZ es/ca translations (see the " +
    "module comment), unmatched items are skipped and counted.",
  load,
};
