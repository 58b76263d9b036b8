// Analysis stage: activations (test/val splits) + vectors → every table of the paper's analysis:
// recognition curves with CIs (oracle and held-out layer), cross-lingual recognition, similarity,
// transfer and the correlation with linguistic similarity.
import {
  aggregateSimilarity,
  heldOutTransfer,
  correlationTable,
  hasLang2vec,
  layerSimilarities,
  layerwiseSimilarity,
  pairCorrectness,
  pairMargins,
  recognitionStats,
  transferAnalysis,
  PAPER_LINGUISTIC_TYPES,
  SHARED_LANGUAGES,
  correlationSetting,
  type CorrelationRow,
  type CorrelationSetting,
  type ModelFamily,
  type BootstrapOptions,
  type CrossLingualResult,
  type ProportionOptions,
  type RecognitionStats,
  type LangMatrix,
  type LayerSimilarity,
  type LayerwiseCurve,
  type TieRule,
  type TransferResult,
} from "../analysis/index.js";
import type { Split } from "../data/types.js";
import { extractRandom, randomCellSeed, randomUnitVector, type ExtractMethod, type PairMatrices, type RandomVariant } from "../extract/index.js";
import type { Progress } from "../progress/progress.js";
import { inspectActivations, readVectors, type Provenance, type VectorFile } from "../store/index.js";
import { collectPairs, layerGroups, type AlignedPairs } from "./matrices.js";
import { TransferCollector, type GroupMap } from "./transfer-outcomes.js";

export interface AnalyzeOptions {
  activations: string;
  vectors: string | VectorFile;
  /** Which extraction method's vectors to use (default: the first in the vector file). */
  method?: ExtractMethod;
  concepts?: readonly string[];
  langs?: readonly string[];
  /** The paper counts a tie as recognised ("correct", default). */
  ties?: TieRule;
  /** Interval of each accuracy (default Wilson, 95%; cluster-aware over source-item groups). */
  interval?: ProportionOptions;
  /** Cluster bootstrap of the test-picked maximum (default 1000 resamples, seed 0); false to skip. */
  bootstrap?: BootstrapOptions | false;
  /**
   * Source-item group per concept and pair id (pairs of one group are one cluster). Default: the `groups`
   * recorded by capture in the activation file's provenance; pairs without one are their own cluster.
   */
  groups?: PairGroups;
  /** Random baseline (method "random"): draws per cell, averaged, with their spread (default 10). */
  randomReplicates?: number;
  /** Cross-lingual recognition, transfer (default true). */
  crossLingual?: boolean;
  /** Also aggregate similarity at this fixed layer. */
  similarityLayer?: string;
  /**
   * Model family preset for the correlation (the paper's setting): drops the family's excluded languages,
   * orders the rest as the authors did, and gives the high-resource set of the split correlation.
   */
  family?: ModelFamily;
  /** High-resource languages for the split correlation (overrides the family's; none: split is NaN). */
  highResource?: readonly string[];
  /** Mantel permutations per lang2vec type (default 9999; all n! when fewer); false skips the test. */
  mantel?: { permutations?: number; seed?: number } | false;
  memoryBudget?: number;
  progress?: Progress;
}

/** Summary over the random baseline's replicate draws of one cell (mean, sample SD, range). */
export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export interface RandomBaselineSummary {
  variant: RandomVariant;
  replicates: number;
  /**
   * Chance by construction: per draw, the test accuracy averaged over all layers (no label information used
   * anywhere), then the spread over draws.
   */
  noSelection: Spread;
  /**
   * The headline protocol applied to each draw (layer chosen on validation with that draw). Above chance where
   * the concept is strongly linear: validation picks the layer where the draw happens to lean towards it.
   */
  heldOut?: Spread;
  /**
   * The draws at the layer the concept's own vectors choose on validation (the headline's layer; the file's
   * mean_diff vectors, else another non-random method): what a direction with no information scores exactly
   * where the concept is headlined. Chance-level over draws.
   */
  atConceptLayer?: { method: string; layer: string; accuracy: Spread };
  /** Test-picked accuracy over the draws (optimistic, as for any method). */
  oracle: Spread;
  /** Mean test accuracy per layer over the draws. */
  meanAccuracy: number[];
}

export interface RecognitionSummary extends RecognitionStats {
  nVal: number;
  /** Method "random" only: every replicate draw of the cell (draw 0 is the stored vector). */
  baseline?: RandomBaselineSummary;
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
    /** Layer-wise curve over all languages (x: layer / nLayer). */
    layerwise?: LayerwiseCurve;
    /** The same over the paper's 8 shared languages present here (its Figure's setting), when ≥ 2 are. */
    layerwiseShared?: LayerwiseCurve;
  };
  transfer?: TransferResult;
  correlation?: CorrelationResults;
}

/** Table 1 of one model: the setting it was computed in and r per lang2vec type. */
export interface CorrelationResults extends CorrelationSetting {
  table: Record<string, CorrelationRow>;
}

/** The correlation of an aggregated similarity over the lang2vec languages, under a preset or explicit setting. */
export function correlationResults(
  sims: readonly LayerSimilarity[],
  langs: readonly string[],
  opts: { family?: ModelFamily; highResource?: readonly string[]; mantel?: { permutations?: number; seed?: number } | false },
): CorrelationResults | undefined {
  const setting = correlationSetting(langs.filter(hasLang2vec), opts);
  if (setting.langs.length < 3 || sims.length === 0) return undefined;
  const matrix = aggregateSimilarity(sims, { langs: setting.langs });
  return { ...setting, table: correlationTable(matrix, setting.highResource, { types: PAPER_LINGUISTIC_TYPES, mantel: opts.mantel ?? {} }) };
}

/** concept → pair id → source-item group. */
export type PairGroups = GroupMap;

/** The groups capture recorded in an activation file's provenance (`extra.groups`), if any. */
export function groupsFromProvenance(p: Provenance): PairGroups | undefined {
  const g = (p.extra as { groups?: unknown } | undefined)?.groups;
  if (g === undefined) return undefined;
  if (typeof g !== "object" || g === null) throw new Error("activation provenance: extra.groups must be an object (concept → id → group)");
  return g as PairGroups;
}

function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

interface RandomSetup {
  variant: RandomVariant;
  seed: number | string;
  model: string;
}

function randomSetup(vf: VectorFile): RandomSetup {
  const extra = vf.provenance.extra as { seed?: unknown; random?: { variant?: unknown; seeding?: unknown } } | undefined;
  const variant = extra?.random?.variant;
  if (extra?.random?.seeding !== "per-cell" || (variant !== "gaussian" && variant !== "shuffle")) {
    throw new Error("the random vectors were not drawn per cell (vector file from an older valuelens?): re-run `valuelens extract --method random`");
  }
  const seed = extra.seed;
  return { variant, seed: typeof seed === "number" || typeof seed === "string" ? seed : 1, model: vf.provenance.model.sha256 };
}

function bitsFraction(bits: Uint8Array): number {
  let s = 0;
  for (const b of bits) s += b;
  return bits.length ? s / bits.length : NaN;
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalysisResults> {
  const vf = typeof opts.vectors === "string" ? await readVectors(opts.vectors) : opts.vectors;
  const { method, vec, layers, concepts, langs } = selectVectors(vf, opts);
  const ties = opts.ties ?? "correct";
  const R = opts.randomReplicates ?? 10;
  if (!Number.isInteger(R) || R < 1) throw new Error(`randomReplicates must be a positive integer, got ${R}`);
  const rnd = method === "random" ? randomSetup(vf) : undefined;
  // The concept's own vectors, to place the baseline at the layer the headline uses.
  const refMethod = rnd ? ([...new Set(vf.rows.map((r) => r.method))].filter((m) => m !== "random").sort((a, b) => Number(b === "mean_diff") - Number(a === "mean_diff"))[0] as ExtractMethod | undefined) : undefined;
  const ref = refMethod ? selectVectors(vf, { method: refMethod, concepts, langs }).vec : undefined;
  const refTest = new Map<string, Uint8Array[]>();
  const refVal = new Map<string, Float64Array[]>();

  // Per (concept, lang): test bits and validation margins per layer; for the random baseline, per replicate.
  const testBits = new Map<string, Uint8Array[]>();
  const valMargins = new Map<string, Float64Array[]>();
  const repTest = new Map<string, Uint8Array[][]>(); // key → replicate → layer
  const repVal = new Map<string, Float64Array[][]>();
  const testIds = new Map<string, string[]>();
  const push = <T>(m: Map<string, T[]>, key: string, v: T): void => {
    (m.get(key) ?? m.set(key, []).get(key)!).push(v);
  };
  const cross = new Map<string, CrossLingualResult>();
  const transfer = new TransferCollector(layers, ties);
  const info = await inspectActivations(opts.activations);
  const groups = opts.groups ?? groupsFromProvenance(info.provenance);
  const groupLayers = layerGroups(layers, info.rows / Math.max(1, layers.length), info.nEmbd, opts.memoryBudget ?? 2 ** 30);
  const splits: Split[] = rnd?.variant === "shuffle" ? ["train", "test", "val"] : ["test", "val"];
  opts.progress?.start("analyze", layers.length, "layers");
  for (const group of groupLayers) {
    const tree = await collectPairs(opts.activations, { layers: group, splits, concepts, langs });
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
          testIds.set(key, t.itemIds);
          push(testBits, key, pairCorrectness(t, v, { ties }));
          const vp = val?.get(layer);
          if (vp && vp.itemIds.length > 0) push(valMargins, key, pairMargins(vp, v));
          const rv = ref?.get(concept)?.get(lang)?.get(layer);
          if (rv) {
            push(refTest, key, pairCorrectness(t, rv, { ties }));
            if (vp && vp.itemIds.length > 0) push(refVal, key, pairMargins(vp, rv));
          }
          if (rnd) {
            const seed = randomCellSeed(rnd.seed, { model: rnd.model, concept, lang, layer });
            const train = byLang?.get(lang)?.get("train")?.get(layer);
            const reps = repTest.get(key) ?? repTest.set(key, Array.from({ length: R }, () => [])).get(key)!;
            const repsVal = repVal.get(key) ?? repVal.set(key, Array.from({ length: R }, () => [])).get(key)!;
            for (let r = 0; r < R; r++) {
              const d = randomDirection(rnd.variant, t.dim, seed, r, train);
              if (r === 0 && !sameVector(d, v)) {
                throw new Error(`${concept}/${lang} layer ${layer}: the stored random vector is not draw 0 of its cell seed (vector file from another valuelens or seed?): re-run extract`);
              }
              reps[r].push(pairCorrectness(t, d, { ties }));
              if (vp && vp.itemIds.length > 0) repsVal[r].push(pairMargins(vp, d));
            }
          }
        }
      }
      if (opts.crossLingual !== false && byLang) {
        const test = new Map<string, Map<string, AlignedPairs>>();
        const val = new Map<string, Map<string, AlignedPairs>>();
        for (const [lang, bySplit] of byLang) {
          const t = bySplit.get("test");
          if (t && vectors.has(lang)) test.set(lang, t);
          const v = bySplit.get("val");
          if (v && vectors.has(lang)) val.set(lang, v);
        }
        const part = transfer.add(concept, group, vectors, test, val);
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

  const statsOpts = { ties, ...(opts.interval ? { interval: opts.interval } : {}), bootstrap: opts.bootstrap ?? {} } as const;
  const recognition: AnalysisResults["recognition"] = {};
  for (const concept of concepts) {
    recognition[concept] = {};
    for (const lang of vec.get(concept)!.keys()) {
      const key = `${concept}|${lang}`;
      const vm = valMargins.get(key);
      const withVal = vm !== undefined && vm.length === layers.length;
      const ids = testIds.get(key)!;
      const byId = groups?.[concept];
      const testGroups = byId ? ids.map((id) => byId[id] ?? id) : undefined;
      const stats = recognitionStats({ layers, test: testBits.get(key)!, ...(withVal ? { valMargins: vm } : {}) }, { ...statsOpts, ...(testGroups ? { testGroups } : {}) });
      const s: RecognitionSummary = { ...stats, nVal: withVal ? vm[0].length : 0 };
      const reps = repTest.get(key);
      if (rnd && reps) {
        const per = reps.map((bits, r) => {
          const rv = repVal.get(key)?.[r];
          return recognitionStats({ layers, test: bits, ...(withVal && rv && rv.length === layers.length ? { valMargins: rv } : {}) }, { ties, bootstrap: false });
        });
        const held = per.map((p) => p.heldOut?.accuracy).filter((x): x is number => x !== undefined);
        const rt = refTest.get(key);
        const rvm = refVal.get(key);
        const conceptLayer = rt && rvm && rt.length === layers.length && rvm.length === layers.length ? recognitionStats({ layers, test: rt, valMargins: rvm }, { ties, bootstrap: false }).heldOut : undefined;
        s.baseline = {
          variant: rnd.variant,
          replicates: R,
          noSelection: spread(reps.map((bits) => bits.reduce((a, b) => a + bitsFraction(b), 0) / bits.length)),
          ...(held.length === R ? { heldOut: spread(held) } : {}),
          ...(conceptLayer && refMethod ? { atConceptLayer: { method: refMethod, layer: conceptLayer.layer, accuracy: spread(reps.map((bits) => bitsFraction(bits[conceptLayer.index]))) } } : {}),
          oracle: spread(per.map((p) => p.oracle.accuracy)),
          meanAccuracy: layers.map((_, l) => reps.reduce((a, bits) => a + bitsFraction(bits[l]), 0) / R),
        };
      }
      recognition[concept][lang] = s;
    }
  }
  // Best layer per (src, tgt), the max taken separately for every cell as the paper does.
  for (const r of cross.values()) {
    for (const s of r.sources) {
      for (const t of r.targets) {
        const acc = r.acc[s][t];
        let b = 0;
        for (let i = 1; i < acc.length; i++) if (acc[i] > acc[b]) b = i;
        r.best[s][t] = { layer: r.layers[b], index: b, accuracy: acc[b] };
      }
    }
  }

  const { similarity, fullConcepts } = similarityFromVectors({ method, vec, layers, concepts, langs }, opts.similarityLayer, vf.provenance.model.nLayer);
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
    if (complete.length) {
      results.transfer = transferAnalysis(complete, { langs });
      const outcomes = transfer.outcomes(langs, groups);
      // Its intervals are the point: with the bootstrap off it is left out.
      if (outcomes.length && opts.bootstrap !== false) results.transfer.heldOut = heldOutTransfer(outcomes, { ties, ...opts.bootstrap });
    }
  }
  const correlation = correlationResults(
    fullConcepts.map((c) => similarity.perConcept[c]),
    langs,
    { ...(opts.family ? { family: opts.family } : {}), ...(opts.highResource ? { highResource: opts.highResource } : {}), ...(opts.mantel !== undefined ? { mantel: opts.mantel } : {}) },
  );
  if (correlation) results.correlation = correlation;
  return results;
}

/** Replicate r of a cell's random direction (draw 0 is what extraction stores). */
function randomDirection(variant: RandomVariant, dim: number, seed: string, r: number, train: PairMatrices | undefined): Float32Array {
  if (variant === "gaussian") return randomUnitVector(dim, seed, r);
  if (!train || train.pos.length === 0) throw new Error("random baseline (shuffle): no training pairs to permute");
  return extractRandom(train, { variant, seed, replicate: r }).unit;
}

function sameVector(a: Float32Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (Math.abs(a[j] - b[j]) > 1e-6) return false;
  return true;
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
export function similarityFromVectors(sel: VectorSelection, fixedLayer?: string, nLayer?: number): { similarity: AnalysisResults["similarity"]; fullConcepts: string[] } {
  const { vec, layers, concepts, langs } = sel;
  const perConcept: Record<string, LayerSimilarity> = {};
  for (const concept of concepts) perConcept[concept] = layerSimilarities(vec.get(concept)!, { langs: langs.filter((l) => vec.get(concept)!.has(l)), layers });
  const fullConcepts = concepts.filter((c) => perConcept[c].langs.length === langs.length);
  const sims = fullConcepts.map((c) => perConcept[c]);
  const shared = SHARED_LANGUAGES.filter((l) => langs.includes(l));
  return {
    fullConcepts,
    similarity: {
      perConcept,
      aggregate: sims.length ? aggregateSimilarity(sims, { langs }) : { langs, values: langs.map((_, i) => langs.map((__, j) => (i === j ? 1 : NaN))) },
      ...(fixedLayer && sims.length ? { atLayer: { layer: fixedLayer, matrix: aggregateSimilarity(sims, { langs, layer: fixedLayer }) } } : {}),
      ...(langs.length >= 2 && sims.length ? { layerwise: layerwiseSimilarity(sims, { langs, ...(nLayer ? { nLayer } : {}) }) } : {}),
      ...(shared.length >= 2 && sims.length ? { layerwiseShared: layerwiseSimilarity(sims, { langs: shared, ...(nLayer ? { nLayer } : {}) }) } : {}),
    },
  };
}
