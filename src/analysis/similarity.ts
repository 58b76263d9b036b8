/**
 * Cross-lingual consistency (the paper's §5): cosine between two languages' signed concept vectors per
 * layer, aggregated as the paper does (per language pair and concept: max over layers; then mean over
 * concepts; diagonal 1), or at a fixed layer; plus the layer-wise curve.
 */

export interface LangMatrix {
  /** Row and column order. */
  langs: string[];
  /** values[i][j] for (langs[i], langs[j]). */
  values: number[][];
}

function dotAndNorms(a: ArrayLike<number>, b: ArrayLike<number>): { ab: number; aa: number; bb: number } {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < a.length; j++) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return { ab, aa, bb };
}

/** Cosine in Float64. Throws on length mismatch or a zero vector. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine: length mismatch (${a.length} vs ${b.length})`);
  const { ab, aa, bb } = dotAndNorms(a, b);
  if (aa === 0 || bb === 0) throw new Error("cosine: zero vector");
  return ab / Math.sqrt(aa * bb);
}

/** Cosine in Float64 for equal-length vectors; NaN where a vector is zero (or holds NaN) instead of an error. */
export function cosineOrNaN(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const { ab, aa, bb } = dotAndNorms(a, b);
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

/** One concept's cosines: cos[i][j][l] for langs i, j at layer l (diagonal 1). */
export interface LayerSimilarity {
  langs: string[];
  layers: string[];
  /** cos[i][j][l]: language i vs language j at layer l. */
  cos: number[][][];
}

/**
 * Cosines between every pair of languages at every layer, for one concept. Pass the signed vectors
 * (ConceptVector.unit), as the paper multiplies each direction by its sign first.
 */
export function layerSimilarities(
  vectors: ReadonlyMap<string, ReadonlyMap<string, ArrayLike<number>>>,
  opts: { langs?: readonly string[]; layers?: readonly string[] } = {},
): LayerSimilarity {
  const langs = [...(opts.langs ?? vectors.keys())];
  if (langs.length === 0) throw new Error("layerSimilarities: no languages");
  const firstMap = vectors.get(langs[0]);
  const layers = [...(opts.layers ?? (firstMap ? firstMap.keys() : []))];
  const vec = (lang: string, layer: string): ArrayLike<number> => {
    const v = vectors.get(lang)?.get(layer);
    if (!v) throw new Error(`layerSimilarities: no ${lang} vector at layer ${layer}`);
    return v;
  };
  const cos = langs.map(() => langs.map(() => new Array<number>(layers.length).fill(1)));
  for (let i = 0; i < langs.length; i++) {
    for (let j = i + 1; j < langs.length; j++) {
      layers.forEach((layer, l) => {
        const c = cosine(vec(langs[i], layer), vec(langs[j], layer));
        cos[i][j][l] = c;
        cos[j][i][l] = c;
      });
    }
  }
  return { langs, layers, cos };
}

function indexOf(sim: LayerSimilarity, lang: string): number {
  const i = sim.langs.indexOf(lang);
  if (i < 0) throw new Error(`similarity: language ${lang} missing from a concept's similarities`);
  return i;
}

/**
 * The paper's heatmap/Table 1 value: per (A, B) and concept, the max over layers (or the value at the fixed
 * `layer`), then the mean over concepts; the diagonal is 1.
 */
export function aggregateSimilarity(concepts: readonly LayerSimilarity[], opts: { langs?: readonly string[]; layer?: string } = {}): LangMatrix {
  if (concepts.length === 0) throw new Error("aggregateSimilarity: no concepts");
  const langs = [...(opts.langs ?? concepts[0].langs)];
  const values = langs.map((a, i) =>
    langs.map((b, j) => {
      if (i === j) return 1;
      let s = 0;
      for (const c of concepts) {
        const row = c.cos[indexOf(c, a)][indexOf(c, b)];
        if (opts.layer !== undefined) {
          const l = c.layers.indexOf(opts.layer);
          if (l < 0) throw new Error(`aggregateSimilarity: layer ${opts.layer} not in a concept's layers`);
          s += row[l];
        } else {
          s += Math.max(...row);
        }
      }
      return s / concepts.length;
    }),
  );
  return { langs, values };
}

export interface LayerwiseCurve {
  layers: string[];
  /**
   * Depth in the model: layer / nLayer (k for hidden_states[k] and resid_post:k, nLayer for final_norm), so
   * models of different depth and runs that captured a subset of layers share one axis. Without `nLayer`,
   * position / number of layers given (the paper's np.arange(L) / L, right only when every layer is given).
   */
  relativeDepth: number[];
  /** Languages averaged over. */
  langs: string[];
  /** Per layer: mean over the subset's ordered off-diagonal pairs, then mean over concepts. */
  mean: number[];
  /** Ordered pairs per concept and layer. */
  nPairs: number;
}

/**
 * The paper's layer-wise consistency curve (it uses the 8 languages shared by all model families, see
 * SHARED_LANGUAGES). All concepts must list the same layers.
 */
export function layerwiseSimilarity(concepts: readonly LayerSimilarity[], opts: { langs: readonly string[]; nLayer?: number }): LayerwiseCurve {
  if (concepts.length === 0) throw new Error("layerwiseSimilarity: no concepts");
  const langs = opts.langs;
  if (langs.length < 2) throw new Error("layerwiseSimilarity: need at least two languages");
  const layers = concepts[0].layers;
  for (const c of concepts) {
    if (c.layers.length !== layers.length || c.layers.some((l, i) => l !== layers[i])) throw new Error("layerwiseSimilarity: concepts disagree on the layers");
  }
  const L = layers.length;
  const total = new Array<number>(L).fill(0);
  const nPairs = langs.length * (langs.length - 1);
  for (const c of concepts) {
    const idx = langs.map((l) => indexOf(c, l));
    for (let l = 0; l < L; l++) {
      let s = 0;
      for (const i of idx) for (const j of idx) if (i !== j) s += c.cos[i][j][l];
      total[l] += s / nPairs;
    }
  }
  return {
    layers: [...layers],
    relativeDepth: opts.nLayer === undefined ? layers.map((_, i) => i / L) : layers.map((l) => layerDepth(l, opts.nLayer as number)),
    langs: [...langs],
    mean: total.map((t) => t / concepts.length),
    nPairs,
  };
}

/** layer / nLayer for the layer-site names (k, resid_post:k, final_norm); throws on other names. */
export function layerDepth(layer: string, nLayer: number): number {
  if (!Number.isInteger(nLayer) || nLayer < 1) throw new Error(`layerDepth: nLayer must be a positive integer, got ${nLayer}`);
  if (layer === "final_norm") return 1;
  const m = /^(?:resid_post:)?(\d+)$/.exec(layer);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > nLayer) throw new Error(`layerDepth: '${layer}' is not a layer 1..${nLayer} (k, resid_post:k or final_norm)`);
  return Number(m[1]) / nLayer;
}
