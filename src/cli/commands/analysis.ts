// `valuelens extract | recognize | similarity | transfer | correlate`: thin commands over src/pipeline.
import { MODEL_PRESETS, presetForModel, PROPORTION_METHODS, type Interval, type ModelFamily } from "../../analysis/index.js";
import { EXTRACT_METHODS, RANDOM_VARIANTS, type ExtractMethod } from "../../extract/index.js";
import { analyze, selectVectors, similarityFromVectors, type AnalyzeOptions } from "../../pipeline/analyze.js";
import { extractToStore } from "../../pipeline/extract.js";
import { similarityIntervals, type SimilarityIntervalResults } from "../../pipeline/similarity-intervals.js";
import type { Lang2vecType } from "../../analysis/lang2vec.js";
import { MissingDataError } from "../../pipeline/sources.js";
import { readVectors, type VectorFile } from "../../store/index.js";
import { checkChoices, choiceFlag, didYouMean, intFlag, listFlag, parseCommand, required, UsageError, type CommandSpec, type FlagTable, type FlagValues } from "../args.js";
import { progressFor } from "../engine-flags.js";
import { claimOutput } from "../outputs.js";
import { missingMessage } from "../pairs.js";
import { fewPairsWarning, fixed, formatMatrix, formatTable, percent } from "../table.js";

// One table of every analysis flag; each command's spec picks the ones that apply to it.
export const ANALYSIS_FLAGS = {
  activations: { type: "string", arg: "FILE", help: "activation file (valuelens capture)" },
  vectors: { type: "string", arg: "FILE", help: "vector file (valuelens extract)" },
  method: { type: "string", arg: "M", help: "which vectors to use: mean_diff | pca | random | logistic (default: the first in the file)" },
  concepts: { type: "string", arg: "a,b", help: "restrict to these concepts (default: all in the file)" },
  langs: { type: "string", arg: "en,fr", help: "restrict to these languages (default: all in the file)" },
  ties: { type: "string", arg: "T", help: "correct (default; a tied pair counts as recognised, as the paper's code) | incorrect" },
  interval: { type: "string", arg: "M", help: "wilson (default) | clopper-pearson: 95% interval of each accuracy, over source items\n(pairs sharing a question or scenario count as one cluster)" },
  bootstrap: { type: "string", arg: "N", help: "cluster-bootstrap resamples for the test-picked maximum and held-out transfer (default 1000; 0 = none)" },
  replicates: { type: "string", arg: "N", help: "random baseline: draws per cell, averaged with their spread (default 10)" },
  layer: { type: "string", arg: "K", help: "also aggregate similarity at this fixed layer (the model's numbering, 1..L)" },
  family: { type: "string", arg: "F", help: "llama2-chat | qwen-chat | bloomz: the paper's correlation setting for that family (drops\nits 4 excluded languages, the authors' language order, its high-resource set);\ndefault: detected from the model name, else none" },
  high: { type: "string", arg: "en,zh", help: "high-resource languages of the split correlation (overrides the family's)" },
  permutations: { type: "string", arg: "N", help: "Mantel permutations for the correlation p-values (default 9999)" },
  intervals: { type: "string", arg: "N", help: "cluster-bootstrap intervals (N resamples of the training items; mean_diff vectors;\nneeds --activations): per language pair, and for the correlation" },
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
    seed: { type: "string", arg: "N", help: "seed of PCA pair order, logistic init and (with the cell) the random baseline (default 1)" },
    "random-variant": { type: "string", arg: "V", help: "gaussian (default: a random unit vector per cell) | shuffle (the paper's label\npermutation: mean difference after swapping a random half of the pairs)" },
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
  const methodOptions = { random: { variant: choiceFlag("random-variant", values["random-variant"], RANDOM_VARIANTS, "gaussian") } };
  const progress = progressFor(values);
  const lock = await claimOutput(out, { kind: "file", force: values.force, what: "a vector file" });
  try {
    const r = await extractToStore({ activations, out, methods, layers: listFlag(values.layers), concepts: listFlag(values.concepts), langs: listFlag(values.langs), seed, methodOptions, progress }).catch((e: unknown) => {
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
  "interval",
  "bootstrap",
  "replicates",
  "cross-lingual",
  "progress",
  "json",
]);
export const similaritySpec = {
  ...analysisSpec("similarity", "cross-lingual cosine similarity of the concept vectors (max over layers, mean over concepts)", false, ["vectors", "method", "concepts", "langs", "layer", "activations", "intervals", "progress", "json"]),
  synopsis: "--vectors vectors.arrow [--activations acts.arrow --intervals N] [options]",
} satisfies CommandSpec;
export const transferSpec = analysisSpec("transfer", "transfer T(src→tgt) = acc(src vector on tgt) − acc(tgt vector on tgt), test-picked and held out", true, ["activations", "vectors", "method", "concepts", "langs", "ties", "bootstrap", "progress", "json"]);
export const correlateSpec = analysisSpec("correlate", "Pearson r between cross-lingual similarity and lang2vec similarity", true, [
  "activations",
  "vectors",
  "method",
  "concepts",
  "langs",
  "family",
  "high",
  "permutations",
  "intervals",
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
    interval: { method: choiceFlag("interval", values.interval, PROPORTION_METHODS, "wilson") },
    randomReplicates: intFlag("replicates", values.replicates, 10, 1),
    crossLingual,
    similarityLayer: values.layer,
    ...correlationFlags(values, vf),
    mantel: { permutations: intFlag("permutations", values.permutations, 9999, 1) },
    progress: progressFor(values),
  };
}

function correlationFlags(values: AnalysisValues, vf: VectorFile): { family?: ModelFamily; highResource?: string[] } {
  const high = listFlag(values.high);
  if (values.family) {
    if (!(values.family in MODEL_PRESETS)) throw new UsageError(`--family must be one of ${Object.keys(MODEL_PRESETS).join(", ")} (got '${values.family}'${didYouMean(values.family, Object.keys(MODEL_PRESETS))})`);
    return { family: values.family as ModelFamily, ...(high ? { highResource: high } : {}) };
  }
  const p = presetForModel(`${vf.provenance.model.name} ${vf.provenance.model.file}`);
  return { ...(p ? { family: p.family } : {}), ...(high ? { highResource: high } : {}) };
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
  const ci = (c: Interval | undefined): string => (c ? `[${fixed(c.lo, 3)}, ${fixed(c.hi, 3)}]` : "");
  const rows: (string | number)[][] = [];
  for (const [concept, byLang] of Object.entries(res.recognition)) {
    for (const [lang, s] of Object.entries(byLang)) {
      const h = s.heldOut;
      rows.push([concept, lang, String(s.nTest), h ? `${h.layer}${h.tiedOnValidation > 1 ? ` (tie of ${h.tiedOnValidation})` : ""}` : "—", String(h?.nVal ?? 0), h?.accuracy ?? NaN, ci(h?.ci), s.oracle.layer, s.oracle.accuracy, ci(s.oracle.selectionCi)]);
    }
  }
  const first = Object.values(Object.values(res.recognition)[0] ?? {})[0];
  const how = first ? `${first.interval.method === "wilson" ? "Wilson" : "Clopper–Pearson"} ${Math.round(first.interval.level * 100)}%` : "95%";
  process.stdout.write(
    `recognition accuracy (${res.method})\n` +
      `  held-out: layer chosen on the validation pairs (n val), scored on the test pairs; ${how} interval over source items\n` +
      `  test-picked: the paper's best layer on the test set itself, OPTIMISTIC; its interval allows for the pick among ${res.layers.length} layers\n`,
  );
  process.stdout.write(formatTable(["concept", "lang", "n test", "held-out layer", "n val", "held-out acc", "interval", "test-picked layer", "acc (optimistic)", "selection-aware interval"], rows));
  if (res.method === "random") {
    const b: (string | number)[][] = [];
    for (const [concept, byLang] of Object.entries(res.recognition)) {
      for (const [lang, s] of Object.entries(byLang)) {
        const x = s.baseline;
        const at = x?.atConceptLayer;
        if (x) b.push([concept, lang, x.variant, String(x.replicates), x.noSelection.mean, x.noSelection.sd, `${fixed(x.noSelection.min, 3)} – ${fixed(x.noSelection.max, 3)}`, at ? `${fixed(at.accuracy.mean, 3)} (${at.layer})` : "—", x.heldOut?.mean ?? NaN, x.oracle.mean]);
      }
    }
    process.stdout.write(
      "\nrandom baseline over independent draws per cell (chance = 0.5)\n" +
        "  all layers: mean test accuracy over layers per draw, no label information used (mean, sd, range over draws)\n" +
        "  at the concept's layer: the draws at the layer the concept's own vectors choose on validation (the headline's)\n" +
        "  held-out / test-picked: the same layer choices as above applied to each draw; above 0.5 where a strong\n" +
        "  concept lets the choice find a layer on which the draw happens to lean towards it\n",
    );
    process.stdout.write(formatTable(["concept", "lang", "variant", "draws", "all layers mean", "sd", "range", "at the concept's layer", "held-out mean", "test-picked mean"], b));
  }
  if (cross && res.crossLingual) {
    for (const [concept, c] of Object.entries(res.crossLingual)) {
      process.stdout.write("\n" + formatMatrix(`cross-lingual recognition, ${concept} (rows: vector language, columns: test language; best layer per cell)`, c.targets, c.sources.map((s) => c.targets.map((t) => c.best[s][t].accuracy)), 3, c.sources));
    }
  }
}

export async function similarityCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(similaritySpec, argv);
  const vf = await checkedVectors(values);
  const sel = selectVectors(vf, { method: values.method as ExtractMethod | undefined, concepts: listFlag(values.concepts), langs: listFlag(values.langs) });
  const { method, concepts, langs, layers } = sel;
  const { similarity, fullConcepts } = similarityFromVectors(sel, values.layer, vf.provenance.model.nLayer);
  if (fullConcepts.length === 0) throw new Error("no concept has vectors for every language");
  const { aggregate, layerwise, layerwiseShared, perConcept } = similarity;
  const atLayer = similarity.atLayer?.matrix;
  const intervals = values.intervals === undefined ? undefined : await intervalsFor(values, { method, concepts: fullConcepts, langs, layers, layer: values.layer });
  if (values.json) {
    process.stdout.write(JSON.stringify({ method, concepts, langs, layers, aggregate, ...(atLayer ? { atLayer: { layer: values.layer, matrix: atLayer } } : {}), layerwise, layerwiseShared, perConcept, ...(intervals ? { intervals } : {}) }) + "\n");
    return;
  }
  process.stdout.write(formatMatrix(`cross-lingual similarity (${method}; cosine, max over layers, mean over ${fullConcepts.length} concept(s))`, langs, aggregate.values));
  if (atLayer) process.stdout.write("\n" + formatMatrix(`at layer ${values.layer}`, langs, atLayer.values));
  if (intervals) {
    const pct = Math.round(intervals.level * 100);
    process.stdout.write(
      `\n${pct}% cluster-bootstrap intervals (${intervals.samples} resamples of the training items, paired across languages; the max over layers is taken in every resample)\n` +
        formatTable(
          ["pair", "max over layers", "interval", ...(intervals.atLayer ? [`layer ${intervals.atLayer.layer}`, "interval"] : [])],
          intervals.pairs.map(([a, b], p) => {
            const v = intervals.aggregate[p];
            const f = intervals.atLayer?.values[p];
            return [`${a}–${b}`, v.value, `[${fixed(v.lo, 3)}, ${fixed(v.hi, 3)}]`, ...(f ? [f.value, `[${fixed(f.lo, 3)}, ${fixed(f.hi, 3)}]`] : [])];
          }),
        ),
    );
  }
  if (layerwise) {
    const shared = layerwiseShared && layerwiseShared.langs.length < langs.length ? layerwiseShared : undefined;
    process.stdout.write(`\nlayer-wise mean cosine (depth = layer / ${vf.provenance.model.nLayer})${shared ? `; shared: the paper's shared languages present (${shared.langs.join(", ")})` : ""}\n`);
    process.stdout.write(
      formatTable(
        ["layer", "depth", `all ${langs.length} languages`, ...(shared ? ["shared"] : [])],
        layerwise.layers.map((l, i) => [l, layerwise.relativeDepth[i], layerwise.mean[i], ...(shared ? [shared.mean[i]] : [])]),
      ),
    );
  }
}

export async function transferCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(transferSpec, argv);
  // The bootstrap gives the held-out transfer its intervals (--bootstrap 0: none).
  const res = await analyze(await analysisOptions(values, true));
  if (!res.transfer) throw new Error("transfer needs every concept to have vectors and test pairs in every language");
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, transfer: res.transfer }) + "\n");
    return;
  }
  const t = res.transfer;
  process.stdout.write(formatMatrix("transfer T(src→tgt) = acc(src vector on tgt) − acc(tgt vector on tgt), best layer per cell, mean over concepts (rows: source)", t.langs, t.T.values));
  process.stdout.write(`\ntransfer rate (share of other sources with T ≥ 0): ${t.langs.map((l) => `${l} ${percent(t.rate.perTarget[l])}`).join(", ")}; mean ${percent(t.rate.mean)}\n`);
  const h = t.heldOut;
  if (!h) {
    process.stdout.write("(no validation pairs: the held-out transfer with intervals needs a validation split)\n");
    return;
  }
  const pct = Math.round(h.level * 100);
  const atCeiling = (s: number, c: number): boolean => h.M.values[s][c] === 1 && h.M.values[c][c] === 1;
  process.stdout.write(
    `\nheld-out transfer T (layer of each cell chosen on the target's validation pairs, scored on its test pairs), with ${pct}% cluster-bootstrap intervals (rows: source)\n` +
      formatTable(
        ["", ...h.langs],
        h.T.values.map((row, s) => [
          h.langs[s],
          ...row.map((v, c) => (s === c ? "0" : `${fixed(v, 3)} [${fixed(h.Tci.lo[s][c], 3)}, ${fixed(h.Tci.hi[s][c], 3)}]${atCeiling(s, c) ? "*" : ""}`)),
        ]),
      ),
  );
  if (h.langs.some((_, s) => h.langs.some((__, c) => s !== c && atCeiling(s, c)))) {
    process.stdout.write("* at ceiling: both vectors got every test pair right, so the resamples cannot vary and the interval says nothing\n");
  }
  process.stdout.write(
    `held-out transfer rate: ${h.langs.map((l) => `${l} ${percent(h.rate.perTarget[l])}`).join(", ")}; mean ${percent(h.rate.mean)} [${percent(h.rate.meanCi.lo)}, ${percent(h.rate.meanCi.hi)}]\n` +
      "  (the test-picked T above is optimistic; T = 0 counts as transfer in both, as in the paper)\n",
  );
}

export async function correlateCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(correlateSpec, argv);
  const res = await analyze({ ...(await analysisOptions(values, false)), bootstrap: false });
  if (!res.correlation) throw new Error("correlation needs at least three languages with lang2vec data (the paper's 16 languages are shipped)");
  const c = res.correlation;
  const intervals = values.intervals === undefined ? undefined : await intervalsFor(values, { method: res.method, concepts: res.concepts, langs: c.langs, correlation: Object.keys(c.table) as Lang2vecType[] });
  const ci = (type: string) => {
    const x = intervals?.correlation?.find((r) => r.type === type);
    return x ? `[${fixed(x.lo, 3)}, ${fixed(x.hi, 3)}]` : "—";
  };
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, correlation: res.correlation, ...(intervals ? { intervals: { samples: intervals.samples, level: intervals.level, correlation: intervals.correlation } } : {}) }) + "\n");
    return;
  }
  process.stdout.write(
    `Pearson r between cross-lingual similarity and 1 − lang2vec distance (${c.langs.length} languages: ${c.langs.join(" ")}` +
      `${c.family ? `; ${c.family} preset` : ""}${c.excluded.length ? `, excluded ${c.excluded.join(" ")}` : ""}; high-resource: ${c.highResource.join(", ") || "none (give --family or --high for split)"})\n` +
      `  Mantel p: share of language permutations with |r| at least as large (language pairs are not independent)\n`,
  );
  process.stdout.write(
    formatTable(
      ["type", "direct", ...(intervals ? [`${Math.round(intervals.level * 100)}% interval`] : []), "Mantel p", "split", "split high", "split low", "released code (off by one)"],
      Object.entries(c.table).map(([type, v]) => [type, v.direct, ...(intervals ? [ci(type)] : []), v.mantel ? v.mantel.p : NaN, v.split.mean, v.split.high, v.split.low, v.directReleasedCode]),
    ),
  );
  const warning = fewPairsWarning(c.langs.length);
  if (warning) process.stderr.write(`warning: ${warning}\n`);
}

/** --intervals N: the cluster bootstrap of similarityIntervals over the activation file's training pairs. */
async function intervalsFor(
  values: { intervals?: string; activations?: string; progress?: string },
  o: { method: string; concepts: readonly string[]; langs: readonly string[]; layers?: readonly string[]; layer?: string; correlation?: Lang2vecType[] },
): Promise<SimilarityIntervalResults> {
  const samples = intFlag("intervals", values.intervals, 200, 1);
  const activations = required(values.activations, "--activations", "the activation file whose training pairs --intervals resamples");
  if (o.method !== "mean_diff") throw new UsageError(`--intervals resamples mean-difference vectors; these are ${o.method} (use --method mean_diff)`);
  const progress = progressFor(values);
  return similarityIntervals({ activations, samples, concepts: o.concepts, langs: o.langs, layers: o.layers, layer: o.layer, correlation: o.correlation, progress });
}
