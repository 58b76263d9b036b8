// MultiJail (Deng et al. 2024): 315 harmful queries, human-translated, one column per language:
// <root>/multijail/MultiJail.csv (id,source,tags,en,zh,it,vi,ar,ko,th,bn,sw,jv).

import { join } from "node:path";
import { field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import type { AdapterOptions, DatasetAdapter } from "./common.js";
import { harmLanguages, harmPair, responsePhrases } from "./harm-responses.js";

const DIR = "multijail";
const COLUMNS = ["en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv"] as const;

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const t = await readCsvTable(join(root, DIR, "MultiJail.csv"), ["id"]);
  const inFile = COLUMNS.filter((c) => t.index(c) >= 0);
  const langs = harmLanguages("multijail", inFile, opts);
  const b = new ReportBuilder();
  const ci = t.index("id");
  const cs = t.index("source");
  const seen = new Set<string>();
  for (const lang of langs) b.language(lang);
  for (const r of t.records) {
    if (r.fields.length === 1 && r.fields[0] === "") continue;
    const sid = field(t, r, ci, "id").trim();
    if (sid === "" || seen.has(sid)) throw new Error(`${t.file}:${r.line}: ${sid === "" ? "empty" : "repeated"} id ${JSON.stringify(sid)}`);
    seen.add(sid);
    const id = `multijail:${sid}`;
    for (const lang of langs) {
      const q = field(t, r, t.index(lang), lang).trim();
      if (q === "") {
        b.skip(lang, "empty query");
        continue;
      }
      b.add({ id, concept: "harmfulness", lang, ...harmPair(id, q, responsePhrases(lang, opts)!), meta: cs >= 0 ? { source: field(t, r, cs, "source") } : undefined });
    }
  }
  return b.finish();
}

export const multijailAdapter: DatasetAdapter = {
  name: "multijail",
  concepts: ["harmfulness"],
  languages: ["en", "zh", "vi", "ko", "sw"],
  dirs: [DIR],
  description:
    'MultiJail (315 harmful queries, parallel human translations). pos = query + " " + a refusal, neg = query + " " + a ' +
    "compliance opening, in the query's language (harm-responses.ts). Default languages: the paper ones with phrases " +
    "(en zh vi ko sw); it/ar/th/bn/jv need harmResponses. Id multijail:<id>.",
  load,
};
