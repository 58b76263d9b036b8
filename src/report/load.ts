// Reading what a run wrote: `results.json` ({ models: { name: AnalysisResults }, control? }, or one bare
// AnalysisResults), or a folder of `<model>.results.json` files, plus an optional `control.json`.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { AnalysisResults } from "../pipeline/analyze.js";
import { controlFromSummary, isNestedControlSummary } from "./control.js";
import type { ControlCurvePoint, ControlCurves, ReportInput } from "./types.js";

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function looksLikeAnalysis(x: unknown): boolean {
  return isObject(x) && Array.isArray(x.langs) && Array.isArray(x.concepts) && isObject(x.recognition) && isObject(x.similarity);
}

/** Checks the fields the report reads; a clear message beats a TypeError deep inside a figure. */
export function checkAnalysisResults(x: unknown, where: string): AnalysisResults {
  if (!isObject(x)) throw new Error(`${where}: not an object`);
  const need: [string, boolean][] = [
    ["method", typeof x.method === "string"],
    ["layers", Array.isArray(x.layers) && x.layers.every((l) => typeof l === "string")],
    ["concepts", Array.isArray(x.concepts) && x.concepts.every((l) => typeof l === "string")],
    ["langs", Array.isArray(x.langs) && x.langs.every((l) => typeof l === "string")],
    ["recognition", isObject(x.recognition)],
    ["similarity.aggregate", isObject(x.similarity) && isObject(x.similarity.aggregate) && Array.isArray(x.similarity.aggregate.langs) && Array.isArray(x.similarity.aggregate.values)],
    ["similarity.perConcept", isObject(x.similarity) && isObject(x.similarity.perConcept)],
    ["provenance", isObject(x.provenance)],
  ];
  const missing = need.filter(([, ok]) => !ok).map(([k]) => k);
  if (missing.length) throw new Error(`${where}: not valuelens analysis results (missing or malformed: ${missing.join(", ")})`);
  const r = x as unknown as AnalysisResults;
  for (const c of r.concepts) {
    for (const l of r.langs) {
      const s = r.recognition[c]?.[l];
      if (s && (!Array.isArray(s.accuracy) || !isObject(s.oracle))) throw new Error(`${where}: recognition.${c}.${l} is malformed`);
    }
  }
  return r;
}

/** Accepts the flat report shape or a control-experiment summary.json (nested points per curve). */
export function checkControlSummary(x: unknown, where: string): ControlCurves {
  if (isNestedControlSummary(x)) {
    try {
      return controlFromSummary(x);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
  if (!isObject(x) || !Array.isArray(x.curves)) throw new Error(`${where}: control summary needs a 'curves' array`);
  const curves: ControlCurvePoint[] = x.curves.map((p: unknown, i: number) => {
    if (!isObject(p) || typeof p.source !== "string" || typeof p.target !== "string" || typeof p.metric !== "string" || typeof p.coefficient !== "number") {
      throw new Error(`${where}: control curves[${i}] needs source, target, metric (strings) and coefficient (number)`);
    }
    const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
    return {
      ...(typeof p.model === "string" ? { model: p.model } : {}),
      ...(typeof p.concept === "string" ? { concept: p.concept } : {}),
      source: p.source,
      target: p.target,
      coefficient: p.coefficient,
      metric: p.metric,
      value: num(p.value),
      lo: num(p.lo),
      hi: num(p.hi),
    };
  });
  const out: ControlCurves = { curves };
  if (typeof x.primaryMetric === "string") out.primaryMetric = x.primaryMetric;
  if (isObject(x.metrics)) out.metrics = x.metrics as ControlCurves["metrics"];
  if (Array.isArray(x.notes)) out.notes = x.notes.map(String);
  return out;
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * A `valuelens run` / `merge` summary (summary.json): one AnalysisResults per model and extraction method
 * (named `model` or `model/method` when a run has several methods).
 */
/** What the report reads from a run folder's run.json (kept loose: the report does not depend on src/run). */
interface RunFacts {
  versions?: { valuelens?: string };
  startedAt?: string;
  updatedAt?: string;
  manifest?: { split?: { seed?: number; trainFraction?: number; valFraction?: number }; extract?: { seed?: number } };
  models?: Record<string, { path?: string }>;
}

function fromRunSummary(json: Record<string, unknown>, where: string, run: RunFacts | null = null): ReportInput {
  const models: Record<string, AnalysisResults> = {};
  for (const [id, entry] of Object.entries(isObject(json.results) ? json.results : {})) {
    if (!isObject(entry) || !isObject(entry.model) || !isObject(entry.methods)) throw new Error(`${where}: results.${id} is malformed`);
    const m = entry.model as { sha256?: string; arch?: string; name?: string; nLayer?: number; nEmbd?: number; template?: string; layers?: string[] };
    const methods = Object.entries(entry.methods);
    for (const [method, r] of methods) {
      if (!isObject(r)) continue;
      const recognition = (isObject(r.recognition) ? r.recognition : {}) as AnalysisResults["recognition"];
      const concepts = Object.keys(recognition);
      const langs = [...new Set(concepts.flatMap((c) => Object.keys(recognition[c])))];
      const split = run?.manifest?.split;
      const modelPath = run?.models?.[id]?.path;
      const candidate = {
        ...r,
        method,
        layers: m.layers ?? [],
        concepts,
        langs,
        ties: "correct",
        provenance: {
          kind: "vectors",
          valuelensVersion: run?.versions?.valuelens ?? "",
          createdAt: run?.updatedAt ?? run?.startedAt ?? "",
          model: { file: modelPath ? basename(modelPath) : id, sha256: m.sha256 ?? "", arch: m.arch ?? "", name: m.name ?? id, nLayer: m.nLayer ?? 0, nEmbd: m.nEmbd ?? 0 },
          layerConvention: "hf-hidden-states",
          position: "last",
          templates: m.template ? { [m.template]: m.template } : {},
          // A run records its split as shares and a seed (counts differ per cell): the report prints these.
          ...(split ? { extra: { split: { by: "item", ...split }, ...(run?.manifest?.extract?.seed !== undefined ? { seed: run.manifest.extract.seed } : {}) } } : {}),
        },
      };
      models[methods.length > 1 ? `${id}/${method}` : id] = checkAnalysisResults(candidate, `${where}: results.${id}.methods.${method}`);
    }
  }
  if (Object.keys(models).length === 0) throw new Error(`${where}: the run summary has no results (is the run finished? \`valuelens run\` again or \`valuelens merge\`)`);
  return { models, ...(typeof json.name === "string" ? { title: json.name } : {}), ...(Array.isArray(json.notes) ? { notes: json.notes.map(String) } : {}) };
}

/** `valuelens recognize --json`: recognition (and cross-lingual recognition) only; no similarity was computed. */
function looksLikeRecognition(x: unknown): x is Record<string, unknown> {
  return isObject(x) && typeof x.method === "string" && Array.isArray(x.layers) && isObject(x.recognition) && !isObject(x.similarity);
}

function fromRecognition(json: Record<string, unknown>, where: string, fallbackName: string): ReportInput {
  const recognition = json.recognition as AnalysisResults["recognition"];
  const concepts = Array.isArray(json.concepts) ? (json.concepts as string[]) : Object.keys(recognition);
  const langs = Array.isArray(json.langs) ? (json.langs as string[]) : [...new Set(concepts.flatMap((c) => Object.keys(recognition[c] ?? {})))];
  if (!isObject(json.provenance)) throw new Error(`${where}: recognition output without provenance (re-run valuelens recognize --json with this version, or use valuelens analyze)`);
  const candidate = {
    ...json,
    concepts,
    langs,
    ties: typeof json.ties === "string" ? json.ties : "correct",
    similarity: { perConcept: {}, aggregate: { langs: [], values: [] } },
  };
  const r = checkAnalysisResults(candidate, where);
  return { models: { [fallbackName || r.provenance.model?.name || "model"]: r } };
}

function fromJson(json: unknown, where: string, fallbackName: string, run: RunFacts | null = null): ReportInput {
  if (isObject(json) && json.format === "valuelens-run-summary") return fromRunSummary(json, where, run);
  // A control experiment's summary.json (valuelens control --out DIR): a report of its curves alone.
  if (isNestedControlSummary(json)) return { models: {}, control: checkControlSummary(json, where) };
  if (looksLikeRecognition(json)) return fromRecognition(json, where, fallbackName);
  if (isObject(json) && isObject(json.models)) {
    const models: Record<string, AnalysisResults> = {};
    for (const [name, r] of Object.entries(json.models)) models[name] = checkAnalysisResults(r, `${where}: models.${name}`);
    if (Object.keys(models).length === 0) throw new Error(`${where}: 'models' is empty`);
    const input: ReportInput = { models };
    if (json.control !== undefined && json.control !== null) input.control = checkControlSummary(json.control, `${where}: control`);
    if (typeof json.title === "string") input.title = json.title;
    if (Array.isArray(json.notes)) input.notes = json.notes.map(String);
    return input;
  }
  if (looksLikeAnalysis(json)) {
    const r = checkAnalysisResults(json, where);
    return { models: { [fallbackName || r.provenance.model?.name || "model"]: r } };
  }
  throw new Error(
    `${where}: not something valuelens can report on: expected the output of valuelens run, demo, analyze, recognize --json or control (summary.json), or { models: { name: AnalysisResults } }`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a run's results for the report: a JSON file, or a folder with `results.json` or `*.results.json`
 * (model name = file name before `.results.json`), and `control.json` when present and not already given.
 */
export async function loadRunResults(path: string): Promise<ReportInput> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new Error(`'${path}' does not exist`);
  }
  if (st.isFile()) return fromJson(await readJson(path), path, basename(path).replace(/(\.results)?\.json$/, ""));
  let input: ReportInput;
  const main = join(path, "results.json");
  const summary = join(path, "summary.json");
  if (await exists(main)) input = fromJson(await readJson(main), main, basename(path));
  else if (await exists(summary)) {
    const runJson = join(path, "run.json");
    const run = (await exists(runJson)) ? ((await readJson(runJson)) as RunFacts) : null;
    input = fromJson(await readJson(summary), summary, basename(path), run);
  }
  else {
    const files = (await readdir(path)).filter((f) => f.endsWith(".results.json")).sort();
    if (files.length === 0) throw new Error(`${path}: no results.json and no *.results.json files (run \`valuelens run\` or \`valuelens demo\` first)`);
    input = { models: {} };
    for (const f of files) {
      const part = fromJson(await readJson(join(path, f)), join(path, f), f.slice(0, -".results.json".length));
      for (const [name, r] of Object.entries(part.models)) {
        if (name in input.models) throw new Error(`${path}: model '${name}' appears in more than one results file`);
        input.models[name] = r;
      }
      if (part.control && !input.control) input.control = part.control;
    }
  }
  const control = join(path, "control.json");
  if (!input.control && (await exists(control))) input.control = checkControlSummary(await readJson(control), control);
  return input;
}
