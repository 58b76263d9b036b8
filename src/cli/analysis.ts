// `valuelens extract | recognize | similarity | transfer | correlate`: thin commands over src/pipeline.
import { MODEL_PRESETS, presetForModel, PROPORTION_METHODS, type Interval, type ModelFamily } from "../analysis/index.js";
import { EXTRACT_METHODS, RANDOM_VARIANTS, type ExtractMethod } from "../extract/index.js";
import { analyze, selectVectors, similarityFromVectors, type AnalysisResults, type AnalyzeOptions } from "../pipeline/analyze.js";
import { extractToStore } from "../pipeline/extract.js";
import { readVectors } from "../store/index.js";
import { createProgress, type ProgressMode } from "../progress/progress.js";
import { choiceFlag, intFlag, listFlag, parseFlags, UsageError } from "./args.js";
import { formatMatrix, formatTable } from "./table.js";

export const extractUsage = `usage: valuelens extract --activations acts.arrow --out vectors.arrow [options]
  --method M[,M]     mean_diff (default; the paper's) | pca | random | logistic
  --layers L         layers to extract (default: all stored)
  --concepts a,b     --langs en,fr   restrict (default: all in the file)
  --seed N           seed of PCA pair order, logistic init and (with the cell) the random baseline (default 1)
  --random-variant V gaussian (default: a random unit vector per cell) | shuffle (the paper's label
                     permutation: mean difference after swapping a random half of the pairs)
  --progress MODE    auto | bar | json | none
  --json             print a JSON summary`;

export async function extractCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    argv,
    { activations: { type: "string" }, out: { type: "string" }, method: { type: "string" }, layers: { type: "string" }, concepts: { type: "string" }, langs: { type: "string" }, seed: { type: "string" }, "random-variant": { type: "string" }, progress: { type: "string" }, json: { type: "boolean" } },
    extractUsage,
  );
  if (!values.activations || !values.out) throw new UsageError(`--activations and --out are required\n\n${extractUsage}`);
  const methods = (listFlag(values.method) ?? ["mean_diff"]) as ExtractMethod[];
  for (const m of methods) if (!EXTRACT_METHODS.includes(m)) throw new UsageError(`--method: unknown method '${m}' (have: ${EXTRACT_METHODS.join(", ")})`);
  const r = await extractToStore({
    activations: values.activations,
    out: values.out,
    methods,
    layers: listFlag(values.layers),
    concepts: listFlag(values.concepts),
    langs: listFlag(values.langs),
    seed: intFlag("seed", values.seed, 1, 0),
    methodOptions: { random: { variant: choiceFlag("random-variant", values["random-variant"], RANDOM_VARIANTS, "gaussian") } },
    progress: createProgress(choiceFlag("progress", values.progress, ["auto", "bar", "json", "none"] as const, "auto") as ProgressMode),
  });
  if (values.json) process.stdout.write(JSON.stringify({ ...r, methods }) + "\n");
  else process.stdout.write(`wrote ${r.vectors} vectors (${methods.join(", ")}; ${r.layers} layers) to ${r.path} in ${r.seconds.toFixed(1)} s${r.empty.length ? `; no training pairs for ${r.empty.join(", ")}` : ""}\n`);
}

const analysisFlags = {
  activations: { type: "string" },
  vectors: { type: "string" },
  method: { type: "string" },
  concepts: { type: "string" },
  langs: { type: "string" },
  ties: { type: "string" },
  bootstrap: { type: "string" },
  interval: { type: "string" },
  replicates: { type: "string" },
  layer: { type: "string" },
  family: { type: "string" },
  high: { type: "string" },
  permutations: { type: "string" },
  progress: { type: "string" },
  json: { type: "boolean" },
} as const;

const analysisUsage = (cmd: string, needsActs: boolean) => `usage: valuelens ${cmd} ${needsActs ? "--activations acts.arrow " : ""}--vectors vectors.arrow [options]
  --method M         which vectors to use (default: the first method in the file)
  --concepts a,b     --langs en,fr   restrict
  --ties T           correct (default; a tied pair counts as recognised, as the paper's code) | incorrect
  --interval M       wilson (default) | clopper-pearson: 95% interval of each accuracy, over source items
                     (pairs sharing a question or scenario count as one cluster)
  --bootstrap N      cluster-bootstrap resamples for the test-picked maximum (default 1000; 0 = none)
  --replicates N     random baseline: draws per cell, averaged with their spread (default 10)
  --layer K          also aggregate similarity at this fixed layer
  --family F         llama2-chat | qwen-chat | bloomz: the paper's correlation setting for that family (drops
                     its 4 excluded languages, the authors' language order, its high-resource set);
                     default: detected from the model name, else none
  --high en,zh       high-resource languages of the split correlation (overrides the family's)
  --permutations N   Mantel permutations for the correlation p-values (default 9999)
  --json             exact numbers as JSON`;

type AnalysisValues = { [K in keyof typeof analysisFlags]?: (typeof analysisFlags)[K]["type"] extends "boolean" ? boolean : string };

async function runAnalysis(cmd: string, argv: string[], needsActs: boolean, crossLingual: boolean): Promise<{ r: AnalysisResults | null; values: AnalysisValues }> {
  const usage = analysisUsage(cmd, needsActs);
  const { values } = parseFlags(argv, analysisFlags, usage);
  if (!values.vectors) throw new UsageError(`--vectors is required\n\n${usage}`);
  if (needsActs && !values.activations) throw new UsageError(`--activations is required\n\n${usage}`);
  if (!needsActs) return { r: null, values };
  const samples = intFlag("bootstrap", values.bootstrap, 1000, 0);
  const opts: AnalyzeOptions = {
    activations: values.activations!,
    vectors: values.vectors,
    method: values.method as ExtractMethod | undefined,
    concepts: listFlag(values.concepts),
    langs: listFlag(values.langs),
    ties: choiceFlag("ties", values.ties, ["correct", "incorrect"] as const, "correct"),
    bootstrap: samples === 0 ? false : { samples },
    interval: { method: choiceFlag("interval", values.interval, PROPORTION_METHODS, "wilson") },
    randomReplicates: intFlag("replicates", values.replicates, 10, 1),
    crossLingual,
    similarityLayer: values.layer,
    ...(await correlationFlags(values)),
    mantel: { permutations: intFlag("permutations", values.permutations, 9999, 1) },
    progress: createProgress(choiceFlag("progress", values.progress, ["auto", "bar", "json", "none"] as const, "auto") as ProgressMode),
  };
  return { r: await analyze(opts), values };
}

async function correlationFlags(values: AnalysisValues): Promise<{ family?: ModelFamily; highResource?: string[] }> {
  const high = listFlag(values.high);
  if (values.family) {
    if (!(values.family in MODEL_PRESETS)) throw new UsageError(`--family must be one of ${Object.keys(MODEL_PRESETS).join(", ")}`);
    return { family: values.family as ModelFamily, ...(high ? { highResource: high } : {}) };
  }
  const vf = await readVectors(values.vectors!);
  const p = presetForModel(`${vf.provenance.model.name} ${vf.provenance.model.file}`);
  return { ...(p ? { family: p.family } : {}), ...(high ? { highResource: high } : {}) };
}

export const recognizeUsage = analysisUsage("recognize", true) + "\n  --cross-lingual    also vector-of-A on test-pairs-of-B for every pair of languages";

export async function recognizeCommand(argv: string[]): Promise<void> {
  const cross = argv.includes("--cross-lingual");
  const { r, values } = await runAnalysis("recognize", argv.filter((a) => a !== "--cross-lingual"), true, cross);
  const res = r!;
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, layers: res.layers, recognition: res.recognition, ...(cross ? { crossLingual: res.crossLingual } : {}) }) + "\n");
    return;
  }
  const ci = (c: Interval | undefined): string => (c ? `[${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}]` : "");
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
        if (x) b.push([concept, lang, x.variant, String(x.replicates), x.noSelection.mean, x.noSelection.sd, `${x.noSelection.min.toFixed(3)} – ${x.noSelection.max.toFixed(3)}`, x.heldOut?.mean ?? NaN, x.oracle.mean]);
      }
    }
    process.stdout.write(
      "\nrandom baseline over independent draws per cell (chance = 0.5)\n" +
        "  all layers: mean test accuracy over layers per draw, no label information used (mean, sd, range over draws)\n" +
        "  held-out / test-picked: the same layer choices as above applied to each draw; above 0.5 where a strong\n" +
        "  concept lets the choice find a layer on which the draw happens to lean towards it\n",
    );
    process.stdout.write(formatTable(["concept", "lang", "variant", "draws", "all layers mean", "sd", "range", "held-out mean", "test-picked mean"], b));
  }
  if (cross && res.crossLingual) {
    for (const [concept, c] of Object.entries(res.crossLingual)) {
      process.stdout.write("\n" + formatMatrix(`cross-lingual recognition, ${concept} (rows: vector language, columns: test language; best layer per cell)`, c.targets, c.sources.map((s) => c.targets.map((t) => c.best[s][t].accuracy)), 3, c.sources));
    }
  }
}

export async function similarityCommand(argv: string[]): Promise<void> {
  const { values } = await runAnalysis("similarity", argv, false, false);
  const vf = await readVectors(values.vectors!);
  const sel = selectVectors(vf, { method: values.method as ExtractMethod | undefined, concepts: listFlag(values.concepts), langs: listFlag(values.langs) });
  const { method, concepts, langs, layers } = sel;
  const { similarity, fullConcepts } = similarityFromVectors(sel, values.layer, vf.provenance.model.nLayer);
  if (fullConcepts.length === 0) throw new Error("no concept has vectors for every language");
  const { aggregate, layerwise, layerwiseShared, perConcept } = similarity;
  const atLayer = similarity.atLayer?.matrix;
  if (values.json) {
    process.stdout.write(JSON.stringify({ method, concepts, langs, layers, aggregate, ...(atLayer ? { atLayer: { layer: values.layer, matrix: atLayer } } : {}), layerwise, layerwiseShared, perConcept }) + "\n");
    return;
  }
  process.stdout.write(formatMatrix(`cross-lingual similarity (${method}; cosine, max over layers, mean over ${fullConcepts.length} concept(s))`, langs, aggregate.values));
  if (atLayer) process.stdout.write("\n" + formatMatrix(`at layer ${values.layer}`, langs, atLayer.values));
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
  const { r, values } = await runAnalysis("transfer", argv, true, true);
  const res = r!;
  if (!res.transfer) throw new Error("transfer needs every concept to have vectors and test pairs in every language");
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, transfer: res.transfer }) + "\n");
    return;
  }
  const t = res.transfer;
  process.stdout.write(formatMatrix("transfer T(src→tgt) = acc(src vector on tgt) − acc(tgt vector on tgt), best layer per cell, mean over concepts (rows: source)", t.langs, t.T.values));
  process.stdout.write(`\ntransfer rate (share of other sources with T ≥ 0): ${t.langs.map((l) => `${l} ${t.rate.perTarget[l].toFixed(0)}%`).join(", ")}; mean ${t.rate.mean.toFixed(1)}%\n`);
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
          ...row.map((v, c) => (s === c ? "0" : `${v.toFixed(3)} [${h.Tci.lo[s][c].toFixed(3)}, ${h.Tci.hi[s][c].toFixed(3)}]${atCeiling(s, c) ? "*" : ""}`)),
        ]),
      ),
  );
  if (h.langs.some((_, s) => h.langs.some((__, c) => s !== c && atCeiling(s, c)))) {
    process.stdout.write("* at ceiling: both vectors got every test pair right, so the resamples cannot vary and the interval says nothing\n");
  }
  process.stdout.write(
    `held-out transfer rate: ${h.langs.map((l) => `${l} ${h.rate.perTarget[l].toFixed(0)}%`).join(", ")}; mean ${h.rate.mean.toFixed(1)}% [${h.rate.meanCi.lo.toFixed(1)}, ${h.rate.meanCi.hi.toFixed(1)}]\n` +
      "  (the test-picked T above is optimistic; T = 0 counts as transfer in both, as in the paper)\n",
  );
}

export async function correlateCommand(argv: string[]): Promise<void> {
  const { r, values } = await runAnalysis("correlate", argv, true, false);
  const res = r!;
  if (!res.correlation) throw new Error("correlation needs at least three languages with lang2vec data (the paper's 16 languages are shipped)");
  if (values.json) {
    process.stdout.write(JSON.stringify({ method: res.method, correlation: res.correlation }) + "\n");
    return;
  }
  const c = res.correlation;
  process.stdout.write(
    `Pearson r between cross-lingual similarity and 1 − lang2vec distance (${c.langs.length} languages: ${c.langs.join(" ")}` +
      `${c.family ? `; ${c.family} preset` : ""}${c.excluded.length ? `, excluded ${c.excluded.join(" ")}` : ""}; high-resource: ${c.highResource.join(", ") || "none (give --family or --high for split)"})\n` +
      `  Mantel p: share of language permutations with |r| at least as large (language pairs are not independent)\n`,
  );
  process.stdout.write(
    formatTable(
      ["type", "direct", "Mantel p", "split", "split high", "split low", "released code (off by one)"],
      Object.entries(c.table).map(([type, v]) => [type, v.direct, v.mantel ? v.mantel.p : NaN, v.split.mean, v.split.high, v.split.low, v.directReleasedCode]),
      3,
    ),
  );
}
