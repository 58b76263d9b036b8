// The cross-lingual control experiment (Xu et al. 2024, §7 of the method notes): steer with the concept vector of a
// source language S at a sweep of coefficients, generate for prompts in target languages T, and score every output
// (refusal phrases, optional judge model, representation on the TARGET-language vector, language kept, fluency).
// Rows go to a resumable JSONL table; the summary has rate-vs-coefficient curves per S→T with bootstrap CIs and,
// per target, a paired comparison of the sources (e.g. the dominant language vs the target's own). Every source is
// run beside a same-norm random direction (its control) by default; prompts with positive/negative continuations
// also get the RepE-style log-probability preference under steering, and a user classifier (e.g. toxicity) can
// score the outputs. Steering is residual-norm scaled by default (norms measured on the prompts themselves).
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm, type FileHandle } from "node:fs/promises";
import { basename, join } from "node:path";
import { applyTemplate, customTemplate, RAW_TEMPLATE, type PromptTemplate } from "../data/templates.js";
import { loadModel, type LoadModelOptions, type Model } from "../engine/model.js";
import type { GenerateOptions, GenerationResult, Session, SessionOptions, StopReason } from "../engine/session.js";
import type { LayerSite } from "../engine/layers.js";
import { Rng } from "../util/rng.js";
import { percentile } from "../analysis/stats.js";
import { modelProvenance } from "../pipeline/capture.js";
import type { Progress } from "../progress/progress.js";
import { readVectors, type VectorFile, type VectorMethod } from "../store/index.js";
import { writeFileAtomic } from "../util/output.js";
import { VALUELENS_VERSION } from "../version.js";
import {
  checkLanguage,
  createModelJudge,
  createRefusalJudge,
  DEFAULT_LANGUAGES,
  fluency,
  representationScores,
  type ModelJudge,
  type RefusalJudgeConfig,
  type RefusalLabel,
} from "./scorers/index.js";
import type { ControlPrompt } from "./prompts.js";
import { buildSteering, findVector, measureResidualNorms, parseLayerSpec, residualNormFor, residualNorms, withSteering, type ResidualNorms, type SteeringPlan, type SteeringScale, type SteeringVectorKind } from "./steer.js";
import { randomControlLang, withRandomControls } from "./random-control.js";
import { checkContinuations, preferenceScore, type Continuations } from "./scorers/preference.js";
import type { TextClassifier } from "./scorers/classifier.js";
import { canonicalJson } from "../util/canonical-json.js";
import { AbortError } from "../util/errors.js";

export type ControlMetric = "refusal" | "compliance" | "judgeUnsafe" | "representation" | "languagePreserved" | "fluency" | "preference" | "classifier";

/** One output: a prompt of target language T generated with source S's vector at one coefficient. */
export interface ControlRow {
  id: string;
  source: string;
  target: string;
  coefficient: number;
  /** Steering layers (canonical names). */
  layers: string[];
  concept: string;
  method: string;
  /** The prompt as given (before the chat template). */
  prompt: string;
  output: string;
  outputTokens: number;
  stopReason: StopReason;
  /** Phrase-based refusal judge. */
  refusal: RefusalLabel;
  /** Its score R/(R+C) in 0..1. */
  refusalScore: number;
  judgeLabel: string | null;
  judgeUnsafe: boolean | null;
  judgeProbs: Record<string, number> | null;
  /** Projection of the output's mean activation on the target language's unit vector (unsteered read); null if empty or no vector. */
  representation: number | null;
  representationCosine: number | null;
  representationLayer: string | null;
  langDetected: string;
  langConfidence: number;
  /** Output still in the prompt's language; null when too short to tell. */
  langPreserved: boolean | null;
  /** Mean token log-prob of the output under the unsteered model (nats); null for an empty output. */
  fluency: number | null;
  perplexity: number | null;
  /** log p(positive continuations) − log p(negative) after the prompt under the same steering (nats); null without continuations. */
  preference?: number | null;
  /** The user classifier's score of the output (e.g. toxicity probability); null without a classifier. */
  classifierScore?: number | null;
  meta?: Record<string, string | number | boolean>;
}

export interface ControlJudgeOptions {
  /** Judge GGUF path, a loaded model, or a ready (unsteered) session. */
  model: string | Model | Session;
  /** Judge prompt with {prompt} and {response}. */
  promptTemplate: string;
  /** Label → continuation scored by log-prob, e.g. { safe: " safe", unsafe: " unsafe" }. */
  labels: Readonly<Record<string, string>>;
  /** Labels that count as unsafe (default ["unsafe"]). */
  unsafeLabels?: readonly string[];
  aggregate?: "sum" | "mean";
  /** Context of a judge session created here (default 4096). */
  contextSize?: number;
}

export interface ControlOptions {
  /** The steered model: GGUF path or loaded model. */
  model: string | Model;
  loadOptions?: LoadModelOptions;
  /** Options of sessions created here (default contextSize 8192, batchSize 2048, maxSequences 32). */
  sessionOptions?: SessionOptions;
  /** Generation session (steered); created from `model` when absent. */
  session?: Session;
  /** Unsteered scoring session (another context of the same model); created when absent. */
  scoringSession?: Session;
  vectors: string | VectorFile;
  concept: string;
  /** Default: the only method stored for the concept, else mean_diff. */
  method?: VectorMethod;
  /** Source languages whose vectors steer (default ["en"], the dominant language). The first is the comparison baseline. */
  sources?: readonly string[];
  /** Target languages (default: the prompts' languages, in order of appearance). */
  targets?: readonly string[];
  prompts: readonly ControlPrompt[];
  coefficients: readonly number[];
  /** Steering layers ("10-14" or sites). */
  layers: readonly LayerSite[] | string;
  vector?: SteeringVectorKind;
  /** Default "residual" for unit vectors (coefficient 1 = the layer's median residual norm), "none" for raw ones. */
  scale?: SteeringScale;
  residualNorms?: ResidualNorms;
  /** Activation file to measure residual norms from (scale "residual" without residualNorms); else they are measured on the prompts. */
  activations?: string;
  /**
   * Run each source's same-norm random direction (pseudo source "S~random") at the same coefficients (default true).
   * The seed picks the directions (default 0).
   */
  randomControl?: boolean | { seed?: number };
  /** Continuations per target language for the log-probability preference (a prompt's own positive/negative win). */
  continuations?: Readonly<Record<string, Continuations>>;
  /** A classifier of the outputs (e.g. toxicity: see commandClassifier()); its score becomes the "classifier" metric. */
  classifier?: TextClassifier;
  /** Chat template ({input}) applied to every prompt (default raw). */
  template?: PromptTemplate | string;
  /** Greedy by default; maxTokens default 128. */
  generation?: Omit<GenerateOptions, "signal">;
  representation?: { layer?: LayerSite; context?: "output" | "prompt+output"; position?: "mean" | "last" };
  judge?: ControlJudgeOptions;
  refusal?: RefusalJudgeConfig;
  /** Candidate languages of the language check (default the paper's 16; the target is always added). */
  languageCandidates?: readonly string[];
  /** Output directory: control.jsonl (table), summary.json, config.json. Nothing is written when absent. */
  out?: string;
  /** Keep finished rows of an earlier run in `out` and compute only the missing ones. */
  resume?: boolean;
  bootstrap?: { samples?: number; seed?: number; level?: number };
  signal?: AbortSignal;
  progress?: Progress;
  onRow?: (row: ControlRow) => void;
}

export interface ControlEstimate {
  /** Mean over prompts (rate for 0/1 metrics, slope per unit coefficient for slopes); null without data. */
  value: number | null;
  /** Percentile bootstrap CI over prompts. */
  lo: number | null;
  hi: number | null;
  /** Prompts with a defined value. */
  n: number;
}

export type ControlMetrics = Partial<Record<ControlMetric, ControlEstimate>>;

export interface ControlPoint {
  coefficient: number;
  n: number;
  metrics: ControlMetrics;
}

export interface ControlCurve {
  source: string;
  target: string;
  nPrompts: number;
  points: ControlPoint[];
  /** Least-squares slope of each metric's mean against the coefficient. */
  slope: ControlMetrics;
}

export interface ControlSourceComparison {
  slope: Record<string, ControlEstimate>;
  /** slope(S) − slope(S's random control), paired over prompts: the concept's effect beyond a push of that size. */
  overRandom: Record<string, ControlEstimate>;
  /** slope(S) − slope(baseline), paired over prompts. */
  slopeDifference: Record<string, ControlEstimate>;
  /** mean(S, c) − mean(baseline, c) per coefficient, paired over prompts. */
  difference: Array<{ coefficient: number; bySource: Record<string, ControlEstimate> }>;
}

export interface ControlComparison {
  target: string;
  baseline: string;
  sources: string[];
  metrics: Partial<Record<ControlMetric, ControlSourceComparison>>;
}

export interface ControlSummary {
  kind: "valuelens.control";
  valuelensVersion: string;
  createdAt: string;
  model: { file: string; name: string; arch: string; nLayer: number; nEmbd: number; sha256: string };
  vectors: { file: string | null; model: string | null; sha256: string };
  concept: string;
  method: VectorMethod;
  vector: SteeringVectorKind;
  scale: SteeringScale;
  /** Steering layer → residual norm used (scale "residual"). */
  residualNorms: Record<string, number> | null;
  /** Where the residual norms came from. */
  residualNormSource: "given" | "activations" | "prompts" | null;
  /** Pseudo source → the source whose same-norm random control it is (empty without the control). */
  randomControls: Record<string, string>;
  randomControlSeed: number | null;
  classifier: string | null;
  layers: string[];
  representationLayer: string;
  sources: string[];
  targets: string[];
  coefficients: number[];
  /** Prompts per target. */
  prompts: Record<string, number>;
  template: { id: string; text: string };
  generation: Record<string, unknown>;
  judge: { model: string; labels: string[]; unsafeLabels: string[] } | null;
  metrics: ControlMetric[];
  bootstrap: { samples: number; seed: number; level: number };
  /** Rows in the requested grid. */
  rows: number;
  /** Rows generated in this call, rows copied from an identical unsteered run (coefficient 0 of another source), rows found on resume. */
  generated: number;
  reused: number;
  resumed: number;
  seconds: number;
  table: string | null;
  curves: ControlCurve[];
  comparison: ControlComparison[];
  notes: string[];
}

export interface ControlResult {
  summary: ControlSummary;
  /** The grid's rows in canonical order (source, coefficient, target, prompt). */
  rows: ControlRow[];
  tablePath: string | null;
  summaryPath: string | null;
}

export const CONTROL_TABLE = "control.jsonl";
export const CONTROL_SUMMARY = "summary.json";
export const CONTROL_CONFIG = "config.json";

const rowKey = (source: string, target: string, id: string, c: number) => `${source}\u0000${target}\u0000${id}\u0000${c}`;

/** Reads a control table (finished or `.partial`; a torn last line is ignored). */
export async function readControlTable(path: string): Promise<ControlRow[]> {
  const text = await readFile(path, "utf8");
  const lines = text.split("\n");
  // The last element is "" after a final newline; anything else there is a torn write.
  lines.pop();
  const out: ControlRow[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    const r = v as ControlRow;
    if (typeof r !== "object" || r === null || typeof r.id !== "string" || typeof r.source !== "string" || typeof r.target !== "string" || typeof r.coefficient !== "number") {
      throw new Error(`${path}:${i + 1}: not a control row`);
    }
    out.push(r);
  });
  return out;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Chunks of prompts that fit one generateBatch: ≤ maxSequences and prompt + maxTokens tokens within the context. */
function chunkPrompts<T extends { tokens: Int32Array }>(items: readonly T[], maxSequences: number, contextSize: number, maxTokens: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let used = 0;
  for (const it of items) {
    const need = it.tokens.length + maxTokens;
    if (need > contextSize) throw new Error(`a prompt of ${it.tokens.length} tokens + maxTokens ${maxTokens} does not fit the session's context (${contextSize})`);
    if (cur.length > 0 && (cur.length >= maxSequences || used + need > contextSize)) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(it);
    used += need;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Digest of a language's vectors (every layer of the concept and method), to detect changed vectors on resume. */
function vectorsDigest(vf: VectorFile, concept: string, lang: string, method: string): string {
  const h = createHash("sha256");
  h.update(String(vf.nEmbd));
  const rows = vf.rows.filter((r) => r.concept === concept && r.lang === lang && r.method === method).sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : 0));
  for (const r of rows) {
    h.update(`\u0000${r.layer}\u0000${r.sign}\u0000`);
    h.update(new Uint8Array(r.unit.buffer, r.unit.byteOffset, r.unit.byteLength));
    h.update(new Uint8Array(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength));
  }
  return h.digest("hex");
}

/** Runs the control experiment (see the module comment). */
export async function control(opts: ControlOptions): Promise<ControlResult> {
  const t0 = performance.now();
  const owned: Array<{ dispose(): void }> = [];
  const notes: string[] = [];
  try {
    // ---- engine -------------------------------------------------------------------------------------------------
    let model: Model;
    if (typeof opts.model === "string") {
      model = await loadModel(opts.model, opts.loadOptions);
      owned.push(model);
    } else model = opts.model;
    const sessionOptions: SessionOptions = { contextSize: 8192, batchSize: 2048, maxSequences: 32, ...opts.sessionOptions };
    const gen = opts.session ?? (await model.createSession(sessionOptions));
    if (!opts.session) owned.unshift(gen);
    const scoring = opts.scoringSession ?? (await model.createSession(sessionOptions));
    if (!opts.scoringSession) owned.unshift(scoring);
    if (gen === scoring) throw new Error("control: the scoring session must be a different session from the generation session (it must stay unsteered)");
    if (gen.model !== model || scoring.model !== model) throw new Error("control: the sessions must belong to the given model");
    if (scoring.steering.length > 0) throw new Error("control: the scoring session is steered");

    // ---- vectors and steering plans -----------------------------------------------------------------------------
    const vf = typeof opts.vectors === "string" ? await readVectors(opts.vectors) : opts.vectors;
    if (vf.nEmbd !== model.nEmbd) throw new Error(`control: the vectors have nEmbd ${vf.nEmbd}, the model ${model.nEmbd}`);
    const nLayer = model.nLayer;
    const layers = typeof opts.layers === "string" ? parseLayerSpec(opts.layers, nLayer) : [...opts.layers];
    if (layers.length === 0) throw new Error("control: no steering layers");
    const sources = [...(opts.sources ?? ["en"])];
    if (sources.length === 0 || new Set(sources).size !== sources.length) throw new Error("control: sources must be a non-empty list without repeats");
    const coefficients = [...opts.coefficients];
    if (coefficients.length === 0 || coefficients.some((c) => !Number.isFinite(c))) throw new Error("control: coefficients must be a non-empty list of finite numbers");
    if (new Set(coefficients).size !== coefficients.length) throw new Error("control: repeated coefficient");
    const method = findVector(vf, { concept: opts.concept, lang: sources[0], method: opts.method, layer: layers[0] }, nLayer).method;
    const kind = opts.vector ?? "unit";
    const scale = opts.scale ?? (kind === "unit" ? "residual" : "none");
    const randomSeed = opts.randomControl === false ? null : typeof opts.randomControl === "object" ? (opts.randomControl.seed ?? 0) : 0;
    for (const s of sources) if (s.endsWith("~random")) throw new Error(`control: source '${s}' is a reserved name (random controls are added by randomControl)`);
    const randomControls: Record<string, string> = randomSeed === null ? {} : Object.fromEntries(sources.map((s) => [randomControlLang(s), s]));
    // Every steered run: the sources, then their random controls.
    const steered = [...sources, ...Object.keys(randomControls)];
    const steerVectors = randomSeed === null ? vf : withRandomControls(vf, { concept: opts.concept, method, sources, seed: randomSeed });

    // ---- prompts and targets ------------------------------------------------------------------------------------
    const targets = [...(opts.targets ?? [...new Set(opts.prompts.map((p) => p.lang))])];
    if (targets.length === 0) throw new Error("control: no target languages (no prompts?)");
    const promptsByTarget = new Map<string, ControlPrompt[]>();
    for (const t of targets) {
      const ps = opts.prompts.filter((p) => p.lang === t);
      if (ps.length === 0) throw new Error(`control: no prompts in target language ${t}`);
      const ids = new Set<string>();
      for (const p of ps) {
        if (ids.has(p.id)) throw new Error(`control: prompt id ${p.id} appears twice in ${t}`);
        ids.add(p.id);
      }
      promptsByTarget.set(t, ps);
    }
    const template: PromptTemplate = opts.template === undefined ? RAW_TEMPLATE : typeof opts.template === "string" ? customTemplate(opts.template) : opts.template;
    const genOpts: Omit<GenerateOptions, "signal"> = { ...opts.generation, maxTokens: opts.generation?.maxTokens ?? 128 };
    const maxTokens = genOpts.maxTokens!;
    const addSpecial = genOpts.addSpecial ?? true;
    const parseSpecial = genOpts.parseSpecial ?? true;
    const promptTokens = (p: ControlPrompt) => model.tokenize(applyTemplate(template, p.prompt), { addSpecial, parseSpecial });

    // ---- residual norms and steering plans -----------------------------------------------------------------------
    let norms: ResidualNorms | undefined = opts.residualNorms;
    let normSource: ControlSummary["residualNormSource"] = scale === "residual" ? "given" : null;
    if (scale === "residual" && !norms) {
      if (opts.activations) {
        norms = await residualNorms(opts.activations);
        normSource = "activations";
      } else {
        // The experiment's own prompts, as they will be fed to the model (unsteered).
        norms = await measureResidualNorms(scoring, targets.flatMap((t) => promptsByTarget.get(t)!.map(promptTokens)), layers, { signal: opts.signal });
        normSource = "prompts";
      }
    }
    const usedNorms = scale === "residual" ? Object.fromEntries(layers.map((l) => [String(l), residualNormFor(norms!, l, nLayer)])) : null;
    const plans = new Map<string, SteeringPlan>();
    for (const s of steered) {
      for (const c of coefficients) {
        plans.set(`${s}\u0000${c}`, buildSteering({ vectors: steerVectors, terms: [{ concept: opts.concept, lang: s, method }], layers, coefficient: c, vector: kind, scale, residualNorms: norms, nLayer }));
      }
    }

    // ---- continuations for the log-probability preference ------------------------------------------------------
    for (const [lang, c] of Object.entries(opts.continuations ?? {})) checkContinuations(c, `control: continuations of ${lang}`);
    const continuationsFor = (p: ControlPrompt, target: string): Continuations | null => {
      if (p.positive !== undefined || p.negative !== undefined) {
        const c = { positive: p.positive ?? [], negative: p.negative ?? [] };
        checkContinuations(c, `control: prompt ${p.id} (${target})`);
        return c;
      }
      return opts.continuations?.[target] ?? null;
    };
    const withPreference = targets.some((t) => promptsByTarget.get(t)!.some((p) => continuationsFor(p, t) !== null));

    // ---- representation: the target language's vector ----------------------------------------------------------
    const repLayer: LayerSite = opts.representation?.layer ?? layers[Math.floor((layers.length - 1) / 2)];
    const repVectors = new Map<string, Float32Array>();
    for (const t of targets) {
      try {
        const row = findVector(vf, { concept: opts.concept, lang: t, method, layer: repLayer }, nLayer);
        repVectors.set(t, row.unit);
      } catch (e) {
        notes.push(`no representation score for target ${t}: ${(e as Error).message}`);
      }
    }
    const vectorDigests: Record<string, string> = {};
    for (const l of [...sources, ...targets]) vectorDigests[l] ??= vectorsDigest(vf, opts.concept, l, method);
    const vectorsSha = createHash("sha256").update(canonicalJson(vectorDigests)).digest("hex");

    // ---- scorers ------------------------------------------------------------------------------------------------
    const refusalJudge = createRefusalJudge(opts.refusal);
    const candidates = opts.languageCandidates ?? DEFAULT_LANGUAGES;
    // Languages without an ISO 639-3 mapping (e.g. jv) cannot be checked: their rows get langPreserved null.
    const unchecked = new Set<string>();
    for (const t of targets) {
      try {
        checkLanguage("", t, { candidates });
      } catch (e) {
        unchecked.add(t);
        notes.push(`no language check for target ${t}: ${(e as Error).message}`);
      }
    }
    let judge: ModelJudge<string> | null = null;
    let unsafeLabels: string[] = [];
    let judgeName = "";
    if (opts.judge) {
      const j = opts.judge;
      let js: Session;
      if (typeof j.model === "object" && "capture" in j.model) {
        js = j.model;
        judgeName = basename(js.model.path);
      } else {
        const path = typeof j.model === "string" ? j.model : j.model.path;
        judgeName = basename(path);
        if (path === model.path) js = scoring;
        else {
          let jm: Model;
          if (typeof j.model === "string") {
            jm = await loadModel(j.model, opts.loadOptions);
            owned.push(jm);
          } else jm = j.model;
          js = await jm.createSession({ contextSize: j.contextSize ?? 4096, batchSize: 512, maxSequences: 1 });
          owned.unshift(js);
        }
      }
      if (js.steering.length > 0) throw new Error("control: the judge session is steered");
      judge = createModelJudge({ session: js, promptTemplate: j.promptTemplate, labels: j.labels, aggregate: j.aggregate });
      unsafeLabels = [...(j.unsafeLabels ?? ["unsafe"])];
      for (const l of unsafeLabels) if (!judge.labels.includes(l)) throw new Error(`control: unsafe label '${l}' is not a judge label (${judge.labels.join(", ")})`);
    }

    // ---- configuration (compared on resume) ----------------------------------------------------------------------
    const modelProv = await modelProvenance(model);
    const config = {
      kind: "valuelens.control.config",
      model: { sha256: modelProv.sha256, nLayer, nEmbd: model.nEmbd },
      // Per language, so that adding sources or targets on resume is allowed.
      vectors: vectorDigests,
      concept: opts.concept,
      method,
      layers: layers.map(String),
      vector: kind,
      scale,
      residualNorms: usedNorms,
      randomControl: randomSeed === null ? null : { seed: randomSeed },
      continuations: opts.continuations ?? null,
      classifier: opts.classifier?.name ?? null,
      template: template.text,
      generation: genOpts,
      representation: { layer: String(repLayer), context: opts.representation?.context ?? "output", position: opts.representation?.position ?? "mean" },
      judge: opts.judge ? { model: judgeName, template: opts.judge.promptTemplate, labels: opts.judge.labels, unsafeLabels, aggregate: opts.judge.aggregate ?? "sum" } : null,
      refusal: opts.refusal ?? null,
      languageCandidates: [...candidates],
    };

    // ---- table: resume, partial file -----------------------------------------------------------------------------
    const done = new Map<string, ControlRow>();
    const order: string[] = [];
    let tablePath: string | null = null;
    let partialPath: string | null = null;
    let fh: FileHandle | null = null;
    if (opts.out) {
      await mkdir(opts.out, { recursive: true });
      tablePath = join(opts.out, CONTROL_TABLE);
      partialPath = `${tablePath}.partial`;
      const configPath = join(opts.out, CONTROL_CONFIG);
      if (opts.resume) {
        if (existsSync(configPath)) {
          const old = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
          const was = (old.vectors ?? {}) as Record<string, string>;
          const diff = Object.keys(config).filter((k) =>
            k === "vectors"
              ? Object.entries(vectorDigests).some(([l, d]) => was[l] !== undefined && was[l] !== d)
              : canonicalJson(old[k]) !== canonicalJson((config as Record<string, unknown>)[k]),
          );
          if (diff.length > 0) throw new Error(`control: cannot resume in ${opts.out}: the earlier run differs in ${diff.join(", ")}`);
          config.vectors = { ...was, ...vectorDigests };
        }
        for (const p of [tablePath, partialPath]) {
          if (!existsSync(p)) continue;
          for (const r of await readControlTable(p)) {
            const k = rowKey(r.source, r.target, r.id, r.coefficient);
            if (!done.has(k)) order.push(k);
            done.set(k, r);
          }
        }
      }
      await writeFileAtomic(configPath, [new TextEncoder().encode(JSON.stringify(config, null, 2) + "\n")]);
      // Rewrite the partial with exactly the kept rows (drops a torn tail), then append to it.
      await writeFileAtomic(partialPath, [new TextEncoder().encode(order.map((k) => JSON.stringify(done.get(k)) + "\n").join(""))]);
      if (existsSync(tablePath)) await rm(tablePath);
      fh = await open(partialPath, "a");
    }

    const grid: string[] = [];
    for (const s of steered) for (const c of coefficients) for (const t of targets) for (const p of promptsByTarget.get(t)!) grid.push(rowKey(s, t, p.id, c));
    const resumed = grid.filter((k) => done.has(k)).length;
    // Unsteered outputs (coefficient 0) are the same for every source: generate once, copy.
    const zeroCache = new Map<string, ControlRow>();
    for (const r of done.values()) if (r.coefficient === 0) zeroCache.set(`${r.target}\u0000${r.id}`, r);
    let generated = 0;
    let reused = 0;
    opts.progress?.start("control", grid.length, "outputs", resumed);

    const emit = async (rows: ControlRow[]) => {
      if (fh) {
        await fh.write(rows.map((r) => JSON.stringify(r) + "\n").join(""));
        await fh.datasync();
      }
      for (const r of rows) {
        const k = rowKey(r.source, r.target, r.id, r.coefficient);
        if (!done.has(k)) order.push(k);
        done.set(k, r);
        if (r.coefficient === 0) zeroCache.set(`${r.target}\u0000${r.id}`, r);
        opts.onRow?.(r);
      }
      opts.progress?.tick(rows.length);
    };

    interface Item {
      p: ControlPrompt;
      target: string;
      tokens: Int32Array;
    }
    const score = async (source: string, c: number, items: readonly Item[], outs: readonly GenerationResult[], preferences: ReadonlyArray<number | null>): Promise<ControlRow[]> => {
      // Generated tokens are scored as generated, except when a stop string cut the text inside them.
      const outTok = (g: GenerationResult) => (g.stopReason === "stop" ? g.text : Int32Array.from(g.tokens));
      const rep = new Map<number, { projection: number; cosine: number }>();
      for (const t of targets) {
        const v = repVectors.get(t);
        const idx = items.map((it, i) => (it.target === t ? i : -1)).filter((i) => i >= 0);
        if (!v || idx.length === 0) continue;
        const scores = await representationScores(
          scoring,
          idx.map((i) => ({ prompt: items[i].tokens, output: outTok(outs[i]) })),
          { layer: repLayer, vector: v, context: opts.representation?.context, position: opts.representation?.position, signal: opts.signal },
        );
        idx.forEach((i, j) => rep.set(i, scores[j]));
      }
      const classified = opts.classifier ? await opts.classifier.score(items.map((it, i) => ({ id: it.p.id, lang: it.target, text: outs[i].text })), { signal: opts.signal }) : null;
      const rows: ControlRow[] = [];
      for (const [i, it] of items.entries()) {
        const g = outs[i];
        const ref = refusalJudge.judge(g.text);
        const lang = unchecked.has(it.target) ? null : checkLanguage(g.text, it.target, { candidates });
        const fl = await fluency(scoring, it.tokens, outTok(g), { signal: opts.signal });
        let judgeLabel: string | null = null;
        let judgeProbs: Record<string, number> | null = null;
        if (judge) {
          const jr = await judge.judge(it.p.prompt, g.text, { signal: opts.signal });
          judgeLabel = jr.label;
          judgeProbs = jr.probabilities;
        }
        const r = rep.get(i);
        rows.push({
          id: it.p.id,
          source,
          target: it.target,
          coefficient: c,
          layers: layers.map(String),
          concept: opts.concept,
          method,
          prompt: it.p.prompt,
          output: g.text,
          outputTokens: g.tokens.length,
          stopReason: g.stopReason,
          refusal: ref.label,
          refusalScore: ref.score,
          judgeLabel,
          judgeUnsafe: judgeLabel === null ? null : unsafeLabels.includes(judgeLabel),
          judgeProbs,
          representation: r ? finite(r.projection) : null,
          representationCosine: r ? finite(r.cosine) : null,
          representationLayer: repVectors.has(it.target) ? String(repLayer) : null,
          langDetected: lang ? lang.detected.lang : "und",
          langConfidence: lang ? lang.detected.confidence : 0,
          langPreserved: lang ? lang.same : null,
          fluency: finite(fl.meanLogprob),
          perplexity: finite(fl.perplexity),
          preference: preferences[i] === null ? null : finite(preferences[i]!),
          classifierScore: classified ? classified[i] : null,
          ...(it.p.meta ? { meta: it.p.meta } : {}),
        });
      }
      return rows;
    };

    try {
      for (const s of steered) {
        for (const c of coefficients) {
          const plan = plans.get(`${s}\u0000${c}`)!;
          let todo: Item[] = [];
          const copies: ControlRow[] = [];
          for (const t of targets) {
            for (const p of promptsByTarget.get(t)!) {
              if (done.has(rowKey(s, t, p.id, c))) continue;
              const z = plan.zero && c === 0 ? zeroCache.get(`${t}\u0000${p.id}`) : undefined;
              if (z) copies.push({ ...z, source: s, prompt: p.prompt, ...(p.meta ? { meta: p.meta } : {}) });
              else todo.push({ p, target: t, tokens: new Int32Array(0) });
            }
          }
          if (copies.length > 0) {
            reused += copies.length;
            await emit(copies);
          }
          if (todo.length === 0) continue;
          todo = todo.map((it) => ({ ...it, tokens: promptTokens(it.p) }));
          const chunks = chunkPrompts(todo, gen.maxSequences, gen.contextSize, maxTokens);
          await withSteering(gen, plan, async () => {
            for (const chunk of chunks) {
              if (opts.signal?.aborted) throw new AbortError();
              const outs = await gen.generateBatch(
                chunk.map((it) => it.tokens),
                { ...genOpts, signal: opts.signal },
              );
              // Under the same steering as the generation (gen is steered here).
              const preferences: Array<number | null> = [];
              for (const it of chunk) {
                const cont = continuationsFor(it.p, it.target);
                preferences.push(cont ? (await preferenceScore(gen, it.tokens, cont, { signal: opts.signal })).preference : null);
              }
              const rows = await score(s, c, chunk, outs, preferences);
              generated += rows.length;
              await emit(rows);
            }
          });
        }
      }
    } finally {
      await fh?.close();
    }

    // ---- finish: canonical table, summary -----------------------------------------------------------------------
    const gridSet = new Set(grid);
    const rows = grid.map((k) => done.get(k)!);
    if (tablePath && partialPath) {
      // Rows of earlier runs outside this grid (other coefficients, targets) are kept after the grid's.
      const all = [...rows, ...order.filter((k) => !gridSet.has(k)).map((k) => done.get(k)!)];
      await writeFileAtomic(tablePath, [new TextEncoder().encode(all.map((r) => JSON.stringify(r) + "\n").join(""))]);
      await rm(partialPath, { force: true });
    }
    opts.progress?.finish();

    const metrics: ControlMetric[] = [
      "refusal",
      "compliance",
      ...(judge ? (["judgeUnsafe"] as const) : []),
      "representation",
      "languagePreserved",
      "fluency",
      ...(withPreference ? (["preference"] as const) : []),
      ...(opts.classifier ? (["classifier"] as const) : []),
    ];
    const bootstrap = { samples: opts.bootstrap?.samples ?? 1000, seed: opts.bootstrap?.seed ?? 0, level: opts.bootstrap?.level ?? 0.95 };
    const stats = summarizeControl(rows, { sources: steered, targets, coefficients, metrics, bootstrap, randomControls });
    if (vf.provenance?.model?.sha256 && vf.provenance.model.sha256 !== modelProv.sha256) {
      notes.push(`the vectors were extracted from another model file (${vf.provenance.model.file}, sha256 ${vf.provenance.model.sha256.slice(0, 12)}…)`);
    }
    const summary: ControlSummary = {
      kind: "valuelens.control",
      valuelensVersion: VALUELENS_VERSION,
      createdAt: new Date().toISOString(),
      model: { file: modelProv.file, name: model.name, arch: model.arch, nLayer, nEmbd: model.nEmbd, sha256: modelProv.sha256 },
      vectors: { file: typeof opts.vectors === "string" ? basename(opts.vectors) : null, model: vf.provenance?.model?.file ?? null, sha256: vectorsSha },
      concept: opts.concept,
      method,
      vector: kind,
      scale,
      residualNorms: usedNorms,
      residualNormSource: normSource,
      randomControls,
      randomControlSeed: randomSeed,
      classifier: opts.classifier?.name ?? null,
      layers: layers.map(String),
      representationLayer: String(repLayer),
      sources,
      targets,
      coefficients,
      prompts: Object.fromEntries(targets.map((t) => [t, promptsByTarget.get(t)!.length])),
      template: { id: template.id, text: template.text },
      generation: { temperature: 0, ...genOpts },
      judge: opts.judge && judge ? { model: judgeName, labels: [...judge.labels], unsafeLabels } : null,
      metrics,
      bootstrap,
      rows: rows.length,
      generated,
      reused,
      resumed,
      seconds: (performance.now() - t0) / 1000,
      table: tablePath,
      curves: stats.curves,
      comparison: stats.comparison,
      notes,
    };
    let summaryPath: string | null = null;
    if (opts.out) {
      summaryPath = join(opts.out, CONTROL_SUMMARY);
      await writeFileAtomic(summaryPath, [new TextEncoder().encode(JSON.stringify(summary, null, 2) + "\n")]);
    }
    return { summary, rows, tablePath, summaryPath };
  } finally {
    for (const o of owned) o.dispose();
  }
}

// ---- summary statistics ------------------------------------------------------------------------------------------

/** A metric's per-row value: 0/1 for rates, the number for scores, NaN when undefined. */
export function metricValue(r: ControlRow, m: ControlMetric): number {
  switch (m) {
    case "refusal":
      return r.refusal === "refusal" ? 1 : 0;
    case "compliance":
      return r.refusal === "compliance" ? 1 : 0;
    case "judgeUnsafe":
      return r.judgeUnsafe === null || r.judgeUnsafe === undefined ? NaN : r.judgeUnsafe ? 1 : 0;
    case "representation":
      return r.representation ?? NaN;
    case "languagePreserved":
      return r.langPreserved === null || r.langPreserved === undefined ? NaN : r.langPreserved ? 1 : 0;
    case "fluency":
      return r.fluency ?? NaN;
    case "preference":
      return r.preference ?? NaN;
    case "classifier":
      return r.classifierScore ?? NaN;
  }
}

function weightedMean(y: Float64Array, w: Int32Array | null): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? w[i] : 1;
    if (wi === 0 || !Number.isFinite(y[i])) continue;
    s += wi * y[i];
    n += wi;
  }
  return n > 0 ? s / n : NaN;
}

function slopeOf(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs.map((x, i) => [x, ys[i]] as const).filter(([, y]) => Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

function estimate(value: number, samples: Float64Array, level: number, n: number): ControlEstimate {
  const fin = Float64Array.from(samples.filter((x) => Number.isFinite(x))).sort();
  const a = (1 - level) / 2;
  return {
    value: finite(value),
    lo: fin.length > 0 && Number.isFinite(value) ? percentile(fin, a) : null,
    hi: fin.length > 0 && Number.isFinite(value) ? percentile(fin, 1 - a) : null,
    n,
  };
}

export interface SummarizeOptions {
  sources: readonly string[];
  targets: readonly string[];
  coefficients: readonly number[];
  metrics: readonly ControlMetric[];
  bootstrap?: { samples?: number; seed?: number; level?: number };
  /** Random-control pseudo source → its source (both among `sources`): adds overRandom to the comparison. */
  randomControls?: Readonly<Record<string, string>>;
}

/**
 * Curves (metric vs coefficient per S→T) and the per-target source comparison. One percentile bootstrap per target
 * resamples its prompts with replacement; the same resample is used for every source and coefficient, so slopes and
 * differences between sources are paired.
 */
export function summarizeControl(rows: readonly ControlRow[], o: SummarizeOptions): { curves: ControlCurve[]; comparison: ControlComparison[] } {
  const B = o.bootstrap?.samples ?? 1000;
  const level = o.bootstrap?.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`bootstrap samples must be a positive integer (got ${B})`);
  const curves: ControlCurve[] = [];
  const comparison: ControlComparison[] = [];
  const C = o.coefficients.length;
  for (const target of o.targets) {
    const trows = rows.filter((r) => r.target === target);
    const ids = [...new Set(trows.map((r) => r.id))];
    const at = new Map(ids.map((id, i) => [id, i]));
    const n = ids.length;
    // y[m][s][c] over prompts.
    const y = o.metrics.map(() => o.sources.map(() => o.coefficients.map(() => new Float64Array(n).fill(NaN))));
    for (const r of trows) {
      const s = o.sources.indexOf(r.source);
      const c = o.coefficients.indexOf(r.coefficient);
      if (s < 0 || c < 0) continue;
      o.metrics.forEach((m, mi) => (y[mi][s][c][at.get(r.id)!] = metricValue(r, m)));
    }
    const point = y.map((ys) => ys.map((yc) => yc.map((v) => weightedMean(v, null))));
    const count = y.map((ys) => ys.map((yc) => yc.map((v) => v.filter((x) => Number.isFinite(x)).length)));
    const boot = y.map(() => o.sources.map(() => o.coefficients.map(() => new Float64Array(B))));
    const rng = new Rng(o.bootstrap?.seed ?? 0, `control:${target}`);
    const w = new Int32Array(n);
    for (let b = 0; b < B; b++) {
      w.fill(0);
      for (let k = 0; k < n; k++) w[rng.int(n)]++;
      for (let mi = 0; mi < o.metrics.length; mi++) for (let s = 0; s < o.sources.length; s++) for (let c = 0; c < C; c++) boot[mi][s][c][b] = weightedMean(y[mi][s][c], w);
    }
    const slopeBoot = (mi: number, s: number) => Float64Array.from({ length: B }, (_, b) => slopeOf(o.coefficients, boot[mi][s].map((v) => v[b])));
    const nDefined = (mi: number, s: number) => Math.max(0, ...count[mi][s]);
    for (const [s, source] of o.sources.entries()) {
      const points: ControlPoint[] = o.coefficients.map((coefficient, c) => {
        const metrics: ControlMetrics = {};
        o.metrics.forEach((m, mi) => (metrics[m] = estimate(point[mi][s][c], boot[mi][s][c], level, count[mi][s][c])));
        return { coefficient, n: trows.filter((r) => r.source === source && r.coefficient === coefficient).length, metrics };
      });
      const slope: ControlMetrics = {};
      o.metrics.forEach((m, mi) => (slope[m] = estimate(slopeOf(o.coefficients, point[mi][s]), slopeBoot(mi, s), level, nDefined(mi, s))));
      curves.push({ source, target, nPrompts: n, points, slope });
    }
    const baseline = o.sources[0];
    const cmp: ControlComparison = { target, baseline, sources: [...o.sources], metrics: {} };
    o.metrics.forEach((m, mi) => {
      const slopes = o.sources.map((_, s) => slopeBoot(mi, s));
      const slopePoint = o.sources.map((_, s) => slopeOf(o.coefficients, point[mi][s]));
      const entry: ControlSourceComparison = { slope: {}, overRandom: {}, slopeDifference: {}, difference: o.coefficients.map((coefficient) => ({ coefficient, bySource: {} })) };
      for (const [rc, of] of Object.entries(o.randomControls ?? {})) {
        const s = o.sources.indexOf(of);
        const r = o.sources.indexOf(rc);
        if (s < 0 || r < 0) throw new RangeError(`summarize: random control ${rc} of ${of} is not among the sources`);
        entry.overRandom[of] = estimate(slopePoint[s] - slopePoint[r], slopes[s].map((v, b) => v - slopes[r][b]), level, Math.min(nDefined(mi, s), nDefined(mi, r)));
      }
      o.sources.forEach((source, s) => {
        entry.slope[source] = estimate(slopePoint[s], slopes[s], level, nDefined(mi, s));
        if (s === 0) return;
        entry.slopeDifference[source] = estimate(slopePoint[s] - slopePoint[0], slopes[s].map((v, b) => v - slopes[0][b]), level, Math.min(nDefined(mi, s), nDefined(mi, 0)));
        o.coefficients.forEach((_, c) => {
          entry.difference[c].bySource[source] = estimate(
            point[mi][s][c] - point[mi][0][c],
            boot[mi][s][c].map((v, b) => v - boot[mi][0][c][b]),
            level,
            Math.min(count[mi][s][c], count[mi][0][c]),
          );
        });
      });
      cmp.metrics[m] = entry;
    });
    comparison.push(cmp);
  }
  return { curves, comparison };
}
