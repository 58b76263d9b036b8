// One playground request: for each target-language prompt, the unsteered, steered and (optionally) same-norm
// random-direction generations streamed token by token, then scored (language ID, representation score on the
// target language's vector, log-prob shift of the positive vs negative continuation). Steering never outlives
// the request: it is cleared in `finally`, also on abort.
import { setTimeout as sleep } from "node:timers/promises";
import type { Session, SteeringEntry } from "../engine/session.js";
import type { VectorFile } from "../store/index.js";
import { buildSteering, findVector, type ResidualNorms, type SteeringPlan } from "../steer/steer.js";
import { detectLanguage } from "../steer/scorers/language.js";
import { representationScore } from "../steer/scorers/representation.js";
import { Rng } from "../util/rng.js";

export type Arm = "base" | "steer" | "random";

export interface PlaygroundTarget {
  lang: string;
  prompt: string;
}

export interface PlaygroundRequest {
  concept: string;
  /** Source language: the vector steered with. */
  source: string;
  /** Layer spec, e.g. "2-3". */
  layers: string;
  coefficient: number;
  scale: "none" | "residual";
  targets: PlaygroundTarget[];
  random: boolean;
  maxTokens: number;
  /** Continuations whose log-prob difference (pos − neg) is compared steered vs unsteered. */
  pos: string;
  neg: string;
}

export interface ArmScore {
  arm: Arm;
  text: string;
  nTokens: number;
  lang: string;
  langConfidence: number;
  /** Projection of the output's mean activation on the target language's vector (null: no such vector). */
  representation: number | null;
  /** log p(pos) − log p(neg) after the prompt under this arm's steering. */
  posMinusNeg: number;
  /** posMinusNeg − the unsteered one. */
  logprobShift: number;
}

export type PlaygroundEvent =
  | { type: "plan"; layers: string[]; effective: number[]; randomNorms: number[] | null }
  | { type: "start"; target: number; arm: Arm }
  | { type: "token"; target: number; arm: Arm; text: string }
  | { type: "end"; target: number; arm: Arm; text: string; stopReason: string }
  | { type: "scores"; target: number; lang: string; representationLayer: string | null; arms: ArmScore[] };

export interface PlaygroundContext {
  session: Session;
  vectors: VectorFile;
  residualNorms?: ResidualNorms;
  signal: AbortSignal;
  emit: (e: PlaygroundEvent) => void;
  /** Slow motion between streamed tokens (tests, demos). */
  tokenDelayMs?: number;
}

/** Per steering entry, a random direction of the same norm as the injected vector × coefficient (seeded, reproducible). */
export function randomControl(entries: readonly SteeringEntry[], seed: string): SteeringEntry[] {
  return entries.map((e, i) => {
    const rng = new Rng(0, "serve-random", seed, i);
    const v = new Float32Array(e.vector.length);
    let target = 0;
    for (let j = 0; j < v.length; j++) target += e.vector[j] ** 2;
    let n = 0;
    for (let j = 0; j < v.length; j++) {
      v[j] = rng.normal();
      n += v[j] * v[j];
    }
    const k = Math.sqrt(target / n);
    for (let j = 0; j < v.length; j++) v[j] *= k;
    return { layer: e.layer, vector: v, coefficient: e.coefficient ?? 1 };
  });
}

export function planFor(req: PlaygroundRequest, vectors: VectorFile, nLayer: number, residualNorms?: ResidualNorms): SteeringPlan {
  return buildSteering({
    vectors,
    terms: [{ concept: req.concept, lang: req.source }],
    layers: req.layers,
    coefficient: req.coefficient,
    scale: req.scale,
    nLayer,
    ...(residualNorms ? { residualNorms } : {}),
  });
}

async function steerTo(session: Session, entries: readonly SteeringEntry[]): Promise<void> {
  if (entries.length === 0 || entries.every((e) => (e.coefficient ?? 1) === 0)) await session.clearSteering();
  else await session.setSteering(entries);
}

export async function runPlayground(req: PlaygroundRequest, ctx: PlaygroundContext): Promise<void> {
  const { session, signal, emit } = ctx;
  const nLayer = session.model.nLayer;
  const plan = planFor(req, ctx.vectors, nLayer, ctx.residualNorms);
  const random = req.random ? randomControl(plan.entries, `${req.concept}/${req.source}/${req.layers}`) : null;
  emit({
    type: "plan",
    layers: plan.layers,
    effective: plan.parts.map((p) => p.effective),
    randomNorms: random ? random.map((e) => Math.hypot(...e.vector) * Math.abs(e.coefficient ?? 1)) : null,
  });
  const arms: Array<{ arm: Arm; entries: readonly SteeringEntry[] }> = [
    { arm: "base", entries: [] },
    { arm: "steer", entries: plan.entries },
    ...(random ? [{ arm: "random" as const, entries: random }] : []),
  ];
  try {
    for (let t = 0; t < req.targets.length; t++) {
      const target = req.targets[t];
      const outputs = new Map<Arm, { text: string; tokens: number[] }>();
      for (const a of arms) {
        await steerTo(session, a.entries);
        emit({ type: "start", target: t, arm: a.arm });
        const it = session.generate(target.prompt, { maxTokens: req.maxTokens, signal });
        const tokens: number[] = [];
        let text = "";
        let stopReason = "maxTokens";
        try {
          for (;;) {
            const r = await it.next();
            if (r.done) {
              text = r.value.text;
              stopReason = r.value.stopReason;
              break;
            }
            tokens.push(r.value.token);
            if (r.value.text) emit({ type: "token", target: t, arm: a.arm, text: r.value.text });
            if (ctx.tokenDelayMs) await sleep(ctx.tokenDelayMs, undefined, { signal });
          }
        } finally {
          // Releases the session at once when we leave early (abort during the slow-motion pause).
          await it.return({ text, tokens, stopReason: "stop" });
        }
        outputs.set(a.arm, { text, tokens });
        emit({ type: "end", target: t, arm: a.arm, text, stopReason });
      }
      // Log-prob of pos vs neg under each arm's steering.
      const pmn = new Map<Arm, number>();
      for (const a of arms) {
        await steerTo(session, a.entries);
        const p = await session.logprobs(target.prompt, req.pos, { signal });
        const n = await session.logprobs(target.prompt, req.neg, { signal });
        pmn.set(a.arm, p.total - n.total);
      }
      await session.clearSteering();
      // Representation score: the target language's vector at the first steering layer, read unsteered.
      let repLayer: string | null = null;
      let vec: Float32Array | null = null;
      try {
        const row = findVector(ctx.vectors, { concept: req.concept, lang: target.lang, layer: plan.entries[0].layer }, nLayer);
        repLayer = row.layer;
        vec = row.unit;
      } catch {
        vec = null; // no vector for the target language: the score is left empty
      }
      const scores: ArmScore[] = [];
      for (const a of arms) {
        const out = outputs.get(a.arm)!;
        const guess = detectLanguage(out.text, { minLength: 6 });
        let representation: number | null = null;
        if (vec && out.tokens.length > 0) {
          const r = await representationScore(session, { output: out.tokens }, { layer: plan.entries[0].layer, vector: vec, signal });
          representation = Number.isFinite(r.projection) ? r.projection : null;
        }
        scores.push({
          arm: a.arm,
          text: out.text,
          nTokens: out.tokens.length,
          lang: guess.lang,
          langConfidence: guess.confidence,
          representation,
          posMinusNeg: pmn.get(a.arm)!,
          logprobShift: pmn.get(a.arm)! - pmn.get("base")!,
        });
      }
      emit({ type: "scores", target: t, lang: target.lang, representationLayer: repLayer, arms: scores });
    }
  } finally {
    // Cleared even after an abort: the next request starts from an unsteered session.
    await session.clearSteering().catch(() => undefined);
  }
}
