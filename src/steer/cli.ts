// `valuelens control`: the cross-lingual control experiment from the command line (a thin wrapper over control()).
import { readFile } from "node:fs/promises";
import { chatTemplate, RAW_TEMPLATE, resolveTemplate, templateForModel, type PromptTemplate } from "../data/templates.js";
import type { VectorMethod } from "../store/index.js";
import { choiceFlag, intFlag, listFlag, numFlag, parseFlags, UsageError } from "../cli/args.js";
import { engineFlagSpec, engineFlagUsage, interruptSignal, openEngine, progressFor } from "../cli/engine-flags.js";
import { formatTable } from "../cli/table.js";
import { control, CONTROL_TABLE, type ControlEstimate, type ControlMetric, type ControlSummary } from "./control.js";
import { loadPromptDataset, loadPromptsJsonl, PROMPT_DATASET_CONCEPT, PROMPT_DATASETS, type ControlPrompt, type PromptDataset } from "./prompts.js";
import { parseLayerSpec } from "./steer.js";
import { parseLayerSite, type LayerSite } from "../engine/layers.js";

export const controlUsage = `usage: valuelens control --model M.gguf --vectors V.arrow --layers L (--prompts FILE.jsonl | --dataset NAME --data-root DIR) [options]
  Steers with the concept vector of each source language and scores the outputs for prompts in the target languages.
  --concept C            concept of the vectors (default: harmfulness for multijail/xsafety, toxicity for rtp-lx)
  --method M             vector method (default: the only one stored, else mean_diff)
  --source S[,S]         source language(s) of the steering vector (default en; the first is the comparison baseline)
  --targets T[,T]        target languages (default: every language of the prompts)
  --prompts FILE.jsonl   prompts, one {"id","lang","prompt"} object per line
  --dataset NAME         ${PROMPT_DATASETS.join(" | ")} (read from --data-root, laid out as in SOURCES.md)
  --limit N              at most N prompts per language
  --coefficients LIST    steering coefficients (default -8,-4,0,4,8; positive = toward the value-aligned side)
  --layers L             steering layers, e.g. 10-14 or 8,12
  --vector unit|raw      inject the signed unit vector (default) or raw × sign (RepE's convention)
  --scale none|residual  residual: coefficient 1 = the layer's median residual norm (needs --activations)
  --activations A        activation file to measure residual norms from
  --representation-layer L  layer of the representation score (default: the middle steering layer)
  --template T           llama2-chat | qwen-chat | bloomz | raw | gguf | auto | a text with {input}
                         (default auto from the model's name; raw for rtp-lx prompt starts)
  --max-tokens N         tokens per output (default 128)
  --temperature X        0 = greedy (default)
  --seed N               sampling seed (default 42)
  --stop S               stop string (repeatable)
  --judge-model M        judge GGUF (may be the same file as --model)
  --judge-template T     judge prompt with {prompt} and {response}, or @FILE to read it from a file
  --judge-labels L       label continuations, e.g. safe=" safe",unsafe=" unsafe"
  --judge-unsafe L[,L]   labels that count as unsafe (default unsafe)
  --bootstrap N          bootstrap resamples for the CIs (default 1000)
  --out DIR              write control.jsonl, summary.json and config.json there
  --resume               keep the finished rows in --out and compute only the missing ones
${engineFlagUsage}
  --json                 print the summary as JSON on stdout`;

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

function fmt(e: ControlEstimate | undefined, digits = 2): string {
  if (!e || e.value === null) return "—";
  const f = (x: number) => x.toFixed(digits);
  return e.lo === null || e.hi === null ? f(e.value) : `${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;
}

const METRIC_LABEL: Record<ControlMetric, string> = {
  refusal: "refusal",
  compliance: "compliance",
  judgeUnsafe: "judge unsafe",
  representation: "repr",
  languagePreserved: "lang kept",
  fluency: "fluency",
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
  for (const n of s.notes) out += `note: ${n}\n`;
  if (s.table) out += `table: ${s.table}\n`;
  return out;
}

/** node:util parseArgs takes "-8,…" for a flag; glue a negative number list to its option instead. */
function glueNegativeValues(argv: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (flags.includes(argv[i]) && i + 1 < argv.length && /^-[\d.]/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export async function controlCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    glueNegativeValues(argv, ["--coefficients", "--temperature"]),
    {
      ...engineFlagSpec,
      vectors: { type: "string" },
      concept: { type: "string" },
      method: { type: "string" },
      source: { type: "string" },
      targets: { type: "string" },
      prompts: { type: "string" },
      dataset: { type: "string" },
      "data-root": { type: "string" },
      limit: { type: "string" },
      coefficients: { type: "string" },
      layers: { type: "string" },
      vector: { type: "string" },
      scale: { type: "string" },
      activations: { type: "string" },
      "representation-layer": { type: "string" },
      template: { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true },
      "judge-model": { type: "string" },
      "judge-template": { type: "string" },
      "judge-labels": { type: "string" },
      "judge-unsafe": { type: "string" },
      bootstrap: { type: "string" },
      out: { type: "string" },
      resume: { type: "boolean" },
      json: { type: "boolean" },
    },
    controlUsage,
  );
  const need = (flag: string, v: unknown) => {
    if (v === undefined) throw new UsageError(`--${flag} is required\n\n${controlUsage}`);
  };
  need("model", values.model);
  need("vectors", values.vectors);
  need("layers", values.layers);
  if (!values.prompts === !values.dataset) throw new UsageError(`give either --prompts or --dataset\n\n${controlUsage}`);
  const dataset = values.dataset ? choiceFlag("dataset", values.dataset, PROMPT_DATASETS, "multijail") : undefined;
  if (dataset) need("data-root", values["data-root"]);
  const concept = values.concept ?? (dataset ? PROMPT_DATASET_CONCEPT[dataset] : undefined);
  if (!concept) throw new UsageError("--concept is required with --prompts");
  const limit = values.limit === undefined ? undefined : intFlag("limit", values.limit, undefined, 1);
  const targets = listFlag(values.targets);
  const sources = listFlag(values.source) ?? ["en"];
  const coefficients = numberList("coefficients", values.coefficients, [-8, -4, 0, 4, 8]);
  const vector = choiceFlag("vector", values.vector, ["unit", "raw"] as const, "unit");
  const scale = choiceFlag("scale", values.scale, ["none", "residual"] as const, "none");
  if (scale === "residual" && !values.activations) throw new UsageError("--scale residual needs --activations");
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
    let template: PromptTemplate;
    const spec = values.template ?? (dataset === "rtp-lx" ? "raw" : "auto");
    if (spec === "auto") template = templateForModel({ arch: model.arch, name: model.name });
    else if (spec === "gguf") {
      if (!model.chatTemplate) throw new UsageError("--template gguf: this model has no chat template in its metadata");
      template = chatTemplate(model.chatTemplate);
    } else if (spec === "raw") template = RAW_TEMPLATE;
    else template = resolveTemplate(spec);
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
    if (interrupt.signal.aborted && values.out) throw new Error(`interrupted; finished rows are kept in ${values.out}/${CONTROL_TABLE}.partial — re-run with --resume to continue`);
    throw e;
  } finally {
    interrupt.dispose();
    session.dispose();
    model.dispose();
  }
}
