// The same-norm random-direction control of a steering experiment: for source language S, a vector file row per
// layer whose direction is uniformly random (a normalised Gaussian, seeded by concept, S, method and layer) and
// whose norm equals S's. Steering with it at the same coefficients answers "is the effect the concept's, or would
// any push of that size do it?".
import { Rng } from "../util/rng.js";
import type { VectorFile, VectorMethod, VectorRow } from "../store/index.js";

/** The pseudo source language of S's random control. */
export const randomControlLang = (source: string): string => `${source}~random`;

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** Rows for `randomControlLang(lang)`: one per stored layer of (concept, lang, method). */
export function randomControlRows(vf: VectorFile, sel: { concept: string; lang: string; method: VectorMethod; seed?: number }): VectorRow[] {
  const rows = vf.rows.filter((r) => r.concept === sel.concept && r.lang === sel.lang && r.method === sel.method);
  if (rows.length === 0) throw new Error(`random control: no ${sel.method} vectors for ${sel.concept}/${sel.lang}`);
  return rows.map((r) => {
    const rng = new Rng(sel.seed ?? 0, "random-control", sel.concept, sel.lang, sel.method, r.layer);
    const u = new Float32Array(vf.nEmbd);
    let n = 0;
    while (!(n > 0)) {
      rng.fillNormal(u);
      n = norm(u);
    }
    for (let i = 0; i < u.length; i++) u[i] /= n;
    const rawNorm = norm(r.raw);
    return { ...r, lang: randomControlLang(sel.lang), unit: u, raw: u.map((x) => x * rawNorm), sign: 1, explainedVariance: null };
  });
}

/** The vector file with the random-control rows of each source added. */
export function withRandomControls(vf: VectorFile, sel: { concept: string; method: VectorMethod; sources: readonly string[]; seed?: number }): VectorFile {
  const extra = sel.sources.flatMap((lang) => randomControlRows(vf, { concept: sel.concept, lang, method: sel.method, seed: sel.seed }));
  return { ...vf, rows: [...vf.rows, ...extra] };
}
