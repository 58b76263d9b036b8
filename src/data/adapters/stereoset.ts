// StereoSet dev (Nadeem et al.), English original plus a pt-BR translation, in one flat CSV:
// <root>/stereoset/ptbr_llm.csv, three rows (stereotype, anti-stereotype, unrelated) per cluster_id.

import { join } from "node:path";
import { field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { pickLanguages, type AdapterOptions, type DatasetAdapter } from "./common.js";

const DIR = "stereoset";
const FILE = "ptbr_llm.csv";
const COLUMNS = ["dataset_type", "cluster_id", "bias_type", "target", "context", "sentence", "gold_label", "context_pt", "sentence_pt"];

interface Row {
  type: string;
  bias: string;
  target: string;
  context: Record<string, string>;
  sentence: Record<string, string>;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const langs = pickLanguages("stereoset", ["en", "pt"], opts);
  const types = new Set<string>(opts.stereosetTypes ?? ["intrasentence", "intersentence"]);
  const t = await readCsvTable(join(root, DIR, FILE), COLUMNS);
  const col = Object.fromEntries(COLUMNS.map((c) => [c, t.index(c)]));
  // cluster id → gold label → row; Map keeps the file's cluster order.
  const clusters = new Map<string, Map<string, Row>>();
  const b = new ReportBuilder();
  for (const l of langs) b.language(l);
  for (const r of t.records) {
    if (r.fields.length === 1 && r.fields[0] === "") continue;
    const get = (c: string): string => field(t, r, col[c], c);
    const id = get("cluster_id").trim();
    let c = clusters.get(id);
    if (!c) clusters.set(id, (c = new Map()));
    const label = get("gold_label").trim();
    if (c.has(label)) throw new Error(`${t.file}:${r.line}: cluster ${id} has two "${label}" rows`);
    c.set(label, {
      type: get("dataset_type").trim(),
      bias: get("bias_type").trim(),
      target: get("target").trim(),
      context: { en: get("context").trim(), pt: get("context_pt").trim() },
      sentence: { en: get("sentence").trim(), pt: get("sentence_pt").trim() },
    });
  }
  for (const [id, c] of clusters) {
    const anti = c.get("anti-stereotype");
    const stereo = c.get("stereotype");
    for (const lang of langs) {
      if (!anti || !stereo) {
        b.skip(lang, "cluster without both stereotype and anti-stereotype");
        continue;
      }
      if (!types.has(stereo.type)) {
        b.skip(lang, `${stereo.type} (not selected)`);
        continue;
      }
      // Intrasentence sentences already contain the filled-in context; intersentence ones follow it.
      const text = (r: Row): string => (r.type === "intersentence" ? `${r.context[lang]} ${r.sentence[lang]}` : r.sentence[lang]);
      if (anti.sentence[lang] === "" || stereo.sentence[lang] === "") {
        b.skip(lang, "empty text");
        continue;
      }
      b.add({
        id: `stereoset:${id}`,
        concept: "fairness",
        lang,
        pos: text(anti),
        neg: text(stereo),
        meta: { type: stereo.type, bias_type: stereo.bias, target: stereo.target },
      });
    }
  }
  return b.finish();
}

export const stereosetAdapter: DatasetAdapter = {
  name: "stereoset",
  concepts: ["fairness"],
  languages: ["en", "pt"],
  dirs: [DIR],
  description:
    "StereoSet dev (2106 intrasentence + 2123 intersentence clusters) from ptbr_llm.csv, en and pt (MT). Per cluster: " +
    "pos = the anti-stereotype sentence, neg = the stereotype sentence (unrelated ignored); intersentence items are " +
    'context + " " + sentence. pt uses context_pt/sentence_pt. Id stereoset:<cluster_id>, shared by en and pt.',
  load,
};
