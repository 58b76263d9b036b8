// A synthetic "world" with a known answer: a planted model (qwen2 vocabulary) whose embeddings carry one
// direction per (concept, language), and a contrastive dataset whose pos/neg texts end in planted words.
import { join } from "node:path";
import { loadModel } from "../../src/index.js";
import { Rng, plantedDirections, readGgufMetadata, synthModel, metaStringArray, type PlantedConceptSpec } from "../../src/gguf/index.js";
import { writePairsJsonl } from "../../src/data/jsonl.js";
import type { ContrastPair } from "../../src/data/types.js";
import { cosine, qwenVocab } from "./fixtures.js";

export interface WorldSpec {
  dir: string;
  /** concept → lang → angle (degrees) to the concept's base direction. */
  concepts: Record<string, Record<string, number>>;
  itemsPerLang?: number;
  wordsPerSide?: number;
  nEmbd?: number;
  nLayer?: number;
  alpha?: number;
  seed?: number;
}

export interface World {
  modelPath: string;
  pairsPath: string;
  pairs: ContrastPair[];
  /** concept → lang → planted unit direction. */
  directions: Map<string, Map<string, Float32Array>>;
  nLayer: number;
  nEmbd: number;
}

/** Word-initial tokens ("Ġword") that tokenize back to exactly themselves after a space. */
async function singleTokenWords(count: number, seed: number): Promise<Array<{ word: string; id: number }>> {
  const meta = await readGgufMetadata(qwenVocab);
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens")!;
  const cands: Array<{ word: string; id: number }> = [];
  tokens.forEach((t, id) => {
    if (/^Ġ[a-z]{4,9}$/.test(t)) cands.push({ word: t.slice(1), id });
  });
  const rng = new Rng(seed, "words");
  for (let i = cands.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [cands[i], cands[j]] = [cands[j], cands[i]];
  }
  const vocab = await loadModel(qwenVocab, { vocabOnly: true });
  const out: Array<{ word: string; id: number }> = [];
  for (const c of cands) {
    const t = vocab.tokenize(` ${c.word}`, { addSpecial: false });
    if (t.length === 1 && t[0] === c.id) out.push(c);
    if (out.length === count) break;
  }
  vocab.dispose();
  if (out.length < count) throw new Error("not enough single-token words in the vocabulary");
  return out;
}

export async function buildWorld(spec: WorldSpec): Promise<World> {
  const nEmbd = spec.nEmbd ?? 64;
  const nLayer = spec.nLayer ?? 4;
  const wordsPerSide = spec.wordsPerSide ?? 24;
  const items = spec.itemsPerLang ?? 120;
  const seed = spec.seed ?? 5;
  const cells = Object.entries(spec.concepts).flatMap(([c, langs]) => Object.keys(langs).map((l) => [c, l] as const));
  const langsAll = [...new Set(cells.map(([, l]) => l))];
  const fillerPerLang = 40;
  const words = await singleTokenWords(cells.length * 2 * wordsPerSide + langsAll.length * fillerPerLang, seed);
  let w = 0;
  const take = (n: number) => words.slice(w, (w += n));
  const filler = new Map(langsAll.map((l) => [l, take(fillerPerLang)]));
  const planted: PlantedConceptSpec[] = [];
  const directions = new Map<string, Map<string, Float32Array>>();
  const pairs: ContrastPair[] = [];
  const rng = new Rng(seed, "texts");
  Object.entries(spec.concepts).forEach(([concept, langs], ci) => {
    const entries = Object.entries(langs);
    const dirs = plantedDirections(nEmbd, seed * 100 + ci, { angles: entries.map(([, deg]) => (deg * Math.PI) / 180) });
    const byLang = new Map<string, Float32Array>();
    entries.forEach(([lang], k) => {
      const pos = take(wordsPerSide);
      const neg = take(wordsPerSide);
      planted.push({ concept, lang, posTokens: pos.map((x) => x.id), negTokens: neg.map((x) => x.id), direction: dirs.directions[k], alpha: spec.alpha ?? 15 });
      byLang.set(lang, dirs.directions[k]);
      const fill = filler.get(lang)!;
      for (let i = 0; i < items; i++) {
        const prefix = Array.from({ length: 3 + rng.int(3) }, () => fill[rng.int(fill.length)].word).join(" ");
        pairs.push({ id: `item-${i}`, concept, lang, pos: `${prefix} ${pos[rng.int(pos.length)].word}`, neg: `${prefix} ${neg[rng.int(neg.length)].word}` });
      }
    });
    directions.set(concept, byLang);
  });
  const modelPath = join(spec.dir, "world.gguf");
  // Small block weights keep the planted direction dominant in the residual stream at every depth; unit norm
  // weights keep the final norm from reweighting dimensions (which would bend the planted angles at layer L).
  await synthModel({ out: modelPath, vocabGguf: qwenVocab, nEmbd, nLayer, nHead: 4, nHeadKv: 2, nFf: 2 * nEmbd, contextLength: 512, seed, blockScale: 0.1, normNoise: 0, planted });
  const pairsPath = join(spec.dir, "pairs.jsonl");
  await writePairsJsonl(pairsPath, pairs);
  return { modelPath, pairsPath, pairs, directions, nLayer, nEmbd };
}

export { cosine };
