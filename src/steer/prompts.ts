// Prompt sets for the control experiment: harmful requests (MultiJail, XSafety), toxic prompt starts (RTP-LX), and
// a generic JSONL file of {id, lang, prompt}. Each loader reads the raw files as laid out under a data root
// (see /work/shared/data/SOURCES.md) and returns prompts with ids shared by translations where the data set has them.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseCsv, type CsvRecord } from "../data/csv.js";

export interface ControlPrompt {
  /** Item id; translations of one item share it where the data set is parallel. */
  id: string;
  /** ISO 639-1 code of the prompt's language. */
  lang: string;
  prompt: string;
  /** Continuations for the log-probability preference (value-aligned side first); see ControlOptions.continuations. */
  positive?: readonly string[];
  negative?: readonly string[];
  meta?: Record<string, string | number | boolean>;
}

export interface PromptLoadOptions {
  /** Languages to keep (default: every language in the data). Unknown ones are an error. */
  langs?: readonly string[];
  /** At most this many prompts per language (file order; parallel sets keep the same ids in every language). */
  limit?: number;
}

export const PROMPT_DATASETS = ["multijail", "xsafety", "rtp-lx"] as const;
export type PromptDataset = (typeof PROMPT_DATASETS)[number];

/** Which concept a prompt set is meant for. */
export const PROMPT_DATASET_CONCEPT: Readonly<Record<PromptDataset, string>> = { multijail: "harmfulness", xsafety: "harmfulness", "rtp-lx": "toxicity" };

function pickLangs(dataset: string, available: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (!wanted) return [...available];
  const missing = wanted.filter((l) => !available.includes(l));
  if (missing.length > 0) throw new Error(`${dataset}: no prompts in ${missing.join(", ")} (available: ${available.join(", ")})`);
  return [...wanted];
}

/** Keeps the first `limit` prompts of each language, in order. */
export function limitPerLanguage(prompts: readonly ControlPrompt[], limit: number | undefined): ControlPrompt[] {
  if (limit === undefined) return [...prompts];
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer (got ${limit})`);
  const n = new Map<string, number>();
  return prompts.filter((p) => {
    const k = n.get(p.lang) ?? 0;
    n.set(p.lang, k + 1);
    return k < limit;
  });
}

function checkUnique(prompts: readonly ControlPrompt[], where: string): void {
  const seen = new Set<string>();
  for (const p of prompts) {
    const key = `${p.lang}\u0000${p.id}`;
    if (seen.has(key)) throw new Error(`${where}: prompt id ${JSON.stringify(p.id)} appears twice in ${p.lang}`);
    seen.add(key);
  }
}

// ---- generic JSONL -------------------------------------------------------------------------------------------

/** One `{id, lang, prompt[, positive, negative][, meta]}` object per line; blank lines are skipped. */
export function parsePromptsJsonl(text: string, file = "<jsonl>"): ControlPrompt[] {
  const out: ControlPrompt[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${where}: expected an object`);
    const o = v as Record<string, unknown>;
    const id = typeof o.id === "number" ? String(o.id) : o.id;
    for (const [k, x] of [["id", id], ["lang", o.lang], ["prompt", o.prompt]] as const) {
      if (typeof x !== "string" || x.length === 0) throw new Error(`${where}: "${k}" must be a non-empty string`);
    }
    const p: ControlPrompt = { id: id as string, lang: o.lang as string, prompt: o.prompt as string };
    for (const side of ["positive", "negative"] as const) {
      const x = o[side];
      if (x === undefined) continue;
      const list = typeof x === "string" ? [x] : x;
      if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== "string" || c.length === 0)) {
        throw new Error(`${where}: "${side}" must be a non-empty string or a non-empty list of them`);
      }
      p[side] = list as string[];
    }
    if ((p.positive === undefined) !== (p.negative === undefined)) throw new Error(`${where}: "positive" and "negative" go together`);
    if (o.meta !== undefined) {
      if (typeof o.meta !== "object" || o.meta === null || Array.isArray(o.meta)) throw new Error(`${where}: "meta" must be an object`);
      const meta: Record<string, string | number | boolean> = {};
      for (const [k, x] of Object.entries(o.meta)) {
        if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") throw new Error(`${where}: meta.${k} must be a string, number or boolean`);
        meta[k] = x;
      }
      p.meta = meta;
    }
    out.push(p);
  });
  checkUnique(out, file);
  return out;
}

export async function loadPromptsJsonl(path: string, opts: PromptLoadOptions = {}): Promise<ControlPrompt[]> {
  const all = parsePromptsJsonl(await readFile(path, "utf8"), path);
  const langs = pickLangs(path, [...new Set(all.map((p) => p.lang))], opts.langs);
  return limitPerLanguage(all.filter((p) => langs.includes(p.lang)), opts.limit);
}

// ---- MultiJail: <root>/multijail/MultiJail.csv, id,source,tags,<one column per language> ----------------------

const MULTIJAIL_LANGS = ["en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv"];

export async function loadMultiJail(root: string, opts: PromptLoadOptions = {}): Promise<ControlPrompt[]> {
  const file = join(root, "multijail", "MultiJail.csv");
  const records = parseCsv(await readFile(file, "utf8"), file);
  if (records.length === 0) throw new Error(`${file}: empty`);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  if (col("id") < 0) throw new Error(`${file}: no "id" column (header: ${header.join(",")})`);
  const langs = pickLangs("multijail", MULTIJAIL_LANGS.filter((l) => col(l) >= 0), opts.langs);
  const out: ControlPrompt[] = [];
  for (const lang of langs) {
    for (const r of records.slice(1)) {
      if (r.fields.length === 1 && r.fields[0] === "") continue;
      const id = (r.fields[col("id")] ?? "").trim();
      if (id === "") throw new Error(`${file}:${r.line}: empty id`);
      const prompt = (r.fields[col(lang)] ?? "").trim();
      if (prompt === "") continue;
      const meta: Record<string, string> = {};
      for (const k of ["source", "tags"]) if (col(k) >= 0 && r.fields[col(k)] !== undefined) meta[k] = r.fields[col(k)];
      out.push({ id: `multijail:${id}`, lang, prompt, meta });
    }
  }
  checkUnique(out, file);
  return limitPerLanguage(out, opts.limit);
}

// ---- XSafety: <root>/xsafety/<folder>/<Category>[_n|_en].csv, one prompt per record, no header ---------------

/** Folder → ISO 639-1 ("sp" is Spanish); other folders are taken as codes. */
const XSAFETY_FOLDERS: Readonly<Record<string, string>> = { sp: "es" };

export interface XSafetyOptions extends PromptLoadOptions {
  /** Categories to keep (file names without language suffix, e.g. "Insult"); default all. */
  categories?: readonly string[];
}

function xsafetyText(r: CsvRecord): string {
  // An unquoted comma splits a prompt into fields: join them back; trailing empty fields are padding.
  const f = [...r.fields];
  while (f.length > 1 && f[f.length - 1].trim() === "") f.pop();
  return f.join(",").trim();
}

/**
 * Records are line-parallel across languages, so id = xsafety:<Category>:<record index>. Order: round-robin over the
 * categories (record 0 of every category, then record 1, …) so that `limit` samples every category.
 */
export async function loadXSafety(root: string, opts: XSafetyOptions = {}): Promise<ControlPrompt[]> {
  const dir = join(root, "xsafety");
  const folders: Array<[string, string]> = [];
  for (const name of (await readdir(dir)).sort()) {
    if ((await stat(join(dir, name))).isDirectory()) folders.push([XSAFETY_FOLDERS[name] ?? name, name]);
  }
  const langs = pickLangs("xsafety", folders.map(([l]) => l), opts.langs);
  const out: ControlPrompt[] = [];
  for (const lang of langs) {
    const folder = join(dir, folders.find(([l]) => l === lang)![1]);
    const byCat = new Map<string, string[]>();
    for (const f of (await readdir(folder)).filter((n) => n.toLowerCase().endsWith(".csv")).sort()) {
      const cat = f.replace(/\.csv$/i, "").replace(/_(n|en)$/, "");
      if (opts.categories && !opts.categories.includes(cat)) continue;
      if (byCat.has(cat)) throw new Error(`${join(folder, f)}: second file for category ${cat}`);
      byCat.set(cat, parseCsv(await readFile(join(folder, f), "utf8"), join(folder, f)).map(xsafetyText));
    }
    const cats = [...byCat.keys()].sort();
    const longest = Math.max(0, ...cats.map((c) => byCat.get(c)!.length));
    for (let k = 0; k < longest; k++) {
      for (const cat of cats) {
        const text = byCat.get(cat)![k];
        if (text) out.push({ id: `xsafety:${cat}:${k}`, lang, prompt: text, meta: { category: cat } });
      }
    }
  }
  checkUnique(out, dir);
  return limitPerLanguage(out, opts.limit);
}

// ---- RTP-LX: <root>/rtp_lx/acs_results_<LOCALE>.json (JSON Lines); English from acs_results_benign_EN.json --------

export interface RtpLxOptions extends PromptLoadOptions {
  /** Keep prompts whose human toxicity (1–5, mean of the annotators of that language) is ≥ this (default 3). */
  minToxicity?: number;
  /** …and ≤ this (default 5). */
  maxToxicity?: number;
  /** Keep the culture-specific extra prompts (Index ≥ 999) too (default false: only transcreations of the 999 shared ones). */
  extras?: boolean;
}

const RTPLX_EN = "acs_results_benign_EN.json";
const RTPLX_SHARED = 999;

function rtplxLang(locale: string): string {
  return locale.split("-")[0].toLowerCase();
}

function getPath(v: unknown, path: readonly string[]): unknown {
  let x = v;
  for (const k of path) {
    if (typeof x !== "object" || x === null) return undefined;
    x = (x as Record<string, unknown>)[k];
  }
  return x;
}

/**
 * Toxic prompt starts. id = rtplx:<Index>; Index is the file's (transcreations of one English prompt share it for
 * most languages, but FR/ZH/ES shift their last ~40 and SW is renumbered, so ids are not a cross-language key).
 */
export async function loadRtpLx(root: string, opts: RtpLxOptions = {}): Promise<ControlPrompt[]> {
  const dir = join(root, "rtp_lx");
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (name === RTPLX_EN) files.set("en", name);
    else {
      const m = /^acs_results_(?!benign_)([A-Za-z-]+)\.json$/.exec(name);
      // The redacted English file ("NA" prompts) is not usable; the benign one has the prompts.
      if (m && m[1] !== "EN") files.set(rtplxLang(m[1]), name);
    }
  }
  const langs = pickLangs("rtp-lx", [...files.keys()].sort(), opts.langs);
  const lo = opts.minToxicity ?? 3;
  const hi = opts.maxToxicity ?? 5;
  const out: ControlPrompt[] = [];
  for (const lang of langs) {
    const file = join(dir, files.get(lang)!);
    const rows: Array<{ index: number; prompt: string; toxicity: number }> = [];
    (await readFile(file, "utf8")).split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
      }
      const prompt = getPath(v, ["OriginalEntry", "Prompt"]) ?? getPath(v, ["Prompt"]);
      const index = Number(getPath(v, ["Index"]) ?? getPath(v, ["OriginalEntry", "Index"]));
      const tox = getPath(v, ["OriginalEntry", lang === "en" ? "PromptAnnotations" : "Annotations", "Toxicity"]);
      if (typeof prompt !== "string" || !Number.isInteger(index)) throw new Error(`${file}:${i + 1}: needs a Prompt string and an integer Index`);
      if (typeof tox !== "number") return;
      rows.push({ index, prompt: prompt.trim(), toxicity: tox });
    });
    rows.sort((a, b) => a.index - b.index);
    const seen = new Set<number>();
    for (const r of rows) {
      if (r.prompt === "" || r.prompt === "NA" || seen.has(r.index)) continue;
      if (!opts.extras && r.index >= RTPLX_SHARED) continue;
      if (r.toxicity < lo || r.toxicity > hi) continue;
      seen.add(r.index);
      out.push({ id: `rtplx:${r.index}`, lang, prompt: r.prompt, meta: { toxicity: r.toxicity } });
    }
  }
  return limitPerLanguage(out, opts.limit);
}

/** One of PROMPT_DATASETS from a data root. */
export async function loadPromptDataset(name: PromptDataset, root: string, opts: RtpLxOptions & XSafetyOptions = {}): Promise<ControlPrompt[]> {
  switch (name) {
    case "multijail":
      return loadMultiJail(root, opts);
    case "xsafety":
      return loadXSafety(root, opts);
    case "rtp-lx":
      return loadRtpLx(root, opts);
    default:
      throw new Error(`unknown prompt data set '${String(name)}' (have: ${PROMPT_DATASETS.join(", ")})`);
  }
}
