#!/usr/bin/env node
// Is the hand-assembled WebAssembly of src/extract/kernels.ts worth its cost? Times the workloads it serves,
// PCA (power iteration over pair differences) and projection of rows onto vectors (recognition, signs), with the
// WASM SIMD backend against the JS backend (the same arithmetic in plain typed-array loops, bit-identical), and
// projection against a naive one-accumulator dot loop. Prints the ratios. Needs the build:
// `npx tsc -p tsconfig.build.json`. Options: --pairs N --dim D --layers L --vectors K.
import { extractPca, projectRows, simdAvailable } from "../dist/extract/index.js";
import { Rng } from "../dist/util/rng.js";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("pairs", 1000);
const D = arg("dim", 2048);
const LAYERS = arg("layers", 4);
const K = arg("vectors", 8);

const rng = new Rng("bench-kernels");
const layers = Array.from({ length: LAYERS }, () => {
  const pos = new Float32Array(N * D);
  const neg = new Float32Array(N * D);
  rng.fillNormal(pos);
  rng.fillNormal(neg);
  for (let i = 0; i < N; i++) pos[i * D] += 3; // a planted direction, so power iteration converges as on real data
  return { pos, neg, dim: D };
});
const vectors = Array.from({ length: K }, () => {
  const v = new Float64Array(D);
  rng.fillNormal(v);
  return v;
});

function naiveProject(rows, d, vs) {
  const n = rows.length / d;
  const out = new Float64Array(n * vs.length);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < vs.length; s++) {
      const v = vs[s];
      let acc = 0;
      for (let j = 0; j < d; j++) acc += rows[i * d + j] * v[j];
      out[i * vs.length + s] = acc;
    }
  }
  return out;
}

function time(fn, reps) {
  fn(); // warm-up (JIT, workspace allocation)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

let sink = 0;
const pca = (backend) => () => {
  for (const [l, p] of layers.entries()) sink += extractPca(p, { seed: l, backend }).raw[0];
};
const project = (backend) => () => {
  for (const p of layers) sink += projectRows(p.pos, D, vectors, backend)[0];
};
const naive = () => {
  for (const p of layers) sink += naiveProject(p.pos, D, vectors)[0];
};

if (!simdAvailable()) {
  console.log("WebAssembly SIMD is not available here: only the JS backend runs");
  process.exit(0);
}
const r = {
  pcaWasm: time(pca("wasm"), 3),
  pcaJs: time(pca("js"), 3),
  projWasm: time(project("wasm"), 5),
  projJs: time(project("js"), 5),
  projNaive: time(naive, 5),
};
const ms = (x) => `${x.toFixed(1)} ms`;
console.log(`${N} pairs × ${D} dims × ${LAYERS} layers, ${K} vectors (best of runs; node ${process.version})`);
console.log(`PCA         wasm ${ms(r.pcaWasm)}   js ${ms(r.pcaJs)}   js/wasm ${(r.pcaJs / r.pcaWasm).toFixed(2)}×`);
console.log(`projection  wasm ${ms(r.projWasm)}   js ${ms(r.projJs)}   naive ${ms(r.projNaive)}   js/wasm ${(r.projJs / r.projWasm).toFixed(2)}×   naive/wasm ${(r.projNaive / r.projWasm).toFixed(2)}×`);
if (sink === 42.4242) console.log(""); // keeps the results alive
