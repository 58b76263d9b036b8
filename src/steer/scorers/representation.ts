// Representation score of a generation: projection of its residual-stream activations onto a concept direction.
//
// Default choice: the output text alone (with the model's BOS in front, as capture() would tokenize it), the
// mean over the output's tokens (BOS excluded: its row is an attention-sink outlier, not content), at the
// direction's layer, read from an UNSTEERED session (a steered one would add c·v itself at layers ≥ k).
// `context: "prompt+output"` reads the output's tokens in the context of the prompt instead (prompt tokenized
// like generate() does, then the output tokens) and still averages over the output tokens only.
import type { Session } from "../../engine/session.js";
import type { LayerSite } from "../../engine/layers.js";
import type { OutputText } from "./fluency.js";

export interface RepresentationScoreOptions {
  /** Layer of the direction (numeric k or "resid_post:k", see the README's layer convention). */
  layer: LayerSite;
  /** The concept direction (normalised here: the projection is onto v/‖v‖). */
  vector: Float32Array | readonly number[];
  /** Which text to run (default "output"). */
  context?: "output" | "prompt+output";
  /** "mean" over the output's tokens (default) or the "last" token. */
  position?: "mean" | "last";
  /** Score with a steered session anyway (default false). */
  allowSteered?: boolean;
  /** Parse special tokens in the prompt (default true, like generate()). */
  parseSpecial?: boolean;
  signal?: AbortSignal;
}

export interface RepresentationItem {
  /** Needed for context "prompt+output". */
  prompt?: string | Int32Array;
  output: OutputText;
}

export interface RepresentationScore {
  /** ⟨h, v⟩/‖v‖ where h is the (mean or last) activation of the output tokens. NaN for an empty output. */
  projection: number;
  /** cos(h, v). */
  cosine: number;
  /** ‖h‖. */
  norm: number;
  /** Output tokens the activation summarises. */
  nTokens: number;
}

function toTokens(session: Session, x: OutputText | string | Int32Array, addSpecial: boolean, parseSpecial: boolean): Int32Array {
  if (typeof x === "string") return session.model.tokenize(x, { addSpecial, parseSpecial });
  return x instanceof Int32Array ? x : Int32Array.from(x);
}

/** Representation scores for many outputs (captured together, packed into shared decodes). */
export async function representationScores(session: Session, items: readonly RepresentationItem[], opts: RepresentationScoreOptions): Promise<RepresentationScore[]> {
  if (!opts.allowSteered && session.steering.length > 0) {
    throw new Error("representation score: the session is steered; read activations with an unsteered session (or pass allowSteered)");
  }
  const model = session.model;
  const v = Float64Array.from(opts.vector);
  if (v.length !== model.nEmbd) throw new RangeError(`representation score: vector has length ${v.length}, the model's nEmbd is ${model.nEmbd}`);
  let vn = 0;
  for (const x of v) vn += x * x;
  vn = Math.sqrt(vn);
  if (!(vn > 0) || !Number.isFinite(vn)) throw new RangeError("representation score: vector must be non-zero and finite");
  const context = opts.context ?? "output";
  const position = opts.position ?? "mean";
  const parseSpecial = opts.parseSpecial ?? true;

  // Per item: full token sequence and where the output starts in it.
  const seqs: Int32Array[] = [];
  const starts: number[] = [];
  const live: number[] = [];
  for (const [i, it] of items.entries()) {
    const out = toTokens(session, it.output, false, false);
    if (out.length === 0) continue;
    let prefix: Int32Array;
    if (context === "prompt+output") {
      if (it.prompt === undefined) throw new Error(`representation score: item ${i} has no prompt (context "prompt+output")`);
      prefix = toTokens(session, it.prompt, true, parseSpecial);
    } else prefix = model.addBos ? Int32Array.of(model.bos) : new Int32Array(0);
    const seq = new Int32Array(prefix.length + out.length);
    seq.set(prefix);
    seq.set(out, prefix.length);
    seqs.push(seq);
    starts.push(prefix.length);
    live.push(i);
  }

  const empty: RepresentationScore = { projection: Number.NaN, cosine: Number.NaN, norm: Number.NaN, nTokens: 0 };
  const result: RepresentationScore[] = items.map(() => ({ ...empty }));
  if (seqs.length === 0) return result;
  // "all" rows for the mean (so the prefix can be left out); "last" is the output's last token either way.
  const acts = await session.capture(seqs, { layers: [opts.layer], position: position === "mean" ? "all" : "last", signal: opts.signal });
  const d = model.nEmbd;
  for (let j = 0; j < seqs.length; j++) {
    const h = new Float64Array(d);
    let n: number;
    if (position === "last") {
      const row = acts.row(opts.layer, j);
      for (let k = 0; k < d; k++) h[k] = row[k];
      n = 1;
    } else {
      n = seqs[j].length - starts[j];
      for (let t = starts[j]; t < seqs[j].length; t++) {
        const row = acts.row(opts.layer, j, t);
        for (let k = 0; k < d; k++) h[k] += row[k];
      }
      for (let k = 0; k < d; k++) h[k] /= n;
    }
    let dot = 0;
    let hn = 0;
    for (let k = 0; k < d; k++) {
      dot += h[k] * v[k];
      hn += h[k] * h[k];
    }
    hn = Math.sqrt(hn);
    result[live[j]] = { projection: dot / vn, cosine: hn > 0 ? dot / (hn * vn) : 0, norm: hn, nTokens: n };
  }
  return result;
}

/** Representation score of one output. */
export async function representationScore(session: Session, item: RepresentationItem, opts: RepresentationScoreOptions): Promise<RepresentationScore> {
  const [r] = await representationScores(session, [item], opts);
  return r;
}
