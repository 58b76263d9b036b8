import { describe, expect, it } from "vitest";
import { Rng } from "../src/util/rng.js";
import {
  extract,
  extractAll,
  extractLogistic,
  extractMeanDiff,
  extractPca,
  extractRandom,
  lanczosTop,
  pcaPairSigns,
  projectRows,
  randomCellSeed,
  randomUnitVector,
  shuffledPairLabels,
  signFromPairs,
  simdAvailable,
  type PairMatrices,
} from "../src/extract/index.js";
import { recognitionAccuracy } from "../src/analysis/index.js";
import { cos, plantedPairs, unitVector } from "./helpers/planted.js";

/** Cyclic Jacobi eigen-decomposition of a symmetric matrix (ground truth for the Lanczos PCA). */
function jacobiEigen(A0: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(A0);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => A[i * n + i]), vectors: V };
}

/** Exact RepE PCA: the same seeded pair order, Float32 differences, recentred scatter, top eigenpair. */
function exactPca(p: PairMatrices, seed: number, center = true): { u: Float64Array; ev: number; gap: number } {
  const d = p.dim;
  const n = p.pos.length / d;
  const s = pcaPairSigns(n, seed);
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = Math.fround(s[i] * (p.pos[i * d + j] - p.neg[i * d + j]));
  if (center) {
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += X[i * d + j];
      m /= n;
      for (let i = 0; i < n; i++) X[i * d + j] -= m;
    }
  }
  const C = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += X[i * d + a] * X[i * d + b];
    C[a * d + b] = t;
  }
  const { values, vectors } = jacobiEigen(C, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => values[y] - values[x]);
  const top = order[0];
  let trace = 0;
  for (const v of values) trace += v;
  return {
    u: Float64Array.from({ length: d }, (_, k) => vectors[k * d + top]),
    ev: values[top] / trace,
    gap: (values[top] - values[order[1]]) / values[top],
  };
}

function randomPairs(n: number, d: number, rng: Rng, spread: (j: number) => number = () => 1): PairMatrices {
  const pos = new Float32Array(n * d);
  const neg = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
    pos[i * d + j] = rng.normal() * spread(j) + 0.3;
    neg[i * d + j] = rng.normal() * spread(j) - 0.2;
  }
  return { pos, neg, dim: d };
}

describe("pca", () => {
  const cases: Array<[string, number, number, (j: number) => number]> = [
    ["n > d, decaying spectrum", 40, 8, (j) => 1 / (1 + j)],
    ["n > d, odd d", 25, 7, (j) => 1 + 0.3 * Math.sin(j)],
    ["n < d (rank-deficient)", 6, 20, () => 1],
    ["n = 2", 2, 5, () => 1],
    ["n = 3, wide", 3, 33, (j) => (j % 3) + 1],
  ];
  for (const [name, n, d, spread] of cases) {
    it(`matches an exact eigen-decomposition: ${name}`, () => {
      const p = randomPairs(n, d, new Rng(`pca-${name}`), spread);
      for (const seed of [0, 7]) {
        const exact = exactPca(p, seed);
        expect(exact.gap).toBeGreaterThan(1e-3); // a well-defined top component
        const r = extractPca(p, { seed });
        expect(1 - Math.abs(cos(r.raw, exact.u))).toBeLessThan(1e-6);
        expect(Math.abs((r.explainedVariance ?? NaN) - exact.ev)).toBeLessThan(1e-6);
        expect(r.fit?.converged).toBe(true);
        expect(r.fit?.centered).toBe(true);
        const rs = extractPca(p, { seed, start: "random" });
        expect(1 - Math.abs(cos(rs.raw, exact.u))).toBeLessThan(1e-6);
      }
    });
  }

  it("uncentred option matches the uncentred decomposition", () => {
    const p = randomPairs(30, 9, new Rng("uncentred"));
    const exact = exactPca(p, 3, false);
    const r = extractPca(p, { seed: 3, center: false });
    expect(1 - Math.abs(cos(r.raw, exact.u))).toBeLessThan(1e-6);
    expect(Math.abs((r.explainedVariance ?? NaN) - exact.ev)).toBeLessThan(1e-6);
  });

  it("n = 1 falls back to the un-centred difference", () => {
    const p: PairMatrices = { pos: Float32Array.from([1, 2, 3, 4]), neg: Float32Array.from([0, 0, 1, 1]), dim: 4 };
    const r = extractPca(p);
    expect(r.fit?.centered).toBe(false);
    expect(r.explainedVariance).toBeCloseTo(1, 12);
    const diff = [1, 2, 2, 3];
    expect(cos(r.unit, diff)).toBeCloseTo(1, 10); // signed towards pos
    expect(r.sign * cos(r.raw, diff)).toBeCloseTo(1, 10);
  });

  it("recovers a planted direction (cos ≥ 0.99) and reports its variance share", () => {
    const rng = new Rng("planted-pca");
    const u = unitVector(64, rng);
    const p = plantedPairs(2000, u, 4, rng);
    const r = extractPca(p, { seed: 1 });
    expect(cos(r.unit, u)).toBeGreaterThanOrEqual(0.99);
    // Signal variance α² = 16 against noise 2 per dimension (64 dims) → ≈ 16 / (16 + 128).
    expect(r.explainedVariance).toBeGreaterThan(0.08);
    expect(r.explainedVariance).toBeLessThan(0.16);
    expect(r.nTrain).toBe(2000);
  });

  it("is deterministic per seed and identical on the JS and SIMD kernels", () => {
    const p = randomPairs(31, 13, new Rng("det"));
    const a = extractPca(p, { seed: 5 });
    const b = extractPca(p, { seed: 5 });
    expect(Array.from(a.raw)).toEqual(Array.from(b.raw));
    if (simdAvailable()) {
      const c = extractPca(p, { seed: 5, backend: "js" });
      const w = extractPca(p, { seed: 5, backend: "wasm" });
      expect(Array.from(c.raw)).toEqual(Array.from(w.raw));
      expect(c.explainedVariance).toBe(w.explainedVariance);
    }
  });

  it("lanczosTop finds the top eigenpair of an explicit matrix", () => {
    const n = 12;
    const rng = new Rng("lanczos");
    const B = new Float64Array(n * n);
    rng.fillNormal(B);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += B[k * n + i] * B[k * n + j];
      A[i * n + j] = s;
    }
    const { values, vectors } = jacobiEigen(A, n);
    let top = 0;
    for (let i = 1; i < n; i++) if (values[i] > values[top]) top = i;
    const start = new Float64Array(n).fill(1);
    const r = lanczosTop(n, (v, out) => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * v[j];
        out[i] = s;
      }
    }, start, { tol: 1e-12, residualTol: 1e-9, maxIterations: 100 });
    expect(r.value).toBeCloseTo(values[top], 9);
    expect(Math.abs(cos(r.vector, Array.from({ length: n }, (_, k) => vectors[k * n + top])))).toBeCloseTo(1, 10);
  });
});

describe("mean_diff", () => {
  it("is mean(pos) − mean(neg), unnormalised, with unit = raw/‖raw‖", () => {
    const p: PairMatrices = { pos: Float32Array.from([1, 2, 3, 4]), neg: Float32Array.from([0, 1, 1, 1]), dim: 2 };
    const r = extractMeanDiff(p);
    // mean pos = (2, 3), mean neg = (0.5, 1) → (1.5, 2); norm 2.5
    expect(Array.from(r.raw)).toEqual([1.5, 2]);
    expect(r.unit[0]).toBeCloseTo(0.6, 7);
    expect(r.unit[1]).toBeCloseTo(0.8, 7);
    expect(r.sign).toBe(1);
    expect(r.method).toBe("mean_diff");
    expect(r.nTrain).toBe(2);
    expect(r.explainedVariance).toBeUndefined();
  });

  it("recovers a planted direction with cos ≥ 0.99", () => {
    const rng = new Rng("planted-md");
    const u = unitVector(64, rng);
    const p = plantedPairs(2000, u, 4, rng);
    expect(cos(extractMeanDiff(p).unit, u)).toBeGreaterThanOrEqual(0.99);
  });

  it("guards zero directions and malformed input", () => {
    const same = Float32Array.from([1, 2, 3, 4]);
    expect(() => extractMeanDiff({ pos: same, neg: same, dim: 2 })).toThrow(/zero vector/);
    expect(() => extractMeanDiff({ pos: same, neg: same.subarray(0, 2), dim: 2 })).toThrow(/neg has/);
    expect(() => extractMeanDiff({ pos: same, neg: same, dim: 3 })).toThrow(/multiple of dim/);
    expect(() => extractMeanDiff({ pos: new Float32Array(0), neg: new Float32Array(0), dim: 2 })).toThrow(/no training pairs/);
    expect(() => extractPca({ pos: same, neg: same, dim: 2 })).toThrow(/zero/);
  });
});

describe("sign rule", () => {
  it("flips when more pairs project lower, even if the mean difference points the other way", () => {
    // 1-d differences +10, −1, −1: mean +8/3, but 2 of 3 pairs have proj(pos) < proj(neg).
    const p: PairMatrices = { pos: Float32Array.from([10, 0, 0]), neg: Float32Array.from([0, 1, 1]), dim: 1 };
    const r = extractMeanDiff(p);
    expect(r.raw[0]).toBeCloseTo(8 / 3, 6);
    expect(r.sign).toBe(-1);
    expect(r.unit[0]).toBe(-1);
    expect(signFromPairs(p, [1])).toEqual({ sign: -1, higher: 1, lower: 2, ties: 0 });
  });

  it("breaks ties towards +1 and counts equal projections as ties", () => {
    // differences (3, 0) and (−1, 0): one higher, one lower → +1.
    const p: PairMatrices = { pos: Float32Array.from([3, 0, 0, 5]), neg: Float32Array.from([0, 0, 1, 5]), dim: 2 };
    const r = extractMeanDiff(p);
    expect(r.sign).toBe(1);
    expect(signFromPairs(p, [0, 1])).toEqual({ sign: 1, higher: 0, lower: 0, ties: 2 });
  });

  it("is applied the same way to PCA (positives project higher)", () => {
    const rng = new Rng("pca-sign");
    const u = unitVector(16, rng);
    const p = plantedPairs(200, Float64Array.from(u, (x) => -x), 3, rng);
    const r = extractPca(p, { seed: 2 });
    expect(cos(r.unit, u)).toBeLessThan(-0.95);
    const s = signFromPairs(p, r.unit);
    expect(s.higher).toBeGreaterThan(s.lower);
  });
});

describe("random baseline", () => {
  const rng = new Rng("random-baseline");
  const d = 256;
  const u = unitVector(d, rng);
  const train = plantedPairs(300, u, 3, rng);
  const test = plantedPairs(400, u, 3, rng);
  const cell = { model: "sha", concept: "morality", lang: "en", layer: "3" };

  it("gaussian (default): a seeded unit vector with sign +1 that never looks at the data", () => {
    const r = extractRandom(train, { seed: "s" });
    expect(r.method).toBe("random");
    expect(r.sign).toBe(1);
    expect(Math.hypot(...r.unit)).toBeCloseTo(1, 6);
    // Same draw for other data of the same width: the labels (and so the concept) cannot enter it.
    const other = plantedPairs(10, unitVector(d, rng), 50, rng);
    expect(Array.from(extractRandom(other, { seed: "s" }).unit)).toEqual(Array.from(r.unit));
    expect(Array.from(randomUnitVector(d, "s", 0))).toEqual(Array.from(r.unit));
    expect(cos(extractRandom(train, { seed: "s", replicate: 1 }).unit, r.unit)).not.toBeCloseTo(1, 3);
    expect(recognitionAccuracy(test, extractMeanDiff(train).unit)).toBeGreaterThanOrEqual(0.95);
    // Chance on average over draws; a draw's |cos| with the concept is O(1/√d).
    let sum = 0;
    let cosSq = 0;
    const draws = 40;
    for (let s = 0; s < draws; s++) {
      const v = extractRandom(train, { seed: randomCellSeed(1, { ...cell, layer: String(s) }) }).unit;
      sum += recognitionAccuracy(test, v);
      cosSq += cos(v, u) ** 2;
    }
    expect(Math.abs(sum / draws - 0.5)).toBeLessThan(0.06);
    // E[cos²] = 1/d for a uniform direction; 40 draws: within a factor 2.
    expect(cosSq / draws).toBeGreaterThan(0.5 / d);
    expect(cosSq / draws).toBeLessThan(2 / d);
  });

  it("the cell seed separates every field of the cell", () => {
    const base = randomCellSeed(1, cell);
    const seeds = new Set([base, randomCellSeed(2, cell), ...(["model", "concept", "lang", "layer"] as const).map((k) => randomCellSeed(1, { ...cell, [k]: `${cell[k]}x` }))]);
    expect(seeds.size).toBe(6);
    expect(randomCellSeed(1, cell)).toBe(base);
  });

  it("shuffle: mean_diff after swapping exactly ⌊n/2⌋ pairs, so a constant concept shift cancels", () => {
    const swapped = shuffledPairLabels(300, 9);
    expect(swapped.reduce((a, x) => a + x, 0)).toBe(150);
    expect(shuffledPairLabels(301, 9).reduce((a, x) => a + x, 0)).toBe(150);
    expect(Array.from(shuffledPairLabels(300, 9, 1))).not.toEqual(Array.from(swapped));
    const r = extractRandom(train, { seed: 9, variant: "shuffle" });
    const n = 300;
    const ref = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
      const diff = train.pos[i * d + j] - train.neg[i * d + j];
      ref[j] += swapped[i] ? -diff : diff;
    }
    for (let j = 0; j < d; j++) expect(r.raw[j]).toBeCloseTo(ref[j] / n, 5);
    // The planted shift (α = 3, far above the noise per pair) cancels exactly: what is left is noise, whose
    // cosine with u is O(1/√d). An unbalanced coin would leave (Σ s_i / n)·α·u, typically |cos| ≈ 0.3 here.
    for (let s = 0; s < 10; s++) expect(Math.abs(cos(extractRandom(train, { seed: s, variant: "shuffle" }).unit, u))).toBeLessThan(4 / Math.sqrt(d));
    expect(() => extractRandom(train, { variant: "bogus" as "gaussian" })).toThrow(/unknown variant/);
    expect(() => extractRandom(train, { replicate: -1 })).toThrow(/replicate/);
  });
});

describe("logistic", () => {
  it("separates separable data and aligns with the planted direction", () => {
    const rng = new Rng("logistic");
    const u = unitVector(32, rng);
    const train = plantedPairs(400, u, 5, rng);
    const r = extractLogistic(train);
    expect(r.fit?.converged).toBe(true);
    expect(cos(r.unit, u)).toBeGreaterThanOrEqual(0.95);
    expect(r.sign).toBe(1);
    const test = plantedPairs(300, u, 5, rng);
    expect(recognitionAccuracy(test, r.unit)).toBeGreaterThanOrEqual(0.97);
    // Intercept: the probe's decision function raw·h + b classifies training rows.
    const zp = projectRows(train.pos, 32, [r.raw]);
    const zn = projectRows(train.neg, 32, [r.raw]);
    const b = r.fit?.intercept ?? NaN;
    let ok = 0;
    for (let i = 0; i < 400; i++) ok += (zp[i] + b > 0 ? 1 : 0) + (zn[i] + b < 0 ? 1 : 0);
    expect(ok / 800).toBeGreaterThan(0.95);
  });

  it("standardisation is reflected in activation space; large λ tends to the standardised mean difference", () => {
    const rng = new Rng("logistic-scale");
    const u = unitVector(16, rng);
    const p = plantedPairs(300, u, 3, rng);
    // Blow up one feature's scale: the standardised probe is invariant to it (up to that coordinate's 1/σ).
    const q: PairMatrices = { pos: Float32Array.from(p.pos), neg: Float32Array.from(p.neg), dim: 16 };
    for (let i = 0; i < 300; i++) {
      q.pos[i * 16] *= 100;
      q.neg[i * 16] *= 100;
    }
    const a = extractLogistic(p);
    const b = extractLogistic(q);
    expect(b.raw[0] * 100).toBeCloseTo(a.raw[0], 3);
    for (let j = 1; j < 16; j++) expect(b.raw[j]).toBeCloseTo(a.raw[j], 3);
    // λ → ∞: w ∝ −∇J(0) in standardised space, i.e. (mean(pos) − mean(neg)) / σ² per feature in activation space.
    const strong = extractLogistic(p, { lambda: 1000 });
    const md = extractMeanDiff(p).raw;
    const limit = Array.from({ length: 16 }, (_, j) => {
      let m = 0;
      let v = 0;
      for (let i = 0; i < 300; i++) m += p.pos[i * 16 + j] + p.neg[i * 16 + j];
      m /= 600;
      for (let i = 0; i < 300; i++) v += (p.pos[i * 16 + j] - m) ** 2 + (p.neg[i * 16 + j] - m) ** 2;
      return md[j] / (v / 600);
    });
    expect(cos(strong.unit, limit)).toBeGreaterThan(0.9999);
    expect(cos(strong.unit, md)).toBeLessThan(0.9999);
    expect(() => extractLogistic(p, { lambda: -1 })).toThrow(/lambda/);
  });
});

describe("extract / extractAll", () => {
  it("dispatches by method over layers with shared options", () => {
    const rng = new Rng("all");
    const u = unitVector(12, rng);
    const layers = new Map<string, PairMatrices>([
      ["1", plantedPairs(50, u, 3, rng)],
      ["2", plantedPairs(50, u, 3, rng)],
    ]);
    for (const method of ["mean_diff", "pca", "random", "logistic"] as const) {
      const out = extractAll(method, layers, { seed: 4 });
      expect([...out.keys()]).toEqual(["1", "2"]);
      for (const [layer, v] of out) {
        expect(v.method).toBe(method);
        expect(v.unit.length).toBe(12);
        let s = 0;
        for (const x of v.unit) s += x * x;
        expect(Math.sqrt(s)).toBeCloseTo(1, 6);
        expect(Array.from(v.unit)).toEqual(Array.from(extract(method, layers.get(layer) as PairMatrices, { seed: 4 }).unit));
      }
    }
    const bad = new Map([["x", { pos: new Float32Array(4), neg: new Float32Array(4), dim: 2 }]]);
    expect(() => extractAll("mean_diff", bad)).toThrow(/layer x: .*zero vector/);
    expect(() => extract("nope" as "pca", layers.get("1") as PairMatrices)).toThrow(/unknown extraction method/);
  });
});

describe("kernels", () => {
  it.runIf(simdAvailable())("SIMD and JS projections are bit-identical, including odd row counts and padding", () => {
    const rng = new Rng("kernels");
    for (const [n, d] of [[7, 13], [1, 5], [64, 4], [33, 130]]) {
      const rows = new Float32Array(n * d);
      rng.fillNormal(rows);
      const vs = [0, 1, 2].map(() => unitVector(d, rng));
      const a = projectRows(rows, d, vs, "wasm");
      const b = projectRows(rows, d, vs, "js");
      expect(Array.from(a)).toEqual(Array.from(b));
      // and equal to one-at-a-time projection
      expect(Array.from(projectRows(rows, d, [vs[1]], "wasm"))).toEqual(Array.from({ length: n }, (_, i) => a[i * 3 + 1]));
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += rows[i * d + j] * vs[2][j];
        expect(a[i * 3 + 2]).toBeCloseTo(s, 10);
      }
    }
    const p = randomPairs(17, 9, rng);
    for (const method of ["mean_diff", "logistic", "random"] as const) {
      expect(Array.from(extract(method, p, { backend: "js" }).raw)).toEqual(Array.from(extract(method, p, { backend: "wasm" }).raw));
    }
  });
});
