// Synthetic models for the engine tests, written once per test file into a temp folder.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthModel, type SynthOptions, type SynthResult } from "../../src/gguf/index.js";
import { packageRoot } from "../../src/engine/native.js";

export const vocabDir = join(packageRoot(), "vendor", "llama.cpp", "models");
export const spmVocab = join(vocabDir, "ggml-vocab-llama-spm.gguf");
export const qwenVocab = join(vocabDir, "ggml-vocab-qwen2.gguf");
export const hasVocabs = existsSync(spmVocab) && existsSync(qwenVocab);

export function tempDir(prefix = "valuelens-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Session options for comparisons against the f32 reference forward pass: the default f16 KV cache costs ~1e-3
 * and CPU flash attention ~3e-4 relative error (measured); with both off capture matches to ~2e-7.
 */
export const EXACT_SESSION = { kvType: "f32", flashAttention: "off" } as const;

/** A tiny llama model (real SPM tokenizer when the vendored vocab exists, else the built-in one). */
export async function tinyModel(dir: string, overrides: Partial<SynthOptions> = {}): Promise<SynthResult> {
  return synthModel({
    out: join(dir, `tiny-${overrides.seed ?? 7}-${overrides.weightType ?? "f32"}.gguf`),
    ...(existsSync(spmVocab) ? { vocabGguf: spmVocab } : {}),
    nEmbd: 64,
    nLayer: 4,
    nHead: 4,
    nHeadKv: 2,
    nFf: 160,
    contextLength: 512,
    seed: 7,
    weightType: "f32",
    ...overrides,
  });
}

/** Max |a-b| over max(|b|∞, 1e-12): a relative error over the whole vector, robust near zero entries. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Cosine similarity, written independently of src/analysis so tests check it rather than reuse it. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}

export const PLANTED_POS_WORDS = ["good", "kind", "fair", "honest", "help", "care", "love", "safe", "true", "peace", "gift", "trust"];
export const PLANTED_NEG_WORDS = ["bad", "cruel", "lie", "harm", "hate", "evil", "kill", "steal", "war", "pain", "fear", "rage"];

export interface PlantedTiny {
  path: string;
  /** Token ids of the planted positive / negative words. */
  pos: number[];
  neg: number[];
  /** The planted unit direction. */
  direction: Float32Array;
}

/**
 * A tiny llama model (SPM vocabulary, tied embeddings) with one planted concept: the single-token words of
 * PLANTED_POS_WORDS get +6·direction, those of PLANTED_NEG_WORDS −6·direction. SPM adds the word-initial "▁"
 * itself, so bare words give the "▁word" tokens. Needs the vendored vocab (`hasVocabs`).
 */
export async function plantedTinyModel(dir: string, name = "planted"): Promise<PlantedTiny> {
  const { loadModel } = await import("../../src/engine/model.js");
  const { plantedDirections } = await import("../../src/gguf/index.js");
  const vocab = await loadModel(spmVocab, { vocabOnly: true });
  const single = (words: string[]) => words.map((w) => vocab.tokenize(w, { addSpecial: false })).filter((t) => t.length === 1).map((t) => t[0]);
  const pos = single(PLANTED_POS_WORDS);
  const neg = single(PLANTED_NEG_WORDS);
  vocab.dispose();
  const direction = plantedDirections(64, 3, { angles: [0] }).directions[0];
  const synth = await synthModel({
    out: join(dir, `${name}.gguf`),
    vocabGguf: spmVocab,
    nEmbd: 64,
    nLayer: 4,
    nHead: 4,
    nHeadKv: 2,
    nFf: 160,
    contextLength: 512,
    seed: 41,
    planted: [{ concept: "morality", lang: "en", posTokens: pos, negTokens: neg, direction, alpha: 6 }],
  });
  return { path: synth.path, pos, neg, direction };
}
