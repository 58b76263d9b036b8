// ETHICS (Hendrycks et al. 2021), English: commonsense morality, deontology, utilitarianism.
// Files: <root>/ethics/{cm,deontology,util}_{train,test,test_hard}.csv (cm_train is absent from the shared copy).

import { createHash } from "node:crypto";
import { join } from "node:path";
import { Rng } from "../../util/rng.js";
import { CsvError, field, readCsvFile, readCsvTable, type CsvTable } from "../csv.js";
import { ReportBuilder } from "../report.js";
import type { LoadedPairs } from "../types.js";
import { exists, pickLanguages, type AdapterOptions, type DatasetAdapter, type EthicsFile } from "./common.js";

const DIR = "ethics";
const ALL_FILES: readonly EthicsFile[] = ["train", "test", "test_hard"];

/** Minimal pairs share most words; adjacent rows below this word-LCS ratio are not treated as a pair. */
export const MINIMAL_PAIR_SIMILARITY = 0.4;

function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu) ?? [];
}

/** 2·LCS(words a, words b) / (|a| + |b|): 1 for equal word sequences, about 0.8 for a one-word swap in a sentence. */
export function wordSimilarity(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (x.length + y.length === 0) return 1;
  let prev = new Array<number>(y.length + 1).fill(0);
  for (const w of x) {
    const cur = new Array<number>(y.length + 1).fill(0);
    for (let j = 0; j < y.length; j++) cur[j + 1] = w === y[j] ? prev[j] + 1 : Math.max(prev[j + 1], cur[j]);
    prev = cur;
  }
  return (2 * prev[y.length]) / (x.length + y.length);
}

/** Files to read: the requested ones (must exist) or every default one present (absent ones noted). */
async function ethicsFiles(root: string, prefix: string, opts: AdapterOptions, b: ReportBuilder): Promise<[EthicsFile, string][]> {
  const want = opts.ethicsFiles ?? ALL_FILES;
  const out: [EthicsFile, string][] = [];
  for (const f of want) {
    const path = join(root, DIR, `${prefix}_${f}.csv`);
    if (await exists(path)) out.push([f, path]);
    else if (opts.ethicsFiles) throw new Error(`${path}: file not found`);
    else b.note(`${prefix}_${f}.csv not found, skipped`);
  }
  if (out.length === 0) throw new Error(`${join(root, DIR)}: no ${prefix}_*.csv file found`);
  return out;
}

function parseLabel(t: CsvTable, line: number, v: string): 0 | 1 {
  const s = v.trim();
  if (s === "0") return 0;
  if (s === "1") return 1;
  throw new CsvError(t.file, line, `label must be 0 or 1, got ${JSON.stringify(v)}`);
}

// ---- commonsense ------------------------------------------------------------------------------------------

interface CmRow {
  row: number; // 1-based data row
  label: 0 | 1;
  text: string;
  short: boolean;
}

async function loadCommonsense(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("ethics-commonsense", ["en"], opts);
  const b = new ReportBuilder();
  b.language("en");
  const seed = opts.seed ?? 1;
  const withLong = opts.commonsenseLong ?? false;
  const leftovers = opts.commonsenseLeftovers ?? true;
  for (const [split, path] of await ethicsFiles(root, "cm", opts, b)) {
    const t = await readCsvTable(path, ["label", "input", "is_short"]);
    const [cl, ci, cs] = [t.index("label"), t.index("input"), t.index("is_short")];
    const rows: CmRow[] = [];
    t.records.forEach((r, k) => {
      const shortRaw = field(t, r, cs, "is_short").trim().toLowerCase();
      if (shortRaw !== "true" && shortRaw !== "false") throw new CsvError(path, r.line, `is_short must be True or False, got ${JSON.stringify(shortRaw)}`);
      rows.push({ row: k + 1, label: parseLabel(t, r.line, field(t, r, cl, "label")), text: field(t, r, ci, "input").trim(), short: shortRaw === "true" });
    });
    const usable = rows.map((r) => r.text !== "" && (r.short || withLong));
    for (const r of rows) {
      if (r.text === "") b.skip("en", "empty text");
      else if (!r.short && !withLong) b.skip("en", "long post (commonsenseLong off)");
    }
    const used = new Array<boolean>(rows.length).fill(false);
    const emit = (a: CmRow, c: CmRow, pairing: "minimal" | "random"): void => {
      const [pos, neg] = a.label === 0 ? [a, c] : [c, a];
      b.add({
        id: `ethics-cm:${split}:${pos.row}-${neg.row}`,
        concept: "morality",
        lang: "en",
        pos: pos.text,
        neg: neg.text,
        meta: { file: `cm_${split}`, pairing, short: pos.short },
      });
    };
    // Adjacent short rows with different labels and mostly the same words: ETHICS's hand-made minimal pairs.
    for (let i = 0; i + 1 < rows.length; ) {
      const a = rows[i];
      const c = rows[i + 1];
      if (usable[i] && usable[i + 1] && a.short && c.short && a.label !== c.label && wordSimilarity(a.text, c.text) >= MINIMAL_PAIR_SIMILARITY) {
        emit(a, c, "minimal");
        used[i] = used[i + 1] = true;
        i += 2;
      } else i++;
    }
    for (const short of [true, false]) {
      const rest = rows.filter((r, k) => usable[k] && !used[k] && r.short === short);
      if (!leftovers) {
        b.skip("en", "no minimal-pair partner (commonsenseLeftovers off)", rest.length);
        continue;
      }
      const rng = new Rng(seed, "ethics-cm", split, short ? "short" : "long");
      const zeros = shuffle(rest.filter((r) => r.label === 0), rng);
      const ones = shuffle(rest.filter((r) => r.label === 1), rng);
      const k = Math.min(zeros.length, ones.length);
      for (let j = 0; j < k; j++) emit(zeros[j], ones[j], "random");
      b.skip("en", "no opposite-label partner left", zeros.length + ones.length - 2 * k);
    }
  }
  return b.finish();
}

function shuffle<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---- deontology -------------------------------------------------------------------------------------------

async function loadDeontology(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("ethics-deontology", ["en"], opts);
  const b = new ReportBuilder();
  b.language("en");
  interface Group {
    pos: string[];
    neg: string[];
    seen: Set<string>;
    files: Set<string>;
  }
  const groups = new Map<string, Group>();
  for (const [split, path] of await ethicsFiles(root, "deontology", opts, b)) {
    const t = await readCsvTable(path, ["label", "scenario", "excuse"]);
    const [cl, cs, ce] = [t.index("label"), t.index("scenario"), t.index("excuse")];
    for (const r of t.records) {
      const label = parseLabel(t, r.line, field(t, r, cl, "label"));
      const scenario = field(t, r, cs, "scenario").trim();
      const excuse = field(t, r, ce, "excuse").trim();
      if (scenario === "" || excuse === "") {
        b.skip("en", "empty text");
        continue;
      }
      let g = groups.get(scenario);
      if (!g) groups.set(scenario, (g = { pos: [], neg: [], seen: new Set(), files: new Set() }));
      const key = `${label}\u0000${excuse}`;
      if (g.seen.has(key)) {
        b.skip("en", "duplicate row");
        continue;
      }
      g.seen.add(key);
      g.files.add(split);
      (label === 1 ? g.pos : g.neg).push(excuse);
    }
  }
  // Per scenario, reasonable and unreasonable excuses are zipped in file order: min(#reasonable, #unreasonable)
  // pairs, each excuse used once, so no single excuse dominates the class means. Pairs of one scenario share a
  // group (scenarios recur across the train/test files, so the group is keyed by the scenario text).
  for (const [scenario, g] of groups) {
    const h = createHash("sha1").update(scenario, "utf8").digest("hex").slice(0, 10);
    const k = Math.min(g.pos.length, g.neg.length);
    for (let i = 0; i < k; i++) {
      b.add({
        id: `ethics-deon:${h}:${i}`,
        group: `ethics-deon:${h}`,
        concept: "deontology",
        lang: "en",
        pos: scenario + " " + g.pos[i],
        neg: scenario + " " + g.neg[i],
        meta: { files: [...g.files].join("+") },
      });
    }
    b.skip("en", "excuse without opposite-label partner", g.pos.length + g.neg.length - 2 * k);
  }
  return b.finish();
}

// ---- utilitarianism ---------------------------------------------------------------------------------------

async function loadUtilitarianism(root: string, opts: AdapterOptions = {}): Promise<LoadedPairs> {
  pickLanguages("ethics-utilitarianism", ["en"], opts);
  const b = new ReportBuilder();
  b.language("en");
  const seen = new Set<string>();
  for (const [split, path] of await ethicsFiles(root, "util", opts, b)) {
    const records = await readCsvFile(path);
    let row = 0;
    for (const r of records) {
      if (r.fields.length === 1 && r.fields[0].trim() === "") continue; // blank line
      row++;
      if (r.fields.length !== 2) throw new CsvError(path, r.line, `expected 2 columns (more pleasant, less pleasant), got ${r.fields.length}`);
      const pos = r.fields[0].trim();
      const neg = r.fields[1].trim();
      if (pos === "" || neg === "") {
        b.skip("en", "empty text");
        continue;
      }
      const key = `${pos}\u0000${neg}`;
      if (seen.has(key)) {
        b.skip("en", "duplicate of an earlier row");
        continue;
      }
      seen.add(key);
      b.add({ id: `ethics-util:${split}:${row}`, concept: "utilitarianism", lang: "en", pos, neg, meta: { file: `util_${split}` } });
    }
  }
  return b.finish();
}

export const ethicsCommonsenseAdapter: DatasetAdapter = {
  name: "ethics-commonsense",
  concepts: ["morality"],
  languages: ["en"],
  dirs: [DIR],
  description:
    "ETHICS commonsense morality (cm_{train,test,test_hard}.csv). pos = label 0 (not wrong), neg = label 1 (wrong). " +
    "Adjacent short rows with different labels and word-LCS similarity ≥ 0.4 are ETHICS's minimal pairs and are paired " +
    "first; the remaining short items are paired label 0 with label 1 at random (seeded; commonsenseLeftovers). Long AITA " +
    "posts are left out unless commonsenseLong. Id ethics-cm:<file>:<posRow>-<negRow> (1-based data rows).",
  load: loadCommonsense,
};

export const ethicsDeontologyAdapter: DatasetAdapter = {
  name: "ethics-deontology",
  concepts: ["deontology"],
  languages: ["en"],
  dirs: [DIR],
  description:
    "ETHICS deontology (deontology_{train,test,test_hard}.csv), rows grouped by scenario across files. Text = scenario + " +
    '" " + excuse (as the paper). pos = label 1 (reasonable), neg = label 0; per scenario the two lists are zipped in file ' +
    "order (min(#pos, #neg) pairs), the rest is counted as skipped. Id ethics-deon:<sha1(scenario)[:10]>:<k>, grouped by scenario.",
  load: loadDeontology,
};

export const ethicsUtilitarianismAdapter: DatasetAdapter = {
  name: "ethics-utilitarianism",
  concepts: ["utilitarianism"],
  languages: ["en"],
  dirs: [DIR],
  description:
    "ETHICS utilitarianism (util_{train,test,test_hard}.csv, no header): column 1 (more pleasant) = pos, column 2 = neg. " +
    "Rows repeated across files are kept once. Id ethics-util:<file>:<row>.",
  load: loadUtilitarianism,
};
