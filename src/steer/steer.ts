// Steering API over sessions: concept vectors from a vector file → steering entries (weighted sums of concepts and
// languages, layer ranges, per-layer coefficients, optional residual-norm scaling) → applied to a session, always
// cleared again when scoped with withSteering().
import type { Session, SteeringEntry } from "../engine/session.js";
import { nativeSite, parseLayers, parseLayerSite, steeringBlock, type LayerSite } from "../engine/layers.js";
import { readActivations, type ActivationFilter, type VectorFile, type VectorMethod, type VectorRow } from "../store/index.js";
import { percentile } from "../analysis/stats.js";
import { LayerError } from "../util/errors.js";

/** "unit": the signed unit vector (default). "raw": RepE's convention, raw direction × sign (mean_diff: the raw mean difference). */
export type SteeringVectorKind = "unit" | "raw";
/** "none": coefficients multiply the vector as is. "residual": also by the layer's typical residual norm. */
export type SteeringScale = "none" | "residual";

/** One concept vector in a (possibly weighted) sum. */
export interface SteeringTerm {
  concept: string;
  /** Language the vector was extracted in (the source language). */
  lang: string;
  /** Default: the only method stored for (concept, lang), else mean_diff. */
  method?: VectorMethod;
  /** Multiplies this term (default 1); negative weights subtract. */
  weight?: number;
}

/** Layer name → typical residual L2 norm (keys are canonical layer names as stored in activation files). */
export type ResidualNorms = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export interface SteeringSpec {
  vectors: VectorFile;
  terms: readonly SteeringTerm[];
  /** Steering layers: sites, or a spec string "10-14", "3,5,resid_post:24". */
  layers: readonly LayerSite[] | string;
  /** One coefficient for all layers, one per layer (aligned with `layers`), or by layer name. */
  coefficient: number | readonly number[] | Readonly<Record<string, number>>;
  vector?: SteeringVectorKind;
  scale?: SteeringScale;
  /** Needed for scale "residual" (see residualNorms()). */
  residualNorms?: ResidualNorms;
  /** The model's block count (default: the vector file's provenance). */
  nLayer?: number;
}

/** How one entry was made (entries[i] ↔ parts[i]). */
export interface SteeringPart {
  concept: string;
  lang: string;
  method: VectorMethod;
  /** Steering layer (canonical name). */
  layer: string;
  /** The vector row's layer name (an alias of `layer`, e.g. "resid_post:3" for 3). */
  vectorLayer: string;
  weight: number;
  /** This layer's coefficient as given. */
  coefficient: number;
  /** Residual norm of the layer (scale "residual") or 1. */
  scale: number;
  /** weight × coefficient × scale: what multiplies the vector. */
  effective: number;
  /** L2 norm of the injected vector (1 for "unit"). */
  vectorNorm: number;
}

export interface SteeringPlan {
  entries: SteeringEntry[];
  parts: SteeringPart[];
  vector: SteeringVectorKind;
  scale: SteeringScale;
  layers: string[];
  /** True when every effective coefficient is 0 (steering would change nothing). */
  zero: boolean;
}

/** A steering layer list ("10-14", "3,5", "1-4,resid_post:8"; the one syntax of parseLayers), each a steerable site. */
export function parseLayerSpec(spec: string, nLayer?: number): LayerSite[] {
  if (spec.trim() === "" || spec.trim() === "all") throw new LayerError(`no layers in '${spec}' (steering takes an explicit list)`);
  const out = parseLayers(spec);
  if (nLayer !== undefined) for (const l of out) steeringBlock(l, nLayer);
  return out;
}

function resolveLayers(layers: readonly LayerSite[] | string, nLayer: number): LayerSite[] {
  const list = typeof layers === "string" ? parseLayerSpec(layers, nLayer) : [...layers];
  if (list.length === 0) throw new LayerError("steering: no layers given");
  const seen = new Map<number, string>();
  for (const l of list) {
    const b = steeringBlock(l, nLayer);
    const prev = seen.get(b);
    if (prev !== undefined) throw new LayerError(`steering: layers ${prev} and ${String(l)} are the same site`);
    seen.set(b, String(l));
  }
  return list;
}

function modelLayers(vectors: VectorFile, nLayer: number | undefined): number {
  const n = nLayer ?? vectors.provenance?.model?.nLayer;
  if (!Number.isInteger(n) || (n as number) < 1) throw new RangeError("steering: nLayer unknown (not in the vector file's provenance; pass nLayer)");
  return n as number;
}

/** Whether the stored layer name is the same capture site as `layer` (e.g. "3" and "resid_post:3" below the top). */
function sameSite(stored: string, layer: LayerSite, nLayer: number): boolean {
  if (stored === String(layer)) return true;
  try {
    return nativeSite(parseLayerSite(stored), nLayer) === nativeSite(layer, nLayer);
  } catch {
    return false;
  }
}

/**
 * The vector row of (concept, lang, method) at `layer` (aliases of the same site match). Without a method: the
 * only one stored for (concept, lang), else mean_diff. Throws with what the file has when nothing matches.
 */
export function findVector(vectors: VectorFile, sel: { concept: string; lang: string; method?: VectorMethod; layer: LayerSite }, nLayer?: number): VectorRow {
  const n = modelLayers(vectors, nLayer);
  const cl = vectors.rows.filter((r) => r.concept === sel.concept && r.lang === sel.lang);
  if (cl.length === 0) {
    const have = [...new Set(vectors.rows.map((r) => `${r.concept}/${r.lang}`))].join(", ");
    throw new Error(`no vectors for ${sel.concept}/${sel.lang} (the file has: ${have || "nothing"})`);
  }
  const methods = [...new Set(cl.map((r) => r.method))];
  let method = sel.method;
  if (method === undefined) {
    if (methods.length === 1) method = methods[0];
    else if (methods.includes("mean_diff")) method = "mean_diff";
    else throw new Error(`${sel.concept}/${sel.lang} has several methods (${methods.join(", ")}); pass one`);
  }
  const m = cl.filter((r) => r.method === method);
  if (m.length === 0) throw new Error(`no ${method} vectors for ${sel.concept}/${sel.lang} (methods: ${methods.join(", ")})`);
  const row = m.find((r) => sameSite(r.layer, sel.layer, n));
  if (!row) throw new Error(`no ${method} vector for ${sel.concept}/${sel.lang} at layer ${String(sel.layer)} (layers: ${m.map((r) => r.layer).join(", ")})`);
  return row;
}

/** The vector a row injects: its unit vector, or raw × sign (RepE). */
export function steeringVector(row: VectorRow, kind: SteeringVectorKind = "unit"): Float32Array {
  if (kind === "unit") return row.unit;
  const out = new Float32Array(row.raw.length);
  for (let i = 0; i < out.length; i++) out[i] = row.raw[i] * row.sign;
  return out;
}

function normOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * The residual norm for steering at `layer`: the stored layer whose site is the residual stream after the same
 * block (k or resid_post:k below the top; only resid_post:L at the top, since layer L is read after the final norm).
 */
export function residualNormFor(norms: ResidualNorms, layer: LayerSite, nLayer: number): number {
  const block = steeringBlock(layer, nLayer);
  const entries: Array<[string, number]> = norms instanceof Map ? [...norms] : Object.entries(norms as Record<string, number>);
  for (const [name, value] of entries) {
    let site: LayerSite;
    try {
      site = parseLayerSite(name);
    } catch {
      continue;
    }
    if (site === "final_norm" || site === nLayer) continue;
    if (steeringBlock(site, nLayer) === block) {
      if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`residual norm of layer ${name} is ${value}`);
      return value;
    }
  }
  const have = entries.map(([k]) => k).join(", ");
  throw new Error(`no residual norm for layer ${String(layer)} (have: ${have || "none"}${block === nLayer - 1 ? `; the top block needs resid_post:${nLayer}` : ""})`);
}

function layerCoefficient(c: SteeringSpec["coefficient"], layers: readonly LayerSite[], i: number): number {
  let v: number | undefined;
  if (typeof c === "number") v = c;
  else if (Array.isArray(c)) {
    const arr = c as readonly number[];
    if (arr.length !== layers.length) throw new RangeError(`steering: ${arr.length} coefficients for ${layers.length} layers`);
    v = arr[i];
  } else {
    v = (c as Readonly<Record<string, number>>)[String(layers[i])];
    if (v === undefined) throw new RangeError(`steering: no coefficient for layer ${String(layers[i])}`);
  }
  if (!Number.isFinite(v)) throw new RangeError(`steering: coefficient for layer ${String(layers[i])} must be finite`);
  return v;
}

/** Builds the steering entries (one per term and layer) without touching a session. */
export function buildSteering(spec: SteeringSpec): SteeringPlan {
  const nLayer = modelLayers(spec.vectors, spec.nLayer);
  const kind = spec.vector ?? "unit";
  const scale = spec.scale ?? "none";
  if (kind !== "unit" && kind !== "raw") throw new RangeError(`steering: vector must be unit or raw (got '${String(kind)}')`);
  if (scale !== "none" && scale !== "residual") throw new RangeError(`steering: scale must be none or residual (got '${String(scale)}')`);
  // A raw vector already carries the activations' scale; multiplying it by a residual norm would square it.
  if (kind === "raw" && scale === "residual") throw new RangeError("steering: residual scaling is for unit vectors (a raw vector already has the activation scale)");
  if (scale === "residual" && !spec.residualNorms) throw new Error("steering: scale 'residual' needs residualNorms (see residualNorms())");
  if (spec.terms.length === 0) throw new RangeError("steering: no terms");
  const layers = resolveLayers(spec.layers, nLayer);
  const entries: SteeringEntry[] = [];
  const parts: SteeringPart[] = [];
  layers.forEach((layer, i) => {
    const c = layerCoefficient(spec.coefficient, layers, i);
    const s = scale === "residual" ? residualNormFor(spec.residualNorms!, layer, nLayer) : 1;
    for (const t of spec.terms) {
      const w = t.weight ?? 1;
      if (!Number.isFinite(w)) throw new RangeError(`steering: weight of ${t.concept}/${t.lang} must be finite`);
      const row = findVector(spec.vectors, { concept: t.concept, lang: t.lang, method: t.method, layer }, nLayer);
      const vector = steeringVector(row, kind);
      const effective = w * c * s;
      entries.push({ layer, vector, coefficient: effective });
      parts.push({
        concept: t.concept,
        lang: t.lang,
        method: row.method,
        layer: String(layer),
        vectorLayer: row.layer,
        weight: w,
        coefficient: c,
        scale: s,
        effective,
        vectorNorm: kind === "unit" ? 1 : normOf(vector),
      });
    }
  });
  return { entries, parts, vector: kind, scale, layers: layers.map(String), zero: parts.every((p) => p.effective === 0) };
}

function isPlan(x: unknown): x is SteeringPlan {
  return typeof x === "object" && x !== null && "entries" in x && "parts" in x;
}

/** Sets the session's steering from a spec, a built plan, or raw entries (replacing what was set). */
export async function applySteering(session: Session, steering: SteeringSpec | SteeringPlan | readonly SteeringEntry[]): Promise<void> {
  const entries = Array.isArray(steering)
    ? (steering as readonly SteeringEntry[])
    : isPlan(steering)
      ? steering.entries
      : buildSteering({ ...(steering as SteeringSpec), nLayer: (steering as SteeringSpec).nLayer ?? session.model.nLayer }).entries;
  // An all-zero plan changes nothing; clearing keeps the eval callback off the fast path.
  if (entries.every((e) => (e.coefficient ?? 1) === 0)) await session.clearSteering();
  else await session.setSteering(entries);
}

/**
 * Runs `fn` with the steering applied and afterwards restores what the session had before (normally nothing),
 * also when `fn` throws: steering never leaks out of the scope.
 */
export async function withSteering<T>(session: Session, steering: SteeringSpec | SteeringPlan | readonly SteeringEntry[], fn: (session: Session) => Promise<T> | T): Promise<T> {
  const previous = session.steering.map((e) => ({ ...e }));
  await applySteering(session, steering);
  try {
    return await fn(session);
  } finally {
    if (previous.length > 0) await session.setSteering(previous);
    else await session.clearSteering();
  }
}

export interface ResidualNormOptions {
  /** Layers to measure (default: every layer in the file). */
  layers?: readonly (string | number)[];
  /** Restrict the rows (default: all concepts, languages, sides, splits). */
  filter?: Omit<ActivationFilter, "layers">;
  /** "median" (default; robust to outlier rows) or "mean" of the rows' L2 norms. */
  statistic?: "median" | "mean";
}

/**
 * Typical residual-stream L2 norm per layer, measured from an activation file's rows, so that with scale
 * "residual" coefficient 1 = one typical residual norm (comparable across layers and models).
 */
export async function residualNorms(activationsPath: string, opts: ResidualNormOptions = {}): Promise<Map<string, number>> {
  const byLayer = new Map<string, number[]>();
  const filter: ActivationFilter = { ...opts.filter, ...(opts.layers ? { layers: opts.layers } : {}) };
  for await (const b of readActivations(activationsPath, filter)) {
    for (let i = 0; i < b.nRows; i++) {
      let list = byLayer.get(b.layer[i]);
      if (!list) byLayer.set(b.layer[i], (list = []));
      list.push(rowNorm(b.vectors, i, b.nEmbd));
    }
  }
  if (byLayer.size === 0) throw new Error(`${activationsPath}: no activation rows${opts.layers ? ` for layers ${opts.layers.join(", ")}` : ""}`);
  const out = new Map<string, number>();
  for (const [layer, norms] of byLayer) out.set(layer, typicalNorm(Float64Array.from(norms), opts.statistic));
  return out;
}

/** L2 norm of row i of a row-major [rows × d] matrix. */
function rowNorm(x: ArrayLike<number>, i: number, d: number): number {
  let s = 0;
  for (let k = i * d; k < (i + 1) * d; k++) s += x[k] * x[k];
  return Math.sqrt(s);
}

/** The median (default; robust to outlier rows) or mean of the norms (sorted in place). */
function typicalNorm(norms: Float64Array, statistic: "median" | "mean" = "median"): number {
  return statistic === "mean" ? norms.reduce((a, b) => a + b, 0) / norms.length : percentile(norms.sort(), 0.5);
}

/**
 * Residual norms measured on the given texts (typically the experiment's own prompts) with an unsteered session:
 * the median L2 norm of the last token's residual stream after each steering layer's block. Gives residual
 * scaling without an activation file. Keys are layer names usable by residualNormFor (the top block is read as
 * resid_post:L, before the final norm).
 */
export async function measureResidualNorms(
  session: Session,
  texts: readonly Int32Array[],
  layers: readonly LayerSite[],
  opts: { signal?: AbortSignal; statistic?: "median" | "mean" } = {},
): Promise<Map<string, number>> {
  if (texts.length === 0) throw new Error("residual norms: no texts to measure them on");
  if (session.steering.length > 0) throw new Error("residual norms: the session is steered; measure with an unsteered session");
  const nLayer = session.model.nLayer;
  const sites = [...new Map(layers.map((l) => {
    const block = steeringBlock(l, nLayer);
    const site: LayerSite = block === nLayer - 1 ? `resid_post:${nLayer}` : block + 1;
    return [String(site), site] as const;
  })).values()];
  const acts = await session.capture(texts, { layers: sites, position: "last", signal: opts.signal });
  const d = session.model.nEmbd;
  const out = new Map<string, number>();
  for (const site of sites) {
    const x = acts.layer(site);
    const norms = Float64Array.from({ length: x.length / d }, (_, i) => rowNorm(x, i, d));
    out.set(String(site), typicalNorm(norms, opts.statistic));
  }
  return out;
}
