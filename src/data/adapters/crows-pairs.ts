// CrowS-Pairs (Nangia et al. 2020) minimal pairs, two translated editions:
//  - crows-sjsd: the gender subset human-translated into several languages (Steinborn et al. 2022),
//    <root>/crows_pairs_sjsd/cps_translated_<xx>_formatted.csv, columns ID,A_en,B_en,A_x,B_x,stereo_antistereo.
//  - crows-fr: French CrowS-Pairs (Névéol et al. 2022) and its aligned revised English,
//    <root>/crows_pairs_fr/crows_{french,eng}.csv, columns id,sent_more,sent_less,stereo_antistereo,bias_type.
//
// In CrowS-Pairs the first sentence (sent_more; A in S_JSD) is always the more stereotypical one. The
// stereo_antistereo column only says which of the two is about the disadvantaged group ("stereo": sent_more
// states a stereotype about it; "antistereo": sent_less violates one about it). So in both directions
// pos = sent_less / B (less stereotypical), neg = sent_more / A; the direction is kept in meta.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { pickLanguages, type AdapterOptions, type DatasetAdapter } from "./common.js";

const SJSD_DIR = "crows_pairs_sjsd";
const SJSD_LANGS = ["en", "fi", "fr", "id", "ko", "vi", "zh"] as const;

async function loadSjsd(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const dir = join(root, SJSD_DIR);
  const present = (await readdir(dir))
    .map((n) => /^cps_translated_([a-z]{2,3})_formatted\.csv$/.exec(n)?.[1])
    .filter((x): x is string => x !== undefined)
    .sort();
  const langs = pickLanguages("crows-sjsd", present, opts);
  const b = new ReportBuilder();
  for (const lang of langs) {
    b.language(lang);
    const t = await readCsvTable(join(dir, `cps_translated_${lang}_formatted.csv`), ["ID", "A_x", "B_x", "stereo_antistereo"]);
    const [ci, ca, cb, cd] = [t.index("ID"), t.index("A_x"), t.index("B_x"), t.index("stereo_antistereo")];
    for (const r of t.records) {
      if (r.fields.length === 1 && r.fields[0] === "") continue;
      const id = field(t, r, ci, "ID").trim();
      const a = field(t, r, ca, "A_x").trim();
      const bb = field(t, r, cb, "B_x").trim();
      if (id === "" || a === "" || bb === "") {
        b.skip(lang, "empty id or text");
        continue;
      }
      b.add({
        id: `crows-sjsd:${id}`,
        concept: "fairness",
        lang,
        pos: bb,
        neg: a,
        meta: { direction: field(t, r, cd, "stereo_antistereo").trim(), bias_type: "gender" },
      });
    }
  }
  return b.finish();
}

const FR_DIR = "crows_pairs_fr";
const FR_FILES: Record<string, string> = { en: "crows_eng.csv", fr: "crows_french.csv" };

async function loadFr(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const langs = pickLanguages("crows-fr", ["en", "fr"], opts);
  const b = new ReportBuilder();
  for (const lang of langs) {
    b.language(lang);
    const t = await readCsvTable(join(root, FR_DIR, FR_FILES[lang]), ["id", "sent_more", "sent_less", "stereo_antistereo", "bias_type"]);
    const [ci, cm, cl, cd, cb] = ["id", "sent_more", "sent_less", "stereo_antistereo", "bias_type"].map((c) => t.index(c));
    for (const r of t.records) {
      if (r.fields.length === 1 && r.fields[0] === "") continue;
      const id = field(t, r, ci, "id").trim();
      const more = field(t, r, cm, "sent_more").trim();
      const less = field(t, r, cl, "sent_less").trim();
      if (id === "" || more === "" || less === "") {
        b.skip(lang, "empty id or text");
        continue;
      }
      b.add({
        id: `crows-fr:${id}`,
        concept: "fairness",
        lang,
        pos: less,
        neg: more,
        meta: { direction: field(t, r, cd, "stereo_antistereo").trim(), bias_type: field(t, r, cb, "bias_type").trim() },
      });
    }
  }
  return b.finish();
}

export const crowsSjsdAdapter: DatasetAdapter = {
  name: "crows-sjsd",
  concepts: ["fairness"],
  languages: SJSD_LANGS,
  dirs: [SJSD_DIR],
  description:
    "CrowS-Pairs gender subset, professionally translated (S_JSD; 212 pairs per language, parallel by ID). pos = B_x " +
    "(less stereotypical, minimally edited), neg = A_x (more stereotypical), whatever stereo_antistereo says (kept in " +
    "meta.direction). Id crows-sjsd:<ID> (ID = row of the original CrowS-Pairs).",
  load: loadSjsd,
};

export const crowsFrAdapter: DatasetAdapter = {
  name: "crows-fr",
  concepts: ["fairness"],
  languages: ["en", "fr"],
  dirs: [FR_DIR],
  description:
    "French CrowS-Pairs (1463 pairs, 9 bias types, human-adapted) and its aligned revised English. pos = sent_less, " +
    "neg = sent_more (the more stereotypical sentence in both directions). Id crows-fr:<id>, shared by en and fr.",
  load: loadFr,
};
