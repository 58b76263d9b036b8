// The runs view: the report's figures (src/report/figures.ts) compiled to Vega for the browser, with tooltips,
// filtered by model / concept / language and cut at a layer — filtering works on the figures' inline data rows,
// so every report figure is covered without a second copy of the figure code.
import { compile, type TopLevelSpec } from "vega-lite";
import { loadRunResults, mergeControl, reportFigures, type ControlCurves, type ReportInput } from "../report/index.js";

export interface RunsFilter {
  models?: readonly string[];
  concepts?: readonly string[];
  langs?: readonly string[];
  /** Keep layer-indexed rows up to this layer (1-based). */
  maxLayer?: number;
}

export interface RunsFacets {
  models: string[];
  concepts: string[];
  langs: string[];
  maxLayer: number;
}

export interface BrowserFigure {
  id: string;
  title: string;
  section: string;
  caption: string;
  /** Compiled Vega spec (vega.parse() takes it as is). */
  vega: unknown;
}

/** Loads run folders (or results files) into one report input; models are prefixed by the run when several are given. */
export async function loadRuns(paths: readonly string[]): Promise<ReportInput> {
  const merged: ReportInput = { models: {} };
  const controls: ControlCurves[] = [];
  for (const p of paths) {
    const input = await loadRunResults(p);
    for (const [name, r] of Object.entries(input.models)) {
      const key = paths.length > 1 && name in merged.models ? `${p}: ${name}` : name;
      merged.models[key] = r;
    }
    if (input.control) controls.push(input.control);
  }
  const control = mergeControl(controls);
  if (control) merged.control = control;
  return merged;
}

export function facets(input: ReportInput): RunsFacets {
  const set = (xs: Iterable<string>) => [...new Set(xs)];
  const rs = Object.values(input.models);
  return {
    models: Object.keys(input.models),
    concepts: set(rs.flatMap((r) => r.concepts)),
    langs: set(rs.flatMap((r) => r.langs)),
    maxLayer: Math.max(1, ...rs.map((r) => r.layers.length)),
  };
}

type Row = Record<string, unknown>;

function keepRow(row: Row, f: RunsFilter): boolean {
  const has = (list: readonly string[] | undefined, v: unknown) => list === undefined || typeof v !== "string" || list.includes(v);
  if (f.models && typeof row.model === "string" && !f.models.some((m) => row.model === m || (row.model as string).startsWith(`${m} (`))) return false;
  if (!has(f.concepts, row.concept)) return false;
  for (const k of ["lang", "a", "b", "source", "target", "src", "tgt"]) if (!has(f.langs, row[k])) return false;
  if (f.maxLayer !== undefined && typeof row.pos === "number" && row.pos > f.maxLayer) return false;
  return true;
}

/** Filters every inline data array of a (Vega-Lite) spec; returns the number of rows left. */
function filterValues(node: unknown, f: RunsFilter): number {
  let left = 0;
  if (Array.isArray(node)) {
    for (const x of node) left += filterValues(x, f);
    return left;
  }
  if (node === null || typeof node !== "object") return 0;
  const obj = node as Record<string, unknown>;
  const data = obj.data as { values?: unknown } | undefined;
  if (data && Array.isArray(data.values)) {
    data.values = (data.values as Row[]).filter((r) => r === null || typeof r !== "object" || keepRow(r, f));
    left += (data.values as unknown[]).length;
  }
  for (const [k, v] of Object.entries(obj)) if (k !== "data") left += filterValues(v, f);
  return left;
}

/** The report's figures for this filter, compiled to Vega with tooltips on every mark; figures left without data are dropped. */
export function browserFigures(input: ReportInput, f: RunsFilter): BrowserFigure[] {
  const scoped: ReportInput = { ...input, models: Object.fromEntries(Object.entries(input.models).filter(([m]) => !f.models || f.models.includes(m))) };
  const out: BrowserFigure[] = [];
  for (const fig of reportFigures(scoped)) {
    const spec = structuredClone(fig.spec) as TopLevelSpec & { config?: Record<string, unknown> };
    if (filterValues(spec, f) === 0) continue;
    spec.config = { ...spec.config, mark: { ...((spec.config?.mark as object) ?? {}), tooltip: { content: "data" } } };
    const vega = compile(spec as TopLevelSpec).spec;
    out.push({ id: fig.id, title: fig.title, section: fig.section, caption: fig.caption, vega });
  }
  return out;
}
