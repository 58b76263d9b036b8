// The quantization view: does a concept survive quantization? Every model (same architecture, different weight
// types) reads the same small contrastive pair set — the demo's built-in human-value pairs, so it works offline
// and for any model — and per model, concept, language and layer we take the mean-difference vector (train half)
// and its recognition accuracy (test half: pos·v > neg·v). Shown: cosine of each model's vector with the first
// model's (the reference, e.g. F16) per layer, and the accuracy change from the reference.
import { compile, type TopLevelSpec } from "vega-lite";
import { demoPairs } from "../demo/demo.js";
import { allLayers } from "../engine/layers.js";
import { cosineOrNaN } from "../analysis/similarity.js";
import type { ContrastPair } from "../data/types.js";
import type { ModelSlot } from "./sources.js";

export interface QuantCell {
  concept: string;
  lang: string;
  /** model → per layer cosine with the reference model's vector. */
  cosine: Record<string, number[]>;
  /** model → per layer test accuracy. */
  accuracy: Record<string, number[]>;
}

export interface QuantResult {
  reference: string;
  models: Array<{ name: string; type: string; sizeBytes: number }>;
  layers: number[];
  pairsPerCell: number;
  cells: QuantCell[];
  /** Models of another architecture or shape than the reference, not compared. */
  skipped: string[];
  seconds: number;
}

interface CellVectors {
  /** per layer: mean difference (train) */
  vec: Float64Array[];
  acc: number[];
}

async function modelCells(slot: ModelSlot, pairs: readonly ContrastPair[], layers: readonly number[]): Promise<Map<string, CellVectors>> {
  const session = slot.session!;
  const texts = pairs.flatMap((p) => [p.pos, p.neg]);
  const acts = await slot.queue.run(() => session.capture(texts, { layers, position: "last" }));
  const d = slot.model!.nEmbd;
  const byCell = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const k = `${p.concept}\u0000${p.lang}`;
    const list = byCell.get(k) ?? [];
    list.push(i);
    byCell.set(k, list);
  });
  const out = new Map<string, CellVectors>();
  for (const [k, idx] of byCell) {
    const train = idx.filter((_, j) => j % 2 === 0);
    const test = idx.filter((_, j) => j % 2 === 1);
    const vec: Float64Array[] = [];
    const acc: number[] = [];
    for (const layer of layers) {
      const v = new Float64Array(d);
      for (const i of train) {
        const pos = acts.row(layer, 2 * i);
        const neg = acts.row(layer, 2 * i + 1);
        for (let j = 0; j < d; j++) v[j] += (pos[j] - neg[j]) / train.length;
      }
      let right = 0;
      for (const i of test) {
        const pos = acts.row(layer, 2 * i);
        const neg = acts.row(layer, 2 * i + 1);
        let s = 0;
        for (let j = 0; j < d; j++) s += (pos[j] - neg[j]) * v[j];
        if (s > 0) right++;
      }
      vec.push(v);
      acc.push(test.length ? right / test.length : Number.NaN);
    }
    out.set(k, { vec, acc });
  }
  return out;
}

/** llama.cpp's general.file_type numbers for the common weight types. */
const FILE_TYPES: Readonly<Record<string, string>> = { "0": "F32", "1": "F16", "2": "Q4_0", "3": "Q4_1", "7": "Q8_0", "8": "Q5_0", "9": "Q5_1", "10": "Q2_K", "12": "Q3_K_M", "14": "Q4_K_S", "15": "Q4_K_M", "16": "Q5_K_S", "17": "Q5_K_M", "18": "Q6_K", "25": "IQ4_NL", "32": "BF16" };

export async function quantComparison(slots: readonly ModelSlot[], opts: { pairsPerCell: number }): Promise<QuantResult> {
  const t0 = performance.now();
  const loaded = slots.filter((s) => s.state === "ready");
  const ref = loaded[0];
  // Quantizations of one model share architecture and shape; other models given are left out (and named).
  const same = (s: ModelSlot) => s.model!.arch === ref.model!.arch && s.model!.nLayer === ref.model!.nLayer && s.model!.nEmbd === ref.model!.nEmbd;
  const ready = loaded.filter(same);
  const skipped = loaded.filter((s) => !same(s)).map((s) => s.name);
  if (ready.length < 2) throw new Error(`the quantization view needs two loaded models of one architecture and shape (${ref?.name ?? "none"} has no sibling${skipped.length ? `; left out: ${skipped.join(", ")}` : ""})`);
  const pairs = demoPairs(opts.pairsPerCell);
  const layers = allLayers(ref.model!.nLayer);
  const per = new Map<string, Map<string, CellVectors>>();
  for (const s of ready) per.set(s.name, await modelCells(s, pairs, layers));
  const cells: QuantCell[] = [];
  for (const [k, r] of per.get(ref.name)!) {
    const [concept, lang] = k.split("\u0000");
    const cell: QuantCell = { concept, lang, cosine: {}, accuracy: {} };
    for (const s of ready) {
      const c = per.get(s.name)!.get(k)!;
      cell.cosine[s.name] = c.vec.map((v, i) => cosineOrNaN(v, r.vec[i]) || 0) // a zero vector (no signal) shows as 0;
      cell.accuracy[s.name] = c.acc;
    }
    cells.push(cell);
  }
  return {
    reference: ref.name,
    models: ready.map((s) => ({ name: s.name, type: FILE_TYPES[s.model!.metadata["general.file_type"] ?? ""] ?? s.model!.metadata["general.file_type"] ?? "?", sizeBytes: s.model!.sizeBytes })),
    layers,
    pairsPerCell: opts.pairsPerCell,
    cells,
    skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Two Vega figures of the comparison (compiled from Vega-Lite here; the page only needs the Vega runtime). */
export function quantFigures(r: QuantResult): Array<{ id: string; title: string; vega: unknown }> {
  const rows = r.cells.flatMap((c) =>
    Object.keys(c.cosine).flatMap((model) =>
      r.layers.map((layer, i) => ({
        concept: c.concept,
        lang: c.lang,
        model,
        layer,
        cosine: c.cosine[model][i],
        accuracyChange: c.accuracy[model][i] - c.accuracy[r.reference][i],
      })),
    ),
  );
  const others = rows.filter((x) => x.model !== r.reference);
  const panel = (field: "cosine" | "accuracyChange", title: string) => ({
    data: { values: others },
    width: 220,
    height: 160,
    mark: { type: "line", point: true, tooltip: { content: "data" } },
    encoding: {
      column: { field: "concept", type: "nominal" },
      x: { field: "layer", type: "quantitative", axis: { tickMinStep: 1, format: "d" } },
      y: { field, type: "quantitative", aggregate: "mean", title },
      color: { field: "model", type: "nominal" },
    },
  });
  return [
    { id: "quant-cosine", title: `Cosine with ${r.reference}'s vector (mean over languages)`, vega: compile(panel("cosine", `cosine with ${r.reference}`) as TopLevelSpec).spec },
    { id: "quant-accuracy", title: `Recognition accuracy change from ${r.reference} (mean over languages)`, vega: compile(panel("accuracyChange", "Δ accuracy") as TopLevelSpec).spec },
  ];
}
