// Language identification for steering outputs (franc-all trigram models, restricted to a candidate list).
// Codes in and out are ISO 639-1 ("zh", "sw", ...); franc works in ISO 639-3 and, for Chinese and Swahili,
// emits the individual languages (cmn, swh) rather than the macrolanguages (zho, swa) that ISO 639-1 maps to.
import { francAll } from "franc-all";
import { PAPER_LANGUAGES } from "../../data/types.js";

/** The paper's 16 languages: the default candidates. */
export const DEFAULT_LANGUAGES: readonly string[] = PAPER_LANGUAGES;

/** ISO 639-1 → the ISO 639-3 code franc-all emits (individual language, not macrolanguage). */
const TO_FRANC: Readonly<Record<string, string>> = {
  en: "eng", zh: "cmn", fr: "fra", es: "spa", pt: "por", vi: "vie", ca: "cat", id: "ind",
  ja: "jpn", ko: "kor", fi: "fin", hu: "hun", ta: "tam", te: "tel", sw: "swh", ny: "nya",
  // A few more so callers can widen the candidate list (e.g. to catch a switch into German).
  de: "deu", it: "ita", nl: "nld", ru: "rus", ar: "arb", hi: "hin", tr: "tur", pl: "pol",
  th: "tha", uk: "ukr", sv: "swe", da: "dan", nb: "nob", ro: "ron", cs: "ces", el: "ell",
  he: "heb", fa: "pes", bn: "ben", ms: "zlm", tl: "tgl", ur: "urd", mr: "mar", gu: "guj",
  kn: "kan", ml: "mal", my: "mya", km: "khm", am: "amh", ha: "hau", yo: "yor", zu: "zul",
  xh: "xho", so: "som", af: "afr", sn: "sna", rw: "kin",
};

/** ISO 639-1 → canonical ISO 639-3 (macrolanguage where ISO 639-1 names one). */
const TO_ISO3: Readonly<Record<string, string>> = { ...TO_FRANC, zh: "zho", sw: "swa", ar: "ara", fa: "fas", ms: "msa" };

// Both the individual and the macrolanguage code map back to the ISO 639-1 code.
const FROM_ISO3 = new Map<string, string>();
for (const table of [TO_ISO3, TO_FRANC]) for (const [k, v] of Object.entries(table)) FROM_ISO3.set(v, k);
FROM_ISO3.set("yue", "zh"); // franc never emits it, but data sets label Cantonese this way
FROM_ISO3.set("ind", "id");

/** ISO 639-3 code franc-all uses for an ISO 639-1 code (zh → cmn, sw → swh); 3-letter codes pass through. */
export function francCode(lang: string): string {
  const l = lang.toLowerCase();
  const c = TO_FRANC[l];
  if (c) return c;
  if (/^[a-z]{3}$/.test(l)) return l;
  throw new RangeError(`no ISO 639-3 mapping for language code '${lang}'`);
}

/** Canonical ISO 639-3 code of an ISO 639-1 code (zh → zho, sw → swa); 3-letter codes pass through. */
export function toIso6393(lang: string): string {
  const l = lang.toLowerCase();
  const c = TO_ISO3[l];
  if (c) return c;
  if (/^[a-z]{3}$/.test(l)) return l;
  throw new RangeError(`no ISO 639-3 mapping for language code '${lang}'`);
}

/** ISO 639-1 code for an ISO 639-3 code (cmn and zho → zh, swh and swa → sw); unknown codes are returned unchanged. */
export function fromIso6393(code: string): string {
  const c = code.toLowerCase();
  return FROM_ISO3.get(c) ?? c;
}

export interface DetectLanguageOptions {
  /** Candidate languages (ISO 639-1, or ISO 639-3 for languages without one). Default: the paper's 16. */
  candidates?: readonly string[];
  /**
   * Minimum amount of letters for a guess, counted as Latin-letter equivalents: a Han or kana character
   * counts 3, a Hangul syllable 2, any other letter 1 (default 12). Shorter texts give "und".
   */
  minLength?: number;
}

export interface LanguageGuess {
  /** ISO 639-1 code of the most likely candidate, or "und" (too short, no letters, or no candidate writes this script). */
  lang: string;
  /** franc-all's ISO 639-3 code, or "und". */
  iso6393: string;
  /**
   * 0..1. For scripts that franc assigns to one language (Han, kana, Hangul, Tamil, Telugu): the share of the text's
   * letters in that script. Otherwise 1 − the normalised score of the runner-up (franc scores the best candidate 1),
   * so close calls such as es/ca/pt on short texts come out low. 0 for "und".
   */
  confidence: number;
  /** Every candidate franc scored, best first (ISO 639-1, franc's normalised score). */
  ranking: Array<{ lang: string; score: number }>;
  /** Why the guess is "und". */
  reason?: "too-short" | "no-candidate";
}

const HAN = /[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]|[\uD840-\uD87F][\uDC00-\uDFFF]/gu;
const KANA = /[\u3041-\u3096\u309D-\u309F\u30A1-\u30FA\u30FD-\u30FF\u31F0-\u31FF\uFF66-\uFF9D]/gu;
const HANGUL = /[\u1100-\u11FF\u3131-\u318E\uAC00-\uD7A3]/gu;
const LETTER = /\p{L}/gu;

const count = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;

/** Letter mass in Latin-letter equivalents (see DetectLanguageOptions.minLength). */
export function letterMass(text: string): number {
  const han = count(text, HAN);
  const kana = count(text, KANA);
  const hangul = count(text, HANGUL);
  const letters = count(text, LETTER);
  return letters - han - kana - hangul + 3 * (han + kana) + 2 * hangul;
}

/** Script-determined languages in franc-all and a regex for their script (for the confidence). */
const SCRIPT_OF: Readonly<Record<string, RegExp>> = {
  cmn: HAN,
  jpn: new RegExp(`${HAN.source}|${KANA.source}`, "gu"),
  kor: HANGUL,
  tam: /[\u0B80-\u0BFF]/gu,
  tel: /[\u0C00-\u0C7F]/gu,
  tha: /[\u0E00-\u0E7F]/gu,
};

const und = (reason: "too-short" | "no-candidate"): LanguageGuess => ({ lang: "und", iso6393: "und", confidence: 0, ranking: [], reason });

/** Most likely language of `text` among the candidates (ISO 639-1). */
export function detectLanguage(text: string, opts: DetectLanguageOptions = {}): LanguageGuess {
  const candidates = opts.candidates ?? DEFAULT_LANGUAGES;
  if (candidates.length === 0) throw new RangeError("detectLanguage: no candidate languages");
  const only = [...new Set(candidates.map(francCode))];
  // trigram-utils strips ASCII punctuation only; curly quotes and apostrophes would otherwise form trigrams.
  const value = text.normalize("NFKC").replace(/[\u2018-\u201F\u00AB\u00BB\u2039\u203A\u02BC\u300C-\u300F]/g, " ");
  if (letterMass(value) < (opts.minLength ?? 12)) return und("too-short");

  const han = count(value, HAN);
  const kana = count(value, KANA);
  // franc's Japanese script class includes Han, so one stray kana in Chinese text makes it "jpn"; real
  // Japanese prose is far above 3 % kana.
  const chineseDespiteKana = han > 0 && kana > 0 && kana < 0.03 * (han + kana) && only.includes("cmn");
  const ignore = chineseDespiteKana ? ["jpn"] : [];
  let ranked = francAll(value, { only: only.filter((c) => !ignore.includes(c)), minLength: 1 });
  if (chineseDespiteKana && ranked[0][0] === "und") ranked = [["cmn", 1]];
  if (ranked.length === 0 || ranked[0][0] === "und") return und("no-candidate");

  const best = ranked[0][0];
  let confidence: number;
  const script = SCRIPT_OF[best];
  if (script) {
    const letters = count(value, LETTER);
    confidence = letters > 0 ? Math.min(1, count(value, script) / letters) : 0;
  } else {
    confidence = ranked.length > 1 ? 1 - ranked[1][1] : 1;
  }
  return {
    lang: fromIso6393(best),
    iso6393: best,
    confidence,
    ranking: ranked.map(([l, s]) => ({ lang: fromIso6393(l), score: s })),
  };
}

export interface SameLanguageOptions extends DetectLanguageOptions {
  /** What to answer when the text is too short to tell (default false: a language that cannot be confirmed is not kept). */
  ifUndetermined?: boolean;
  /** Guesses below this confidence count as undetermined (default 0). */
  minConfidence?: number;
}

export interface LanguageCheck {
  /** true/false, or null when the text is too short or the guess below minConfidence. */
  same: boolean | null;
  expected: string;
  detected: LanguageGuess;
}

/** Detailed form of sameLanguage(). The expected language is always one of the candidates. */
export function checkLanguage(text: string, expectedLang: string, opts: SameLanguageOptions = {}): LanguageCheck {
  const expected = fromIso6393(expectedLang);
  const base = opts.candidates ?? DEFAULT_LANGUAGES;
  const candidates = base.some((c) => fromIso6393(c) === expected) ? base : [...base, expected];
  const detected = detectLanguage(text, { ...opts, candidates });
  const undetermined = detected.lang === "und" || detected.confidence < (opts.minConfidence ?? 0);
  return { same: undetermined ? null : detected.lang === expected, expected, detected };
}

/** Side-effect check: is `text` (a steered output) still in `expectedLang` (the prompt's language, ISO 639-1)? */
export function sameLanguage(text: string, expectedLang: string, opts: SameLanguageOptions = {}): boolean {
  const r = checkLanguage(text, expectedLang, opts);
  return r.same ?? opts.ifUndetermined ?? false;
}
