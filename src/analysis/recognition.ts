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
import { bootstrapAccuracies, type BootstrapOptions, type Interval } from "./stats.js";

export type TieRule = "correct" | "incorrect";

export interface RecognitionOptions {
  /** How a pair with score(pos) = score(neg) counts. Default "correct" (≥, the paper's code). */
  ties?: TieRule;
  backend?: KernelBackend;
}

export interface RecognitionCurveOptions extends RecognitionOptions {
  /** Percentile bootstrap over test pairs (default B = 1000, seed 0, 95%); false disables. */
  bootstrap?: BootstrapOptions | false;
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
  /** Percentile CI of this layer's test accuracy (the layer held fixed). */
  ci?: Interval;
}

export interface RecognitionCurve {
  layers: string[];
  nTest: number;
  /** Test accuracy per layer. */
  accuracy: number[];
  /** Percentile CI per layer. */
  ci?: Interval[];
  /**
   * The paper's number: max over layers of the test accuracy (oracle selection on the test set). `maxCi` is
   * the CI of that max statistic, with the max re-taken in every resample (so it carries the selection).
   */
  oracle: BestLayer & { maxCi?: Interval };
  /** The layer with the best validation accuracy (first on ties) and its test accuracy. */
  heldOut?: BestLayer & { valAccuracy: number; nVal: number };
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
  const accuracy = bits.map(fraction);
  const best = argmax(accuracy);
  const out: RecognitionCurve = {
    layers,
    nTest,
    accuracy,
    oracle: { layer: layers[best], index: best, accuracy: accuracy[best] },
  };
  if (opts.bootstrap !== false) {
    const bs = bootstrapAccuracies(bits, opts.bootstrap ?? {});
    out.ci = bs.each;
    out.oracle.ci = bs.each[best];
    out.oracle.maxCi = bs.max;
  }
  if (input.val) {
    const valAcc = layers.map((layer) => {
      const pairs = input.val?.get(layer);
      if (!pairs) throw new Error(`recognitionCurve: no validation pairs for layer ${layer}`);
      return recognitionAccuracy(pairs, input.vectors.get(layer) as ArrayLike<number>, { ties, backend: opts.backend });
    });
    const h = argmax(valAcc);
    const valPairs = input.val.get(layers[h]) as PairMatrices;
    out.heldOut = {
      layer: layers[h],
      index: h,
      valAccuracy: valAcc[h],
      nVal: pairCount(valPairs),
      accuracy: accuracy[h],
      ...(out.ci ? { ci: out.ci[h] } : {}),
    };
  }
  return out;
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
  /** Per (src, tgt): max over layers, taken separately for every pair as the paper does. */
  best: Record<string, Record<string, BestLayer>>;
}

/**
 * Cross-lingual recognition: every source vector on every target's test pairs at every layer. Each target's
 * test rows are read once per layer and projected onto all source vectors of that layer in one
 * matrix–matrix pass. With `bootstrap` (off by default here: it is cost B·n per cell) each best cell gets
 * the CI of its test accuracy at the selected layer (held fixed).
 */
export function crossLingualRecognition(
  input: CrossLingualInput,
  opts: RecognitionOptions & { bootstrap?: BootstrapOptions | false } = {},
): CrossLingualResult {
  const ties = checkTies(opts.ties);
  const sources = [...(input.sources ?? input.vectors.keys())];
  const targets = [...(input.targets ?? input.test.keys())];
  if (sources.length === 0 || targets.length === 0) throw new Error("crossLingualRecognition: no source or target languages");
  const first = input.vectors.get(sources[0]);
  const layers = [...(input.layers ?? (first ? first.keys() : []))];
  if (layers.length === 0) throw new Error("crossLingualRecognition: no layers");
  const wantCi = opts.bootstrap !== undefined && opts.bootstrap !== false;

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
      if (wantCi) cell.ci = bootstrapAccuracies([bits[si][ti][b]], opts.bootstrap || {}).each[0];
      best[s][t] = cell;
    });
  });
  return { sources, targets, layers, nTest, acc, best };
}
