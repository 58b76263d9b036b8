// Any GGUF model as a classifier: render a judge prompt, score each label's continuation by its log-probability
// (sum over the label's tokens), softmax over the labels. One forward pass of prompt + label per label.
import type { Session } from "../../engine/session.js";

export interface ModelJudgeOptions<L extends string> {
  /** Session of the judge model (unsteered unless the experiment means otherwise: its steering applies). */
  session: Session;
  /** Judge prompt with the placeholders {prompt} and {response} (both replaced in one pass, so a response that
   *  contains "{prompt}" stays literal). Chat markup is fine: special tokens are parsed. */
  promptTemplate: string;
  /**
   * Label → continuation whose log-probability scores it, e.g. { safe: " safe", unsafe: " unsafe" }, as text
   * (tokenized like session.logprobs does: no BOS, no special tokens) or as token ids. Mind the tokenizer:
   * SentencePiece (llama) vocabularies add the word-initial "▁" themselves, so "safe" gives the single token
   * "▁safe" while " safe" gives "▁" + "▁safe"; BPE (qwen, llama-3) vocabularies want the leading space.
   * Check judge.labelTokens.
   */
  labels: Readonly<Record<L, string | Int32Array>>;
  /** "sum" (default): log p of the whole continuation. "mean": per-token mean, for labels of unequal token length. */
  aggregate?: "sum" | "mean";
  /** Parse special tokens in the rendered prompt (default true). */
  parseSpecial?: boolean;
}

export interface ModelJudgeResult<L extends string> {
  /** The argmax label. */
  label: L;
  /** Per label: the aggregated log-probability of its continuation. */
  logprobs: Record<L, number>;
  /** Softmax of `logprobs` over the labels (sums to 1). */
  probabilities: Record<L, number>;
  /** Per label: the log-probability of each continuation token. */
  tokenLogprobs: Record<L, Float32Array>;
}

export interface JudgeItem {
  prompt: string;
  response: string;
}

export interface ModelJudge<L extends string> {
  readonly labels: readonly L[];
  /** Token ids of each label's continuation (as session.logprobs tokenizes it: no BOS, no special parsing). */
  readonly labelTokens: Readonly<Record<L, Int32Array>>;
  /** The judge prompt for one item. */
  render(prompt: string, response: string): string;
  judge(prompt: string, response: string, opts?: { signal?: AbortSignal }): Promise<ModelJudgeResult<L>>;
  /** Judges items one after another on the session (a session runs one operation at a time anyway). */
  judgeBatch(items: readonly JudgeItem[], opts?: { signal?: AbortSignal; onItem?: (done: number, total: number) => void }): Promise<ModelJudgeResult<L>[]>;
}

/** Fills {prompt} and {response} in one pass. */
export function renderJudgePrompt(template: string, prompt: string, response: string): string {
  return template.replace(/\{(prompt|response)\}/g, (_, key: string) => (key === "prompt" ? prompt : response));
}

/** Softmax over a record of log-scores (max-shifted, so very negative log-probs do not underflow to 0/0). */
export function softmaxRecord<L extends string>(scores: Readonly<Record<L, number>>): Record<L, number> {
  const keys = Object.keys(scores) as L[];
  let max = -Infinity;
  for (const k of keys) max = Math.max(max, scores[k]);
  const out = {} as Record<L, number>;
  let sum = 0;
  for (const k of keys) {
    const e = Math.exp(scores[k] - max);
    out[k] = e;
    sum += e;
  }
  for (const k of keys) out[k] /= sum;
  return out;
}

export function createModelJudge<L extends string>(opts: ModelJudgeOptions<L>): ModelJudge<L> {
  const { session, promptTemplate } = opts;
  if (!promptTemplate.includes("{response}")) throw new Error("model judge: promptTemplate must contain {response}");
  const labels = Object.keys(opts.labels) as L[];
  if (labels.length < 2) throw new Error("model judge: at least two labels are needed");
  const aggregate = opts.aggregate ?? "sum";
  const parseSpecial = opts.parseSpecial ?? true;
  const labelTokens = {} as Record<L, Int32Array>;
  for (const l of labels) {
    const cont = opts.labels[l];
    // Tokenized once, exactly as session.logprobs() would tokenize a string continuation.
    const toks = typeof cont === "string" ? session.model.tokenize(cont, { addSpecial: false, parseSpecial: false }) : cont;
    if (!(toks instanceof Int32Array) || toks.length === 0) throw new Error(`model judge: label '${l}' (${JSON.stringify(cont)}) has no tokens`);
    labelTokens[l] = toks;
  }

  const render = (prompt: string, response: string) => renderJudgePrompt(promptTemplate, prompt, response);

  async function judge(prompt: string, response: string, o: { signal?: AbortSignal } = {}): Promise<ModelJudgeResult<L>> {
    const text = render(prompt, response);
    // Same tokenization as session.logprobs(string, …): BOS added, special tokens parsed as configured.
    const promptTokens = session.model.tokenize(text, { addSpecial: true, parseSpecial });
    const logprobs = {} as Record<L, number>;
    const tokenLogprobs = {} as Record<L, Float32Array>;
    for (const l of labels) {
      const r = await session.logprobs(promptTokens, labelTokens[l], { signal: o.signal });
      tokenLogprobs[l] = r.logprobs;
      logprobs[l] = aggregate === "mean" ? r.total / r.logprobs.length : r.total;
    }
    const probabilities = softmaxRecord(logprobs);
    let best = labels[0];
    for (const l of labels) if (logprobs[l] > logprobs[best]) best = l;
    return { label: best, logprobs, probabilities, tokenLogprobs };
  }

  async function judgeBatch(items: readonly JudgeItem[], o: { signal?: AbortSignal; onItem?: (done: number, total: number) => void } = {}): Promise<ModelJudgeResult<L>[]> {
    const out: ModelJudgeResult<L>[] = [];
    for (const it of items) {
      out.push(await judge(it.prompt, it.response, { signal: o.signal }));
      o.onItem?.(out.length, items.length);
    }
    return out;
  }

  return { labels, labelTokens, render, judge, judgeBatch };
}
