// Plausible AnalysisResults without a model: structured random vectors fed through the real analysis
// functions (similarity, transfer, correlation), synthetic recognition curves with CIs.
import { aggregateSimilarity, correlationTable, layerSimilarities, layerwiseSimilarity, transferAnalysis, type CrossLingualResult } from "../../src/analysis/index.js";
import { Rng } from "../../src/util/rng.js";
import type { AnalysisResults, RecognitionSummary } from "../../src/pipeline/analyze.js";
import type { ControlCurves } from "../../src/report/types.js";

export interface FixtureSpec {
  name: string;
  langs: string[];
  concepts: string[];
  nLayer: number;
  /** How strongly languages share a direction (1: identical, 0: unrelated). */
  share: number;
  seed: number;
  nEmbd?: number;
}

function unit(v: Float64Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  s = Math.sqrt(s);
  return Float32Array.from(v, (x) => x / s);
}

export function fixtureResults(spec: FixtureSpec): AnalysisResults {
  const rng = new Rng(spec.seed, "report-fixture");
  const d = spec.nEmbd ?? 32;
  const layers = Array.from({ length: spec.nLayer }, (_, i) => String(i + 1));
  const recognition: AnalysisResults["recognition"] = {};
  const perConcept: AnalysisResults["similarity"]["perConcept"] = {};
  const crossLingual: Record<string, CrossLingualResult> = {};
  for (const concept of spec.concepts) {
    const base = new Float64Array(d);
    rng.fillNormal(base);
    const vectors = new Map<string, Map<string, Float32Array>>();
    recognition[concept] = {};
    spec.langs.forEach((lang, li) => {
      const own = new Float64Array(d);
      rng.fillNormal(own);
      const w = li === 0 ? 1 : spec.share * (1 - li / (2 * spec.langs.length));
      const byLayer = new Map<string, Float32Array>();
      layers.forEach((layer, k) => {
        const noise = new Float64Array(d);
        rng.fillNormal(noise, 0, 0.2);
        byLayer.set(layer, unit(Float64Array.from(base, (b, j) => w * b + (1 - w) * own[j] + noise[j] * (1 + k / layers.length))));
      });
      vectors.set(lang, byLayer);
      const accuracy = layers.map((_, k) => Math.min(1, 0.55 + 0.4 * Math.sin((Math.PI * (k + 1)) / (layers.length + 1)) + 0.03 * rng.uniform()));
      const ci = accuracy.map((a) => ({ lo: Math.max(0, a - 0.06), hi: Math.min(1, a + 0.05) }));
      let best = 0;
      accuracy.forEach((a, k) => a > accuracy[best] && (best = k));
      const h = Math.max(0, best - 1);
      const s: RecognitionSummary = {
        nTest: 40,
        nClusters: 40,
        nVal: 8,
        accuracy,
        ci,
        interval: { method: "wilson", level: 0.95 },
        oracle: { layer: layers[best], index: best, accuracy: accuracy[best], ci: ci[best], selectionCi: { lo: ci[best].lo - 0.05, hi: 1 }, maxCi: ci[best] },
        heldOut: { layer: layers[h], index: h, accuracy: accuracy[h], valAccuracy: 0.9, valMargin: 2, nVal: 8, tiedOnValidation: 1, ci: ci[h] },
      };
      recognition[concept][lang] = s;
    });
    perConcept[concept] = layerSimilarities(vectors, { langs: spec.langs, layers });
    const acc: CrossLingualResult["acc"] = {};
    const bestCell: CrossLingualResult["best"] = {};
    for (const s of spec.langs) {
      acc[s] = {};
      bestCell[s] = {};
      for (const t of spec.langs) {
        acc[s][t] = layers.map((layer) => {
          let c = 0;
          const a = vectors.get(s)!.get(layer)!;
          const b = vectors.get(t)!.get(layer)!;
          for (let j = 0; j < d; j++) c += a[j] * b[j];
          return 0.5 + 0.5 * Math.max(0, c) * (s === t ? 1 : 0.95);
        });
        let bi = 0;
        acc[s][t].forEach((v, k) => v > acc[s][t][bi] && (bi = k));
        bestCell[s][t] = { layer: layers[bi], index: bi, accuracy: acc[s][t][bi] };
      }
    }
    crossLingual[concept] = { sources: [...spec.langs], targets: [...spec.langs], layers, nTest: Object.fromEntries(spec.langs.map((l) => [l, 40])), acc, best: bestCell };
  }
  const sims = spec.concepts.map((c) => perConcept[c]);
  const aggregate = aggregateSimilarity(sims, { langs: spec.langs });
  return {
    method: "mean_diff",
    layers,
    concepts: [...spec.concepts],
    langs: [...spec.langs],
    ties: "correct",
    provenance: {
      kind: "vectors",
      valuelensVersion: "0.1.0",
      createdAt: "2024-01-01T00:00:00.000Z",
      model: { file: `${spec.name}.gguf`, sha256: "ab".repeat(32), arch: "llama", name: spec.name, nLayer: spec.nLayer, nEmbd: d },
      layerConvention: "hf-hidden-states",
      position: "last",
      templates: { raw: "{input}" },
      split: { seed: 1, train: 100, val: 10, test: 40, by: "item" },
      extra: { seed: 1, methods: ["mean_diff"] },
    },
    recognition,
    crossLingual,
    similarity: {
      perConcept,
      aggregate,
      atLayer: { layer: layers[1], matrix: aggregateSimilarity(sims, { langs: spec.langs, layer: layers[1] }) },
      layerwise: layerwiseSimilarity(sims, { langs: spec.langs }),
    },
    transfer: transferAnalysis(Object.values(crossLingual), { langs: spec.langs }),
    correlation: { langs: [...spec.langs], highResource: [spec.langs[0]], excluded: [], table: correlationTable(aggregate, [spec.langs[0]], { mantel: { permutations: 99 } }) },
  };
}

/** A control summary with a primary metric and two side-effect metrics for every model. */
export function fixtureControl(models: readonly string[], sources: readonly string[], targets: readonly string[]): ControlCurves {
  const curves: ControlCurves["curves"] = [];
  for (const model of models) {
    for (const source of sources) {
      for (const target of targets) {
        for (const c of [-8, -4, 0, 4, 8]) {
          const k = source === target ? 1 : 0.5;
          const rate = 1 / (1 + Math.exp(-0.5 * k * c));
          curves.push({ model, concept: "morality", source, target, coefficient: c, metric: "rate", value: rate, lo: Math.max(0, rate - 0.1), hi: Math.min(1, rate + 0.1) });
          curves.push({ model, concept: "morality", source, target, coefficient: c, metric: "fluency", value: -2 - 0.02 * c * c, lo: -2.2 - 0.02 * c * c, hi: -1.8 - 0.02 * c * c });
          curves.push({ model, concept: "morality", source, target, coefficient: c, metric: "off_target", value: 0.5 + 0.01 * c, lo: null, hi: null });
        }
      }
    }
  }
  return { curves, primaryMetric: "rate", metrics: { rate: { label: "steered rate", description: "Share of prompts preferring the value-aligned word" }, fluency: { label: "fluency (mean log-prob)" } } };
}
