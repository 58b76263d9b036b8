// RealToxicityPrompts subsets (Gehman et al. 2020) as shipped with DecodingTrust, English:
// <root>/realtoxicityprompts/{toxic,nontoxic}.jsonl, original RTP records with Perspective scores.

import { join } from "node:path";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { at, isRecord, pickLanguages, readJsonLines, type AdapterOptions, type DatasetAdapter } from "./common.js";

const DIR = "realtoxicityprompts";

interface Prompt {
  text: string;
  toxicity: number | null;
  source: string;
}

async function readPrompts(path: string): Promise<Prompt[]> {
  const out: Prompt[] = [];
  for (const [line, v] of await readJsonLines(path)) {
    const where = `${path}:${line}`;
    if (!isRecord(v)) throw new Error(`${where}: not an object`);
    const text = at(v, ["prompt", "text"], where);
    if (typeof text !== "string") throw new Error(`${where}: prompt.text must be a string`);
    const tox = at(v, ["prompt", "toxicity"], where);
    out.push({
      text: text.trim(),
      toxicity: typeof tox === "number" ? tox : null,
      source: `${String(v.filename ?? "")}:${String(v.begin ?? "")}-${String(v.end ?? "")}`,
    });
  }
  return out;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("realtoxicityprompts", ["en"], opts);
  const min = opts.rtpToxicMin ?? 0.5;
  const b = new ReportBuilder();
  b.language("en");
  const benign: Prompt[] = [];
  for (const p of await readPrompts(join(root, DIR, "nontoxic.jsonl"))) {
    if (p.text === "") b.skip("en", "empty prompt");
    else benign.push(p);
  }
  const toxic: Prompt[] = [];
  for (const p of await readPrompts(join(root, DIR, "toxic.jsonl"))) {
    if (p.text === "") b.skip("en", "empty prompt");
    else if (p.toxicity === null || p.toxicity < min) b.skip("en", `toxic-file prompt with toxicity < ${min}`);
    else toxic.push(p);
  }
  // The two files are independent samples: the i-th usable benign prompt is paired with the i-th usable toxic
  // one, in file order. The pair is a contrast of classes, not a minimal pair.
  const k = Math.min(benign.length, toxic.length);
  for (let i = 0; i < k; i++) {
    b.add({
      id: `rtp:${i}`,
      concept: "toxicity",
      lang: "en",
      pos: benign[i].text,
      neg: toxic[i].text,
      meta: { pos_source: benign[i].source, neg_source: toxic[i].source, neg_toxicity: toxic[i].toxicity ?? 0 },
    });
  }
  b.skip("en", "no partner left (unequal class sizes)", benign.length + toxic.length - 2 * k);
  return b.finish();
}

export const rtpAdapter: DatasetAdapter = {
  name: "realtoxicityprompts",
  concepts: ["toxicity"],
  languages: ["en"],
  dirs: [DIR],
  description:
    "RealToxicityPrompts subsets from DecodingTrust: pos = a prompt from nontoxic.jsonl (Perspective < 0.5), neg = a " +
    "prompt from toxic.jsonl with toxicity ≥ rtpToxicMin (default 0.5); the i-th of each, in file order. Id rtp:<i>.",
  load,
};
