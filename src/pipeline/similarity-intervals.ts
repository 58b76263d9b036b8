// Similarity intervals from an activation file: the paired cluster bootstrap of src/analysis/similarity-intervals.ts
// over the training pairs (the pairs the mean-difference vectors are extracted from), streamed layer by layer.
import { directCorrelation } from "../analysis/correlation.js";
import type { Lang2vecType } from "../analysis/lang2vec.js";
import type { LangMatrix } from "../analysis/similarity.js";
import { langPairs, layerCosines, pairIntervals, resampleClusters, resampledMeans, type SimilarityInterval } from "../analysis/similarity-intervals.js";
import { percentileInterval } from "../analysis/stats.js";
import type { Progress } from "../progress/progress.js";
import { inspectActivations } from "../store/index.js";
import { groupsFromProvenance, type PairGroups } from "./analyze.js";
import { collectPairs, layerGroups, storedLayers } from "./matrices.js";

export interface SimilarityIntervalOptions {
  activations: string;
  concepts?: readonly string[];
  langs?: readonly string[];
  /** Layers to resample (default: every stored layer); the max over layers is taken over these. */
  layers?: readonly string[];
  /** Also give the aggregate at this fixed layer. */
  layer?: string;
  /** Bootstrap resamples (default 200). */
  samples?: number;
  seed?: number;
  level?: number;
  /** Source-item groups (default: recorded at capture); without them every item is its own cluster. */
  groups?: PairGroups;
  /** Correlations of the aggregate with lang2vec similarity to give intervals for. */
  correlation?: readonly Lang2vecType[];
  memoryBudget?: number;
  progress?: Progress;
}

export interface ConceptSimilarityIntervals {
  concept: string;
  /** Training items (clusters) resampled. */
  items: number;
  clusters: number;
  /** layers[l] × pairs[p]. */
  perLayer: SimilarityInterval[][];
  /** Max over layers per pair (the paper's per-concept value), its interval carrying the layer choice. */
  max: SimilarityInterval[];
}

export interface SimilarityIntervalResults {
  method: "mean_diff";
  langs: string[];
  layers: string[];
  pairs: Array<[string, string]>;
  samples: number;
  level: number;
  concepts: ConceptSimilarityIntervals[];
  /** Mean over concepts of the max over layers (the paper's heatmap value) per pair. */
  aggregate: SimilarityInterval[];
  /** Mean over concepts at the fixed layer, when asked. */
  atLayer?: { layer: string; values: SimilarityInterval[] };
  /** Pearson r of the aggregate with lang2vec similarity, per type. */
  correlation?: Array<{ type: Lang2vecType; value: number; lo: number; hi: number }>;
}

/** Cluster-bootstrap intervals of the cross-lingual similarity of mean-difference vectors (see the module comment). */
export async function similarityIntervals(opts: SimilarityIntervalOptions): Promise<SimilarityIntervalResults> {
  const B = opts.samples ?? 200;
  const level = opts.level ?? 0.95;
  const info = await inspectActivations(opts.activations);
  const groups = opts.groups ?? groupsFromProvenance(info.provenance);
  const layers = [...(opts.layers ?? (await storedLayers(opts.activations)))];
  if (opts.layer !== undefined && !layers.includes(opts.layer)) throw new Error(`similarity intervals: layer ${opts.layer} is not among the layers (${layers.join(", ")})`);
  let concepts: string[] | undefined = opts.concepts ? [...opts.concepts] : undefined;
  let langs: string[] | undefined = opts.langs ? [...opts.langs] : undefined;
  // Per concept: resamples (fixed once the concept's items are known) and running per-layer results.
  const state = new Map<string, { resamples: ReturnType<typeof resampleClusters>; items: number; perLayer: Map<string, { full: Float64Array; boot: Float64Array[] }> }>();
  const clusterOf = (concept: string) => (id: string) => groups?.[concept]?.[id] ?? id;
  opts.progress?.start("similarity intervals", layers.length, "layers");
  for (const group of layerGroups(layers, info.rows / Math.max(1, layers.length), info.nEmbd, opts.memoryBudget ?? 2 ** 30)) {
    const tree = await collectPairs(opts.activations, { layers: group, splits: ["train"], concepts, langs });
    concepts ??= [...tree.keys()].sort();
    if (concepts.length === 0) throw new Error(`similarity intervals: ${opts.activations} has no training pairs`);
    for (const concept of concepts) {
      const byLang = tree.get(concept);
      if (!byLang) throw new Error(`similarity intervals: no training pairs for ${concept}`);
      langs ??= [...byLang.keys()].sort();
      for (const l of langs) if (!byLang.get(l)?.get("train")) throw new Error(`similarity intervals: no training pairs for ${concept}/${l}`);
      let st = state.get(concept);
      if (!st) {
        // Every language's items, by cluster: the same draw weighs an item in every language it appears in.
        const ids = new Set<string>();
        for (const l of langs) for (const id of byLang.get(l)!.get("train")!.get(group[0])?.itemIds ?? []) ids.add(id);
        const clusters = [...new Set([...ids].map(clusterOf(concept)))].sort();
        st = { resamples: resampleClusters(clusters, B, opts.seed ?? 0, `similarity:${concept}`), items: ids.size, perLayer: new Map() };
        state.set(concept, st);
      }
      for (const layer of group) {
        const means = langs.map((l) => {
          const p = byLang.get(l)!.get("train")!.get(layer);
          if (!p) throw new Error(`similarity intervals: no training pairs for ${concept}/${l} at layer ${layer}`);
          const diffs = new Float32Array(p.pos.length);
          for (let k = 0; k < diffs.length; k++) diffs[k] = p.pos[k] - p.neg[k];
          return resampledMeans({ itemIds: p.itemIds, diffs, dim: p.dim }, st!.resamples, clusterOf(concept));
        });
        st.perLayer.set(layer, layerCosines(means));
      }
    }
    for (let i = 0; i < group.length; i++) opts.progress?.tick();
  }
  opts.progress?.finish();
  if (!langs || langs.length < 2 || !concepts) throw new Error("similarity intervals: need at least two languages");
  const pairs = langPairs(langs);
  const P = pairs.length;
  const maxOf = (xs: Float64Array[]) => {
    const out = new Float64Array(P).fill(-Infinity);
    for (const x of xs) for (let p = 0; p < P; p++) out[p] = Math.max(out[p], Number.isNaN(x[p]) ? -Infinity : x[p]);
    return out.map((v) => (v === -Infinity ? NaN : v));
  };
  const conceptResults: ConceptSimilarityIntervals[] = [];
  const aggFull = new Float64Array(P);
  const aggBoot = Array.from({ length: B }, () => new Float64Array(P));
  const fixFull = new Float64Array(P);
  const fixBoot = Array.from({ length: B }, () => new Float64Array(P));
  for (const concept of concepts) {
    const st = state.get(concept)!;
    const per = layers.map((l) => st.perLayer.get(l)!);
    const maxFull = maxOf(per.map((x) => x.full));
    const maxBoot = Array.from({ length: B }, (_, b) => maxOf(per.map((x) => x.boot[b])));
    conceptResults.push({
      concept,
      items: st.items,
      clusters: st.resamples.clusters.length,
      perLayer: per.map((x) => pairIntervals(x.full, x.boot, level)),
      max: pairIntervals(maxFull, maxBoot, level),
    });
    for (let p = 0; p < P; p++) {
      aggFull[p] += maxFull[p] / concepts.length;
      for (let b = 0; b < B; b++) aggBoot[b][p] += maxBoot[b][p] / concepts.length;
    }
    if (opts.layer !== undefined) {
      const at = st.perLayer.get(opts.layer)!;
      for (let p = 0; p < P; p++) {
        fixFull[p] += at.full[p] / concepts.length;
        for (let b = 0; b < B; b++) fixBoot[b][p] += at.boot[b][p] / concepts.length;
      }
    }
  }
  const out: SimilarityIntervalResults = { method: "mean_diff", langs, layers, pairs, samples: B, level, concepts: conceptResults, aggregate: pairIntervals(aggFull, aggBoot, level) };
  if (opts.layer !== undefined) out.atLayer = { layer: opts.layer, values: pairIntervals(fixFull, fixBoot, level) };
  if (opts.correlation?.length) {
    const matrix = (v: Float64Array): LangMatrix => {
      const values = langs!.map((_, i) => langs!.map((__, j) => (i === j ? 1 : NaN)));
      pairs.forEach((_, p) => {
        const [i, j] = [langs!.indexOf(pairs[p][0]), langs!.indexOf(pairs[p][1])];
        values[i][j] = v[p];
        values[j][i] = v[p];
      });
      return { langs: [...langs!], values };
    };
    out.correlation = opts.correlation.map((type) => {
      const value = directCorrelation(matrix(aggFull), type);
      const boot = Float64Array.from(aggBoot.map((v) => directCorrelation(matrix(v), type)).filter((x) => Number.isFinite(x)));
      const ci = boot.length > 0 ? percentileInterval(boot, level) : { lo: NaN, hi: NaN };
      return { type, value, lo: ci.lo, hi: ci.hi };
    });
  }
  return out;
}
