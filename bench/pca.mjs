#!/usr/bin/env node
// PCA (RepE reader) speed: top component of 2,000 × 4,096 pair differences for 32 layers, against the same
// number of mean_diff extractions on the same data (in-process baseline), plus a naive dense-covariance PCA.
// Needs the build: `npx tsc -p tsconfig.build.json`. Options: --pairs N --dim D --layers L --dense-dim D.
import os from "node:os";
import { extractMeanDiff, extractPca, simdAvailable } from "../dist/extract/index.js";
import { Rng } from "../dist/util/rng.js";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("pairs", 2000);
const D = arg("dim", 4096);
const LAYERS = arg("layers", 32);
const DENSE_D = arg("dense-dim", 1024);
const TARGET_S = 5;

// Noise with a decaying (power-law) spectrum like residual-stream differences, shared by all layers; each
// layer adds its own planted direction with its own strength, so spectra and iteration counts vary.
const rng = new Rng("bench-pca");
const spread = Float64Array.from({ length: D }, (_, j) => 1 / Math.sqrt(1 + j / 16));
const noisePos = new Float32Array(N * D);
const noiseNeg = new Float32Array(N * D);
rng.fillNormal(noisePos);
rng.fillNormal(noiseNeg);
for (let i = 0; i < N; i++) {
  for (let j = 0; j < D; j++) {
    noisePos[i * D + j] *= spread[j];
    noiseNeg[i * D + j] *= spread[j];
  }
}
const pos = new Float32Array(N * D);
const neg = new Float32Array(N * D);
function layerData(l) {
  const r = new Rng("bench-pca-layer", l);
  const u = new Float64Array(D);
  r.fillNormal(u);
  let s = 0;
  for (const x of u) s += x * x;
  s = Math.sqrt(s);
  // α from 1.5 to 6: the planted direction's variance share spans weak to dominant.
  const alpha = 1.5 + (4.5 * l) / Math.max(1, LAYERS - 1);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < D; j++) {
      const h = ((alpha / 2) * u[j]) / s;
      pos[i * D + j] = noisePos[i * D + j] + h;
      neg[i * D + j] = noiseNeg[i * D + j] - h;
    }
  }
  return { pos, neg, dim: D };
}

function plainPass(p) {
  let a = 0;
  let b = 0;
  for (let k = 0; k < p.pos.length; k++) {
    a += p.pos[k];
    b += p.neg[k];
  }
  return a - b;
}

// Warm-up (JIT, wasm compile, workspace growth), not timed.
extractPca(layerData(0), { seed: 0 });
extractMeanDiff(layerData(0));

let tPca = 0;
let tMd = 0;
let tPass = 0;
let cpuPca = 0;
let cpuMd = 0;
const cpuMs = (c) => (c.user + c.system) / 1000;
const iters = [];
const evs = [];
let allConverged = true;
let sink = 0;
for (let l = 0; l < LAYERS; l++) {
  const p = layerData(l);
  let t = performance.now();
  let c = process.cpuUsage();
  const r = extractPca(p, { seed: l });
  tPca += performance.now() - t;
  cpuPca += cpuMs(process.cpuUsage(c));
  iters.push(r.fit.iterations);
  evs.push(r.explainedVariance);
  allConverged &&= r.fit.converged;
  t = performance.now();
  c = process.cpuUsage();
  sink += extractMeanDiff(p).raw[0];
  tMd += performance.now() - t;
  cpuMd += cpuMs(process.cpuUsage(c));
  t = performance.now();
  sink += plainPass(p);
  tPass += performance.now() - t;
}

// Naive PCA: dense covariance XᵀX (d × d, Float64) then power iteration on it, at a reduced dimension.
function densePca(n, d) {
  const r = new Rng("bench-dense");
  const X = new Float64Array(n * d);
  r.fillNormal(X);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] *= 1 / Math.sqrt(1 + j / 16);
  const t0 = performance.now();
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += X[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] -= mu[j];
  const C = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = X.subarray(i * d, i * d + d);
    for (let a = 0; a < d; a++) {
      const xa = row[a];
      const c = C.subarray(a * d, a * d + d);
      for (let b = a; b < d; b++) c[b] += xa * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) C[a * d + b] = C[b * d + a];
  const tCov = performance.now() - t0;
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  let k = 0;
  for (; k < 5000; k++) {
    const w = new Float64Array(d);
    for (let a = 0; a < d; a++) {
      let s = 0;
      const c = C.subarray(a * d, a * d + d);
      for (let b = 0; b < d; b++) s += c[b] * v[b];
      w[a] = s;
    }
    let nrm = 0;
    let rq = 0;
    for (let a = 0; a < d; a++) {
      nrm += w[a] * w[a];
      rq += w[a] * v[a];
    }
    nrm = Math.sqrt(nrm);
    v = w.map((x) => x / nrm);
    if (Math.abs(rq - lambda) <= 1e-10 * rq) break;
    lambda = rq;
  }
  return { total: performance.now() - t0, cov: tCov, iterations: k + 1 };
}

// Our PCA at the same reduced dimension, for a like-for-like comparison with the dense one.
function oursAt(n, d) {
  const r = new Rng("bench-dense");
  const p = { pos: new Float32Array(n * d), neg: new Float32Array(n * d), dim: d };
  r.fillNormal(p.pos);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) p.pos[i * d + j] *= 1 / Math.sqrt(1 + j / 16);
  extractPca(p, { seed: 1 });
  const t = performance.now();
  const res = extractPca(p, { seed: 1 });
  return { ms: performance.now() - t, iterations: res.fit.iterations };
}

const dense = densePca(N, DENSE_D);
const oursSmall = oursAt(N, DENSE_D);

const fmt = (x) => x.toFixed(1);
const perLayer = tPca / LAYERS;
console.log(`valuelens PCA bench — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load avg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log(`kernels: ${simdAvailable() ? "WebAssembly SIMD (f64x2)" : "JS fallback"}; single-threaded`);
console.log(`data: ${LAYERS} layers × ${N} pairs × d=${D} (Float32 activations), planted direction + power-law noise`);
console.log(`PCA (Lanczos, recentred, tol 1e-10 + residual 1e-6): total ${fmt(tPca)} ms wall, ${fmt(perLayer)} ms/layer (process CPU time ${fmt(cpuPca / LAYERS)} ms/layer)`);
console.log(`  Lanczos steps per layer: min ${Math.min(...iters)} / median ${iters.slice().sort((a, b) => a - b)[Math.floor(iters.length / 2)]} / max ${Math.max(...iters)}; all converged: ${allConverged}`);
console.log(`  explained variance: ${Math.min(...evs).toFixed(3)} … ${Math.max(...evs).toFixed(3)}`);
console.log(`baseline mean_diff (same layers, incl. sign rule): total ${fmt(tMd)} ms wall, ${fmt(tMd / LAYERS)} ms/layer (CPU ${fmt(cpuMd / LAYERS)} ms/layer)`);
console.log(`plain pass over the same data (sum of pos and neg): ${fmt(tPass / LAYERS)} ms/layer`);
console.log(`ratio PCA / mean_diff: ${(tPca / tMd).toFixed(2)}× wall, ${(cpuPca / cpuMd).toFixed(2)}× CPU; PCA / plain pass: ${(tPca / tPass).toFixed(2)}× wall`);
console.log(`target: ${LAYERS} layers in < ${TARGET_S} s (< ~150 ms/layer): ${tPca < TARGET_S * 1000 ? "MET" : "NOT MET"} (${(tPca / 1000).toFixed(2)} s)`);
console.log(
  `naive dense-covariance PCA at d=${DENSE_D} (d=${D} would cost ~${((D / DENSE_D) ** 2).toFixed(0)}× more for XᵀX, too slow to run): ` +
    `${fmt(dense.total)} ms (covariance ${fmt(dense.cov)} ms, ${dense.iterations} power steps) vs ours at d=${DENSE_D}: ${fmt(oursSmall.ms)} ms ` +
    `(${oursSmall.iterations} Lanczos steps) → ${(dense.total / oursSmall.ms).toFixed(1)}× faster`,
);
if (!Number.isFinite(sink)) console.log("(sink)");
