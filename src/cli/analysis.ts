// `valuelens extract | recognize | similarity | transfer | correlate`: thin commands over src/pipeline.
import { MODEL_PRESETS, presetForModel, type ModelFamily } from "../analysis/index.js";
import { EXTRACT_METHODS, type ExtractMethod } from "../extract/index.js";
import { analyze, selectVectors, similarityFromVectors, type AnalyzeOptions } from "../pipeline/analyze.js";
import { extractToStore } from "../pipeline/extract.js";
import { MissingDataError } from "../pipeline/sources.js";
import { readVectors, type VectorFile } from "../store/index.js";
import { createProgress, type ProgressMode } from "../progress/progress.js";
import { checkChoices, choiceFlag, didYouMean, intFlag, listFlag, parseCommand, required, UsageError, type CommandSpec, type FlagTable, type FlagValues } from "./args.js";
import { claimOutput } from "./outputs.js";
import { missingMessage } from "./pairs.js";
import { fewPairsWarning, fixed, formatMatrix, formatTable, percent } from "./table.js";

// One table of every analysis flag; each command's spec picks the ones that apply to it.
export const ANALYSIS_FLAGS = {
  activations: { type: "string", arg: "FILE", help: "activation file (valuelens capture)" },
  vectors: { type: "string", arg: "FILE", help: "vector file (valuelens extract)" },
  method: { type: "string", arg: "M", help: "which vectors to use: mean_diff | pca | random | logistic (default: the first in the file)" },
  concepts: { type: "string", arg: "a,b", help: "restrict to these concepts (default: all in the file)" },
  langs: { type: "string", arg: "en,fr", help: "restrict to these languages (default: all in the file)" },
  ties: { type: "string", arg: "T", help: "correct (default; a tied pair counts as recognised, as the paper's code) | incorrect" },
  bootstrap: { type: "string", arg: "N", help: "bootstrap resamples for 95% CIs (default 1000; 0 = none)" },
  layer: { type: "string", arg: "K", help: "also aggregate similarity at this fixed layer (the model's numbering, 1..L)" },
  family: { type: "string", arg: "F", help: "llama2-chat | qwen-chat | bloomz: the paper's high-resource set for the split correlation" },
  high: { type: "string", arg: "en,zh", help: "high-resource languages (instead of --family)" },
  "cross-lingual": { type: "boolean", help: "also vector-of-A on test-pairs-of-B for every pair of languages" },
  progress: { type: "string", arg: "MODE", help: "auto | bar | json | none" },
  json: { type: "boolean", help: "exact numbers as JSON on stdout" },
} as const satisfies FlagTable;
const F = ANALYSIS_FLAGS;

export const extractSpec = {
  name: "extract",
  synopsis: "--activations acts.arrow --out vectors.arrow [options]",
  about: "activations (train split) → one concept vector per concept, language, layer and method",
  flags: {
    activations: F.activations,
    out: { type: "string", arg: "FILE", help: "the vector file to write" },
    method: { type: "string", arg: "M[,M]", help: "mean_diff (default; the paper's) | pca | random | logistic" },
    layers: { type: "string", arg: "L", help: "layers to extract, e.g. 1,2,final_norm (default: all stored)" },
    concepts: F.concepts,
    langs: F.langs,
    seed: { type: "string", arg: "N", help: "seed of PCA pair order, random shuffles, logistic (default 1)" },
    force: { type: "boolean", help: "replace an existing --out (default: refuse)" },
    progress: F.progress,
    json: { type: "boolean", help: "print a JSON summary" },
  },
} as const satisfies CommandSpec;

export async function extractCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(extractSpec, argv);
  const activations = required(values.activations, "--activations", "the activation file to read");
  const out = required(values.out, "--out", "the vector file to write");
  const methods = (listFlag(values.method) ?? ["mean_diff"]) as ExtractMethod[];
  checkChoices("--method", methods, EXTRACT_METHODS, "method");
  const seed = intFlag("seed", values.seed, 1, 0);
  const progress = createProgress(choiceFlag("progress", values.progress, ["auto", "bar", "json", "none"] as const, "auto") as ProgressMode);
  const lock = await claimOutput(out, { kind: "file", force: values.force, what: "a vector file" });
  try {
    const r = await extractToStore({ activations, out, methods, layers: listFlag(values.layers), concepts: listFlag(values.concepts), langs: listFlag(values.langs), seed, progress }).catch((e: unknown) => {
      throw e instanceof MissingDataError ? new UsageError(missingMessage(e)) : e;
    });
    if (values.json) process.stdout.write(JSON.stringify({ ...r, methods }) + "\n");
    else process.stdout.write(`wrote ${r.vectors} vectors (${methods.join(", ")}; ${r.layers} layers) to ${r.path} in ${r.seconds.toFixed(1)} s${r.empty.length ? `; no training pairs for ${r.empty.join(", ")}` : ""}\n`);
  } finally {
    await lock.release();
  }
}

const analysisSpec = <K extends keyof typeof F>(name: string, about: string, needsActs: boolean, keys: readonly K[]) =>
  ({
    name,
    synopsis: `${needsActs ? "--activations acts.arrow " : ""}--vectors vectors.arrow [options]`,
    about,
    flags: Object.fromEntries(keys.map((k) => [k, F[k]])) as { [P in K]: (typeof F)[P] },
  }) satisfies CommandSpec;

export const recognizeSpec = analysisSpec("recognize", "recognition accuracy per layer with bootstrap CIs (best layer on test, and held out on validation)", true, [
  "activations",
  "vectors",
  "method",
  "concepts",
  "langs",
  "ties",
  "bootstrap",
  "cross-lingual",
  "progress",
  "json",
]);
export const similaritySpec = analysisSpec("similarity", "cross-lingual cosine similarity of the concept vectors (max over layers, mean over concepts)", false, ["vectors", "method", "concepts", "langs", "layer", "json"]);
export const transferSpec = analysisSpec("transfer", "transfer T(src→tgt) = acc(src vector on tgt) − acc(tgt vector on tgt)", true, ["activations", "vectors", "method", "concepts", "langs", "ties", "progress", "json"]);
export const correlateSpec = analysisSpec("correlate", "Pearson r between cross-lingual similarity and lang2vec similarity", true, [
  "activations",
  "vectors",
  "method",
  "concepts",
  "langs",
  "family",
  "high",
  "progress",
  "json",
]);

export type AnalysisValues = FlagValues<typeof F>;


/** The vector file, with --method, --concepts, --langs and --layer checked against what it holds. */
async function checkedVectors(values: AnalysisValues): Promise<VectorFile> {
  const path = required(values.vectors, "--vectors", "the vector file (valuelens extract)");
  const vf = await readVectors(path);
  const methods = [...new Set(vf.rows.map((r) => r.method))];
  if (values.method !== undefined) {
    checkChoices("--method", [values.method], EXTRACT_METHODS, "method");
    checkChoices("--method", [values.method], methods, `method (not in ${path})`);
  }
  checkChoices("--concepts", listFlag(values.concepts), [...new Set(vf.rows.map((r) => r.concept))], `concept (not in ${path})`);
  checkChoices("--langs", listFlag(values.langs), [...new Set(vf.rows.map((r) => r.lang))], `language (not in ${path})`);
  if (values.layer !== undefined) {
    const layers = [...new Set(vf.rows.map((r) => r.layer))];
    if (!layers.includes(values.layer)) {
      const n = vf.provenance.model?.nLayer;
      throw new UsageError(`--layer ${values.layer}: no vectors at that layer (${n ? `the model has layers 1..${n}; ` : ""}${path} has ${layers.join(", ")})`);
    }
  }
  return vf;
}

export async function analysisOptions(values: AnalysisValues, crossLingual: boolean): Promise<AnalyzeOptions> {
  const vf = await checkedVectors(values);
  const activations = required(values.activations, "--activations", "the activation file (valuelens capture)");
  const samples = intFlag("bootstrap", values.bootstrap, 1000, 0);
  return {
    activations,
    vectors: vf,
    method: values.method as ExtractMethod | undefined,
    concepts: listFlag(values.concepts),
    langs: listFlag(values.langs),
    ties: choiceFlag("ties", values.ties, ["correct", "incorrect"] as const, "correct"),
    bootstrap: samples === 0 ? false : { samples },
    crossLingual,
    similarityLayer: values.layer,
    highResource: highResource(values, vf),
    progress: createProgress(choiceFlag("progress", values.progress, ["auto", "bar", "json", "none"] as const, "auto") as ProgressMode),
  };
}

function highResource(values: AnalysisValues, vf: VectorFile): string[] | undefined {
  if (values.high) return listFlag(values.high);
  if (values.family) {
    const p = MODEL_PRESETS[values.family as ModelFamily];
    if (!p) throw new UsageError(`--family must be one of ${Object.keys(MODEL_PRESETS).join(", ")} (got '${values.family}'${didYouMean(values.family, Object.keys(MODEL_PRESETS))})`);
    return [...p.highResource];
  }
  const p = presetForModel(`${vf.provenance.model.name} ${vf.provenance.model.file}`);
  return p ? [...p.highResource] : undefined;
}

export async function recognizeCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(recognizeSpec, argv);
  const cross = values["cross-lingual"] ?? false;
  const res = await analyze(await analysisOptions(values, cross));
  if (values.json) {
    // concepts, langs, ties and provenance too, so `valuelens report` can render this output.
    process.stdout.write(JSON.stringify({ method: res.method, layers: res.layers, concepts: res.concepts, langs: res.langs, ties: res.ties, provenance: res.provenance, recognition: res.recognition, ...(cross ? { crossLingual: res.crossLingual } : {}) }) + "\n");
    return;
  }
  const rows: (string | number)[][] = [];
  for (const [concept, byLang] of Object.entries(res.recognition)) {
    for (const [lang, s] of Object.entries(byLang)) {
      rows.push([concept, lang, String(s.nTest), s.oracle.layer, s.oracle.accuracy, s.oracle.ci ? `[${fixed(s.oracle.ci.lo, 3)}, ${fixed(s.oracle.ci.hi, 3)}]` : "", s.heldOut?.layer ?? "—", s.heldOut?.accuracy ?? NaN]);
    }
  }
  process.stdout.write(`recognition accuracy (${res.method}; best layer on test = the paper's choice; held-out = chosen on validation)\n`);
  process.stdout.write(formatTable(["concept", "lang", "n test", "best layer", "accuracy", "95% CI", "held-out layer", "accuracy"], rows));
  if (cross && res.crossLingual) {
    for (const [concept, c] of Object.entries(res.crossLingual)) {
      process.stdout.write("\n" + formatMatrix(`cross-lingual recognition, ${concept} (rows: vector language, columns: test language; best layer per cell)`, c.targets, c.sources.map((s) => c.targets.map((t) => c.best[s][t].accuracy)), 3, c.sources));
    }
  }
}

export async function similarityCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(similaritySpec, argv);
  const sel = selectVectors(await checkedVectors(values), { method: values.method as ExtractMethod | undefined, concepts: listFlag(values.concepts), langs: listFlag(values.langs) });
  const { method, concepts, langs, layers } = sel;
  const { similarity, fullConcepts } = similarityFromVectors(sel, values.layer);
  if (fullConcepts.length === 0) throw new Error("no concept has vectors for every language");
  const { aggregate, layerwise, perConcept } = similarity;
  const atLayer = similarity.atLayer?.matrix;
  if (values.json) {
    process.stdout.write(JSON.stringify({ method, concepts, langs, layers, aggregate, ...(atLayer ? { atLayer: { layer: values.layer, matrix: atLayer } } : {}), layerwise, perConcept }) + "\n");
    return;
  }
  process.stdout.write(formatMatrix(`cross-lingual similarity (${method}; cosine, max over layers, mean over ${fullConcepts.length} concept(s))`, langs, aggregate.values));
  if (atLayer) process.stdout.write("\n" + formatMatrix(`at layer ${values.layer}`, langs, atLayer.values));
  if (layerwise) process.stdout.write("\n" + formatTable(["layer", "relative depth", "mean cosine"], layerwise.layers.map((l, i) => [l, layerwise.relativeDepth[i], layerwise.mean[i]])));
}

export async function transferCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(transferSpec, argv);
  // The transfer matrix needs no confidence intervals: skip the bootstrap.
  const res = await analyze({ ...(await analysisOptions(values, true)), bootstrap: false });
  if (!res.transfer) throw new Error("transfer needs every concept to have vectors and test pairs in every language");
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, transfer: res.transfer }) + "\n");
    return;
  }
  const t = res.transfer;
  process.stdout.write(formatMatrix("transfer T(src→tgt) = acc(src vector on tgt) − acc(tgt vector on tgt), best layer per cell, mean over concepts (rows: source)", t.langs, t.T.values));
  process.stdout.write(`\ntransfer rate (share of other sources with T ≥ 0): ${t.langs.map((l) => `${l} ${percent(t.rate.perTarget[l])}`).join(", ")}; mean ${percent(t.rate.mean)}\n`);
}

export async function correlateCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(correlateSpec, argv);
  const res = await analyze({ ...(await analysisOptions(values, false)), bootstrap: false });
  if (!res.correlation) throw new Error("correlation needs at least three languages with lang2vec data (the paper's 16 languages are shipped)");
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, correlation: res.correlation }) + "\n");
    return;
  }
  const c = res.correlation;
  process.stdout.write(`Pearson r between cross-lingual similarity and 1 − lang2vec distance (${c.langs.length} languages; high-resource: ${c.highResource.join(", ")})\n`);
  process.stdout.write(formatTable(["type", "direct", "split", "split high", "split low", "released code (off by one)"], Object.entries(c.table).map(([type, v]) => [type, v.direct, v.split.mean, v.split.high, v.split.low, v.directReleasedCode])));
  const warning = fewPairsWarning(c.langs.length);
  if (warning) process.stderr.write(`warning: ${warning}\n`);
}
