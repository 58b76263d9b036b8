// Loader for the paper's MVALUE layout: <root>/<concept>/<concept>_<lang>.json, each a two-level object
// data[k1][k2] = { pos, neg, scenario? (deontology), question? (truthfulness) }.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describeJsonType, OrderedObject, parseOrderedJson, type OrderedJson } from "./json-ordered.js";
import { ReportBuilder } from "./report.js";
import { CONCEPTS, type ContrastPair, type LoadedPairs } from "./types.js";

export interface MvalueSample {
  pos: string;
  neg: string;
  scenario?: string;
  question?: string;
}

/**
 * The pair texts exactly as the paper's `utils.get_pair` builds them: deontology `scenario + " " + side`,
 * truthfulness `"Question: " + question + " " + "Answer: " + side` (English words in every language), the
 * other concepts the side as is.
 */
export function mvaluePairText(concept: string, sample: MvalueSample): { pos: string; neg: string } {
  if (concept === "deontology") {
    const sc = sample.scenario;
    if (sc === undefined) throw new Error('deontology sample needs "scenario"');
    return { pos: sc + " " + sample.pos, neg: sc + " " + sample.neg };
  }
  if (concept === "truthfulness") {
    const q = sample.question;
    if (q === undefined) throw new Error('truthfulness sample needs "question"');
    return { pos: truthfulText(q, sample.pos), neg: truthfulText(q, sample.neg) };
  }
  return { pos: sample.pos, neg: sample.neg };
}

/** `"Question: " + question + " " + "Answer: " + answer`, the paper's truthfulness text. */
export function truthfulText(question: string, answer: string): string {
  return "Question: " + question + " " + "Answer: " + answer;
}

/** The fields a concept's samples must carry besides pos/neg. */
function extraField(concept: string): "scenario" | "question" | null {
  return concept === "deontology" ? "scenario" : concept === "truthfulness" ? "question" : null;
}

export interface ParsedMvalueFile {
  /** All pairs in file order (JSON key order), including pos === neg ones; the caller filters. */
  pairs: ContrastPair[];
  /** Repeated keys in the file (a later value replaced an earlier one, as Python's json does). */
  duplicateKeys: number;
}

/**
 * Parses one MVALUE file. Item id = `${k1}|${k2}`. Throws naming the file and key on bad JSON, a non-object
 * level, a missing or non-string pos/neg/scenario/question.
 */
export function parseMvalueFile(text: string, concept: string, lang: string, file = `${concept}_${lang}.json`): ParsedMvalueFile {
  const root = parseOrderedJson(text, file);
  if (!(root instanceof OrderedObject)) {
    throw new Error(`${file}: top level must be an object of objects (data[k1][k2] = sample), got ${describeJsonType(root)}`);
  }
  const extra = extraField(concept);
  const pairs: ContrastPair[] = [];
  let duplicateKeys = root.duplicates;
  for (const [k1, level] of root.entries) {
    if (!(level instanceof OrderedObject)) {
      throw new Error(`${file}: data[${JSON.stringify(k1)}] must be an object of samples, got ${describeJsonType(level)}`);
    }
    duplicateKeys += level.duplicates;
    for (const [k2, sample] of level.entries) {
      const where = `${file}: data[${JSON.stringify(k1)}][${JSON.stringify(k2)}]`;
      if (!(sample instanceof OrderedObject)) throw new Error(`${where} must be an object with "pos" and "neg", got ${describeJsonType(sample)}`);
      const str = (name: string): string => {
        const v: OrderedJson | undefined = sample.get(name);
        if (typeof v !== "string") {
          throw new Error(v === undefined ? `${where}: missing "${name}"` : `${where}: "${name}" must be a string, got ${describeJsonType(v)}`);
        }
        return v;
      };
      const s: MvalueSample = { pos: str("pos"), neg: str("neg") };
      if (extra) s[extra] = str(extra);
      const t = mvaluePairText(concept, s);
      pairs.push({ id: `${k1}|${k2}`, concept, lang, pos: t.pos, neg: t.neg });
    }
  }
  return { pairs, duplicateKeys };
}

/** Languages with a `<concept>_<lang>.json` file under `<root>/<concept>/`, sorted. */
export async function listMvalueLanguages(root: string, concept: string): Promise<string[]> {
  const dir = join(root, concept);
  const prefix = `${concept}_`;
  const names = await readdir(dir);
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(".json") && n.length > prefix.length + 5)
    .map((n) => n.slice(prefix.length, -5))
    .sort();
}

export interface MvalueOptions {
  /** Languages to load (default: every file present). A listed language without a file is an error. */
  languages?: readonly string[];
}

/**
 * Loads one concept: pairs in file order per language (languages sorted), pos === neg dropped and counted per
 * language, missing ids reported relative to the other languages of the concept.
 */
export async function loadMvalueConcept(root: string, concept: string, opts: MvalueOptions = {}): Promise<LoadedPairs> {
  const present = await listMvalueLanguages(root, concept);
  const langs = opts.languages ? [...opts.languages] : present;
  const b = new ReportBuilder();
  for (const lang of langs) {
    const file = join(root, concept, `${concept}_${lang}.json`);
    if (!present.includes(lang)) throw new Error(`${file}: no such MVALUE file (have: ${present.join(", ") || "none"})`);
    const parsed = parseMvalueFile(await readFile(file, "utf8"), concept, lang, file);
    b.language(lang);
    for (const p of parsed.pairs) b.add(p);
    b.skip(lang, "duplicate key (later value kept)", parsed.duplicateKeys);
  }
  return b.finish();
}

/**
 * Loads several concepts (default: every paper concept with a folder under root), one LoadedPairs each. With
 * `languages`, a concept lacking some of them loads the rest and notes the absent ones in its report.
 */
export async function loadMvalue(
  root: string,
  opts: MvalueOptions & { concepts?: readonly string[] } = {},
): Promise<Record<string, LoadedPairs>> {
  let concepts: string[];
  if (opts.concepts) concepts = [...opts.concepts];
  else {
    const dirs = new Set((await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name));
    concepts = CONCEPTS.filter((c) => dirs.has(c));
  }
  const out: Record<string, LoadedPairs> = {};
  for (const c of concepts) {
    if (!opts.languages) {
      out[c] = await loadMvalueConcept(root, c);
      continue;
    }
    const present = new Set(await listMvalueLanguages(root, c));
    const absent = opts.languages.filter((l) => !present.has(l));
    const loaded = await loadMvalueConcept(root, c, { languages: opts.languages.filter((l) => present.has(l)) });
    if (absent.length > 0) (loaded.report.notes ??= []).push(`${c}: no file for language(s) ${absent.join(", ")}`);
    out[c] = loaded;
  }
  return out;
}
