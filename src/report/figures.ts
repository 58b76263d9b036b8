// Vega-Lite specifications of every report figure. Data are inlined; rendering happens in render.ts.
import type { TopLevelSpec } from "vega-lite";
import {
  controlMetrics,
  correlationScatterRows,
  fin,
  layerCurveRows,
  matrixRows,
  modelNames,
  perConceptSimilarity,
  recognitionRows,
  union,
  type Row,
} from "./data.js";
import type { ReportInput } from "./types.js";

export type SectionId = "recognition" | "similarity" | "transfer" | "correlation" | "control";

export interface FigureSpec {
  id: string;
  section: SectionId;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const BASE = { $schema: SCHEMA, background: "white", padding: 8, config: { view: { stroke: "#ddd" }, legend: { symbolOpacity: 1 }, axis: { labelFontSize: 10, titleFontSize: 11 }, header: { labelFontSize: 11 } } } as const;

/** File- and id-safe name; unique within one report via `taken`. */
export function slug(name: string, taken: Set<string>): string {
  const base =
    name
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 48) || "model";
  let s = base;
  for (let i = 2; taken.has(s); i++) s = `${base}-${i}`;
  taken.add(s);
  return s;
}

function cellStep(n: number): number {
  return n <= 6 ? 40 : n <= 10 ? 34 : n <= 16 ? 24 : 14;
}

/**
 * Width a figure may take: the report's column (1,200 px page − padding − the figure card), so that at a
 * 1,280 px window nothing needs a horizontal scrollbar. The page's CSS also scales any SVG down to its card.
 */
export const FIGURE_WIDTH = 1080;

/** Facet columns that fit FIGURE_WIDTH: panels of `panel` px plus `extra` px of legend and axis titles. */
export function fitColumns(n: number, panel: number, extra: number, max = n): number {
  return Math.max(1, Math.min(n, max, Math.floor((FIGURE_WIDTH - extra) / (panel + 24))));
}

/** Pixels of a legend whose longest label is `label` characters. */
function legendWidth(label: number): number {
  return 48 + Math.ceil(6.2 * label);
}

interface HeatmapOptions {
  title: string;
  rows: Row[];
  langs: string[];
  facet?: { field: string; sort: string[]; columns: number };
  xTitle: string;
  yTitle: string;
  colorTitle: string;
  domain: [number, number];
  scheme: string;
  /** Value below which cell text is drawn white (dark cells). */
  darkBelow?: number;
  /** Value above which cell text is drawn white too (diverging schemes are dark at both ends). */
  darkAbove?: number;
  decimals?: number;
}

function heatmap(o: HeatmapOptions): TopLevelSpec {
  const step = cellStep(o.langs.length);
  const showText = o.langs.length <= 16;
  const x = { field: "b", type: "nominal" as const, sort: o.langs, title: o.xTitle, axis: { labelAngle: 0 } };
  const y = { field: "a", type: "nominal" as const, sort: o.langs, title: o.yTitle };
  const dark = [o.darkBelow !== undefined ? `datum.value < ${o.darkBelow}` : "", o.darkAbove !== undefined ? `datum.value > ${o.darkAbove}` : ""].filter(Boolean).join(" || ") || "false";
  // Fixed sizes: Vega-Lite cannot combine step sizing with independent scales in a facet.
  const layer = {
    width: step * o.langs.length,
    height: step * o.langs.length,
    layer: [
      {
        mark: { type: "rect" as const },
        encoding: {
          x,
          y,
          color: { field: "value", type: "quantitative" as const, title: o.colorTitle, scale: { scheme: o.scheme, domain: o.domain, clamp: true } },
        },
      },
      ...(showText
        ? [
            {
              mark: { type: "text" as const, fontSize: step >= 26 ? 10 : 8 },
              encoding: {
                x,
                y,
                text: { field: "value", type: "quantitative" as const, format: `.${o.decimals ?? 2}f` },
                color: { condition: { test: dark, value: "white" }, value: "black" },
              },
            },
          ]
        : []),
    ],
  };
  const data = { values: o.rows.filter((r) => r.value !== null) };
  if (!o.facet) return { ...BASE, title: o.title, data, ...layer };
  return {
    ...BASE,
    title: o.title,
    data,
    facet: { field: o.facet.field, type: "nominal", sort: o.facet.sort, title: null },
    columns: fitColumns(o.facet.sort.length, step * o.langs.length + 40, 90, o.facet.columns),
    spec: layer,
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}

function valueRange(rows: readonly Row[]): [number, number] {
  const vs = rows.map((r) => fin(r.value)).filter((v): v is number => v !== null);
  return vs.length ? [Math.min(...vs), Math.max(...vs)] : [0, 1];
}

/** Lower end of a [lo, 1] colour domain: 0 unless values go below (e.g. negative cosines), in steps of 0.1. */
function floorDomain(min: number, dflt: number): number {
  return Math.min(dflt, Math.floor(min * 10) / 10);
}

/** Colour scale of cosine heatmaps: viridis from the data's floor (at most 0) to 1. */
function cosineColors(min: number): Pick<HeatmapOptions, "colorTitle" | "domain" | "scheme" | "darkBelow"> {
  return { colorTitle: "cosine", domain: [floorDomain(min, 0), 1], scheme: "viridis", darkBelow: 0.55 };
}

/** Colour scale of accuracy heatmaps: viridis from the data's floor (at most chance, 0.5) to 1. */
function accuracyColors(min: number): Pick<HeatmapOptions, "colorTitle" | "domain" | "scheme" | "darkBelow"> {
  const lo = floorDomain(min, 0.5);
  return { colorTitle: "accuracy", domain: [lo, 1], scheme: "viridis", darkBelow: (lo + 1) / 2 };
}

function recognitionFigures(input: ReportInput, slugs: ReadonlyMap<string, string>): FigureSpec[] {
  const models = modelNames(input);
  const rows = recognitionRows(input);
  const concepts = union(Object.values(input.models).map((r) => r.concepts));
  const langs = union(Object.values(input.models).map((r) => r.langs));
  const out: FigureSpec[] = [];
  if (rows.length) {
    // Without a validation split there is no held-out number: fall back to the test-picked one, labelled so.
    const held = rows.some((r) => r.heldOut !== null);
    const f = held ? { y: "heldOut", lo: "heldOutLo", hi: "heldOutHi" } : { y: "accuracy", lo: "lo", hi: "hi" };
    const x = { field: "lang", type: "nominal" as const, sort: langs, title: "language", axis: { labelAngle: 0 } };
    const xOffset = { field: "model", type: "nominal" as const, sort: models };
    // One bar per (language, model): narrow the bars before wrapping the concept panels into a column that scrolls.
    const legend = models.length > 1 ? legendWidth(Math.max(...models.map((m) => m.length))) : 0;
    const bars = langs.length * models.length;
    // Vega pads each language's band (~30% of its bars' width): count it in.
    const barStep = Math.max(2, Math.min(16, Math.floor((FIGURE_WIDTH - legend - 70) / (bars * 1.35))));
    const panel = Math.ceil(bars * barStep * 1.35);
    out.push({
      id: "recognition-accuracy",
      section: "recognition",
      title: "Recognition accuracy per language and model",
      caption: held
        ? "Accuracy of each language's own concept vector on its test pairs at the layer chosen on the validation pairs (held-out), with 95% intervals over source items (error bars). The paper's test-picked best layer is optimistic and shown only in the table. Dashed line: chance (0.5)."
        : "No validation split: accuracy at the best layer picked on the test set itself (the paper's choice; OPTIMISTIC), with selection-aware 95% intervals (error bars). Dashed line: chance (0.5).",
      spec: {
        ...BASE,
        title: held ? "Recognition accuracy (held-out layer, 95% interval)" : "Recognition accuracy (test-picked layer, optimistic)",
        data: { values: rows },
        facet: { field: "concept", type: "nominal", sort: concepts, title: null },
        columns: fitColumns(concepts.length, panel + 40, legend, 3),
        spec: {
          width: { step: barStep, for: "offset" },
          height: 160,
          layer: [
            {
              mark: { type: "bar" },
              encoding: {
                x,
                xOffset,
                y: { field: f.y, type: "quantitative", title: held ? "held-out accuracy" : "test-picked accuracy", scale: { domain: [0, 1] } },
                color: { field: "model", type: "nominal", sort: models, title: "model" },
              },
            },
            ...(rows.some((r) => r[f.lo] !== null && r[f.hi] !== null)
              ? [
                  {
                    transform: [{ filter: `isValid(datum.${f.lo}) && isValid(datum.${f.hi})` }],
                    mark: { type: "rule" as const, color: "#222" },
                    encoding: { x, xOffset, y: { field: f.lo, type: "quantitative" as const }, y2: { field: f.hi } },
                  },
                ]
              : []),
            { mark: { type: "rule", strokeDash: [4, 3], color: "#888" }, encoding: { y: { datum: 0.5 } } },
          ],
        },
      },
    });
  }
  for (const [model, r] of Object.entries(input.models)) {
    const curve = layerCurveRows(r);
    if (!curve.length) continue;
    const numeric = r.layers.every((l, i) => l === String(i + 1));
    const x = {
      field: "pos",
      type: "quantitative" as const,
      title: "layer",
      scale: { domain: [1, Math.max(2, r.layers.length)] },
      axis: { tickMinStep: 1, format: "d", ...(numeric ? {} : { labelExpr: `${JSON.stringify(r.layers)}[datum.value - 1] || ''` }) },
    };
    const color = { field: "lang", type: "nominal" as const, sort: r.langs, title: "language", scale: { scheme: r.langs.length > 10 ? "tableau20" : "tableau10" } };
    // Many overlapping bands hide the lines; the per-layer CIs stay in the results file.
    const bands = r.langs.length <= 8 && curve.some((x) => x.lo !== null && x.hi !== null);
    out.push({
      id: `recognition-layers-${slugs.get(model)}`,
      section: "recognition",
      title: `Accuracy vs layer — ${model}`,
      caption: `Recognition accuracy of each language's vector at every captured layer (${model})${r.langs.length <= 8 ? ", shaded: 95% interval per layer (layer held fixed)" : ""}.`,
      spec: {
        ...BASE,
        title: `Accuracy vs layer — ${model}`,
        data: { values: curve },
        facet: { field: "concept", type: "nominal", sort: r.concepts, title: null },
        columns: fitColumns(r.concepts.length, 220 + 50, legendWidth(Math.max(...r.langs.map((l) => l.length))), 3),
        spec: {
          width: 220,
          height: 140,
          layer: [
            ...(bands
              ? [
                  {
                    transform: [{ filter: "isValid(datum.lo) && isValid(datum.hi)" }],
                    mark: { type: "area" as const, opacity: 0.12 },
                    encoding: { x, y: { field: "lo", type: "quantitative" as const, scale: { domain: [0, 1] }, title: "accuracy" }, y2: { field: "hi" }, color },
                  },
                ]
              : []),
            {
              transform: [{ filter: "isValid(datum.accuracy)" }],
              mark: { type: "line", point: r.layers.length <= 12, strokeWidth: 1.5 },
              encoding: { x, y: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] }, title: "accuracy" }, color },
            },
          ],
        },
      },
    });
  }
  return out;
}

function similarityFigures(input: ReportInput, slugs: ReadonlyMap<string, string>): FigureSpec[] {
  const models = modelNames(input);
  const out: FigureSpec[] = [];
  const agg = Object.entries(input.models).flatMap(([model, r]) => matrixRows(r.similarity.aggregate.langs, r.similarity.aggregate.values, { model }));
  if (agg.length) {
    const langs = union(Object.values(input.models).map((r) => r.similarity.aggregate.langs));
    const [min] = valueRange(agg);
    out.push({
      id: "similarity-aggregate",
      section: "similarity",
      title: "Cross-lingual concept similarity (concepts averaged)",
      caption: "Cosine similarity of concept vectors between languages: per concept and pair the maximum over layers, then the mean over concepts (the paper's aggregation). One panel per model.",
      spec: heatmap({
        title: "Cross-lingual similarity (max over layers, mean over concepts)",
        rows: agg,
        langs,
        facet: { field: "model", sort: models, columns: Math.min(models.length, langs.length > 10 ? 1 : 2) },
        xTitle: "language",
        yTitle: "language",
        ...cosineColors(min),
      }),
    });
  }
  for (const [model, r] of Object.entries(input.models)) {
    const rows = r.concepts.flatMap((concept) => {
      const m = perConceptSimilarity(r, concept);
      return m ? matrixRows(m.langs, m.values, { concept }) : [];
    });
    if (!rows.length || r.concepts.length < 2) continue;
    const [min] = valueRange(rows);
    out.push({
      id: `similarity-per-concept-${slugs.get(model)}`,
      section: "similarity",
      title: `Cross-lingual similarity per concept — ${model}`,
      caption: `Per concept: cosine between the languages' vectors, maximum over layers (${model}).`,
      spec: heatmap({
        title: `Similarity per concept — ${model}`,
        rows,
        langs: r.langs,
        facet: { field: "concept", sort: r.concepts, columns: Math.min(r.concepts.length, r.langs.length > 10 ? 2 : 4) },
        xTitle: "language",
        yTitle: "language",
        ...cosineColors(min),
      }),
    });
  }
  const at = Object.entries(input.models).filter(([, r]) => r.similarity.atLayer);
  if (at.length) {
    const rows = at.flatMap(([model, r]) => matrixRows(r.similarity.atLayer!.matrix.langs, r.similarity.atLayer!.matrix.values, { model: `${model} (layer ${r.similarity.atLayer!.layer})` }));
    const [min] = valueRange(rows);
    const langs = union(at.map(([, r]) => r.similarity.atLayer!.matrix.langs));
    out.push({
      id: "similarity-at-layer",
      section: "similarity",
      title: "Cross-lingual similarity at a fixed layer",
      caption: "The same aggregation at one fixed layer instead of the maximum over layers.",
      spec: heatmap({
        title: "Cross-lingual similarity at a fixed layer",
        rows,
        langs,
        facet: { field: "model", sort: at.map(([m, r]) => `${m} (layer ${r.similarity.atLayer!.layer})`), columns: Math.min(at.length, 2) },
        xTitle: "language",
        yTitle: "language",
        ...cosineColors(min),
      }),
    });
  }
  // The paper's curve is over the languages shared by all model families; use it where a run has it.
  const lw = Object.entries(input.models).flatMap(([model, r]) => {
    const c = r.similarity.layerwiseShared ?? r.similarity.layerwise;
    return c ? c.layers.map((layer, i) => ({ model, layer, depth: fin(c.relativeDepth[i]), mean: fin(c.mean[i]) })) : [];
  });
  if (lw.length) {
    out.push({
      id: "similarity-layerwise",
      section: "similarity",
      title: "Cross-lingual similarity across depth",
      caption:
        "Mean cosine over ordered language pairs and concepts at each layer, against relative depth (layer / number of layers of the model). Over the paper's shared languages (en zh fr es pt vi ca id) present in a run when there are at least two, else over all its languages.",
      spec: {
        ...BASE,
        title: "Mean cross-lingual similarity by relative depth",
        data: { values: lw.filter((r) => r.mean !== null && r.depth !== null) },
        width: 360,
        height: 200,
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "depth", type: "quantitative", title: "relative depth", scale: { domain: [0, 1] } },
          y: { field: "mean", type: "quantitative", title: "mean cosine" },
          color: { field: "model", type: "nominal", sort: models, title: "model" },
        },
      },
    });
  }
  return out;
}

function transferFigures(input: ReportInput, slugs: ReadonlyMap<string, string>): FigureSpec[] {
  const out: FigureSpec[] = [];
  const withT = Object.entries(input.models).filter(([, r]) => r.transfer);
  if (withT.length) {
    const names = withT.map(([m]) => m);
    const langs = union(withT.map(([, r]) => r.transfer!.langs));
    const M = withT.flatMap(([model, r]) => matrixRows(r.transfer!.M.langs, r.transfer!.M.values, { model }));
    const [minM] = valueRange(M);
    out.push({
      id: "crosslingual-matrix",
      section: "transfer",
      title: "Cross-lingual recognition matrix",
      caption: "M[source][target]: accuracy of the source language's vector on the target language's test pairs, best layer per cell, mean over concepts. Rows: source, columns: target.",
      spec: heatmap({
        title: "Cross-lingual recognition M (rows: source vector, columns: target pairs)",
        rows: M,
        langs,
        facet: { field: "model", sort: names, columns: Math.min(names.length, langs.length > 10 ? 1 : 2) },
        xTitle: "target",
        yTitle: "source",
        ...accuracyColors(minM),
      }),
    });
    const T = withT.flatMap(([model, r]) => matrixRows(r.transfer!.T.langs, r.transfer!.T.values, { model }));
    const [lo, hi] = valueRange(T);
    const m = Math.max(0.05, Math.abs(lo), Math.abs(hi));
    out.push({
      id: "transfer",
      section: "transfer",
      title: "Cross-lingual transfer",
      caption: "T(source→target) = M[source][target] − M[target][target]: below 0 the source's vector recognises the target's pairs worse than the target's own vector. Rows: source, columns: target.",
      spec: heatmap({
        title: "Transfer T(source→target) (rows: source, columns: target)",
        rows: T,
        langs,
        facet: { field: "model", sort: names, columns: Math.min(names.length, langs.length > 10 ? 1 : 2) },
        xTitle: "target",
        yTitle: "source",
        colorTitle: "T",
        domain: [-m, m],
        scheme: "redblue",
        darkBelow: -0.6 * m,
        darkAbove: 0.6 * m,
      }),
    });
  }
  for (const [model, r] of Object.entries(input.models)) {
    if (!r.crossLingual) continue;
    const concepts = Object.keys(r.crossLingual);
    const rows = concepts.flatMap((concept) => {
      const c = r.crossLingual![concept];
      const langs = union([c.sources, c.targets]);
      return matrixRows(
        langs,
        langs.map((s) => langs.map((t) => fin(c.best[s]?.[t]?.accuracy))),
        { concept },
      );
    });
    if (!rows.length) continue;
    const [min] = valueRange(rows);
    const langs = union(concepts.map((c) => union([r.crossLingual![c].sources, r.crossLingual![c].targets])));
    out.push({
      id: `crosslingual-per-concept-${slugs.get(model)}`,
      section: "transfer",
      title: `Cross-lingual recognition per concept — ${model}`,
      caption: `Per concept: the source language's vector on the target's test pairs, best layer per cell (${model}). Rows: source, columns: target.`,
      spec: heatmap({
        title: `Cross-lingual recognition per concept — ${model}`,
        rows,
        langs,
        facet: { field: "concept", sort: concepts, columns: Math.min(concepts.length, langs.length > 10 ? 2 : 4) },
        xTitle: "target",
        yTitle: "source",
        ...accuracyColors(min),
      }),
    });
  }
  return out;
}

function correlationFigures(input: ReportInput): FigureSpec[] {
  const types = union(Object.values(input.models).map((r) => (r.correlation ? Object.keys(r.correlation.table) : [])));
  if (!types.length) return [];
  const rows = correlationScatterRows(input, types);
  if (!rows.length) return [];
  const models = modelNames(input).filter((m) => input.models[m].correlation);
  const enc = {
    x: { field: "linguistic", type: "quantitative" as const, title: "linguistic similarity (1 − lang2vec distance)", scale: { zero: false } },
    y: { field: "similarity", type: "quantitative" as const, title: "concept similarity", scale: { zero: false } },
    color: { field: "model", type: "nominal" as const, sort: models, title: "model" },
  };
  return [
    {
      id: "correlation",
      section: "correlation",
      title: "Concept similarity vs linguistic similarity",
      caption: "Each point is a pair of languages: aggregated cross-lingual concept similarity against lang2vec similarity, with a least-squares line per model. The Pearson r values are in the table.",
      spec: {
        ...BASE,
        title: "Concept similarity vs linguistic similarity",
        data: { values: rows },
        facet: { field: "type", type: "nominal", sort: types, title: null },
        columns: Math.min(types.length, 2),
        spec: {
          width: 220,
          height: 150,
          layer: [
            { mark: { type: "point", filled: true, size: 36, opacity: 0.8 }, encoding: enc },
            { transform: [{ regression: "similarity", on: "linguistic", groupby: ["model"] }], mark: { type: "line", strokeWidth: 1.5 }, encoding: enc },
          ],
        },
        resolve: { scale: { x: "independent" } },
      },
    },
  ];
}

function controlFigures(input: ReportInput): FigureSpec[] {
  const c = input.control;
  if (!c || !c.curves.length) return [];
  const { primary, metrics } = controlMetrics(c.curves, c.primaryMetric);
  const multiModel = new Set(c.curves.map((p) => p.model ?? "")).size > 1;
  const out: FigureSpec[] = [];
  const ids = new Set<string>();
  for (const metric of metrics) {
    const pts = c.curves.filter((p) => p.metric === metric && Number.isFinite(p.coefficient));
    const rows: Row[] = pts.map((p) => ({
      panel: [multiModel ? p.model : null, p.concept ?? null, `steer with ${p.source}`].filter((x): x is string => !!x).join(" · "),
      target: p.target,
      coefficient: p.coefficient,
      value: fin(p.value),
      lo: fin(p.lo),
      hi: fin(p.hi),
    }));
    const panels = union([rows.map((r) => String(r.panel))]);
    const nSources = new Set(pts.map((p) => p.source)).size;
    const targets = union([pts.map((p) => p.target)]);
    const label = c.metrics?.[metric]?.label ?? metric;
    const isPrimary = metric === primary;
    // Facet rows are short: a long label as axis title would run into the next row's.
    const axisTitle = label.length <= 22 ? label : metric;
    const x = { field: "coefficient", type: "quantitative" as const, title: "steering coefficient" };
    const color = { field: "target", type: "nominal" as const, sort: targets, title: "target language", scale: { scheme: targets.length > 10 ? "tableau20" : "tableau10" } };
    out.push({
      id: `control-${slug(metric, ids)}`,
      section: "control",
      title: isPrimary ? `Control: ${label}` : `Side effect: ${label}`,
      caption: `${c.metrics?.[metric]?.description ?? `${label} on target-language prompts`} against the steering coefficient; one panel per steering source, one line per target language, shaded: confidence interval.`,
      spec: {
        ...BASE,
        title: isPrimary ? `Control: ${label} vs coefficient` : `Side effect: ${label} vs coefficient`,
        data: { values: rows },
        facet: { field: "panel", type: "nominal", sort: panels, title: null },
        // One row per model when several models are steered with a few sources each.
        columns: multiModel && nSources > 1 && nSources <= 4 ? nSources : Math.min(panels.length, 3),
        spec: {
          width: 220,
          height: 150,
          layer: [
            ...(rows.some((r) => r.lo !== null && r.hi !== null)
              ? [
                  {
                    transform: [{ filter: "isValid(datum.lo) && isValid(datum.hi)" }],
                    mark: { type: "area" as const, opacity: 0.15 },
                    encoding: { x, y: { field: "lo", type: "quantitative" as const, title: axisTitle, scale: { zero: false } }, y2: { field: "hi" }, color },
                  },
                ]
              : []),
            {
              transform: [{ filter: "isValid(datum.value)" }],
              mark: { type: "line", point: true, strokeWidth: 1.5 },
              encoding: { x, y: { field: "value", type: "quantitative", title: axisTitle, scale: { zero: false } }, color },
            },
          ],
        },
      },
    });
  }
  return out;
}

/** Every figure the input supports, in report order. */
export function reportFigures(input: ReportInput): FigureSpec[] {
  const taken = new Set<string>();
  const slugs = new Map(modelNames(input).map((m) => [m, slug(m, taken)]));
  return [...recognitionFigures(input, slugs), ...similarityFigures(input, slugs), ...transferFigures(input, slugs), ...correlationFigures(input), ...controlFigures(input)];
}
