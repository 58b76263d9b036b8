// A planted multilingual world for manifests that must run anywhere: a contrastive dataset whose pos/neg texts
// end in words drawn from a vocabulary, and synthetic models that plant those words along one direction per
// (concept, language), at known angles to the concept's base direction. Recognition is then near 1 at every
// layer and the cross-lingual cosines approach cos θa · cos θb, so every table of a run has a known answer.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { vocabPath } from "../synth/vocab.js";
import type { ContrastPair } from "../data/types.js";
import { loadModel } from "../engine/model.js";
import { Rng, metaStringArray, plantedDirections, readGgufMetadata, synthModel, type PlantedConceptSpec } from "../gguf/index.js";
import type { PlantSpec } from "../synth/planted.js";
import { type SynthDataSpec, type SynthModelSpec } from "./manifest.js";
import { canonicalJson } from "../util/canonical-json.js";

export interface SynthWorld {
  pairs: ContrastPair[];
  /** concept → lang → planted words. */
  words: Record<string, Record<string, { pos: string[]; neg: string[] }>>;
  /** lang → filler words (the shared prefix of a pair). */
  filler: Record<string, string[]>;
}

/** Path of a vocabulary given as llama-spm | qwen2 | builtin | FILE.gguf (undefined = built-in vocab). */
export function resolveVocab(v: string, baseDir: string): string | undefined {
  const p = vocabPath(v);
  if (p === undefined || p !== v) return p;
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** Lower-case words that are one token each after a space in this vocabulary, in a seeded random order. */
async function singleTokenWords(vocabFile: string, count: number, seed: number): Promise<string[]> {
  const meta = await readGgufMetadata(vocabFile);
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens");
  if (!tokens) throw new Error(`${vocabFile}: no tokenizer.ggml.tokens`);
  // "Ġword" (byte-level BPE) or "▁word" (SentencePiece): a word-initial piece.
  const cands = [...new Set(tokens.filter((t) => /^[\u0120\u2581][a-z]{4,9}$/.test(t)).map((t) => t.slice(1)))].sort();
  const rng = new Rng(seed, "synth-world-words");
  for (let i = cands.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [cands[i], cands[j]] = [cands[j], cands[i]];
  }
  const vocab = await loadModel(vocabFile, { vocabOnly: true });
  try {
    const base = vocab.tokenize("x", { addSpecial: false }).length;
    const out: string[] = [];
    for (const w of cands) {
      if (vocab.tokenize(`x ${w}`, { addSpecial: false }).length === base + 1) out.push(w);
      if (out.length === count) return out;
    }
    throw new Error(`${vocabFile} has only ${out.length} single-token words, ${count} needed: lower data.synth.wordsPerSide/fillerWords`);
  } finally {
    vocab.dispose();
  }
}

/** The dataset of `spec` for the grid's concepts × languages (deterministic in the spec). */
export async function synthWorld(spec: SynthDataSpec, concepts: readonly string[], langs: readonly string[], baseDir: string): Promise<SynthWorld> {
  const vocabFile = resolveVocab(spec.vocab, baseDir);
  if (!vocabFile) throw new Error("data.synth.vocab: the built-in vocabulary has no words; use qwen2, llama-spm or a vocab GGUF");
  if (!existsSync(vocabFile)) throw new Error(`data.synth.vocab: vocabulary file '${vocabFile}' does not exist`);
  const need = concepts.length * langs.length * 2 * spec.wordsPerSide + langs.length * spec.fillerWords;
  const all = await singleTokenWords(vocabFile, need, spec.seed);
  let at = 0;
  const take = (n: number) => all.slice(at, (at += n));
  const filler: SynthWorld["filler"] = {};
  for (const l of langs) filler[l] = take(spec.fillerWords);
  const words: SynthWorld["words"] = {};
  const pairs: ContrastPair[] = [];
  for (const concept of concepts) {
    words[concept] = {};
    for (const lang of langs) {
      const w = { pos: take(spec.wordsPerSide), neg: take(spec.wordsPerSide) };
      words[concept][lang] = w;
      const rng = new Rng(spec.seed, "synth-world-texts", concept, lang);
      const fill = filler[lang];
      for (let i = 0; i < spec.items; i++) {
        const prefix = Array.from({ length: 3 + rng.int(3) }, () => fill[rng.int(fill.length)]).join(" ");
        pairs.push({ id: `item-${i}`, concept, lang, pos: `${prefix} ${w.pos[rng.int(w.pos.length)]}`, neg: `${prefix} ${w.neg[rng.int(w.neg.length)]}` });
      }
    }
  }
  return { pairs, words, filler };
}

/** The plant spec of a model: the world's words at the data spec's angles. */
export function plantSpec(world: SynthWorld, data: SynthDataSpec, alpha: number): PlantSpec {
  return {
    seed: data.seed,
    concepts: Object.entries(world.words).map(([concept, byLang]) => ({
      concept,
      alpha,
      langs: Object.fromEntries(Object.entries(byLang).map(([lang, w]) => [lang, { angleDeg: data.angles[concept][lang], pos: w.pos, neg: w.neg }])),
    })),
  };
}

/**
 * The plant spec as token ids and directions, as synthPlantedModel computes them (same tokens per word, same
 * directions per concept), with the vocabulary loaded once instead of once per word list.
 */
async function plantedConcepts(spec: PlantSpec, nEmbd: number, vocabFile: string | null): Promise<PlantedConceptSpec[]> {
  if (vocabFile === null) throw new Error("planting needs a vocabulary with words (qwen2, llama-spm or a vocab GGUF), not the built-in one");
  const vocab = await loadModel(vocabFile, { vocabOnly: true });
  try {
    const tokens = (words: readonly string[]): number[] => {
      const ids = new Set<number>();
      for (const w of words) for (const form of [w, ` ${w}`]) for (const t of vocab.tokenize(form, { addSpecial: false })) if (vocab.detokenize([t]).trim().length > 0) ids.add(t);
      return [...ids];
    };
    const seed = spec.seed ?? 1;
    const out: PlantedConceptSpec[] = [];
    for (const [ci, c] of spec.concepts.entries()) {
      const langs = Object.entries(c.langs);
      const dirs = plantedDirections(nEmbd, seed * 1000 + ci, { angles: langs.map(([, l]) => ((l.angleDeg ?? 0) * Math.PI) / 180) });
      for (const [k, [lang, l]] of langs.entries()) {
        const pos = tokens(l.pos);
        const neg = tokens(l.neg);
        const both = new Set(pos.filter((t) => neg.includes(t)));
        out.push({ concept: c.concept, lang, posTokens: pos.filter((t) => !both.has(t)), negTokens: neg.filter((t) => !both.has(t)), direction: dirs.directions[k], alpha: c.alpha });
      }
    }
    return out;
  } finally {
    vocab.dispose();
  }
}

/**
 * Writes the synthetic model to `out` unless a model of the same spec is there already (a sidecar records the
 * spec's hash). Deterministic: every shard writes the same bytes.
 */
export async function ensureSynthModel(spec: SynthModelSpec, out: string, baseDir: string, world: SynthWorld | null, data: SynthDataSpec | undefined): Promise<{ created: boolean }> {
  const plant = spec.plant && world !== null && data !== undefined ? plantSpec(world, data, spec.alpha) : null;
  const key = createHash("sha256").update(canonicalJson({ spec, plant })).digest("hex");
  const sidecar = `${out}.spec`;
  if (existsSync(out) && existsSync(sidecar) && (await readFile(sidecar, "utf8")).trim() === key) return { created: false };
  await mkdir(dirname(out), { recursive: true });
  const vocabGguf = resolveVocab(spec.vocab, baseDir);
  if (vocabGguf !== undefined && !existsSync(vocabGguf)) throw new Error(`synth vocabulary '${vocabGguf}' does not exist`);
  const opts = {
    out,
    ...(vocabGguf ? { vocabGguf } : {}),
    nEmbd: spec.dim,
    nLayer: spec.layers,
    nHead: spec.heads,
    nHeadKv: spec.kvHeads,
    nFf: spec.ff,
    contextLength: spec.context,
    weightType: spec.type,
    seed: spec.seed,
    blockScale: spec.blockScale,
    normNoise: spec.normNoise,
  };
  await synthModel(plant ? { ...opts, planted: await plantedConcepts(plant, spec.dim, vocabGguf ?? null) } : opts);
  await writeFile(`${sidecar}.tmp`, key + "\n");
  await rename(`${sidecar}.tmp`, sidecar);
  return { created: true };
}
