// JTruthfulQA (Nakamura et al., Waseda): Japanese questions written natively, not translated, so its items
// do not align with TruthfulQA. <root>/jtruthfulqa/JTruthfulQA.csv with Python-literal answer lists.

import { join } from "node:path";
import { CsvError, field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { pickLanguages, type AdapterOptions, type DatasetAdapter } from "./common.js";
import { addQuestionPairs } from "./truthfulqa.js";

const DIR = "jtruthfulqa";

/**
 * Parses a Python list literal of string literals, e.g. `['a', "b\\'c"]` (what str(list) prints). Supports
 * single/double quotes and the escapes \\ \' \" \n \r \t \xNN \uNNNN \UNNNNNNNN; anything else is an error.
 */
export function parsePythonStringList(src: string): string[] {
  let i = 0;
  const s = src.trim();
  const fail = (msg: string): never => {
    throw new Error(`bad Python string list at offset ${i}: ${msg}`);
  };
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  if (s[i] !== "[") fail('expected "["');
  i++;
  const out: string[] = [];
  ws();
  if (s[i] === "]") return i + 1 === s.length ? out : fail("trailing characters");
  for (;;) {
    ws();
    const q = s[i];
    if (q !== "'" && q !== '"') fail("expected a quoted string");
    i++;
    let v = "";
    for (;;) {
      if (i >= s.length) fail("unterminated string");
      const c = s[i];
      if (c === q) {
        i++;
        break;
      }
      if (c !== "\\") {
        v += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      const hex = (n: number): void => {
        const h = s.slice(i + 2, i + 2 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) fail(`bad \\${e} escape`);
        v += String.fromCodePoint(parseInt(h, 16));
        i += 2 + n;
      };
      switch (e) {
        case "\\":
        case "'":
        case '"':
          v += e;
          i += 2;
          break;
        case "n":
          v += "\n";
          i += 2;
          break;
        case "r":
          v += "\r";
          i += 2;
          break;
        case "t":
          v += "\t";
          i += 2;
          break;
        case "x":
          hex(2);
          break;
        case "u":
          hex(4);
          break;
        case "U":
          hex(8);
          break;
        default:
          fail(`unsupported escape \\${e ?? ""}`);
      }
    }
    out.push(v);
    ws();
    if (s[i] === ",") {
      i++;
      ws();
      if (s[i] === "]") break; // trailing comma
      continue;
    }
    if (s[i] === "]") break;
    fail('expected "," or "]"');
  }
  i++;
  if (i !== s.length) fail("trailing characters");
  return out;
}

async function load(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("jtruthfulqa", ["ja"], opts);
  const t = await readCsvTable(join(root, DIR, "JTruthfulQA.csv"), ["Question", "Correct Answers", "Incorrect Answers"]);
  const [cq, cc, ci, co, ccat] = ["Question", "Correct Answers", "Incorrect Answers", "Original Answer", "Category"].map((c) => t.index(c));
  const b = new ReportBuilder();
  b.language("ja");
  t.records.forEach((r, k) => {
    const list = (col: number, name: string): string[] => {
      try {
        return parsePythonStringList(field(t, r, col, name));
      } catch (e) {
        throw new CsvError(t.file, r.line, `"${name}": ${(e as Error).message}`);
      }
    };
    const correct = list(cc, "Correct Answers");
    // The Original Answer is the reference answer written with the question (also first in Correct Answers).
    const original = co >= 0 ? field(t, r, co, "Original Answer").trim() : "";
    addQuestionPairs(b, {
      group: `jtqa:${k + 1}`,
      lang: "ja",
      question: field(t, r, cq, "Question"),
      best: original !== "" ? original : (correct[0] ?? ""),
      incorrect: list(ci, "Incorrect Answers"),
      mode: opts.truthfulPairs ?? "all",
      meta: ccat >= 0 ? { category: field(t, r, ccat, "Category") } : undefined,
    });
  });
  return b.finish();
}

export const jtruthfulqaAdapter: DatasetAdapter = {
  name: "jtruthfulqa",
  concepts: ["truthfulness"],
  languages: ["ja"],
  dirs: [DIR],
  description:
    'JTruthfulQA (582 native Japanese questions). pos = "Question: q Answer: <Original Answer>", neg = the same with ' +
    "each Incorrect Answer (truthfulPairs as for truthfulqa). Not a translation: ids jtqa:<row>[:<k>] do not align with tqa:*.",
  load,
};
