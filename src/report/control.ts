// The control experiment's summary (src/steer/control.ts: curves per source→target with points
// { coefficient, metrics: { name: { value, lo, hi } } }) flattened into the report's generic points.
// Read structurally so the report does not depend on that module's types.
import type { ControlCurvePoint, ControlCurves } from "./types.js";

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export const CONTROL_METRIC_LABELS: Readonly<Record<string, { label: string; description: string }>> = {
  representation: { label: "target-language representation", description: "Projection of the output's mean activation on the target language's concept vector (unsteered read)" },
  refusal: { label: "refusal rate", description: "Share of outputs judged refusals (phrase judge)" },
  compliance: { label: "compliance rate", description: "Share of outputs judged compliant (phrase judge)" },
  judgeUnsafe: { label: "unsafe (judge model)", description: "Share of outputs the judge model labels unsafe" },
  languagePreserved: { label: "language preserved", description: "Share of outputs still in the prompt's language (where detectable)" },
  fluency: { label: "fluency (mean token log-prob)", description: "Mean token log-probability of the output under the unsteered model (nats)" },
};

/** Whether `x` looks like a steer/control.ts summary (nested points) rather than the flat report shape. */
export function isNestedControlSummary(x: unknown): boolean {
  return isObject(x) && Array.isArray(x.curves) && x.curves.length > 0 && isObject(x.curves[0]) && Array.isArray(x.curves[0].points);
}

/**
 * Flattens a control summary. `metrics` keeps only those metrics (in that order; default all with a finite
 * value somewhere); the first kept one is the primary metric unless `primaryMetric` says otherwise.
 */
export function controlFromSummary(summary: unknown, opts: { model?: string; metrics?: readonly string[]; primaryMetric?: string } = {}): ControlCurves {
  if (!isNestedControlSummary(summary) || !isObject(summary)) throw new Error("control summary: expected { curves: [{ source, target, points: [{ coefficient, metrics }] }] }");
  const concept = typeof summary.concept === "string" ? summary.concept : undefined;
  const points: ControlCurvePoint[] = [];
  for (const [i, c] of (summary.curves as unknown[]).entries()) {
    if (!isObject(c) || typeof c.source !== "string" || typeof c.target !== "string" || !Array.isArray(c.points)) throw new Error(`control summary: curves[${i}] is malformed`);
    for (const p of c.points as unknown[]) {
      if (!isObject(p) || typeof p.coefficient !== "number" || !isObject(p.metrics)) throw new Error(`control summary: a point of curves[${i}] is malformed`);
      for (const [metric, e] of Object.entries(p.metrics)) {
        if (!isObject(e)) continue;
        points.push({ ...(opts.model ? { model: opts.model } : {}), ...(concept ? { concept } : {}), source: c.source, target: c.target, coefficient: p.coefficient, metric, value: num(e.value), lo: num(e.lo), hi: num(e.hi) });
      }
    }
  }
  const present = [...new Set(points.filter((p) => p.value !== null).map((p) => p.metric))];
  const keep = opts.metrics ? opts.metrics.filter((m) => present.includes(m)) : present;
  const curves = points.filter((p) => keep.includes(p.metric));
  const metrics: ControlCurves["metrics"] = {};
  for (const m of keep) if (CONTROL_METRIC_LABELS[m]) metrics[m] = CONTROL_METRIC_LABELS[m];
  const primary = opts.primaryMetric ?? keep[0];
  const notes = Array.isArray(summary.notes) ? summary.notes.map(String) : [];
  return { curves, ...(primary ? { primaryMetric: primary } : {}), metrics, ...(notes.length ? { notes } : {}) };
}

/** Concatenates several models' control summaries. */
export function mergeControl(parts: readonly ControlCurves[]): ControlCurves | undefined {
  if (parts.length === 0) return undefined;
  return {
    curves: parts.flatMap((p) => p.curves),
    ...(parts[0].primaryMetric ? { primaryMetric: parts[0].primaryMetric } : {}),
    metrics: Object.assign({}, ...parts.map((p) => p.metrics ?? {})) as ControlCurves["metrics"],
    notes: parts.flatMap((p) => p.notes ?? []),
  };
}
