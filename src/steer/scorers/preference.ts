// RepE-style log-probability outcome: how much more likely the (steered) model finds the concept's positive
// continuations than its negative ones after a prompt. Judge-free, and it moves continuously with the coefficient
// where a generated text may not change at all.
import type { Session } from "../../engine/session.js";

export interface Continuations {
  /** Value-aligned continuations (e.g. a refusal opening for harmfulness). */
  positive: readonly string[];
  negative: readonly string[];
}

export interface PreferenceResult {
  /** log mean_i p(pos_i | prompt) − log mean_j p(neg_j | prompt), in nats (each p is a whole continuation's probability). */
  preference: number;
  positive: number[];
  negative: number[];
}

/** log(mean(exp(xs))) without overflow. */
function logMeanExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s / xs.length);
}

/** Checks a continuation set: both sides non-empty, no empty string. */
export function checkContinuations(c: Continuations, where: string): void {
  for (const side of ["positive", "negative"] as const) {
    const list = c[side];
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${where}: no ${side} continuations`);
    for (const s of list) if (typeof s !== "string" || s.length === 0) throw new Error(`${where}: an empty ${side} continuation`);
  }
}

/**
 * Scores the continuations after `prompt` on `session` as it is: a steered session gives the steered preference
 * (that is the point here, unlike fluency, which must read unsteered).
 */
export async function preferenceScore(session: Session, prompt: Int32Array, c: Continuations, opts: { signal?: AbortSignal } = {}): Promise<PreferenceResult> {
  const score = async (list: readonly string[]) => {
    const out: number[] = [];
    for (const s of list) out.push((await session.logprobs(prompt, s, { signal: opts.signal })).total);
    return out;
  };
  const positive = await score(c.positive);
  const negative = await score(c.negative);
  return { preference: logMeanExp(positive) - logMeanExp(negative), positive, negative };
}
