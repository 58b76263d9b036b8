// Harmfulness as a property of the request: pos = a harmless request, neg = a harmful one, in the same language,
// with no reply text, so the read position (the last token) sits at the end of the request itself.
//
// Why a construction: the harmful sets in the shared data (XSafety, MultiJail, AdvBench) have no harmless
// counterparts, and the refusal-vs-compliance pairs of the other harmfulness adapters vary only the appended
// reply, so their direction is a refusal-wording direction. Harmless requests here are TruthfulQA questions
// (benign, question-form, human-translated for es/ca and ChatGPT-translated for fr/zh, aligned on the English
// question id), paired with XSafety prompts (line-parallel en zh fr es) from the categories that are plain
// harmful requests or statements (XSAFETY_REQUEST_CATEGORIES). The pairing is a seeded one-to-one match of the two id lists,
// the same in every language, so pairs stay parallel and no item serves in two pairs.
//
// Limits: the two sides come from different sources, so the direction also carries source style (TruthfulQA's
// short factual questions vs XSafety's requests and statements) and topic; recognition on these pairs is an upper
// bound on what a harmfulness direction alone would give. Where harmful and harmless requests with matched form
// become available, they should replace this construction.

import { join } from "node:path";
import { ReportBuilder } from "../report.js";
import { Rng } from "../../util/rng.js";
import { shuffleInPlace } from "../splits.js";
import type { LoadedPairs } from "../types.js";
import { mTruthfulqaAdapter } from "./m-truthfulqa.js";
import { exists, pickLanguages, type AdapterOptions, type DatasetAdapter } from "./common.js";
import { truthfulqaAdapter, truthfulqaMultiAdapter } from "./truthfulqa.js";
import { readXsafetyPrompts, xsafetyLanguages } from "./xsafety.js";

/**
 * XSafety categories whose prompts are harmful in their own right. Left out: the jailbreak framings (goal
 * hijacking, prompt leaking, role play, reverse exposure), the multiple-choice "commonsense" items, and the
 * safety-sensitive questions that are often benign on their own (Ethics_And_Morality, Inquiry_With_Unsafe_Opinion).
 */
export const XSAFETY_REQUEST_CATEGORIES: readonly string[] = [
  "Crimes_And_Illegal_Activities",
  "Insult",
  "Mental_Health",
  "Physical_Harm",
  "Privacy_And_Property",
  "Unfairness_And_Discrimination",
  "Unsafe_Instruction_Topic",
];

const LANGS = ["en", "zh", "fr", "es"];

/** The question of a truthfulness pair text "Question: q Answer: a" (mvalue.truthfulText). */
export function questionOf(text: string): string | null {
  const m = /^Question: ([\s\S]*?) Answer: /.exec(text);
  return m ? m[1].trim() : null;
}

function byTqaNumber(a: string, b: string): number {
  return Number(a.split(":")[1]) - Number(b.split(":")[1]);
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const inData = (await xsafetyLanguages(root)).filter((l) => LANGS.includes(l));
  const langs = pickLanguages("harm-requests", inData, opts);
  const b = new ReportBuilder();
  // Harmless side: one question per TruthfulQA id, the first source that has the language wins (human
  // translations first).
  const harmless = new Map<string, Map<string, string>>(); // lang → tqa id → question
  for (const a of [truthfulqaMultiAdapter, mTruthfulqaAdapter, truthfulqaAdapter]) {
    const want = langs.filter((l) => a.languages.includes(l) && !harmless.has(l));
    if (want.length === 0 || !(await exists(join(root, a.dirs[0])))) continue;
    const got = await a.load(root, { languages: want, truthfulPairs: "first" });
    const found = new Map<string, Map<string, string>>();
    for (const p of got.pairs) {
      const q = questionOf(p.pos);
      const id = p.group ?? p.id;
      if (q && /^tqa:\d+$/.test(id)) (found.get(p.lang) ?? found.set(p.lang, new Map()).get(p.lang)!).set(id, q);
    }
    for (const [l, m] of found) harmless.set(l, m);
  }
  // Harmful side: the request categories of XSafety.
  const harmful = new Map<string, Map<string, { text: string; category: string }>>();
  const keep = new Set(XSAFETY_REQUEST_CATEGORIES);
  for (const lang of langs) {
    b.language(lang);
    const m = new Map<string, { text: string; category: string }>();
    for (const p of await readXsafetyPrompts(root, lang, b)) if (keep.has(p.category)) m.set(p.id, { text: p.text, category: p.category });
    harmful.set(lang, m);
  }
  // One seeded one-to-one match over the union of ids, shared by every language.
  const rng = new Rng(opts.seed ?? 1, "harm-requests");
  const harmfulIds = shuffleInPlace([...new Set([...harmful.values()].flatMap((m) => [...m.keys()]))].sort(), rng);
  const harmlessIds = shuffleInPlace([...new Set([...harmless.values()].flatMap((m) => [...m.keys()]))].sort(byTqaNumber), rng);
  const n = Math.min(harmfulIds.length, harmlessIds.length);
  if (n === 0) b.note("harm-requests: needs XSafety and TruthfulQA (truthfulqa, truthfulqa_multi or m_truthfulqa) under the data root");
  for (const lang of langs) {
    for (let i = 0; i < n; i++) {
      const h = harmful.get(lang)?.get(harmfulIds[i]);
      const q = harmless.get(lang)?.get(harmlessIds[i]);
      if (!h || !q) {
        b.skip(lang, !h ? "harmful prompt missing in this language" : "harmless question missing in this language");
        continue;
      }
      b.add({
        id: `harmreq:${harmfulIds[i]}+${harmlessIds[i]}`,
        concept: "harmfulness",
        lang,
        pos: q,
        neg: h.text,
        meta: { category: h.category, harmful: harmfulIds[i], harmless: harmlessIds[i] },
      });
    }
  }
  return b.finish();
}

export const harmRequestsAdapter: DatasetAdapter = {
  name: "harm-requests",
  concepts: ["harmfulness"],
  languages: LANGS,
  dirs: ["xsafety", "truthfulqa", "truthfulqa_multi", "m_truthfulqa"],
  description:
    "Harmful vs harmless requests, no reply text: neg = an XSafety prompt (request categories only; en zh fr es), pos = a " +
    "TruthfulQA question in the same language, matched one-to-one by a seeded shuffle shared by all languages. Id " +
    "harmreq:<xsafety id>+<tqa id>. The sides come from different sources, so source style is part of the contrast " +
    "(see harm-requests.ts).",
  load,
};
