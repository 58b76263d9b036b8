/**
 * Independent reference forward pass for the llama architecture, written for
 * readability rather than speed. Weights come from our own GGUF reader;
 * activations are float32 and every dot product / sum accumulates in float64,
 * so this is at least as accurate as llama.cpp's f32 path. Only what synth
 * models use is supported: RMSNorm, RoPE "normal" (adjacent pairs, no
 * scaling), GQA attention, SwiGLU FFN, tied or separate lm head.
 */
import {
  metaNumber,
  metaString,
  readGguf,
  readTensorF32,
  requireNumber,
  type GgufTensorInfo,
} from "../../src/gguf/index.js";

export interface ReferenceLayer {
  attnNorm: Float32Array;
  /** [nHead*headDim rows × nEmbd] row-major: q[o] = Σ_i wq[o*nEmbd + i]·x[i]. */
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  /** [nEmbd rows × nHead*headDim]. */
  wo: Float32Array;
  ffnNorm: Float32Array;
  /** [nFf rows × nEmbd]. */
  wGate: Float32Array;
  wUp: Float32Array;
  /** [nEmbd rows × nFf]. */
  wDown: Float32Array;
}

export interface ReferenceModel {
  path: string;
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  rmsEps: number;
  ropeFreqBase: number;
  /** [nVocab rows × nEmbd]. */
  tokenEmbd: Float32Array;
  outputNorm: Float32Array;
  /** Separate lm head [nVocab rows × nEmbd], or null when tied to tokenEmbd. */
  output: Float32Array | null;
  layers: ReferenceLayer[];
}

export interface ReferenceForwardOptions {
  /** Block index b → vector added to the output of block b at every position. */
  steer?: Map<number, Float32Array>;
  /** Also compute logits (nTokens × nVocab). */
  logits?: boolean;
}

export interface ReferenceForwardResult {
  nTokens: number;
  nEmbd: number;
  /**
   * hidden[0] = token embeddings, hidden[k] = output of block k-1 (residual
   * stream before the final norm), for k = 0..nLayer. Each is nTokens × nEmbd,
   * position-major (row t = position t), like ggml's [nEmbd, nTokens] tensors.
   */
  hidden: Float32Array[];
  /** RMSNorm(hidden[nLayer]) · output_norm.weight, nTokens × nEmbd. */
  finalNorm: Float32Array;
  /** nTokens × nVocab, only when requested. */
  logits?: Float32Array;
}

async function loadTensor(path: string, byName: Map<string, GgufTensorInfo>, name: string, shape: number[]): Promise<Float32Array> {
  const info = byName.get(name);
  if (!info) throw new Error(`${path}: missing tensor '${name}'`);
  if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${path}: tensor '${name}' has shape [${info.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
  return readTensorF32(path, info);
}

/** Load a llama-architecture GGUF fully into float32 arrays (meant for tiny models). */
export async function loadReferenceModel(path: string): Promise<ReferenceModel> {
  const g = await readGguf(path);
  const meta = g.metadata;
  const arch = metaString(meta, "general.architecture");
  if (arch !== "llama") throw new Error(`${path}: reference forward supports architecture 'llama', got '${arch}'`);
  const scaling = metaString(meta, "llama.rope.scaling.type");
  if (scaling !== undefined && scaling !== "none") throw new Error(`${path}: rope scaling '${scaling}' is not supported`);

  const nEmbd = requireNumber(meta, "llama.embedding_length");
  const nLayer = requireNumber(meta, "llama.block_count");
  const nHead = requireNumber(meta, "llama.attention.head_count");
  const nHeadKv = metaNumber(meta, "llama.attention.head_count_kv") ?? nHead;
  const nFf = requireNumber(meta, "llama.feed_forward_length");
  const rmsEps = requireNumber(meta, "llama.attention.layer_norm_rms_epsilon");
  const ropeFreqBase = metaNumber(meta, "llama.rope.freq_base") ?? 10000;
  const headDim = nEmbd / nHead;
  const ropeDims = metaNumber(meta, "llama.rope.dimension_count") ?? headDim;
  if (ropeDims !== headDim) throw new Error(`${path}: partial RoPE (${ropeDims} of ${headDim} dims) is not supported`);

  const byName = new Map(g.tensors.map((t) => [t.name, t]));
  const embInfo = byName.get("token_embd.weight");
  if (!embInfo) throw new Error(`${path}: missing tensor 'token_embd.weight'`);
  const nVocab = embInfo.shape[1];
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;

  const layers: ReferenceLayer[] = [];
  for (let i = 0; i < nLayer; i++) {
    const t = (name: string, shape: number[]): Promise<Float32Array> => loadTensor(path, byName, `blk.${i}.${name}.weight`, shape);
    layers.push({
      attnNorm: await t("attn_norm", [nEmbd]),
      wq: await t("attn_q", [nEmbd, nQ]),
      wk: await t("attn_k", [nEmbd, nKv]),
      wv: await t("attn_v", [nEmbd, nKv]),
      wo: await t("attn_output", [nQ, nEmbd]),
      ffnNorm: await t("ffn_norm", [nEmbd]),
      wGate: await t("ffn_gate", [nEmbd, nFf]),
      wUp: await t("ffn_up", [nEmbd, nFf]),
      wDown: await t("ffn_down", [nFf, nEmbd]),
    });
  }
  return {
    path,
    nVocab,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDim,
    nFf,
    rmsEps,
    ropeFreqBase,
    tokenEmbd: await loadTensor(path, byName, "token_embd.weight", [nEmbd, nVocab]),
    outputNorm: await loadTensor(path, byName, "output_norm.weight", [nEmbd]),
    output: byName.has("output.weight") ? await loadTensor(path, byName, "output.weight", [nEmbd, nVocab]) : null,
    layers,
  };
}

// ---- building blocks (each works on one position's vector) ----------------------------------------

/** y = W·x for W stored as `rows` rows of x.length contiguous values. */
export function matVec(w: Float32Array, x: Float32Array, rows: number): Float32Array {
  const cols = x.length;
  if (w.length !== rows * cols) throw new Error(`matVec: ${w.length} weights do not form ${rows}×${cols}`);
  const y = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    let acc = 0;
    const base = o * cols;
    for (let i = 0; i < cols; i++) acc += w[base + i] * x[i];
    y[o] = acc;
  }
  return y;
}

/** RMSNorm(x)·weight with RMSNorm(x) = x / sqrt(mean(x²) + eps). */
export function rmsNorm(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) sumSq += x[i] * x[i];
  const scale = 1 / Math.sqrt(sumSq / x.length + eps);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * scale * weight[i];
  return y;
}

/**
 * RoPE "normal" (LLAMA_ROPE_TYPE_NORM), in place on `nHeads` heads of `headDim`:
 * pairs (2i, 2i+1) are rotated by theta = pos · base^(−2i/headDim).
 */
export function ropeNormal(x: Float32Array, nHeads: number, headDim: number, pos: number, base: number): void {
  for (let h = 0; h < nHeads; h++) {
    const off = h * headDim;
    for (let i = 0; i < headDim / 2; i++) {
      const theta = pos * Math.pow(base, (-2 * i) / headDim);
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      const x0 = x[off + 2 * i];
      const x1 = x[off + 2 * i + 1];
      x[off + 2 * i] = x0 * c - x1 * s;
      x[off + 2 * i + 1] = x0 * s + x1 * c;
    }
  }
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

function row(m: Float32Array, t: number, width: number): Float32Array {
  return m.subarray(t * width, (t + 1) * width);
}

/** One transformer block over all positions; returns the new residual stream. */
function block(model: ReferenceModel, layer: ReferenceLayer, x: Float32Array, nTokens: number): Float32Array {
  const { nEmbd, nHead, nHeadKv, headDim, nFf, rmsEps, ropeFreqBase } = model;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const group = nHead / nHeadKv;

  // Projections (with RoPE on q and k) for every position.
  const q: Float32Array[] = [];
  const k: Float32Array[] = [];
  const v: Float32Array[] = [];
  for (let t = 0; t < nTokens; t++) {
    const xn = rmsNorm(row(x, t, nEmbd), layer.attnNorm, rmsEps);
    const qt = matVec(layer.wq, xn, nQ);
    const kt = matVec(layer.wk, xn, nKv);
    ropeNormal(qt, nHead, headDim, t, ropeFreqBase);
    ropeNormal(kt, nHeadKv, headDim, t, ropeFreqBase);
    q.push(qt);
    k.push(kt);
    v.push(matVec(layer.wv, xn, nKv));
  }

  const out = new Float32Array(nTokens * nEmbd);
  const scale = 1 / Math.sqrt(headDim);
  for (let t = 0; t < nTokens; t++) {
    // Causal self-attention: position t attends to positions 0..t.
    const heads = new Float32Array(nQ);
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / group);
      const scores = new Float64Array(t + 1);
      let max = -Infinity;
      for (let j = 0; j <= t; j++) {
        let s = 0;
        for (let d = 0; d < headDim; d++) s += q[t][h * headDim + d] * k[j][kvh * headDim + d];
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
      }
      let denom = 0;
      for (let j = 0; j <= t; j++) {
        scores[j] = Math.exp(scores[j] - max);
        denom += scores[j];
      }
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += scores[j] * v[j][kvh * headDim + d];
        heads[h * headDim + d] = acc / denom;
      }
    }
    const attnOut = matVec(layer.wo, heads, nEmbd);
    const xt = row(x, t, nEmbd);
    const h = new Float32Array(nEmbd);
    for (let i = 0; i < nEmbd; i++) h[i] = xt[i] + attnOut[i];

    // SwiGLU feed-forward.
    const hn = rmsNorm(h, layer.ffnNorm, rmsEps);
    const gate = matVec(layer.wGate, hn, nFf);
    const up = matVec(layer.wUp, hn, nFf);
    const act = new Float32Array(nFf);
    for (let i = 0; i < nFf; i++) act[i] = silu(gate[i]) * up[i];
    const ffnOut = matVec(layer.wDown, act, nEmbd);
    const o = row(out, t, nEmbd);
    for (let i = 0; i < nEmbd; i++) o[i] = h[i] + ffnOut[i];
  }
  return out;
}

/** Run the model on `tokens` and return every layer's residual stream. */
export function referenceForward(model: ReferenceModel, tokens: readonly number[], opts: ReferenceForwardOptions = {}): ReferenceForwardResult {
  const { nEmbd, nVocab, nLayer } = model;
  const nTokens = tokens.length;
  if (nTokens === 0) throw new Error("referenceForward: no tokens");
  for (const [b, vec] of opts.steer ?? []) {
    if (!Number.isInteger(b) || b < 0 || b >= nLayer) throw new Error(`referenceForward: steer block ${b} outside 0..${nLayer - 1}`);
    if (vec.length !== nEmbd) throw new Error(`referenceForward: steer vector for block ${b} has length ${vec.length}, expected ${nEmbd}`);
  }

  const emb = new Float32Array(nTokens * nEmbd);
  tokens.forEach((tok, t) => {
    if (!Number.isInteger(tok) || tok < 0 || tok >= nVocab) throw new Error(`referenceForward: token ${tok} outside the vocab`);
    emb.set(row(model.tokenEmbd, tok, nEmbd), t * nEmbd);
  });

  const hidden: Float32Array[] = [emb];
  for (let b = 0; b < nLayer; b++) {
    const next = block(model, model.layers[b], hidden[b], nTokens);
    const steer = opts.steer?.get(b);
    if (steer) for (let t = 0; t < nTokens; t++) for (let i = 0; i < nEmbd; i++) next[t * nEmbd + i] += steer[i];
    hidden.push(next);
  }

  const finalNorm = new Float32Array(nTokens * nEmbd);
  for (let t = 0; t < nTokens; t++) {
    finalNorm.set(rmsNorm(row(hidden[nLayer], t, nEmbd), model.outputNorm, model.rmsEps), t * nEmbd);
  }

  const result: ReferenceForwardResult = { nTokens, nEmbd, hidden, finalNorm };
  if (opts.logits) {
    const head = model.output ?? model.tokenEmbd;
    const logits = new Float32Array(nTokens * nVocab);
    for (let t = 0; t < nTokens; t++) logits.set(matVec(head, row(finalNorm, t, nEmbd), nVocab), t * nVocab);
    result.logits = logits;
  }
  return result;
}
