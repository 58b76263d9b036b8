// `valuelens control`: the cross-lingual control experiment from the command line (a thin wrapper over control()).
import { readFile } from "node:fs/promises";
import type { VectorMethod } from "../../store/index.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { choiceFlag, intFlag, listFlag, numFlag, parseCommand, UsageError, type CommandSpec, type FlagValues } from "../args.js";
import { engineFlags, interruptSignal, openEngine, progressFor, templateFlag } from "../engine-flags.js";
import { claimOutput } from "../outputs.js";
import { fixed, formatTable } from "../table.js";
import { control, CONTROL_TABLE, type ControlEstimate, type ControlMetric, type ControlSummary } from "../../steer/control.js";
import { loadPromptDataset, loadPromptsJsonl, PROMPT_DATASET_CONCEPT, PROMPT_DATASETS, type ControlPrompt, type PromptDataset } from "../../steer/prompts.js";
import { parseLayerSpec } from "../../steer/steer.js";
import { checkContinuations, type Continuations } from "../../steer/scorers/preference.js";
import { commandClassifier } from "../../steer/scorers/classifier.js";
import { parseLayerSite, type LayerSite } from "../../engine/layers.js";
import { AbortError } from "../../util/errors.js";

export const controlSpec = {
  name: "control",
  synopsis: "--model M.gguf --vectors V.arrow --layers L (--prompts FILE.jsonl | --dataset NAME --data-root DIR) [options]",
  about: "steers with the concept vector of each source language and scores the outputs for prompts in the target languages",
  flags: {
    ...engineFlags,
    vectors: { type: "string", arg: "V.arrow", help: "vector file (valuelens extract)" },
    concept: { type: "string", arg: "C", help: "concept of the vectors (default: harmfulness for multijail/xsafety, toxicity for rtp-lx)" },
    method: { type: "string", arg: "M", help: "vector method (default: the only one stored, else mean_diff)" },
    source: { type: "string", arg: "S[,S]", help: "source language(s) of the steering vector (default en; the first is the comparison baseline)" },
    targets: { type: "string", arg: "T[,T]", help: "target languages (default: every language of the prompts)" },
    prompts: { type: "string", arg: "FILE.jsonl", help: 'prompts, one {"id","lang","prompt"} object per line' },
    dataset: { type: "string", arg: "NAME", help: `${PROMPT_DATASETS.join(" | ")} (read from --data-root, laid out as in SOURCES.md)` },
    "data-root": { type: "string", arg: "DIR", help: "where the datasets are" },
    limit: { type: "string", arg: "N", help: "at most N prompts per language" },
    coefficients: { type: "string", arg: "LIST", help: "steering coefficients (default -8,-4,0,4,8; positive = toward the value-aligned side)" },
    layers: { type: "string", arg: "L", help: "steering layers, e.g. 10-14 or 8,12 (the model's numbering, 1..L)" },
    vector: { type: "string", arg: "unit|raw", help: "inject the signed unit vector (default) or raw × sign (RepE's convention)" },
    scale: { type: "string", arg: "residual|none", help: "residual (default for unit vectors): coefficient 1 = the layer's median residual norm,\nmeasured on the prompts (or on --activations); none: the coefficient is an absolute length" },
    activations: { type: "string", arg: "A", help: "activation file to measure residual norms from (default: the prompts themselves)" },
    "random-control": { type: "string", arg: "on|off", help: "run each source's same-norm random direction beside it (default on)" },
    "random-seed": { type: "string", arg: "N", help: "seed of the random control's directions (default 0)" },
    continuations: { type: "string", arg: "FILE.json", help: 'log-prob preference: {"<lang>": {"positive": [...], "negative": [...]}} (prompts may carry their own)' },
    classifier: { type: "string", arg: "CMD", help: 'score outputs with a command: JSON lines {"id","lang","text"} in, one score in [0,1] per line out\n(e.g. a toxicity classifier)' },
    "representation-layer": { type: "string", arg: "L", help: "layer of the representation score (default: the middle steering layer)" },
    template: {
      type: "string",
      arg: "T",
      help: "llama2-chat | qwen-chat | bloomz | raw | gguf | auto | a text with {input}\n(default auto from the model's name; raw for rtp-lx prompt starts)",
    },
    "max-tokens": { type: "string", arg: "N", help: "tokens per output (default 128)" },
    temperature: { type: "string", arg: "X", help: "0 = greedy (default)" },
    seed: { type: "string", arg: "N", help: "sampling seed (default 42)" },
    stop: { type: "string", arg: "S", multiple: true, help: "stop string (repeatable)" },
    "judge-model": { type: "string", arg: "M", help: "judge GGUF (may be the same file as --model)" },
    "judge-template": { type: "string", arg: "T", help: "judge prompt with {prompt} and {response}, or @FILE to read it from a file" },
    "judge-labels": { type: "string", arg: "L", help: 'label continuations, e.g. safe=" safe",unsafe=" unsafe"' },
    "judge-unsafe": { type: "string", arg: "L[,L]", help: "labels that count as unsafe (default unsafe)" },
    bootstrap: { type: "string", arg: "N", help: "bootstrap resamples for the CIs (default 1000)" },
    out: { type: "string", arg: "DIR", help: "write control.jsonl, summary.json and config.json there" },
    resume: { type: "boolean", help: "keep the finished rows in --out and compute only the missing ones" },
    force: { type: "boolean", help: "replace the results already in --out (default: refuse)" },
    json: { type: "boolean", help: "print the summary as JSON on stdout" },
  },
} as const satisfies CommandSpec;

/** Parses `safe=" safe",unsafe=" unsafe"` (values JSON-quoted, or bare without commas). */
export function parseJudgeLabels(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([^=,\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(,|$)/y;
  let at = 0;
  while (at < spec.length) {
    re.lastIndex = at;
    const m = re.exec(spec);
    if (!m || m[0].length === 0) throw new UsageError(`--judge-labels: cannot parse '${spec.slice(at)}' (expected name="continuation",…)`);
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (value.length === 0) throw new UsageError(`--judge-labels: label '${m[1]}' has an empty continuation`);
    if (m[1] in out) throw new UsageError(`--judge-labels: label '${m[1]}' given twice`);
    out[m[1]] = value;
    at = re.lastIndex;
  }
  if (Object.keys(out).length < 2) throw new UsageError("--judge-labels: at least two labels are needed");
  return out;
}

function numberList(name: string, value: string | undefined, dflt: number[]): number[] {
  const list = listFlag(value);
  if (!list) return dflt;
  return list.map((s) => {
    const n = Number(s);
    if (s === "" || !Number.isFinite(n)) throw new UsageError(`--${name}: '${s}' is not a number`);
    return n;
  });
}

function fmt(e: ControlEstimate | undefined, digits = 3): string {
  if (!e || e.value === null) return "—";
  const f = (x: number) => fixed(x, digits);
  return e.lo === null || e.hi === null ? f(e.value) : `${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;
}

const METRIC_LABEL: Record<ControlMetric, string> = {
  refusal: "refusal",
  compliance: "compliance",
  judgeUnsafe: "judge unsafe",
  representation: "repr",
  languagePreserved: "lang kept",
  fluency: "fluency",
  preference: "log-prob pref",
  classifier: "classifier",
};

/** The readable report: curves per S→T, then the per-target comparison of sources. */
export function formatControlSummary(s: ControlSummary): string {
  const shown = s.metrics.filter((m) => m !== "compliance");
  const header = ["source→target", "coef", "n", ...shown.map((m) => METRIC_LABEL[m])];
  const rows = s.curves.flatMap((c) => c.points.map((p) => [`${c.source}→${c.target}`, String(p.coefficient), String(p.n), ...shown.map((m) => fmt(p.metrics[m]))]));
  let out =
    `control: ${s.concept} (${s.method}, ${s.vector} vector${s.scale === "residual" ? ", residual-norm scaled" : ""}) at layers ${s.layers.join(",")}; ` +
    `representation at layer ${s.representationLayer}; ${s.rows} outputs (${s.generated} generated, ${s.reused} reused, ${s.resumed} resumed) in ${s.seconds.toFixed(1)} s\n` +
    `mean [95% CI] per coefficient:\n` +
    formatTable(header, rows);
  if (s.sources.length > 1) {
    const others = s.sources.slice(1);
    const h2 = ["target", "metric", ...s.sources.map((x) => `slope ${x}`), ...others.map((x) => `${x} − ${s.sources[0]}`)];
    const r2 = s.comparison.flatMap((c) =>
      shown.map((m) => {
        const e = c.metrics[m];
        return [c.target, METRIC_LABEL[m], ...s.sources.map((x) => fmt(e?.slope[x], 3)), ...others.map((x) => fmt(e?.slopeDifference[x], 3))];
      }),
    );
    out += `\nsources compared per target (slope per unit coefficient [95% CI], paired over prompts):\n` + formatTable(h2, r2);
  }
  const controlled = Object.values(s.randomControls ?? {});
  if (controlled.length > 0) {
    const h3 = ["target", "metric", ...controlled.map((x) => `${x} − random`)];
    const r3 = s.comparison.flatMap((c) => shown.map((m) => [c.target, METRIC_LABEL[m], ...controlled.map((x) => fmt(c.metrics[m]?.overRandom[x], 3))]));
    out += `\nconcept vs a same-norm random direction (slope difference [95% CI]; an interval that covers 0: no effect beyond a push of that size):\n` + formatTable(h3, r3);
  }
  for (const n of s.notes) out += `note: ${n}\n`;
  if (s.table) out += `table: ${s.table}\n`;
  return out;
}

export async function controlCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(controlSpec, argv);
  const need = (flag: string, v: unknown) => {
    if (v === undefined) throw new UsageError(`--${flag} is required (valuelens help control)`);
  };
  need("model", values.model);
  need("vectors", values.vectors);
  need("layers", values.layers);
  if (!values.prompts === !values.dataset) throw new UsageError("give either --prompts or --dataset (--prompts FILE.jsonl or --dataset NAME, not both)");
  if (values.resume && values.force) throw new UsageError("--resume and --force contradict each other: --resume keeps the finished rows, --force discards them");
  const dataset = values.dataset ? choiceFlag("dataset", values.dataset, PROMPT_DATASETS, "multijail") : undefined;
  if (dataset) need("data-root", values["data-root"]);
  const concept = values.concept ?? (dataset ? PROMPT_DATASET_CONCEPT[dataset] : undefined);
  if (!concept) throw new UsageError("--concept is required with --prompts");
  const limit = values.limit === undefined ? undefined : intFlag("limit", values.limit, undefined, 1);
  const targets = listFlag(values.targets);
  const sources = listFlag(values.source) ?? ["en"];
  const coefficients = numberList("coefficients", values.coefficients, [-8, -4, 0, 4, 8]);
  const vector = choiceFlag("vector", values.vector, ["unit", "raw"] as const, "unit");
  const scale = choiceFlag("scale", values.scale, ["none", "residual"] as const, vector === "raw" ? "none" : "residual");
  if (scale === "residual" && vector === "raw") throw new UsageError("--scale residual is for unit vectors (a raw vector already has the activation scale); use --scale none");
  const randomControl = choiceFlag("random-control", values["random-control"], ["on", "off"] as const, "on") === "on";
  const randomSeed = intFlag("random-seed", values["random-seed"], 0, 0);
  let continuations: Record<string, Continuations> | undefined;
  if (values.continuations) {
    try {
      continuations = JSON.parse(await readFile(values.continuations, "utf8")) as Record<string, Continuations>;
      if (typeof continuations !== "object" || continuations === null || Array.isArray(continuations)) throw new Error("expected an object keyed by language");
      for (const [lang, c] of Object.entries(continuations)) checkContinuations(c, lang);
    } catch (e) {
      throw new UsageError(`--continuations ${values.continuations}: ${(e as Error).message}`);
    }
  }
  const maxTokens = intFlag("max-tokens", values["max-tokens"], 128, 1);
  const temperature = numFlag("temperature", values.temperature, 0);
  const seed = intFlag("seed", values.seed, 42, 0);
  const samples = intFlag("bootstrap", values.bootstrap, 1000, 1);
  const judgeFlags = [values["judge-model"], values["judge-template"], values["judge-labels"]];
  if (judgeFlags.some((v) => v !== undefined) && judgeFlags.some((v) => v === undefined)) {
    throw new UsageError("--judge-model, --judge-template and --judge-labels go together");
  }
  const judgeLabels = values["judge-labels"] ? parseJudgeLabels(values["judge-labels"]) : undefined;
  let judgeTemplate = values["judge-template"];
  if (judgeTemplate?.startsWith("@")) judgeTemplate = await readFile(judgeTemplate.slice(1), "utf8");

  // The output first: wrong path, another writer, or finished results fail before any work.
  const lock = values.out
    ? await claimOutput(values.out, { kind: "dir", force: values.force, resume: values.resume, canResume: true, what: "control results", marker: (d) => existsSync(join(d, CONTROL_TABLE)) || existsSync(join(d, `${CONTROL_TABLE}.partial`)) })
    : null;
  try {
    await controlLocked(values, { dataset, concept, limit, targets, sources, coefficients, vector, scale, randomControl, randomSeed, continuations, maxTokens, temperature, seed, samples, judgeLabels, judgeTemplate });
  } finally {
    await lock?.release();
  }
}

type ControlValues = FlagValues<typeof controlSpec.flags>;

async function controlLocked(
  values: ControlValues,
  o: {
    dataset: PromptDataset | undefined;
    concept: string;
    limit: number | undefined;
    targets: string[] | undefined;
    sources: string[];
    coefficients: number[];
    vector: "unit" | "raw";
    scale: "none" | "residual";
    randomControl: boolean;
    randomSeed: number;
    continuations: Record<string, Continuations> | undefined;
    maxTokens: number;
    temperature: number;
    seed: number;
    samples: number;
    judgeLabels: Record<string, string> | undefined;
    judgeTemplate: string | undefined;
  },
): Promise<void> {
  const { dataset, concept, limit, targets, sources, coefficients, vector, scale, randomControl, randomSeed, continuations, maxTokens, temperature, seed, samples, judgeLabels, judgeTemplate } = o;
  const prompts: ControlPrompt[] = dataset
    ? await loadPromptDataset(dataset as PromptDataset, values["data-root"]!, { langs: targets, limit })
    : await loadPromptsJsonl(values.prompts!, { langs: targets, limit });

  const { model, session } = await openEngine(values);
  const interrupt = interruptSignal();
  try {
    let layers: LayerSite[];
    try {
      layers = parseLayerSpec(values.layers!, model.nLayer);
    } catch (e) {
      throw new UsageError(`--layers: ${(e as Error).message}`);
    }
    const template = templateFlag(values.template ?? (dataset === "rtp-lx" ? "raw" : "auto"), model);
    const scoring = await model.createSession({ contextSize: session.contextSize, batchSize: session.batchSize, maxSequences: session.maxSequences });
    try {
      const { summary } = await control({
        model,
        session,
        scoringSession: scoring,
        vectors: values.vectors!,
        concept,
        method: values.method as VectorMethod | undefined,
        sources,
        targets,
        prompts,
        coefficients,
        layers,
        vector,
        scale,
        activations: values.activations,
        randomControl: randomControl ? { seed: randomSeed } : false,
        continuations,
        classifier: values.classifier ? commandClassifier(values.classifier) : undefined,
        template,
        generation: { maxTokens, temperature, seed, ...(values.stop ? { stop: values.stop } : {}) },
        representation: values["representation-layer"] ? { layer: parseLayerSite(values["representation-layer"]) } : undefined,
        judge: judgeLabels ? { model: values["judge-model"]!, promptTemplate: judgeTemplate!, labels: judgeLabels, unsafeLabels: listFlag(values["judge-unsafe"]) } : undefined,
        out: values.out,
        resume: values.resume ?? false,
        bootstrap: { samples },
        signal: interrupt.signal,
        progress: progressFor(values),
      });
      if (values.json) process.stdout.write(JSON.stringify(summary) + "\n");
      else process.stdout.write(formatControlSummary(summary));
    } finally {
      scoring.dispose();
    }
  } catch (e) {
    if (interrupt.signal.aborted) throw new AbortError(values.out ? `interrupted; finished rows are kept in ${values.out}/${CONTROL_TABLE}.partial — re-run with --resume to continue` : "interrupted");
    throw e;
  } finally {
    interrupt.dispose();
    session.dispose();
    model.dispose();
  }
}
