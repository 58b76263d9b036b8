// Fluency of a (steered) generation: how likely the UNSTEERED model finds it, given the same prompt.
import type { Session } from "../../engine/session.js";

export interface FluencyResult {
  /** Mean log-probability per output token (nats); NaN for an empty output. */
  meanLogprob: number;
  /** exp(−meanLogprob); NaN for an empty output. */
  perplexity: number;
  /** Sum of the output tokens' log-probabilities. */
  total: number;
  nTokens: number;
  /** Per-token log-probabilities. */
  logprobs: Float32Array;
}

export interface FluencyOptions {
  /** Score with a steered session anyway (default false: a steered session is refused, it would judge itself). */
  allowSteered?: boolean;
  signal?: AbortSignal;
}

/** An output as generated tokens (preferred: no re-tokenization drift) or as text. */
export type OutputText = string | Int32Array | readonly number[];

function outputTokens(session: Session, x: OutputText): Int32Array {
  // Exactly what session.logprobs() does with a string continuation.
  if (typeof x === "string") return session.model.tokenize(x, { addSpecial: false, parseSpecial: false });
  return x instanceof Int32Array ? x : Int32Array.from(x);
}

/**
 * Mean token log-prob of `output` after `prompt` under `session` (session.logprobs: the prompt is tokenized with
 * BOS and special tokens parsed, like generate(); a string output is tokenized without BOS), and perplexity.
 * Pass GenerationResult.tokens as the output to score exactly the generated tokens.
 */
export async function fluency(session: Session, prompt: string | Int32Array, output: OutputText, opts: FluencyOptions = {}): Promise<FluencyResult> {
  if (!opts.allowSteered && session.steering.length > 0) {
    throw new Error("fluency: the session is steered; score fluency with an unsteered session (or pass allowSteered)");
  }
  const out = outputTokens(session, output);
  if (out.length === 0) return { meanLogprob: Number.NaN, perplexity: Number.NaN, total: 0, nTokens: 0, logprobs: new Float32Array(0) };
  const r = await session.logprobs(prompt, out, { signal: opts.signal });
  const n = r.logprobs.length;
  // Sum in float64 from the per-token values (r.total is the same sum).
  let total = 0;
  for (const v of r.logprobs) total += v;
  const meanLogprob = n > 0 ? total / n : Number.NaN;
  return { meanLogprob, perplexity: Math.exp(-meanLogprob), total, nTokens: n, logprobs: r.logprobs };
}

/** fluency() over many (prompt, output) pairs, one after another on the session. */
export async function fluencyBatch(
  session: Session,
  items: ReadonlyArray<{ prompt: string | Int32Array; output: OutputText }>,
  opts: FluencyOptions = {},
): Promise<FluencyResult[]> {
  const out: FluencyResult[] = [];
  for (const it of items) out.push(await fluency(session, it.prompt, it.output, opts));
  return out;
}
