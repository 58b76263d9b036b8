// RTP-LX (de Wynter et al. 2025): 999 RealToxicityPrompts prompts transcreated by humans into many languages,
// each scored for toxicity (1–5, mean of 3 native annotators), plus culture-specific extra prompts.
// Files (JSON Lines): <root>/rtp_lx/acs_results_<LOCALE>.json; English: acs_results_benign_EN.json.
//
// Alignment is by RTP source (OriginalMetadata Filename:Begin-End), not by Index: FR, ZH-Hans and ES number
// their last ~40 prompts one off from the other languages. English has no metadata; its Index i is the
// source the metadata languages agree on at Index i (majority; PT/ID/JA/KO/FI/HU all agree). SW has neither
// metadata nor a usable Index (it was renumbered), but its file order is the English one: line p (0-based)
// < 999 is English Index p (checked by reading translations against the English).

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { at, isRecord, pickLanguages, readJsonLines, type AdapterOptions, type DatasetAdapter } from "./common.js";

const DIR = "rtp_lx";
const EN_FILE = "acs_results_benign_EN.json";
/** Transcreations of the shared English prompts have Index < 999; higher ones are culture-specific extras. */
export const RTPLX_SHARED_PROMPTS = 999;

const LOCALES: Record<string, string> = {
  FR: "fr",
  "ZH-Hans": "zh",
  ES: "es",
  PT: "pt",
  ID: "id",
  JA: "ja",
  KO: "ko",
  FI: "fi",
  HU: "hu",
  SW: "sw",
};

interface Entry {
  /** 0-based line among the file's records. */
  position: number;
  index: number;
  prompt: string;
  /** RTP source id "Filename:Begin-End", when the file has metadata. */
  source: string | null;
  /** Mean human toxicity (1–5) of the prompt. */
  toxicity: number | null;
}

async function readLocale(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const [line, v] of await readJsonLines(path)) {
    const where = `${path}:${line}`;
    if (!isRecord(v)) throw new Error(`${where}: not an object`);
    const prompt = at(v, ["OriginalEntry", "Prompt"], where) ?? v.Prompt;
    if (typeof prompt !== "string") throw new Error(`${where}: OriginalEntry.Prompt must be a string`);
    const index = Number(v.Index);
    if (!Number.isInteger(index)) throw new Error(`${where}: Index must be an integer`);
    const md = at(v, ["OriginalEntry", "OriginalMetadata"], where);
    let source: string | null = null;
    if (isRecord(md) && typeof md.Filename === "string" && md.Filename !== "") source = `${md.Filename}:${String(md.Begin)}-${String(md.End)}`;
    const tox = at(v, ["OriginalEntry", "Annotations", "Toxicity"], where);
    out.push({ position: out.length, index, prompt: prompt.trim(), source, toxicity: typeof tox === "number" ? tox : null });
  }
  return out;
}

interface EnEntry {
  index: number;
  prompt: string;
  benign: string;
  toxicCompletion: string;
  toxicity: number | null;
}

async function readEnglish(path: string): Promise<EnEntry[]> {
  const out: EnEntry[] = [];
  for (const [line, v] of await readJsonLines(path)) {
    const where = `${path}:${line}`;
    if (!isRecord(v)) throw new Error(`${where}: not an object`);
    const prompt = at(v, ["OriginalEntry", "Prompt"], where);
    const completion = at(v, ["OriginalEntry", "Completion"], where);
    const benign = v.BenignCompletion ?? at(v, ["OriginalEntry", "BenignCompletion"], where);
    if (typeof prompt !== "string" || typeof completion !== "string" || typeof benign !== "string") {
      throw new Error(`${where}: needs OriginalEntry.Prompt, OriginalEntry.Completion and BenignCompletion strings`);
    }
    const index = Number(v.Index);
    if (!Number.isInteger(index)) throw new Error(`${where}: Index must be an integer`);
    const tox = at(v, ["OriginalEntry", "PromptAnnotations", "Toxicity"], where);
    out.push({ index, prompt: prompt.trim(), benign: benign.trim(), toxicCompletion: completion.trim(), toxicity: typeof tox === "number" ? tox : null });
  }
  return out;
}

/** prompt + continuation, with a space unless the continuation starts with punctuation. */
export function joinContinuation(prompt: string, continuation: string): string {
  if (continuation === "") return prompt;
  return /^[.,;:!?)\]}'’”"…]/u.test(continuation) ? prompt + continuation : `${prompt} ${continuation}`;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const dir = join(root, DIR);
  const names = new Set(await readdir(dir));
  const fileOf: Record<string, string> = {};
  if (names.has(EN_FILE)) fileOf.en = EN_FILE;
  for (const [loc, lang] of Object.entries(LOCALES)) if (names.has(`acs_results_${loc}.json`)) fileOf[lang] = `acs_results_${loc}.json`;
  const mode = opts.rtplxMode ?? "prompts";
  if (mode === "continuations") return loadContinuations(dir, fileOf, opts);
  const langs = pickLanguages("rtp-lx", Object.keys(fileOf).sort(), opts);
  if (!fileOf.en) throw new Error(`${join(dir, EN_FILE)}: needed for the English toxicity labels`);
  const b = new ReportBuilder();
  for (const l of langs) b.language(l);

  // Every metadata language is read (not only the requested ones) so the Index → source map is the same
  // whatever subset is loaded.
  const entries = new Map<string, Entry[]>();
  for (const [lang, f] of Object.entries(fileOf)) if (lang !== "en") entries.set(lang, await readLocale(join(dir, f)));
  const votes = new Map<number, Map<string, number>>();
  for (const es of entries.values()) {
    for (const e of es) {
      if (e.source === null || e.index >= RTPLX_SHARED_PROMPTS) continue;
      let m = votes.get(e.index);
      if (!m) votes.set(e.index, (m = new Map()));
      m.set(e.source, (m.get(e.source) ?? 0) + 1);
    }
  }
  const sourceOfIndex = new Map<number, string>();
  for (const [i, m] of votes) {
    const best = [...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
    sourceOfIndex.set(i, best[0]);
  }
  if (sourceOfIndex.size === 0) throw new Error(`${dir}: no language file with OriginalMetadata, cannot align RTP-LX`);

  // English labels by source.
  const en = await readEnglish(join(dir, fileOf.en));
  const enBySource = new Map<string, EnEntry>();
  for (const e of en) {
    const s = sourceOfIndex.get(e.index);
    if (s !== undefined && !enBySource.has(s)) enBySource.set(s, e);
  }
  const benignMax = opts.rtplxBenignMax ?? 1;
  const toxicMin = opts.rtplxToxicMin ?? 3;
  const ordered = [...en].filter((e) => sourceOfIndex.has(e.index)).sort((x, y) => x.index - y.index);
  const benign = ordered.filter((e) => e.toxicity !== null && e.toxicity <= benignMax);
  const toxic = ordered.filter((e) => e.toxicity !== null && e.toxicity >= toxicMin);
  const nPairs = Math.min(benign.length, toxic.length);
  // The canonical pair list, identical for every language: the j-th benign with the j-th toxic English prompt.
  const canon = Array.from({ length: nPairs }, (_, j) => ({ pos: benign[j], neg: toxic[j] }));
  const role = new Map<string, string>(); // source → why it is or is not used
  for (const e of ordered) {
    const s = sourceOfIndex.get(e.index)!;
    if (e.toxicity === null) role.set(s, "no English toxicity score");
    else if (e.toxicity > benignMax && e.toxicity < toxicMin) role.set(s, "English toxicity between the thresholds");
    else role.set(s, "no partner left (unequal class sizes)");
  }
  for (const c of canon) {
    role.set(sourceOfIndex.get(c.pos.index)!, "pair");
    role.set(sourceOfIndex.get(c.neg.index)!, "pair");
  }

  for (const lang of langs) {
    // source → (prompt, native toxicity) in this language
    const bySource = new Map<string, { prompt: string; toxicity: number | null }>();
    if (lang === "en") {
      for (const e of en) {
        const s = sourceOfIndex.get(e.index);
        if (s === undefined) b.skip(lang, "index without a known source");
        else if (bySource.has(s)) b.skip(lang, "duplicate source prompt");
        else bySource.set(s, { prompt: e.prompt, toxicity: e.toxicity });
      }
    } else {
      for (const e of entries.get(lang)!) {
        // SW has no metadata; its line order is the English Index order (see the module comment).
        const s = e.source ?? (e.position < RTPLX_SHARED_PROMPTS ? sourceOfIndex.get(e.position) : undefined);
        if (s === undefined || !enBySource.has(s)) b.skip(lang, "culture-specific prompt (no English counterpart)");
        else if (bySource.has(s)) b.skip(lang, "duplicate source prompt");
        else bySource.set(s, { prompt: e.prompt, toxicity: e.toxicity });
      }
    }
    for (const s of bySource.keys()) {
      const r = role.get(s);
      if (r !== "pair") b.skip(lang, r ?? "not in the English file");
    }
    for (const c of canon) {
      const ps = sourceOfIndex.get(c.pos.index)!;
      const ns = sourceOfIndex.get(c.neg.index)!;
      const p = bySource.get(ps);
      const n = bySource.get(ns);
      if (!p || !n) {
        b.skip(lang, "partner prompt missing in this language", (p ? 1 : 0) + (n ? 1 : 0));
        continue;
      }
      if (p.prompt === "" || n.prompt === "") {
        b.skip(lang, "empty prompt", 2);
        continue;
      }
      if (opts.rtplxNativeAgreement && lang !== "en" && !((p.toxicity ?? 5) <= 2 && (n.toxicity ?? 1) >= 2.5)) {
        b.skip(lang, "native annotators disagree", 2);
        continue;
      }
      b.add({
        id: `rtplx:${c.pos.index}+${c.neg.index}`,
        concept: "toxicity",
        lang,
        pos: p.prompt,
        neg: n.prompt,
        meta: { pos_native_toxicity: p.toxicity ?? -1, neg_native_toxicity: n.toxicity ?? -1 },
      });
    }
  }
  return b.finish();
}

async function loadContinuations(dir: string, fileOf: Record<string, string>, opts: AdapterOptions): Promise<LoadedPairs> {
  pickLanguages("rtp-lx (continuations)", ["en"], opts);
  if (!fileOf.en) throw new Error(`${join(dir, EN_FILE)}: not found`);
  const b = new ReportBuilder();
  b.language("en");
  for (const e of await readEnglish(join(dir, fileOf.en))) {
    if (e.prompt === "" || e.benign === "" || e.toxicCompletion === "") {
      b.skip("en", "empty prompt or completion");
      continue;
    }
    b.add({
      id: `rtplx-cont:${e.index}`,
      concept: "toxicity",
      lang: "en",
      pos: joinContinuation(e.prompt, e.benign),
      neg: e.toxicCompletion,
      meta: { prompt_toxicity: e.toxicity ?? -1 },
    });
  }
  return b.finish();
}

export const rtplxAdapter: DatasetAdapter = {
  name: "rtp-lx",
  concepts: ["toxicity"],
  languages: ["en", "es", "fi", "fr", "hu", "id", "ja", "ko", "pt", "sw", "zh"],
  dirs: [DIR],
  description:
    'RTP-LX. Mode "prompts" (default): English prompts with human toxicity ≤ rtplxBenignMax (1) are benign, ≥ ' +
    "rtplxToxicMin (3) toxic; the j-th benign is paired with the j-th toxic (English Index order), and the same pair is " +
    "built in every language from the transcreations of those two source prompts, matched by RTP source id (not Index). " +
    "pos = benign prompt, neg = toxic prompt; id rtplx:<benignIndex>+<toxicIndex>. Labels come from the English " +
    'annotation (rtplxNativeAgreement also requires the native one). Mode "continuations" (EN only): pos = prompt + ' +
    "human benign continuation, neg = the GPT-written toxic completion (about 10× longer); id rtplx-cont:<Index>.",
  load,
};
