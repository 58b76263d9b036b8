// Synthetic contrastive activations with a planted concept direction, for the extraction/analysis tests.
import { Rng } from "../../src/util/rng.js";
import type { PairMatrices } from "../../src/extract/index.js";
import { cosine } from "./fixtures.js";

export function unitVector(d: number, rng: Rng): Float64Array {
  const u = new Float64Array(d);
  rng.fillNormal(u);
  let s = 0;
  for (const x of u) s += x * x;
  s = Math.sqrt(s);
  for (let j = 0; j < d; j++) u[j] /= s;
  return u;
}

/** A unit vector at angle acos(c) from unit `u` (in the plane of u and a random direction). */
export function vectorAtCosine(u: Float64Array, c: number, rng: Rng): Float64Array {
  const r = unitVector(u.length, rng);
  let dot = 0;
  for (let j = 0; j < u.length; j++) dot += r[j] * u[j];
  let s = 0;
  for (let j = 0; j < u.length; j++) {
    r[j] -= dot * u[j];
    s += r[j] * r[j];
  }
  s = Math.sqrt(s);
  const sin = Math.sqrt(1 - c * c);
  return Float64Array.from(u, (x, j) => c * x + (sin * r[j]) / s);
}

/** rows = N(0, σ²I) noise ± (α/2)·u: pos gets +, neg gets −. Row i of pos and neg form pair i. */
export function plantedPairs(n: number, u: ArrayLike<number>, alpha: number, rng: Rng, sigma = 1): PairMatrices {
  const d = u.length;
  const pos = new Float32Array(n * d);
  const neg = new Float32Array(n * d);
  rng.fillNormal(pos, 0, sigma);
  rng.fillNormal(neg, 0, sigma);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      pos[i * d + j] += (alpha / 2) * u[j];
      neg[i * d + j] -= (alpha / 2) * u[j];
    }
  }
  return { pos, neg, dim: d };
}

export { cosine as cos };
