// XSafety (Wang et al. 2023, "All Languages Matter"): 14 safety categories × 200 prompts, line-parallel
// across languages: <root>/xsafety/<lang>/<Category>[_n|_en].csv, one prompt per record, no header
// ("sp" = Spanish). Some files have a BOM, CRLF, quoted records with line breaks, or an unquoted comma.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readCsvFile } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { exists, type AdapterOptions, type DatasetAdapter } from "./common.js";
import { harmLanguages, harmPair, responsePhrases } from "./harm-responses.js";

const DIR = "xsafety";
const FOLDERS: Record<string, string> = { en: "en", zh: "zh", fr: "fr", ja: "ja", es: "sp" };

/** Category from a file name: the English copies add "_n" or "_en" before ".csv". */
export function xsafetyCategory(fileName: string): string {
  return fileName.replace(/\.csv$/i, "").replace(/_(n|en)$/, "");
}

/** The prompt of a one-column record: an unquoted comma splits it, so fields are re-joined; trailing empty ones dropped. */
export function xsafetyRecordText(fields: readonly string[]): string {
  const f = [...fields];
  while (f.length > 1 && f[f.length - 1].trim() === "") f.pop();
  return f.join(",").trim();
}

/** XSafety languages whose folder exists under `root`. */
export async function xsafetyLanguages(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const [lang, folder] of Object.entries(FOLDERS)) if (await exists(join(root, DIR, folder))) out.push(lang);
  return out;
}

export interface XsafetyPrompt {
  /** xsafety:<Category>:<record index>, shared by the line-parallel languages. */
  id: string;
  category: string;
  text: string;
}

/** Every non-empty prompt of one language; empty records are counted in `b` as skipped. */
export async function readXsafetyPrompts(root: string, lang: string, b: ReportBuilder): Promise<XsafetyPrompt[]> {
  const dir = join(root, DIR, FOLDERS[lang]);
  const files = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith(".csv")).sort();
  const cats = new Set<string>();
  const out: XsafetyPrompt[] = [];
  for (const f of files) {
    const cat = xsafetyCategory(f);
    if (cats.has(cat)) throw new Error(`${join(dir, f)}: second file for category ${cat}`);
    cats.add(cat);
    const records = await readCsvFile(join(dir, f));
    records.forEach((r, k) => {
      const text = xsafetyRecordText(r.fields);
      if (text === "") b.skip(lang, "empty record");
      else out.push({ id: `xsafety:${cat}:${k}`, category: cat, text });
    });
  }
  return out;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const langs = harmLanguages("xsafety", await xsafetyLanguages(root), opts);
  const b = new ReportBuilder();
  for (const lang of langs) {
    b.language(lang);
    for (const p of await readXsafetyPrompts(root, lang, b)) {
      b.add({ id: p.id, concept: "harmfulness", lang, ...harmPair(p.id, p.text, responsePhrases(lang, opts)!), meta: { category: p.category } });
    }
  }
  return b.finish();
}

export const xsafetyAdapter: DatasetAdapter = {
  name: "xsafety",
  concepts: ["harmfulness"],
  languages: ["en", "zh", "fr", "ja", "es"],
  dirs: [DIR],
  description:
    'XSafety (14 categories × 200 prompts; en zh fr ja es, line-parallel). pos = prompt + " " + a refusal, neg = prompt + ' +
    '" " + a compliance opening (harm-responses.ts). Id xsafety:<Category>:<record index>. Note the "commonsense" category ' +
    "is multiple-choice physical-safety questions and several others are jailbreak framings, not plain harmful requests.",
  load,
};
