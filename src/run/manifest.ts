// Experiment manifests (YAML or JSON): which models, data, concepts, languages, methods, layers and analyses a
// run covers. A hand-written validator reports every problem with the key path it was found at, rejects
// unknown keys (a typo must not silently fall back to a default) and fills in the defaults, so the normalised
// manifest — and its hash — is the complete description of the run.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { BUILTIN_TEMPLATES, INPUT_PLACEHOLDER } from "../data/templates.js";
import { parseLayerSite } from "../engine/layers.js";
import { EXTRACT_METHODS, type ExtractMethod } from "../extract/index.js";
import { canonicalJson } from "../util/canonical-json.js";
import { ValuelensError } from "../util/errors.js";
import type { SessionOptions } from "../engine/session.js";

export const MANIFEST_VERSION = 1;
export const ANALYSES = ["recognition", "similarity", "transfer", "correlation", "control"] as const;
export type AnalysisName = (typeof ANALYSES)[number];
/** Analyses run when the manifest lists none (control needs a registered runner, see registry.ts). */
export const DEFAULT_ANALYSES: readonly AnalysisName[] = ["recognition", "similarity", "transfer", "correlation"];

/** Names used as folder names (model ids, concepts, languages): no separators, no "..". */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A model's session options (defaults: withSessionDefaults); the capture hooks are the runner's business. */
export type SessionSpec = Omit<SessionOptions, "hooks">;

/** A synthetic llama model the run writes itself (src/gguf synthModel / synthPlantedModel). */
export interface SynthModelSpec {
  /** llama-spm | qwen2 | builtin | a vocab GGUF path (tokenizer copied from it). */
  vocab: string;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ff: number;
  context: number;
  type: "f32" | "f16" | "q8_0";
  seed: number;
  blockScale: number;
  normNoise: number;
  /** Plant the words of `data.synth` (one direction per concept and language at the given angles). */
  plant: boolean;
  /** Strength of the planted directions in the embeddings. */
  alpha: number;
}

export interface ModelSpec {
  /** Folder name and key in results. */
  id: string;
  /** A GGUF file (relative paths are relative to the manifest's folder). */
  path?: string;
  synth?: SynthModelSpec;
  /** Built-in template id, "auto" (from the model's name), "gguf" (its chat template) or a text with {input}. */
  template: string;
  gpuLayers?: number;
  /** llama.cpp rpc-server endpoints ("host:port") the layers are spread over. */
  rpc?: string[];
  session: SessionSpec;
  /** Relative cost of one text on this model, for balancing shards (default 1). */
  weight: number;
}

/** A planted multilingual dataset the run generates (see synth-world.ts). */
export interface SynthDataSpec {
  /** Vocabulary the words are drawn from (single-token words of it). */
  vocab: string;
  seed: number;
  /** Pairs per (concept, language); ids are shared across languages. */
  items: number;
  /** Planted words per side and (concept, language). */
  wordsPerSide: number;
  /** Filler words per language (the shared prefix of a pair). */
  fillerWords: number;
  /** concept → language → angle (degrees, 0–90) of its direction to the concept's base direction. */
  angles: Record<string, Record<string, number>>;
}

export interface DataSpec {
  /** MVALUE folder or a .jsonl file of pairs. */
  path?: string;
  datasets?: string[];
  dataRoot?: string;
  adapterOptions?: Record<string, unknown>;
  synth?: SynthDataSpec;
}

export interface Manifest {
  version: 1;
  name?: string;
  models: ModelSpec[];
  data: DataSpec;
  concepts: string[];
  languages: string[];
  methods: ExtractMethod[];
  /** "all" or a layer list such as "1-12,final_norm" (checked against each model's depth at run time). */
  layers: string;
  position: "last" | "mean";
  split: { seed: number; trainFraction: number; valFraction: number };
  analyses: AnalysisName[];
  analysis: { ties: "correct" | "incorrect"; bootstrap: number; highResource?: string[]; similarityLayer?: string };
  extract: { seed: number };
  capture: { chunkTexts: number };
  output: { f16: boolean };
}

export class ManifestError extends ValuelensError {
  constructor(readonly issues: string[]) {
    super("VALUELENS_BAD_MANIFEST", `invalid manifest:\n  ${issues.join("\n  ")}`);
  }
}

type Obj = Record<string, unknown>;

class Checker {
  readonly issues: string[] = [];
  fail(path: string, msg: string): undefined {
    this.issues.push(`${path || "(top level)"}: ${msg}`);
    return undefined;
  }
  object(v: unknown, path: string, allowed: readonly string[]): Obj | undefined {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(path, `must be a mapping, got ${describe(v)}`);
    const o = v as Obj;
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(join(path, k), `unknown key (allowed: ${allowed.join(", ")})`);
    return o;
  }
  string(v: unknown, path: string, opts: { pattern?: RegExp; what?: string } = {}): string | undefined {
    if (typeof v !== "string" || v.length === 0) return this.fail(path, `must be a non-empty string, got ${describe(v)}`);
    if (opts.pattern && !opts.pattern.test(v)) return this.fail(path, `'${v}' is not a valid ${opts.what ?? "name"} (letters, digits, '.', '_', '-'; no '/')`);
    return v;
  }
  int(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof v !== "number" || !Number.isInteger(v)) return this.fail(path, `must be an integer, got ${describe(v)}`);
    if (v < min || v > max) return this.fail(path, `must be between ${min} and ${max}, got ${v}`);
    return v;
  }
  number(v: unknown, path: string, test: (x: number) => boolean, range: string): number | undefined {
    if (typeof v !== "number" || !Number.isFinite(v)) return this.fail(path, `must be a number, got ${describe(v)}`);
    if (!test(v)) return this.fail(path, `must be ${range}, got ${v}`);
    return v;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (typeof v !== "boolean") return this.fail(path, `must be true or false, got ${describe(v)}`);
    return v;
  }
  choice<T extends string>(v: unknown, path: string, choices: readonly T[]): T | undefined {
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) return this.fail(path, `must be one of ${choices.join(", ")}, got ${describe(v)}`);
    return v as T;
  }
  list<T>(v: unknown, path: string, item: (x: unknown, p: string) => T | undefined, opts: { nonEmpty?: boolean; unique?: boolean } = {}): T[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `must be a list, got ${describe(v)}`);
    if (opts.nonEmpty && v.length === 0) return this.fail(path, "must not be empty");
    const out: T[] = [];
    let ok = true;
    v.forEach((x, i) => {
      const r = item(x, `${path}[${i}]`);
      if (r === undefined) ok = false;
      else if (opts.unique && out.includes(r)) {
        this.fail(`${path}[${i}]`, `duplicate '${String(r)}'`);
        ok = false;
      } else out.push(r);
    });
    return ok ? out : undefined;
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

const TEMPLATE_CHOICES = [...Object.keys(BUILTIN_TEMPLATES), "auto", "gguf"];

function checkTemplate(c: Checker, v: unknown, path: string): string | undefined {
  if (typeof v !== "string" || v.length === 0) return c.fail(path, `must be a template id or text, got ${describe(v)}`);
  if (TEMPLATE_CHOICES.includes(v)) return v;
  if (v.includes(INPUT_PLACEHOLDER)) {
    if (v.split(INPUT_PLACEHOLDER).length !== 2) return c.fail(path, `a template text must contain ${INPUT_PLACEHOLDER} exactly once`);
    return v;
  }
  return c.fail(path, `unknown template '${v}' (use ${TEMPLATE_CHOICES.join(", ")} or a text containing ${INPUT_PLACEHOLDER})`);
}

/** Canonical layer list: "all" or comma-joined sites/ranges; syntax only (depth is per model). */
function checkLayers(c: Checker, v: unknown, path: string): string | undefined {
  if (v === "all") return "all";
  const parts: string[] = [];
  if (typeof v === "string") parts.push(...v.split(",").map((s) => s.trim()).filter(Boolean));
  else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      if (typeof x === "number" || typeof x === "string") parts.push(String(x).trim());
      else return c.fail(`${path}[${i}]`, `must be a layer number or name, got ${describe(x)}`);
    }
  } else return c.fail(path, `must be "all", a list, or a string like "1-12,final_norm"; got ${describe(v)}`);
  if (parts.length === 0) return c.fail(path, "no layers given");
  for (const p of parts) {
    const range = /^(\d+)-(\d+)$/.exec(p);
    if (range) {
      if (Number(range[1]) < 1 || Number(range[1]) > Number(range[2])) return c.fail(path, `bad layer range '${p}'`);
      continue;
    }
    try {
      const site = parseLayerSite(p);
      if (typeof site === "number" && site < 1) return c.fail(path, `layer ${site}: layers start at 1`);
    } catch (e) {
      return c.fail(path, (e as Error).message);
    }
  }
  return parts.join(",");
}

function checkEndpoint(c: Checker, v: unknown, path: string): string | undefined {
  const s = c.string(v, path);
  if (s === undefined) return undefined;
  const m = /^([^:\s]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return c.fail(path, `'${s}' is not host:port`);
  return s;
}

function checkSession(c: Checker, v: unknown, path: string): SessionSpec | undefined {
  if (v === undefined) return {};
  const o = c.object(v, path, ["contextSize", "batchSize", "maxSequences", "threads", "kvType", "flashAttention"]);
  if (!o) return undefined;
  const s: SessionSpec = {};
  if (o.contextSize !== undefined) s.contextSize = c.int(o.contextSize, join(path, "contextSize"), 1);
  if (o.batchSize !== undefined) s.batchSize = c.int(o.batchSize, join(path, "batchSize"), 1);
  if (o.maxSequences !== undefined) s.maxSequences = c.int(o.maxSequences, join(path, "maxSequences"), 1);
  if (o.threads !== undefined) s.threads = c.int(o.threads, join(path, "threads"), 1);
  if (o.kvType !== undefined) s.kvType = c.choice(o.kvType, join(path, "kvType"), ["f16", "f32", "q8_0"] as const);
  if (o.flashAttention !== undefined) s.flashAttention = c.choice(o.flashAttention, join(path, "flashAttention"), ["auto", "on", "off"] as const);
  return s;
}

const SYNTH_MODEL_KEYS = ["vocab", "dim", "layers", "heads", "kvHeads", "ff", "context", "type", "seed", "blockScale", "normNoise", "plant", "alpha"];

function checkSynthModel(c: Checker, v: unknown, path: string, dataIsSynth: boolean): SynthModelSpec | undefined {
  const o = c.object(v, path, SYNTH_MODEL_KEYS);
  if (!o) return undefined;
  const p = (k: string) => join(path, k);
  const dim = o.dim === undefined ? 64 : c.int(o.dim, p("dim"), 8, 8192);
  const heads = o.heads === undefined ? 4 : c.int(o.heads, p("heads"), 1, 256);
  const kvHeads = o.kvHeads === undefined ? heads : c.int(o.kvHeads, p("kvHeads"), 1, 256);
  if (dim !== undefined && heads !== undefined && (dim % heads !== 0 || (dim / heads) % 2 !== 0)) c.fail(p("heads"), `dim ${dim} must split into ${heads} heads of even size`);
  if (heads !== undefined && kvHeads !== undefined && heads % kvHeads !== 0) c.fail(p("kvHeads"), `heads (${heads}) must be a multiple of kvHeads (${kvHeads})`);
  const plant = o.plant === undefined ? dataIsSynth : c.bool(o.plant, p("plant"));
  if (plant && !dataIsSynth) c.fail(p("plant"), "planting needs data.synth (the planted words come from it)");
  const spec = {
    vocab: o.vocab === undefined ? "qwen2" : c.string(o.vocab, p("vocab")),
    dim,
    layers: o.layers === undefined ? 4 : c.int(o.layers, p("layers"), 1, 256),
    heads,
    kvHeads,
    ff: o.ff === undefined ? (dim ?? 64) * 2 : c.int(o.ff, p("ff"), 1),
    context: o.context === undefined ? 512 : c.int(o.context, p("context"), 8),
    type: o.type === undefined ? "f32" : c.choice(o.type, p("type"), ["f32", "f16", "q8_0"] as const),
    seed: o.seed === undefined ? 0 : c.int(o.seed, p("seed"), 0),
    blockScale: o.blockScale === undefined ? 0.1 : c.number(o.blockScale, p("blockScale"), (x) => x >= 0, "≥ 0"),
    normNoise: o.normNoise === undefined ? 0 : c.number(o.normNoise, p("normNoise"), (x) => x >= 0, "≥ 0"),
    plant,
    alpha: o.alpha === undefined ? 15 : c.number(o.alpha, p("alpha"), (x) => x > 0, "> 0"),
  };
  return Object.values(spec).some((x) => x === undefined) ? undefined : (spec as SynthModelSpec);
}

function defaultModelId(m: Obj, i: number): string {
  if (typeof m.path === "string") {
    const base = m.path.split(/[\\/]/).pop()!.replace(/\.gguf$/i, "").replace(/[^A-Za-z0-9._-]/g, "_");
    if (NAME_PATTERN.test(base)) return base;
  }
  return `model-${i}`;
}

function checkModel(c: Checker, v: unknown, path: string, i: number, dataIsSynth: boolean): ModelSpec | undefined {
  const o = c.object(v, path, ["id", "path", "synth", "template", "gpuLayers", "rpc", "session", "weight"]);
  if (!o) return undefined;
  const p = (k: string) => join(path, k);
  if ((o.path === undefined) === (o.synth === undefined)) c.fail(path, "give exactly one of 'path' (a GGUF file) or 'synth' (a synthetic model)");
  const m: ModelSpec = {
    id: o.id === undefined ? defaultModelId(o, i) : (c.string(o.id, p("id"), { pattern: NAME_PATTERN, what: "model id" }) ?? ""),
    template: o.template === undefined ? "auto" : (checkTemplate(c, o.template, p("template")) ?? ""),
    session: checkSession(c, o.session, p("session")) ?? {},
    weight: o.weight === undefined ? 1 : (c.number(o.weight, p("weight"), (x) => x > 0, "> 0") ?? 1),
  };
  if (o.path !== undefined) m.path = c.string(o.path, p("path"));
  if (o.synth !== undefined) m.synth = checkSynthModel(c, o.synth, p("synth"), dataIsSynth);
  if (o.gpuLayers !== undefined) m.gpuLayers = c.int(o.gpuLayers, p("gpuLayers"), -1);
  if (o.rpc !== undefined) m.rpc = c.list(o.rpc, p("rpc"), (x, q) => checkEndpoint(c, x, q), { nonEmpty: true, unique: true });
  return m;
}

function checkSynthData(c: Checker, v: unknown, path: string, concepts: readonly string[], langs: readonly string[]): SynthDataSpec | undefined {
  const o = c.object(v, path, ["vocab", "seed", "items", "wordsPerSide", "fillerWords", "angles"]);
  if (!o) return undefined;
  const p = (k: string) => join(path, k);
  const angles: Record<string, Record<string, number>> = {};
  const ao = o.angles === undefined ? c.fail(p("angles"), "required: concept → language → angle in degrees") : c.object(o.angles, p("angles"), Object.keys(o.angles as Obj ?? {}));
  if (ao) {
    for (const [concept, byLang] of Object.entries(ao)) {
      const lo = c.object(byLang, join(p("angles"), concept), Object.keys((byLang as Obj) ?? {}));
      if (!lo) continue;
      angles[concept] = {};
      for (const [lang, deg] of Object.entries(lo)) {
        const d = c.number(deg, join(join(p("angles"), concept), lang), (x) => x >= 0 && x <= 90, "between 0 and 90 (degrees)");
        if (d !== undefined) angles[concept][lang] = d;
      }
    }
    for (const concept of concepts) {
      for (const lang of langs) {
        if (angles[concept]?.[lang] === undefined && (ao[concept] === undefined || (ao[concept] as Obj)[lang] === undefined)) {
          c.fail(join(join(p("angles"), concept), lang), "missing (every concept × language of the grid needs an angle)");
        }
      }
    }
  }
  const spec = {
    vocab: o.vocab === undefined ? "qwen2" : c.string(o.vocab, p("vocab")),
    seed: o.seed === undefined ? 1 : c.int(o.seed, p("seed"), 0),
    items: o.items === undefined ? 60 : c.int(o.items, p("items"), 5, 1_000_000),
    wordsPerSide: o.wordsPerSide === undefined ? 16 : c.int(o.wordsPerSide, p("wordsPerSide"), 1, 1000),
    fillerWords: o.fillerWords === undefined ? 40 : c.int(o.fillerWords, p("fillerWords"), 1, 1000),
    angles,
  };
  return Object.values(spec).some((x) => x === undefined) ? undefined : (spec as SynthDataSpec);
}

function checkData(c: Checker, v: unknown, concepts: readonly string[], langs: readonly string[]): DataSpec | undefined {
  const o = c.object(v, "data", ["path", "datasets", "dataRoot", "adapterOptions", "synth"]);
  if (!o) return undefined;
  const d: DataSpec = {};
  if (o.synth !== undefined && (o.path !== undefined || o.datasets !== undefined)) c.fail("data", "'synth' generates the data: do not combine it with 'path' or 'datasets'");
  if (o.synth === undefined && o.path === undefined && o.datasets === undefined) c.fail("data", "give 'path' (MVALUE folder or .jsonl), 'datasets' (+ 'dataRoot') or 'synth'");
  if (o.path !== undefined) d.path = c.string(o.path, "data.path");
  if (o.datasets !== undefined) {
    d.datasets = c.list(o.datasets, "data.datasets", (x, p) => c.string(x, p), { nonEmpty: true, unique: true });
    if (o.dataRoot === undefined) c.fail("data.dataRoot", "required with data.datasets");
  }
  if (o.dataRoot !== undefined) d.dataRoot = c.string(o.dataRoot, "data.dataRoot");
  if (o.adapterOptions !== undefined) {
    const a = c.object(o.adapterOptions, "data.adapterOptions", Object.keys((o.adapterOptions as Obj) ?? {}));
    if (a) d.adapterOptions = a;
  }
  if (o.synth !== undefined) d.synth = checkSynthData(c, o.synth, "data.synth", concepts, langs);
  return d;
}

const TOP_KEYS = ["version", "name", "models", "data", "concepts", "languages", "methods", "layers", "position", "split", "analyses", "analysis", "extract", "capture", "output"];

/** Checks a parsed manifest and returns it with every default filled in; throws ManifestError listing all issues. */
export function validateManifest(value: unknown): Manifest {
  const c = new Checker();
  const o = c.object(value, "", TOP_KEYS);
  if (!o) throw new ManifestError(c.issues);
  if (o.version !== undefined && o.version !== MANIFEST_VERSION) c.fail("version", `must be ${MANIFEST_VERSION}, got ${describe(o.version)}`);
  const name = o.name === undefined ? undefined : c.string(o.name, "name");
  const nameList = (v: unknown, p: string) => (v === undefined ? c.fail(p, "required: a list of names") : c.list(v, p, (x, q) => c.string(x, q, { pattern: NAME_PATTERN }), { nonEmpty: true, unique: true }));
  const concepts = nameList(o.concepts, "concepts") ?? [];
  const languages = nameList(o.languages, "languages") ?? [];
  const data = o.data === undefined ? c.fail("data", "required") : checkData(c, o.data, concepts, languages);
  const dataIsSynth = data?.synth !== undefined || (o.data !== null && typeof o.data === "object" && "synth" in (o.data as Obj));
  let models: ModelSpec[] = [];
  if (o.models === undefined) c.fail("models", "required: a list of models");
  else if (!Array.isArray(o.models) || o.models.length === 0) c.fail("models", "must be a non-empty list");
  else {
    models = o.models.map((m, i) => checkModel(c, m, `models[${i}]`, i, dataIsSynth)).filter((m): m is ModelSpec => m !== undefined);
    const seen = new Map<string, number>();
    o.models.forEach((_, i) => {
      const id = models[i]?.id;
      if (!id) return;
      if (seen.has(id)) c.fail(`models[${i}].id`, `duplicate model id '${id}' (also models[${seen.get(id)}]); set distinct ids`);
      else seen.set(id, i);
    });
  }
  const methods =
    o.methods === undefined ? (["mean_diff"] as ExtractMethod[]) : c.list(o.methods, "methods", (x, p) => c.choice(x, p, EXTRACT_METHODS), { nonEmpty: true, unique: true });
  const layers = o.layers === undefined ? "all" : checkLayers(c, o.layers, "layers");
  const position = o.position === undefined ? "last" : c.choice(o.position, "position", ["last", "mean"] as const);

  let split: Manifest["split"] | undefined = { seed: 1, trainFraction: 0.8, valFraction: 0.1 };
  if (o.split !== undefined) {
    const s = c.object(o.split, "split", ["seed", "trainFraction", "valFraction"]);
    split = s && {
      seed: s.seed === undefined ? 1 : (c.int(s.seed, "split.seed", 0) ?? 1),
      trainFraction: s.trainFraction === undefined ? 0.8 : (c.number(s.trainFraction, "split.trainFraction", (x) => x > 0 && x < 1, "in (0, 1)") ?? 0.8),
      valFraction: s.valFraction === undefined ? 0.1 : (c.number(s.valFraction, "split.valFraction", (x) => x >= 0 && x < 1, "in [0, 1)") ?? 0.1),
    };
  }
  const analyses = o.analyses === undefined ? [...DEFAULT_ANALYSES] : c.list(o.analyses, "analyses", (x, p) => c.choice(x, p, ANALYSES), { nonEmpty: true, unique: true });

  const analysis: Manifest["analysis"] = { ties: "correct", bootstrap: 1000 };
  if (o.analysis !== undefined) {
    const a = c.object(o.analysis, "analysis", ["ties", "bootstrap", "highResource", "similarityLayer"]);
    if (a) {
      if (a.ties !== undefined) analysis.ties = c.choice(a.ties, "analysis.ties", ["correct", "incorrect"] as const) ?? "correct";
      if (a.bootstrap !== undefined) analysis.bootstrap = c.int(a.bootstrap, "analysis.bootstrap", 0) ?? 1000;
      if (a.highResource !== undefined) {
        const hr = c.list(a.highResource, "analysis.highResource", (x, p) => c.string(x, p), { nonEmpty: true, unique: true });
        if (hr) {
          hr.forEach((l, i) => {
            if (languages.length && !languages.includes(l)) c.fail(`analysis.highResource[${i}]`, `'${l}' is not one of the languages (${languages.join(", ")})`);
          });
          analysis.highResource = hr;
        }
      }
      if (a.similarityLayer !== undefined) {
        const l = typeof a.similarityLayer === "number" ? String(a.similarityLayer) : c.string(a.similarityLayer, "analysis.similarityLayer");
        if (l !== undefined) {
          try {
            parseLayerSite(l);
            analysis.similarityLayer = l;
          } catch (e) {
            c.fail("analysis.similarityLayer", (e as Error).message);
          }
        }
      }
    }
  }
  let extractSeed = 1;
  if (o.extract !== undefined) {
    const e = c.object(o.extract, "extract", ["seed"]);
    if (e?.seed !== undefined) extractSeed = c.int(e.seed, "extract.seed", 0) ?? 1;
  }
  let chunkTexts = 256;
  if (o.capture !== undefined) {
    const e = c.object(o.capture, "capture", ["chunkTexts"]);
    if (e?.chunkTexts !== undefined) chunkTexts = c.int(e.chunkTexts, "capture.chunkTexts", 1) ?? 256;
  }
  let f16 = false;
  if (o.output !== undefined) {
    const e = c.object(o.output, "output", ["f16"]);
    if (e?.f16 !== undefined) f16 = c.bool(e.f16, "output.f16") ?? false;
  }
  if (c.issues.length > 0 || !data || !methods || !layers || !position || !split || !analyses) throw new ManifestError(c.issues.length ? c.issues : ["invalid manifest"]);
  return {
    version: 1,
    ...(name !== undefined ? { name } : {}),
    models,
    data,
    concepts,
    languages,
    methods,
    layers,
    position,
    split,
    analyses,
    analysis,
    extract: { seed: extractSeed },
    capture: { chunkTexts },
    output: { f16 },
  };
}

/** Parses YAML (or JSON, which YAML reads too) and validates it. */
export function parseManifest(text: string, source = "<manifest>"): Manifest {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new ManifestError([`${source}: not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`]);
  }
  return validateManifest(value);
}

export interface LoadedManifest {
  manifest: Manifest;
  /** Folder relative paths in the manifest are resolved against (the manifest file's folder). */
  baseDir: string;
  source: string;
}

export async function loadManifest(path: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read manifest '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { manifest: parseManifest(text, path), baseDir: dirname(resolve(path)), source: resolve(path) };
}

/** sha256 of the normalised manifest: shards of one run (and a merge) must agree on it. */
export function manifestHash(m: Manifest): string {
  return createHash("sha256").update(canonicalJson(m)).digest("hex");
}
