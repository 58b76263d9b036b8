// Analysis stage: activations (test/val splits) + vectors → every table of the paper's analysis:
// recognition curves with CIs (oracle and held-out layer), cross-lingual recognition, similarity,
// transfer and the correlation with linguistic similarity.
import {
  aggregateSimilarity,
  bootstrapAccuracies,
  correlationTable,
  crossLingualRecognition,
  hasLang2vec,
  layerSimilarities,
  layerwiseSimilarity,
  pairCorrectness,
  transferAnalysis,
  PAPER_LINGUISTIC_TYPES,
  type BootstrapOptions,
  type CrossLingualResult,
  type Interval,
  type LangMatrix,
  type LayerSimilarity,
  type LayerwiseCurve,
  type SplitCorrelation,
  type TieRule,
  type TransferResult,
} from "../analysis/index.js";
import type { ExtractMethod, PairMatrices } from "../extract/index.js";
import type { Progress } from "../progress/progress.js";
import { inspectActivations, readVectors, type Provenance, type VectorFile } from "../store/index.js";
import { collectPairs, layerGroups } from "./matrices.js";

export interface AnalyzeOptions {
  activations: string;
  vectors: string | VectorFile;
  /** Which extraction method's vectors to use (default: the first in the vector file). */
  method?: ExtractMethod;
  concepts?: readonly string[];
  langs?: readonly string[];
  /** The paper counts a tie as recognised ("correct", default). */
  ties?: TieRule;
  /** Bootstrap of the recognition accuracies (default 1000 resamples, seed 0); false to skip. */
  bootstrap?: BootstrapOptions | false;
  /** Cross-lingual recognition, transfer (default true). */
  crossLingual?: boolean;
  /** Also aggregate similarity at this fixed layer. */
  similarityLayer?: string;
  /** High-resource languages for the "split" correlation (default: the first language). */
  highResource?: readonly string[];
  memoryBudget?: number;
  progress?: Progress;
}

export interface RecognitionSummary {
  nTest: number;
  nVal: number;
  accuracy: number[];
  ci?: Interval[];
  /** The paper's choice: the best layer on the test set itself. */
  oracle: { layer: string; accuracy: number; ci?: Interval; maxCi?: Interval };
  /** Beyond the paper: layer chosen on the validation split, its test accuracy. */
  heldOut?: { layer: string; accuracy: number; valAccuracy: number; ci?: Interval };
}

export interface AnalysisResults {
  method: ExtractMethod;
  layers: string[];
  concepts: string[];
  langs: string[];
  ties: TieRule;
  provenance: Provenance;
  /** concept → lang → curve and best layers. */
  recognition: Record<string, Record<string, RecognitionSummary>>;
  /** concept → cross-lingual recognition (acc[src][tgt][layer], best per cell). */
  crossLingual?: Record<string, CrossLingualResult>;
  similarity: {
    perConcept: Record<string, LayerSimilarity>;
    /** Paper aggregation: max over layers per pair and concept, mean over concepts, diagonal 1. */
    aggregate: LangMatrix;
    atLayer?: { layer: string; matrix: LangMatrix };
    layerwise?: LayerwiseCurve;
  };
  transfer?: TransferResult;
  correlation?: {
    langs: string[];
    highResource: string[];
    table: Record<string, { direct: number; split: SplitCorrelation; directReleasedCode: number }>;
  };
}

function fraction(bits: Uint8Array): number {
  let s = 0;
  for (const b of bits) s += b;
  return bits.length ? s / bits.length : NaN;
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalysisResults> {
  const vf = typeof opts.vectors === "string" ? await readVectors(opts.vectors) : opts.vectors;
  const { method, vec, layers, concepts, langs } = selectVectors(vf, opts);
  const ties = opts.ties ?? "correct";

  // Correctness bits (self) and cross-lingual accuracies, gathered layer group by layer group.
  const selfBits = new Map<string, Uint8Array[]>(); // concept|lang → per layer
  const valAcc = new Map<string, number[]>();
  const nVal = new Map<string, number>();
  const cross = new Map<string, CrossLingualResult>();
  const info = await inspectActivations(opts.activations);
  const groups = layerGroups(layers, info.rows / Math.max(1, layers.length), info.nEmbd, opts.memoryBudget ?? 2 ** 30);
  opts.progress?.start("analyze", layers.length, "layers");
  for (const group of groups) {
    const tree = await collectPairs(opts.activations, { layers: group, splits: ["test", "val"], concepts, langs });
    for (const concept of concepts) {
      const byLang = tree.get(concept);
      const vectors = vec.get(concept)!;
      for (const lang of vectors.keys()) {
        const key = `${concept}|${lang}`;
        const test = byLang?.get(lang)?.get("test");
        const val = byLang?.get(lang)?.get("val");
        for (const layer of group) {
          const v = vectors.get(lang)!.get(layer);
          const t = test?.get(layer);
          if (!v) throw new Error(`no vector for ${concept}/${lang} at layer ${layer}`);
          if (!t) throw new Error(`no test pairs for ${concept}/${lang}: too few items for a test split; capture more items, give test a larger share (--train-fraction), or leave ${lang} out (--langs)`);
          (selfBits.get(key) ?? selfBits.set(key, []).get(key)!).push(pairCorrectness(t, v, { ties }));
          const vp = val?.get(layer);
          if (vp && vp.itemIds.length > 0) {
            (valAcc.get(key) ?? valAcc.set(key, []).get(key)!).push(fraction(pairCorrectness(vp, v, { ties })));
            nVal.set(key, vp.itemIds.length);
          }
        }
      }
      if (opts.crossLingual !== false && byLang) {
        const test = new Map<string, Map<string, PairMatrices>>();
        for (const [lang, bySplit] of byLang) {
          const t = bySplit.get("test");
          if (t && vectors.has(lang)) test.set(lang, t);
        }
        const part = crossLingualRecognition({ layers: group, vectors, test }, { ties });
        const prev = cross.get(concept);
        if (!prev) cross.set(concept, part);
        else {
          prev.layers.push(...part.layers);
          for (const s of part.sources) for (const t of part.targets) prev.acc[s][t].push(...part.acc[s][t]);
        }
      }
    }
    opts.progress?.tick(group.length);
  }
  opts.progress?.finish();

  const recognition: AnalysisResults["recognition"] = {};
  for (const concept of concepts) {
    recognition[concept] = {};
    for (const lang of vec.get(concept)!.keys()) {
      const key = `${concept}|${lang}`;
      const bits = selfBits.get(key)!;
      const accuracy = bits.map(fraction);
      const best = argmax(accuracy);
      const s: RecognitionSummary = { nTest: bits[0].length, nVal: nVal.get(key) ?? 0, accuracy, oracle: { layer: layers[best], accuracy: accuracy[best] } };
      if (opts.bootstrap !== false) {
        const bs = bootstrapAccuracies(bits, opts.bootstrap ?? {});
        s.ci = bs.each;
        s.oracle.ci = bs.each[best];
        s.oracle.maxCi = bs.max;
      }
      const va = valAcc.get(key);
      if (va && va.length === layers.length) {
        const h = argmax(va);
        s.heldOut = { layer: layers[h], accuracy: accuracy[h], valAccuracy: va[h], ...(s.ci ? { ci: s.ci[h] } : {}) };
      }
      recognition[concept][lang] = s;
    }
  }
  // Best layer per (src, tgt), the max taken separately for every cell as the paper does.
  for (const r of cross.values()) {
    for (const s of r.sources) {
      for (const t of r.targets) {
        const acc = r.acc[s][t];
        const b = argmax(acc);
        r.best[s][t] = { layer: r.layers[b], index: b, accuracy: acc[b] };
      }
    }
  }

  const { similarity, fullConcepts } = similarityFromVectors({ method, vec, layers, concepts, langs }, opts.similarityLayer);
  const results: AnalysisResults = {
    method,
    layers,
    concepts,
    langs,
    ties,
    provenance: vf.provenance,
    recognition,
    similarity,
  };
  if (cross.size > 0) {
    results.crossLingual = Object.fromEntries(cross);
    const complete = [...cross.values()].filter((r) => r.sources.length === langs.length && r.targets.length === langs.length);
    if (complete.length) results.transfer = transferAnalysis(complete, { langs });
  }
  const l2v = langs.filter(hasLang2vec);
  const sims = fullConcepts.map((c) => similarity.perConcept[c]);
  if (l2v.length >= 3 && sims.length) {
    const high = (opts.highResource ?? [l2v[0]]).filter((l) => l2v.includes(l));
    const matrix = aggregateSimilarity(sims, { langs: l2v });
    results.correlation = { langs: l2v, highResource: [...high], table: correlationTable(matrix, high, { types: PAPER_LINGUISTIC_TYPES }) };
  }
  return results;
}

/** One method's unit vectors from a vector file, as concept → lang → layer, with the layer order of the file. */
export interface VectorSelection {
  method: ExtractMethod;
  vec: Map<string, Map<string, Map<string, Float32Array>>>;
  layers: string[];
  concepts: string[];
  langs: string[];
}

export function selectVectors(vf: VectorFile, opts: { method?: ExtractMethod; concepts?: readonly string[]; langs?: readonly string[] } = {}): VectorSelection {
  const method = opts.method ?? vf.rows[0]?.method;
  if (!method) throw new Error("the vector file has no vectors");
  const rows = vf.rows.filter((r) => r.method === method && (!opts.concepts || opts.concepts.includes(r.concept)) && (!opts.langs || opts.langs.includes(r.lang)));
  if (rows.length === 0) throw new Error(`no '${method}' vectors for the requested concepts/languages (methods in file: ${[...new Set(vf.rows.map((r) => r.method))].join(", ")})`);
  const vec = new Map<string, Map<string, Map<string, Float32Array>>>();
  const layers: string[] = [];
  for (const r of rows) {
    if (!layers.includes(r.layer)) layers.push(r.layer);
    let byLang = vec.get(r.concept);
    if (!byLang) vec.set(r.concept, (byLang = new Map()));
    let byLayer = byLang.get(r.lang);
    if (!byLayer) byLang.set(r.lang, (byLayer = new Map()));
    byLayer.set(r.layer, r.unit);
  }
  return { method, vec, layers, concepts: [...vec.keys()], langs: [...new Set(rows.map((r) => r.lang))] };
}

/**
 * Cross-lingual similarity of the selected vectors: per concept and layer, the paper's aggregate (max over
 * layers, mean over the concepts that have every language), optionally at a fixed layer, and layer-wise curves.
 */
export function similarityFromVectors(sel: VectorSelection, fixedLayer?: string): { similarity: AnalysisResults["similarity"]; fullConcepts: string[] } {
  const { vec, layers, concepts, langs } = sel;
  const perConcept: Record<string, LayerSimilarity> = {};
  for (const concept of concepts) perConcept[concept] = layerSimilarities(vec.get(concept)!, { langs: langs.filter((l) => vec.get(concept)!.has(l)), layers });
  const fullConcepts = concepts.filter((c) => perConcept[c].langs.length === langs.length);
  const sims = fullConcepts.map((c) => perConcept[c]);
  return {
    fullConcepts,
    similarity: {
      perConcept,
      aggregate: sims.length ? aggregateSimilarity(sims, { langs }) : { langs, values: langs.map((_, i) => langs.map((__, j) => (i === j ? 1 : NaN))) },
      ...(fixedLayer && sims.length ? { atLayer: { layer: fixedLayer, matrix: aggregateSimilarity(sims, { langs, layer: fixedLayer }) } } : {}),
      ...(langs.length >= 2 && sims.length ? { layerwise: layerwiseSimilarity(sims, { langs }) } : {}),
    },
  };
}
