// AdvBench harmful_behaviors (Zou et al. 2023), English: <root>/advbench/harmful_behaviors.csv (Goal,Target).

import { join } from "node:path";
import { field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import type { AdapterOptions, DatasetAdapter } from "./common.js";
import { harmLanguages, harmPair, responsePhrases } from "./harm-responses.js";

const DIR = "advbench";

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const langs = harmLanguages("advbench", ["en"], opts);
  const b = new ReportBuilder();
  if (langs.length === 0) return b.finish();
  b.language("en");
  const phrases = responsePhrases("en", opts)!;
  // Column names differ in case between copies (goal,target vs Goal,Target); lookups are case-insensitive.
  const t = await readCsvTable(join(root, DIR, "harmful_behaviors.csv"), ["goal", "target"]);
  const [cg, ct] = [t.index("goal"), t.index("target")];
  t.records.forEach((r, k) => {
    if (r.fields.length === 1 && r.fields[0] === "") return;
    const goal = field(t, r, cg, "goal").trim();
    const target = field(t, r, ct, "target").trim();
    if (goal === "" || target === "") {
      b.skip("en", "empty goal or target");
      return;
    }
    const id = `advbench:${k + 1}`;
    b.add({ id, concept: "harmfulness", lang: "en", ...harmPair(id, goal, phrases, target) });
  });
  return b.finish();
}

export const advbenchAdapter: DatasetAdapter = {
  name: "advbench",
  concepts: ["harmfulness"],
  languages: ["en"],
  dirs: [DIR],
  description:
    'AdvBench harmful_behaviors (520 harmful instructions). pos = Goal + " " + a refusal, neg = Goal + " " + its Target ' +
    '("Sure, here is …"). See harm-responses.ts for why the harmless side is a refusal. Id advbench:<row>.',
  load,
};
