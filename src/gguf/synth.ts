/**
 * Synthetic llama-architecture GGUF models with planted concept directions.
 *
 * Weights are seeded random normals; concept directions are added to the
 * embedding rows of chosen tokens, and the ground truth (seed, concepts,
 * unit directions) is stored in `valuelens.synth.*` metadata so it travels
 * with the file.
 */
import { basename } from "node:path";
import { GgmlType, GgufValueType, LlamaFileType } from "./constants.js";
import { readGgufMetadata, readTokenizerMetadata, metaBool, metaNumber, metaString } from "./reader.js";
import { Rng } from "../util/rng.js";
import { kv, type GgufKv, type GgufRowSource, type GgufTensorSpec } from "./types.js";
import { writeGguf } from "./writer.js";

export type SynthWeightType = "f32" | "f16" | "q8_0";

export interface PlantedConceptSpec {
  concept: string;
  lang: string;
  /** Token ids whose embedding rows get +alpha·unit(direction). */
  posTokens: readonly number[];
  /** Token ids whose embedding rows get −alpha·unit(direction). */
  negTokens: readonly number[];
  /** Length nEmbd; normalised to unit length before use. */
  direction: Float32Array | readonly number[];
  alpha: number;
}

export interface PlantedConcept {
  concept: string;
  lang: string;
  posTokens: number[];
  negTokens: number[];
  /** Unit vector, length nEmbd. */
  direction: Float32Array;
  alpha: number;
}

export interface SynthOptions {
  /** Output GGUF path. */
  out: string;
  /**
   * Vocab-only GGUF whose `tokenizer.*` keys are copied (e.g.
   * vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf). When omitted a small
   * built-in SentencePiece-style vocab (byte fallback) of `builtinVocabSize`
   * tokens is written instead.
   */
  vocabGguf?: string;
  /** Size of the built-in vocab when `vocabGguf` is omitted (default 512, at least 260). */
  builtinVocabSize?: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Default nHead. */
  nHeadKv?: number;
  nFf: number;
  /** Default 2048. */
  contextLength?: number;
  /** Default 10000. */
  ropeFreqBase?: number;
  /** Default 1e-5. */
  rmsEps?: number;
  /** Non-negative safe integer, default 0. */
  seed?: number;
  /** Type of token_embd/output and block matrices (norm weights are always F32). Default "f32". */
  weightType?: SynthWeightType;
  /** Default true: no output.weight, llama.cpp uses token_embd as the lm head. */
  tiedEmbeddings?: boolean;
  /** Multiplies the init std of attn_output and ffn_down. Default 0.5. */
  blockScale?: number;
  /** Norm weights are 1 + normNoise·N(0,1). Default 0.1. */
  normNoise?: number;
  /** general.name, default "valuelens-synth". */
  name?: string;
  planted?: readonly PlantedConceptSpec[];
}

export interface SynthTensorInfo {
  name: string;
  shape: number[];
  type: GgmlType;
}

export interface SynthResult {
  path: string;
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  contextLength: number;
  ropeFreqBase: number;
  rmsEps: number;
  seed: number;
  weightType: SynthWeightType;
  tiedEmbeddings: boolean;
  blockScale: number;
  normNoise: number;
  name: string;
  /** Basename of the vocab GGUF, or "builtin". */
  vocab: string;
  planted: PlantedConcept[];
  tensors: SynthTensorInfo[];
  bytes: number;
}

/** Metadata keys under which the ground truth is stored. */
export const SYNTH_KEYS = {
  version: "valuelens.synth.version",
  seed: "valuelens.synth.seed",
  weightType: "valuelens.synth.weight_type",
  blockScale: "valuelens.synth.block_scale",
  normNoise: "valuelens.synth.norm_noise",
  tiedEmbeddings: "valuelens.synth.tied_embeddings",
  vocab: "valuelens.synth.vocab",
  /** JSON string, see PlantedJson. */
  planted: "valuelens.synth.planted",
} as const;

export const SYNTH_FORMAT_VERSION = 1;

/** Shape of the JSON stored under SYNTH_KEYS.planted. */
export interface PlantedJson {
  version: number;
  concepts: Array<{
    concept: string;
    lang: string;
    alpha: number;
    posTokens: number[];
    negTokens: number[];
    /** Unit direction as float32 values (exact round trip through JSON). */
    direction: number[];
  }>;
}

const WEIGHT_TYPES: Record<SynthWeightType, { ggml: GgmlType; fileType: number }> = {
  f32: { ggml: GgmlType.F32, fileType: LlamaFileType.ALL_F32 },
  f16: { ggml: GgmlType.F16, fileType: LlamaFileType.MOSTLY_F16 },
  q8_0: { ggml: GgmlType.Q8_0, fileType: LlamaFileType.MOSTLY_Q8_0 },
};

// ---- planted directions ----------------------------------------------------------------------

export interface PlantedDirectionSpec {
  /** Angle θ_k (radians) between direction k and the base direction u. */
  angles: readonly number[];
  /** Base direction u (normalised here); a seeded random unit vector when omitted. */
  base?: Float32Array | readonly number[];
}

export interface PlantedDirections {
  /** Unit base direction u. */
  base: Float32Array;
  /** d_k = cos θ_k·u + sin θ_k·w_k, unit length. */
  directions: Float32Array[];
  /** cos(d_k, u) = cos θ_k. */
  baseCosines: number[];
  /** cos(d_a, d_b) = cos θ_a·cos θ_b for a ≠ b (the w's are orthonormal to u and each other), 1 on the diagonal. */
  cosines: number[][];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalized(v: ArrayLike<number>, what: string): Float64Array {
  const n = Math.sqrt(dot(v, v));
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${what} must be a finite non-zero vector`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / n;
  return out;
}

/**
 * Unit directions with closed-form pairwise cosines. With u the unit base and
 * w_1..w_K orthonormal vectors orthogonal to u (Gram–Schmidt on seeded random
 * normals), d_k = cos θ_k·u + sin θ_k·w_k, hence
 *   cos(d_k, u) = cos θ_k   and   cos(d_a, d_b) = cos θ_a·cos θ_b  (a ≠ b).
 * Needs K + 1 ≤ nEmbd.
 */
export function plantedDirections(nEmbd: number, seed: number, spec: PlantedDirectionSpec): PlantedDirections {
  const K = spec.angles.length;
  if (!Number.isInteger(nEmbd) || nEmbd < 1) throw new Error(`plantedDirections: invalid nEmbd ${nEmbd}`);
  if (K + 1 > nEmbd) throw new Error(`plantedDirections: ${K} directions plus a base need nEmbd ≥ ${K + 1}, got ${nEmbd}`);
  const rng = new Rng(seed, "planted-directions");
  const draw = (): Float64Array => {
    const v = new Float64Array(nEmbd);
    rng.fillNormal(v);
    return v;
  };
  let u: Float64Array;
  if (spec.base) {
    if (spec.base.length !== nEmbd) throw new Error(`plantedDirections: base has length ${spec.base.length}, expected ${nEmbd}`);
    u = normalized(spec.base, "plantedDirections base");
  } else {
    u = normalized(draw(), "random base");
  }
  const basis: Float64Array[] = [u];
  const ws: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const w = draw();
    // Two Gram–Schmidt passes keep orthogonality at float64 precision.
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        const p = dot(w, b);
        for (let i = 0; i < nEmbd; i++) w[i] -= p * b[i];
      }
    }
    const wn = normalized(w, "orthogonalised vector");
    basis.push(wn);
    ws.push(wn);
  }
  const directions = spec.angles.map((theta, k) => {
    if (!Number.isFinite(theta)) throw new Error(`plantedDirections: angle ${k} is not finite`);
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    const d = new Float32Array(nEmbd);
    for (let i = 0; i < nEmbd; i++) d[i] = c * u[i] + s * ws[k][i];
    return d;
  });
  const baseCosines = spec.angles.map((t) => Math.cos(t));
  const cosines = spec.angles.map((ta, a) => spec.angles.map((tb, b) => (a === b ? 1 : Math.cos(ta) * Math.cos(tb))));
  return { base: Float32Array.from(u), directions, baseCosines, cosines };
}

// ---- vocab -------------------------------------------------------------------------------------

/** Minimal SentencePiece-style vocab: <unk>, <s>, </s>, 256 byte tokens, then filler pieces. */
function builtinVocab(size: number): GgufKv[] {
  if (!Number.isInteger(size) || size < 260) throw new Error(`builtinVocabSize must be an integer ≥ 260, got ${size}`);
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [2, 3, 3]; // UNKNOWN, CONTROL, CONTROL
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6); // BYTE
  }
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (let i = 0; tokens.length < size; i++) {
    tokens.push(i < 26 ? `\u2581${letters[i]}` : i < 52 ? letters[i - 26] : `\u2581t${i}`);
    types.push(1); // NORMAL
  }
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -(i - 259)));
  return [
    kv.str("tokenizer.ggml.model", "llama"),
    kv.str("tokenizer.ggml.pre", "default"),
    kv.strArray("tokenizer.ggml.tokens", tokens),
    kv.numArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, scores),
    kv.numArray("tokenizer.ggml.token_type", GgufValueType.INT32, types),
    kv.u32("tokenizer.ggml.bos_token_id", 1),
    kv.u32("tokenizer.ggml.eos_token_id", 2),
    kv.u32("tokenizer.ggml.unknown_token_id", 0),
    kv.bool("tokenizer.ggml.add_bos_token", true),
    kv.bool("tokenizer.ggml.add_eos_token", false),
  ];
}

function vocabSize(tokenizer: readonly GgufKv[], source: string): number {
  const tokens = tokenizer.find((e) => e.key === "tokenizer.ggml.tokens");
  if (!tokens || tokens.type !== GgufValueType.ARRAY || tokens.itemType !== GgufValueType.STRING) {
    throw new Error(`${source}: tokenizer.ggml.tokens missing or not a string array`);
  }
  return tokens.value.length;
}

// ---- model -------------------------------------------------------------------------------------

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`synthModel: ${name} must be a positive integer, got ${v}`);
  return v;
}

function positiveFinite(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`synthModel: ${name} must be a positive finite number, got ${v}`);
  return v;
}

function normalizePlanted(specs: readonly PlantedConceptSpec[], nEmbd: number, nVocab: number): PlantedConcept[] {
  return specs.map((p, idx) => {
    const label = `planted[${idx}] (${p.concept}/${p.lang})`;
    if (p.direction.length !== nEmbd) throw new Error(`${label}: direction has length ${p.direction.length}, expected nEmbd=${nEmbd}`);
    if (!Number.isFinite(p.alpha)) throw new Error(`${label}: alpha must be finite`);
    for (const t of [...p.posTokens, ...p.negTokens]) {
      if (!Number.isInteger(t) || t < 0 || t >= nVocab) throw new Error(`${label}: token id ${t} outside the vocab [0, ${nVocab})`);
    }
    const u = normalized(p.direction, `${label} direction`);
    return {
      concept: p.concept,
      lang: p.lang,
      posTokens: [...p.posTokens],
      negTokens: [...p.negTokens],
      direction: Float32Array.from(u),
      alpha: p.alpha,
    };
  });
}

/** Per-token embedding offsets: sum over concepts of ±alpha·u (in float64). */
function plantedOffsets(planted: readonly PlantedConcept[], nEmbd: number): Map<number, Float64Array> {
  const offsets = new Map<number, Float64Array>();
  const add = (token: number, sign: number, p: PlantedConcept): void => {
    let o = offsets.get(token);
    if (!o) {
      o = new Float64Array(nEmbd);
      offsets.set(token, o);
    }
    for (let i = 0; i < nEmbd; i++) o[i] += sign * p.alpha * p.direction[i];
  };
  for (const p of planted) {
    for (const t of p.posTokens) add(t, 1, p);
    for (const t of p.negTokens) add(t, -1, p);
  }
  return offsets;
}

function normalRows(seed: number, name: string, mean: number, std: number): GgufRowSource {
  const rng = new Rng(seed, name);
  return (_row, out) => rng.fillNormal(out, mean, std);
}

/** Write a llama-architecture GGUF that llama.cpp loads, with planted concept directions. */
export async function synthModel(opts: SynthOptions): Promise<SynthResult> {
  const nEmbd = positiveInt("nEmbd", opts.nEmbd);
  const nLayer = positiveInt("nLayer", opts.nLayer);
  const nHead = positiveInt("nHead", opts.nHead);
  const nHeadKv = positiveInt("nHeadKv", opts.nHeadKv ?? nHead);
  const nFf = positiveInt("nFf", opts.nFf);
  const contextLength = positiveInt("contextLength", opts.contextLength ?? 2048);
  const ropeFreqBase = positiveFinite("ropeFreqBase", opts.ropeFreqBase ?? 10000);
  const rmsEps = positiveFinite("rmsEps", opts.rmsEps ?? 1e-5);
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`synthModel: seed must be a non-negative safe integer, got ${seed}`);
  const weightType = opts.weightType ?? "f32";
  if (!(weightType in WEIGHT_TYPES)) throw new Error(`synthModel: unknown weightType '${String(weightType)}'`);
  const tiedEmbeddings = opts.tiedEmbeddings ?? true;
  const blockScale = opts.blockScale ?? 0.5;
  if (!Number.isFinite(blockScale) || blockScale < 0) throw new Error(`synthModel: blockScale must be ≥ 0, got ${blockScale}`);
  const normNoise = opts.normNoise ?? 0.1;
  if (!Number.isFinite(normNoise) || normNoise < 0) throw new Error(`synthModel: normNoise must be ≥ 0, got ${normNoise}`);
  const name = opts.name ?? "valuelens-synth";

  if (nEmbd % nHead !== 0) throw new Error(`synthModel: nEmbd (${nEmbd}) must be divisible by nHead (${nHead})`);
  const headDim = nEmbd / nHead;
  if (headDim % 2 !== 0) throw new Error(`synthModel: head dim ${headDim} must be even for RoPE`);
  if (nHead % nHeadKv !== 0) throw new Error(`synthModel: nHead (${nHead}) must be a multiple of nHeadKv (${nHeadKv})`);
  const wt = WEIGHT_TYPES[weightType];
  if (wt.ggml === GgmlType.Q8_0) {
    for (const [k, v] of [["nEmbd", nEmbd], ["nFf", nFf]] as const) {
      if (v % 32 !== 0) throw new Error(`synthModel: q8_0 needs ${k} (${v}) to be a multiple of 32`);
    }
  }

  const tokenizer = opts.vocabGguf ? await readTokenizerMetadata(opts.vocabGguf) : builtinVocab(opts.builtinVocabSize ?? 512);
  const vocab = opts.vocabGguf ? basename(opts.vocabGguf) : "builtin";
  const nVocab = vocabSize(tokenizer, opts.vocabGguf ?? "builtin vocab");
  const planted = normalizePlanted(opts.planted ?? [], nEmbd, nVocab);
  const offsets = plantedOffsets(planted, nEmbd);

  const plantedJson: PlantedJson = {
    version: SYNTH_FORMAT_VERSION,
    concepts: planted.map((p) => ({
      concept: p.concept,
      lang: p.lang,
      alpha: p.alpha,
      posTokens: p.posTokens,
      negTokens: p.negTokens,
      direction: Array.from(p.direction),
    })),
  };

  const metadata: GgufKv[] = [
    kv.str("general.architecture", "llama"),
    kv.str("general.name", name),
    kv.u32("general.file_type", wt.fileType),
    ...(wt.ggml === GgmlType.Q8_0 ? [kv.u32("general.quantization_version", 2)] : []),
    kv.u32("llama.context_length", contextLength),
    kv.u32("llama.embedding_length", nEmbd),
    kv.u32("llama.block_count", nLayer),
    kv.u32("llama.feed_forward_length", nFf),
    kv.u32("llama.attention.head_count", nHead),
    kv.u32("llama.attention.head_count_kv", nHeadKv),
    kv.f32("llama.attention.layer_norm_rms_epsilon", rmsEps),
    kv.f32("llama.rope.freq_base", ropeFreqBase),
    kv.u32("llama.rope.dimension_count", headDim),
    kv.u32("llama.vocab_size", nVocab),
    kv.u32(SYNTH_KEYS.version, SYNTH_FORMAT_VERSION),
    kv.u64(SYNTH_KEYS.seed, seed),
    kv.str(SYNTH_KEYS.weightType, weightType),
    kv.f32(SYNTH_KEYS.blockScale, blockScale),
    kv.f32(SYNTH_KEYS.normNoise, normNoise),
    kv.bool(SYNTH_KEYS.tiedEmbeddings, tiedEmbeddings),
    kv.str(SYNTH_KEYS.vocab, vocab),
    kv.str(SYNTH_KEYS.planted, JSON.stringify(plantedJson)),
    ...tokenizer,
  ];

  const tensors: GgufTensorSpec[] = [];
  const matrix = (tname: string, nIn: number, nOut: number, scale = 1): void => {
    tensors.push({ name: tname, shape: [nIn, nOut], type: wt.ggml, data: normalRows(seed, tname, 0, scale / Math.sqrt(nIn)) });
  };
  const norm = (tname: string): void => {
    tensors.push({ name: tname, shape: [nEmbd], type: GgmlType.F32, data: normalRows(seed, tname, 1, normNoise) });
  };

  const embRng = new Rng(seed, "token_embd.weight");
  tensors.push({
    name: "token_embd.weight",
    shape: [nEmbd, nVocab],
    type: wt.ggml,
    data: (row, out) => {
      embRng.fillNormal(out); // drawn for every row, so planting never shifts the random stream
      const o = offsets.get(row);
      if (o) for (let i = 0; i < nEmbd; i++) out[i] += o[i];
    },
  });
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  for (let i = 0; i < nLayer; i++) {
    norm(`blk.${i}.attn_norm.weight`);
    matrix(`blk.${i}.attn_q.weight`, nEmbd, nQ);
    matrix(`blk.${i}.attn_k.weight`, nEmbd, nKv);
    matrix(`blk.${i}.attn_v.weight`, nEmbd, nKv);
    matrix(`blk.${i}.attn_output.weight`, nQ, nEmbd, blockScale);
    norm(`blk.${i}.ffn_norm.weight`);
    matrix(`blk.${i}.ffn_gate.weight`, nEmbd, nFf);
    matrix(`blk.${i}.ffn_up.weight`, nEmbd, nFf);
    matrix(`blk.${i}.ffn_down.weight`, nFf, nEmbd, blockScale);
  }
  norm("output_norm.weight");
  if (!tiedEmbeddings) matrix("output.weight", nEmbd, nVocab);

  const written = await writeGguf(opts.out, { metadata, tensors });
  return {
    path: opts.out,
    nVocab,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDim,
    nFf,
    contextLength,
    ropeFreqBase,
    rmsEps,
    seed,
    weightType,
    tiedEmbeddings,
    blockScale,
    normNoise,
    name,
    vocab,
    planted,
    tensors: tensors.map((t) => ({ name: t.name, shape: [...t.shape], type: t.type })),
    bytes: written.bytes,
  };
}

// ---- reading the ground truth back -------------------------------------------------------------

export interface SynthInfo {
  version: number;
  seed: number;
  weightType: string;
  blockScale: number;
  normNoise: number;
  tiedEmbeddings: boolean;
  vocab: string;
  planted: PlantedConcept[];
}

/** Parse the `valuelens.synth.*` metadata of a synthetic model; null for files without it. */
export async function readSynthInfo(path: string): Promise<SynthInfo | null> {
  const meta = await readGgufMetadata(path);
  const version = metaNumber(meta, SYNTH_KEYS.version);
  if (version === undefined) return null;
  const json = metaString(meta, SYNTH_KEYS.planted);
  let parsed: PlantedJson;
  try {
    parsed = JSON.parse(json ?? '{"version":1,"concepts":[]}') as PlantedJson;
  } catch (e) {
    throw new Error(`${path}: ${SYNTH_KEYS.planted} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!parsed || !Array.isArray(parsed.concepts)) throw new Error(`${path}: ${SYNTH_KEYS.planted} has no 'concepts' array`);
  return {
    version,
    seed: metaNumber(meta, SYNTH_KEYS.seed) ?? 0,
    weightType: metaString(meta, SYNTH_KEYS.weightType) ?? "",
    blockScale: metaNumber(meta, SYNTH_KEYS.blockScale) ?? Number.NaN,
    normNoise: metaNumber(meta, SYNTH_KEYS.normNoise) ?? Number.NaN,
    tiedEmbeddings: metaBool(meta, SYNTH_KEYS.tiedEmbeddings) ?? true,
    vocab: metaString(meta, SYNTH_KEYS.vocab) ?? "",
    planted: parsed.concepts.map((c) => ({
      concept: c.concept,
      lang: c.lang,
      alpha: c.alpha,
      posTokens: c.posTokens,
      negTokens: c.negTokens,
      direction: Float32Array.from(c.direction),
    })),
  };
}
