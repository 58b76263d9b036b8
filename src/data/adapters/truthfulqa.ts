// TruthfulQA (Lin et al. 2022): the English CSV and TruthfulQA-multi (HiTZ; professional es/ca + en JSON).
// Question-level ids "tqa:<n>" with n = the 1-based TruthfulQA question number (CSV row = HiTZ `id`), shared
// with the m_truthfulqa adapter, so all truthfulness sources align on the same English item.

import { join } from "node:path";
import { truthfulText } from "../mvalue.js";
import { field, readCsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { isRecord, pickLanguages, readJsonFile, str, strArray, type AdapterOptions, type DatasetAdapter } from "./common.js";

/**
 * Adds the pairs of one question: pos = "Question: q Answer: best", neg = the same with an incorrect answer.
 * Mode "all": one pair per incorrect answer, id `${group}:${k}` (k = 0-based position in the incorrect list),
 * grouped by question. Mode "first": one pair against the first incorrect answer, id = group.
 */
export function addQuestionPairs(
  b: ReportBuilder,
  args: { group: string; lang: string; question: string; best: string; incorrect: readonly string[]; mode: "all" | "first"; meta?: Record<string, string | number | boolean> },
): void {
  const { group, lang, question, best, mode } = args;
  const incorrect = args.incorrect.map((s) => s.trim()).filter((s) => s !== "");
  if (question.trim() === "" || best.trim() === "" || incorrect.length === 0) {
    b.skip(lang, "question without a best and an incorrect answer");
    return;
  }
  const pos = truthfulText(question.trim(), best.trim());
  const used = mode === "first" ? incorrect.slice(0, 1) : incorrect;
  used.forEach((a, k) => {
    b.add({
      id: mode === "first" ? group : `${group}:${k}`,
      group,
      concept: "truthfulness",
      lang,
      pos,
      neg: truthfulText(question.trim(), a),
      ...(args.meta ? { meta: args.meta } : {}),
    });
  });
}

/** Splits a TruthfulQA CSV answer list ("a; b; c", sometimes with a trailing ";"). */
export function splitAnswers(s: string): string[] {
  return s
    .split(";")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

const CSV_DIR = "truthfulqa";

async function loadCsv(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("truthfulqa", ["en"], opts);
  const t = await readCsvTable(join(root, CSV_DIR, "TruthfulQA.csv"), ["Question", "Best Answer", "Incorrect Answers"]);
  const [cq, cb, ci, cc] = [t.index("Question"), t.index("Best Answer"), t.index("Incorrect Answers"), t.index("Category")];
  const b = new ReportBuilder();
  b.language("en");
  t.records.forEach((r, k) => {
    addQuestionPairs(b, {
      group: `tqa:${k + 1}`,
      lang: "en",
      question: field(t, r, cq, "Question"),
      best: field(t, r, cb, "Best Answer"),
      incorrect: splitAnswers(field(t, r, ci, "Incorrect Answers")),
      mode: opts.truthfulPairs ?? "all",
      meta: cc >= 0 ? { category: field(t, r, cc, "Category") } : undefined,
    });
  });
  return b.finish();
}

const MULTI_DIR = "truthfulqa_multi";

export interface HitzItem {
  id: number;
  question: string;
  best: string;
  incorrect: string[];
  /** mc2 choices (correct then incorrect) and labels, mc1 size: used by the m_truthfulqa alignment. */
  mc2: string[];
  mc2Labels: number[];
  mc1Count: number;
  category: string;
}

/** Reads <root>/truthfulqa_multi/<lang>/validation.json (a JSON array), with errors naming file and index. */
export async function readHitz(root: string, lang: string): Promise<HitzItem[]> {
  const path = join(root, MULTI_DIR, lang, "validation.json");
  const data = await readJsonFile(path);
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array`);
  return data.map((x, i) => {
    const where = `${path}: item ${i}`;
    if (!isRecord(x)) throw new Error(`${where}: not an object`);
    if (typeof x.id !== "number" || !Number.isInteger(x.id)) throw new Error(`${where}: "id" must be an integer`);
    const mc2 = isRecord(x.mc2_targets) ? strArray(x.mc2_targets.choices, `${where}: mc2_targets.choices`) : [];
    const mc2Labels = isRecord(x.mc2_targets) && Array.isArray(x.mc2_targets.labels) ? x.mc2_targets.labels.map(Number) : [];
    const mc1Count = isRecord(x.mc1_targets) && Array.isArray(x.mc1_targets.choices) ? x.mc1_targets.choices.length : 0;
    return {
      id: x.id,
      question: str(x, "question", where),
      best: str(x, "best_answer", where),
      incorrect: strArray(x.incorrect_answers, `${where}: incorrect_answers`),
      mc2,
      mc2Labels,
      mc1Count,
      category: typeof x.category === "string" ? x.category : "",
    };
  });
}

async function loadMulti(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const langs = pickLanguages("truthfulqa-multi", ["en", "es", "ca"], opts);
  const b = new ReportBuilder();
  for (const lang of langs) {
    b.language(lang);
    const seen = new Set<number>();
    for (const it of await readHitz(root, lang)) {
      if (seen.has(it.id)) throw new Error(`${join(root, MULTI_DIR, lang, "validation.json")}: id ${it.id} repeats`);
      seen.add(it.id);
      addQuestionPairs(b, {
        group: `tqa:${it.id}`,
        lang,
        question: it.question,
        best: it.best,
        incorrect: it.incorrect,
        mode: opts.truthfulPairs ?? "all",
        meta: { category: it.category },
      });
    }
  }
  return b.finish();
}

export const truthfulqaAdapter: DatasetAdapter = {
  name: "truthfulqa",
  concepts: ["truthfulness"],
  languages: ["en"],
  dirs: [CSV_DIR],
  description:
    'TruthfulQA.csv (817 questions). pos = "Question: q Answer: <Best Answer>", neg = the same with an Incorrect Answer ' +
    "(the \"; \"-separated list). truthfulPairs \"all\" (default): one pair per incorrect answer, id tqa:<n>:<k>, grouped " +
    "by question tqa:<n> (n = 1-based row); \"first\": one pair per question, id tqa:<n>.",
  load: loadCsv,
};

export const truthfulqaMultiAdapter: DatasetAdapter = {
  name: "truthfulqa-multi",
  concepts: ["truthfulness"],
  languages: ["en", "es", "ca"],
  dirs: [MULTI_DIR],
  description:
    "TruthfulQA-multi (HiTZ) validation.json for en and the professional es/ca translations, parallel by id. Same pairs " +
    'as the truthfulqa adapter from best_answer and incorrect_answers; "Question:"/"Answer:" stay English (as the paper). ' +
    "Ids tqa:<id>[:<k>], the same numbering as TruthfulQA.csv.",
  load: loadMulti,
};
