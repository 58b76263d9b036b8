/**
 * Concept recognition (the paper's §4 protocol). A text's score at a layer is its projection h·unit; a
 * test pair is recognised when score(pos) ≥ score(neg).
 *
 * Ties: the paper's code counts a tie as correct (its eval picks `max([s_pos, s_neg]) == s_pos`), so the
 * default `ties: "correct"` uses ≥; `ties: "incorrect"` uses strict >. Ties only happen for identical
 * activations (e.g. a pair whose texts tokenise the same), so the choice rarely matters.
 *
 * Direction: we score with the signed unit vector. The paper scores cluster_mean with the unsigned v/‖v‖
 * (its sign is ignored at test time, a quirk); for mean differences the sign is +1 in practice, so the two
 * agree. Projections run through the shared Float64 kernels, so the same (row, vector) score is bit-identical
 * in every function here.
 */

import { projectRows } from "../extract/project.js";
import type { KernelBackend } from "../extract/kernels.js";
import { pairCount, type PairMatrices } from "../extract/types.js";
import { accuracyInterval, clusterIndex, type ProportionMethod, type ProportionOptions } from "./intervals.js";
import { bootstrapAccuracies, type BootstrapOptions, type Interval } from "./stats.js";

export type TieRule = "correct" | "incorrect";

export interface RecognitionOptions {
  /** How a pair with score(pos) = score(neg) counts. Default "correct" (≥, the paper's code). */
  ties?: TieRule;
  backend?: KernelBackend;
}

export interface RecognitionCurveOptions extends RecognitionOptions, RecognitionStatsOptions {}

/** How the intervals of a recognition summary are computed. */
export interface RecognitionStatsOptions {
  /** Proportion interval per layer and for the held-out number (default Wilson, 95%). */
  interval?: ProportionOptions;
  /**
   * Cluster bootstrap (over `testGroups`) of the test-picked maximum, `oracle.maxCi` (default B = 1000, seed 0,
   * level = interval level); false skips it.
   */
  bootstrap?: BootstrapOptions | false;
  /** Source-item group of every test pair (row order of the test pairs); pairs of a group are one cluster. */
  testGroups?: readonly string[];
}

function correctness(sp: Float64Array, sn: Float64Array, k: number, s: number, n: number, ties: TieRule): Uint8Array {
  const out = new Uint8Array(n);
  if (ties === "correct") for (let i = 0; i < n; i++) out[i] = sp[i * k + s] >= sn[i * k + s] ? 1 : 0;
  else for (let i = 0; i < n; i++) out[i] = sp[i * k + s] > sn[i * k + s] ? 1 : 0;
  return out;
}

function checkTies(t: TieRule | undefined): TieRule {
  const ties = t ?? "correct";
  if (ties !== "correct" && ties !== "incorrect") throw new Error(`ties must be "correct" or "incorrect", got '${String(t)}'`);
  return ties;
}

/** Per-pair recognition bits (1 = recognised) of `direction` on the pairs. */
export function pairCorrectness(pairs: PairMatrices, direction: ArrayLike<number>, opts: RecognitionOptions = {}): Uint8Array {
  const ties = checkTies(opts.ties);
  const n = pairCount(pairs);
  const sp = projectRows(pairs.pos, pairs.dim, [direction], opts.backend);
  const sn = projectRows(pairs.neg, pairs.dim, [direction], opts.backend);
  return correctness(sp, sn, 1, 0, n, ties);
}

/** Per-pair margins score(pos) − score(neg) of `direction`. */
export function pairMargins(pairs: PairMatrices, direction: ArrayLike<number>, backend?: KernelBackend): Float64Array {
  const n = pairCount(pairs);
  const sp = projectRows(pairs.pos, pairs.dim, [direction], backend);
  const sn = projectRows(pairs.neg, pairs.dim, [direction], backend);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sp[i] - sn[i];
  return out;
}

/**
 * Standardised mean margin mean(m)/sd(m): scale-free (residual norms grow with depth, so raw margins are not
 * comparable across layers); ±Infinity when every margin is equal and non-zero.
 */
export function standardizedMargin(m: Float64Array): number {
  const n = m.length;
  if (n === 0) return NaN;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += m[i];
  mu /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (m[i] - mu) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  if (sd > 0) return mu / sd;
  return mu > 0 ? Infinity : mu < 0 ? -Infinity : 0;
}

/** Recognition bits from margins, by the tie rule. */
export function bitsFromMargins(m: Float64Array, ties: TieRule = "correct"): Uint8Array {
  const out = new Uint8Array(m.length);
  if (checkTies(ties) === "correct") for (let i = 0; i < m.length; i++) out[i] = m[i] >= 0 ? 1 : 0;
  else for (let i = 0; i < m.length; i++) out[i] = m[i] > 0 ? 1 : 0;
  return out;
}

/** Fraction of pairs recognised (NaN for zero pairs). */
export function recognitionAccuracy(pairs: PairMatrices, direction: ArrayLike<number>, opts: RecognitionOptions = {}): number {
  return fraction(pairCorrectness(pairs, direction, opts));
}

function fraction(bits: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bits.length; i++) s += bits[i];
  return bits.length === 0 ? NaN : s / bits.length;
}

/** Index of the first maximum (the tie-break for best layers: earliest in the given layer order). */
function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export interface RecognitionCurveInput {
  /** Layer order; defines indices and the tie-break among equally good layers. Default: `test`'s key order. */
  layers?: readonly string[];
  /** Test pairs per layer (the same pairs at every layer). */
  test: ReadonlyMap<string, PairMatrices>;
  /** The direction per layer: pass ConceptVector.unit (signed, unit length). */
  vectors: ReadonlyMap<string, ArrayLike<number>>;
  /** Validation pairs per layer, for the held-out layer choice. */
  val?: ReadonlyMap<string, PairMatrices>;
}

export interface BestLayer {
  layer: string;
  index: number;
  accuracy: number;
  /** Interval of this layer's test accuracy with the layer held fixed (not selection-aware). */
  ci?: Interval;
}

/**
 * The paper's number: the best layer picked on the test set itself. Optimistic: on data with no concept the
 * max of L noisy accuracies sits above chance; only `selectionCi` (and `maxCi`) account for the pick.
 */
export interface OracleLayer extends BestLayer {
  /** Bonferroni interval over all layers: covers the picked layer's true accuracy whichever layer was picked. */
  selectionCi: Interval;
  /** Cluster-bootstrap percentile interval of max over layers, re-taken in every resample. */
  maxCi?: Interval;
}

/** The headline: the layer picked on the validation split, scored on the (independent) test split. */
export interface HeldOutLayer extends BestLayer {
  /** Interval of the test accuracy (valid: the layer was chosen without the test pairs). */
  ci: Interval;
  valAccuracy: number;
  /** Standardised validation margin of the chosen layer (the tie-break). */
  valMargin: number;
  /** Validation pairs the choice rests on. */
  nVal: number;
  /** Layers that had the best validation accuracy (1 = no tie); ties are broken by the validation margin. */
  tiedOnValidation: number;
}

/** Per-layer test accuracies of one (concept, language) with both layer choices and their intervals. */
export interface RecognitionStats {
  nTest: number;
  /** Clusters (source-item groups) among the test pairs (= nTest when every pair is its own item). */
  nClusters: number;
  accuracy: number[];
  /** Fixed-layer interval per layer. */
  ci: Interval[];
  interval: { method: ProportionMethod; level: number };
  oracle: OracleLayer;
  heldOut?: HeldOutLayer;
}

export interface RecognitionCurve extends RecognitionStats {
  layers: string[];
}

/** Per-layer recognition results from which the summary is computed (bits, not activations). */
export interface LayerOutcomes {
  layers: readonly string[];
  /** Test bits per layer (same pairs, same order at every layer). */
  test: readonly Uint8Array[];
  /** Validation margins per layer (absent: no held-out choice). */
  valMargins?: readonly Float64Array[];
}

/**
 * Intervals and layer choices from per-layer outcomes: Wilson/Clopper–Pearson per layer (cluster-aware), the
 * held-out layer (best validation accuracy; ties by standardised validation margin, then the earliest layer)
 * and the test-picked oracle with a selection-aware interval.
 */
export function recognitionStats(o: LayerOutcomes, opts: RecognitionStatsOptions & { ties?: TieRule } = {}): RecognitionStats {
  const L = o.layers.length;
  if (L === 0 || o.test.length !== L) throw new Error(`recognitionStats: ${o.test.length} test bit sets for ${L} layers`);
  const nTest = o.test[0].length;
  for (const b of o.test) if (b.length !== nTest) throw new Error("recognitionStats: every layer must score the same test pairs");
  const method = opts.interval?.method ?? "wilson";
  const level = opts.interval?.level ?? 0.95;
  const cluster = opts.testGroups ? clusterIndex(opts.testGroups, nTest) : undefined;
  const accuracy = o.test.map(fraction);
  const ci = o.test.map((b) => strip(accuracyInterval(b, { method, level, cluster })));
  const best = argmax(accuracy);
  const oracle: OracleLayer = {
    layer: o.layers[best],
    index: best,
    accuracy: accuracy[best],
    ci: ci[best],
    selectionCi: strip(accuracyInterval(o.test[best], { method, level, cluster, comparisons: L })),
  };
  if (opts.bootstrap !== false && nTest > 0) {
    oracle.maxCi = bootstrapAccuracies(o.test, { level, ...(opts.bootstrap ?? {}), ...(cluster ? { clusters: cluster } : {}) }).max;
  }
  const out: RecognitionStats = { nTest, nClusters: cluster ? cluster.count : nTest, accuracy, ci, interval: { method, level }, oracle };
  if (o.valMargins) {
    if (o.valMargins.length !== L) throw new Error(`recognitionStats: ${o.valMargins.length} validation margin sets for ${L} layers`);
    const nVal = o.valMargins[0].length;
    if (nVal > 0) {
      const valAcc = o.valMargins.map((m) => fraction(bitsFromMargins(m, opts.ties)));
      const z = o.valMargins.map(standardizedMargin);
      const top = Math.max(...valAcc);
      const tied = valAcc.map((a, i) => (a === top ? i : -1)).filter((i) => i >= 0);
      let h = tied[0];
      for (const i of tied) if (z[i] > z[h]) h = i;
      out.heldOut = {
        layer: o.layers[h],
        index: h,
        accuracy: accuracy[h],
        ci: ci[h],
        valAccuracy: valAcc[h],
        valMargin: z[h],
        nVal,
        tiedOnValidation: tied.length,
      };
    }
  }
  return out;
}

function strip(c: { lo: number; hi: number }): Interval {
  return { lo: c.lo, hi: c.hi };
}

/** Per-layer accuracy curve of one (concept, language) with oracle and held-out layer choice. */
export function recognitionCurve(input: RecognitionCurveInput, opts: RecognitionCurveOptions = {}): RecognitionCurve {
  const layers = [...(input.layers ?? input.test.keys())];
  if (layers.length === 0) throw new Error("recognitionCurve: no layers");
  const ties = checkTies(opts.ties);
  const bits: Uint8Array[] = [];
  let nTest = -1;
  for (const layer of layers) {
    const pairs = input.test.get(layer);
    const v = input.vectors.get(layer);
    if (!pairs) throw new Error(`recognitionCurve: no test pairs for layer ${layer}`);
    if (!v) throw new Error(`recognitionCurve: no vector for layer ${layer}`);
    const n = pairCount(pairs, `test pairs of layer ${layer}`);
    if (nTest >= 0 && n !== nTest) throw new Error(`recognitionCurve: layer ${layer} has ${n} test pairs, other layers ${nTest}`);
    nTest = n;
    bits.push(pairCorrectness(pairs, v, { ties, backend: opts.backend }));
  }
  let valMargins: Float64Array[] | undefined;
  if (input.val) {
    valMargins = layers.map((layer) => {
      const pairs = input.val?.get(layer);
      if (!pairs) throw new Error(`recognitionCurve: no validation pairs for layer ${layer}`);
      return pairMargins(pairs, input.vectors.get(layer) as ArrayLike<number>, opts.backend);
    });
  }
  return { layers, ...recognitionStats({ layers, test: bits, ...(valMargins ? { valMargins } : {}) }, { ...opts, ties }) };
}

export interface CrossLingualInput {
  /** Layer order. Default: the first source's vector-map key order. */
  layers?: readonly string[];
  /** Source vectors: lang → layer → direction (ConceptVector.unit). */
  vectors: ReadonlyMap<string, ReadonlyMap<string, ArrayLike<number>>>;
  /** Target test pairs: lang → layer → pairs. */
  test: ReadonlyMap<string, ReadonlyMap<string, PairMatrices>>;
  /** Default: all vector languages. */
  sources?: readonly string[];
  /** Default: all test languages. */
  targets?: readonly string[];
}

export interface CrossLingualResult {
  sources: string[];
  targets: string[];
  layers: string[];
  /** Test pairs per target language. */
  nTest: Record<string, number>;
  /** acc[src][tgt][layerIndex]: the src vector scored on tgt's test pairs. */
  acc: Record<string, Record<string, number[]>>;
  /**
   * Per (src, tgt): max over layers, taken separately for every pair as the paper does (test-picked, so
   * optimistic). With `intervals`, `ci` is the selection-aware (Bonferroni over layers) interval.
   */
  best: Record<string, Record<string, BestLayer>>;
}

/**
 * Cross-lingual recognition: every source vector on every target's test pairs at every layer. Each target's
 * test rows are read once per layer and projected onto all source vectors of that layer in one
 * matrix–matrix pass. With `intervals` each best cell gets a selection-aware interval (Bonferroni over the
 * layers, since its layer was picked on these test pairs).
 */
export function crossLingualRecognition(
  input: CrossLingualInput,
  opts: RecognitionOptions & {
    intervals?: ProportionOptions | false;
    /** Receives every (source, target, layer index) cell's per-pair margins score(pos) − score(neg). */
    onMargins?: (source: string, target: string, layerIndex: number, margins: Float64Array) => void;
  } = {},
): CrossLingualResult {
  const ties = checkTies(opts.ties);
  const sources = [...(input.sources ?? input.vectors.keys())];
  const targets = [...(input.targets ?? input.test.keys())];
  if (sources.length === 0 || targets.length === 0) throw new Error("crossLingualRecognition: no source or target languages");
  const first = input.vectors.get(sources[0]);
  const layers = [...(input.layers ?? (first ? first.keys() : []))];
  if (layers.length === 0) throw new Error("crossLingualRecognition: no layers");
  const wantCi = opts.intervals !== undefined && opts.intervals !== false;

  const acc: Record<string, Record<string, number[]>> = {};
  for (const s of sources) {
    acc[s] = {};
    for (const t of targets) acc[s][t] = new Array<number>(layers.length);
  }
  const nTest: Record<string, number> = {};
  // Kept only when CIs are wanted: bits[s][t][l].
  const bits: Uint8Array[][][] = wantCi ? sources.map(() => targets.map(() => new Array<Uint8Array>(layers.length))) : [];

  layers.forEach((layer, l) => {
    const V = sources.map((s) => {
      const v = input.vectors.get(s)?.get(layer);
      if (!v) throw new Error(`crossLingualRecognition: no ${s} vector at layer ${layer}`);
      return v;
    });
    targets.forEach((t, ti) => {
      const pairs = input.test.get(t)?.get(layer);
      if (!pairs) throw new Error(`crossLingualRecognition: no ${t} test pairs at layer ${layer}`);
      const n = pairCount(pairs, `${t} test pairs at layer ${layer}`);
      if (nTest[t] !== undefined && nTest[t] !== n) throw new Error(`crossLingualRecognition: ${t} has ${n} test pairs at layer ${layer}, ${nTest[t]} elsewhere`);
      nTest[t] = n;
      const k = V.length;
      const sp = projectRows(pairs.pos, pairs.dim, V, opts.backend);
      const sn = projectRows(pairs.neg, pairs.dim, V, opts.backend);
      for (let s = 0; s < k; s++) {
        if (opts.onMargins) {
          const m = new Float64Array(n);
          for (let i = 0; i < n; i++) m[i] = sp[i * k + s] - sn[i * k + s];
          opts.onMargins(sources[s], t, l, m);
        }
        const c = correctness(sp, sn, k, s, n, ties);
        acc[sources[s]][t][l] = fraction(c);
        if (wantCi) bits[s][ti][l] = c;
      }
    });
  });

  const best: Record<string, Record<string, BestLayer>> = {};
  sources.forEach((s, si) => {
    best[s] = {};
    targets.forEach((t, ti) => {
      const a = acc[s][t];
      const b = argmax(a);
      const cell: BestLayer = { layer: layers[b], index: b, accuracy: a[b] };
      if (wantCi) cell.ci = strip(accuracyInterval(bits[si][ti][b], { ...(opts.intervals || {}), comparisons: layers.length }));
      best[s][t] = cell;
    });
  });
  return { sources, targets, layers, nTest, acc, best };
}
