#!/usr/bin/env node
// Analysis cost vs capture cost. The paper's grid (16 languages × 7 concepts) at n_embd 4096: synthetic activations
// (a planted direction per concept/language + Gaussian noise) are written with the store API, then extraction
// (mean_diff) and the full analysis (recognition with bootstrap CIs, cross-lingual recognition, similarity,
// transfer, correlation) run through src/pipeline. Capture is measured on a sample of texts with a ~1.5B-like
// synthetic model (n_embd 1536, 28 layers, 12 heads, 2 KV heads, FFN 8960, Q8_0, qwen2 vocabulary) and
// extrapolated to the grid's tokens; a 4096-wide model captures far slower, so the ratio is an upper bound.
// Prints analysis / capture (target ≤ 5%).
// Options: --langs 16 --concepts 7 --dim 4096 --layers 28 --pairs 32 (per concept and language)
//          --tokens-per-text 50 --bootstrap 1000 --f16 (store float16)
//          --capture-tps X (tokens/s measured elsewhere: skips writing and running the capture model)
//          --capture-texts 48 --capture-dim 1536 --capture-layers 28 --capture-heads 12 --capture-kv-heads 2
//          --capture-ff 8960 --threads T --keep --json
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadModel } from "../dist/index.js";
import { synthModel, Rng, plantedDirections } from "../dist/gguf/index.js";
import { packageRoot } from "../dist/engine/native.js";
import { openActivationWriter } from "../dist/store/index.js";
import { extractToStore } from "../dist/pipeline/extract.js";
import { analyze } from "../dist/pipeline/analyze.js";
import { LANG2VEC_LANGS } from "../dist/analysis/index.js";
import { CONCEPTS } from "../dist/data/types.js";

const { values: a } = parseArgs({
  options: {
    langs: { type: "string", default: "16" },
    concepts: { type: "string", default: "7" },
    dim: { type: "string", default: "4096" },
    layers: { type: "string", default: "28" },
    pairs: { type: "string", default: "32" },
    "tokens-per-text": { type: "string", default: "50" },
    bootstrap: { type: "string", default: "1000" },
    f16: { type: "boolean", default: false },
    "capture-tps": { type: "string" },
    "capture-texts": { type: "string", default: "48" },
    "capture-dim": { type: "string", default: "1536" },
    "capture-layers": { type: "string", default: "28" },
    "capture-heads": { type: "string", default: "12" },
    "capture-kv-heads": { type: "string", default: "2" },
    "capture-ff": { type: "string", default: "8960" },
    threads: { type: "string", default: "0" },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const log = (...m) => (a.json ? undefined : console.log(...m));
const langs = LANG2VEC_LANGS.slice(0, +a.langs);
const concepts = CONCEPTS.slice(0, +a.concepts);
if (langs.length < +a.langs || concepts.length < +a.concepts) throw new Error(`at most ${LANG2VEC_LANGS.length} languages and ${CONCEPTS.length} concepts`);
const dim = +a.dim;
const nLayer = +a.layers;
const pairs = +a.pairs;
const texts = concepts.length * langs.length * pairs * 2;
const root = packageRoot();

// ---- capture cost: tokens/s of a ~1.5B-like model on a sample, or given -----------------------------------------
let captureTps;
let captureInfo;
if (a["capture-tps"]) {
  captureTps = +a["capture-tps"];
  captureInfo = { source: "--capture-tps" };
} else {
  const shape = { nEmbd: +a["capture-dim"], nLayer: +a["capture-layers"], nHead: +a["capture-heads"], nHeadKv: +a["capture-kv-heads"], nFf: +a["capture-ff"] };
  const outDir = join(root, "bench", "out");
  mkdirSync(outDir, { recursive: true });
  const modelPath = join(outDir, `synth-qwen2-${shape.nEmbd}x${shape.nLayer}-ff${shape.nFf}-q8_0.gguf`);
  if (!existsSync(modelPath)) {
    log(`writing synthetic capture model ${modelPath} (once; takes a while) ...`);
    await synthModel({ out: modelPath, vocabGguf: join(root, "vendor", "llama.cpp", "models", "ggml-vocab-qwen2.gguf"), ...shape, seed: 1, weightType: "q8_0", contextLength: 4096 });
  }
  const model = await loadModel(modelPath);
  const session = await model.createSession({ contextSize: 4096, batchSize: 2048, maxSequences: 64, ...(+a.threads ? { threads: +a.threads } : {}) });
  const rng = new Rng(7);
  const tpt = +a["tokens-per-text"];
  // Lengths uniform in [tpt/2, 3tpt/2]: mean tpt, as the extrapolation assumes.
  const sample = Array.from({ length: +a["capture-texts"] }, () => Int32Array.from({ length: Math.round(tpt / 2 + rng.uniform() * tpt) }, () => 1000 + Math.floor(rng.uniform() * (model.nVocab - 2000))));
  const tokens = sample.reduce((s, t) => s + t.length, 0);
  const layers = Array.from({ length: model.nLayer }, (_, i) => i + 1);
  await session.capture(sample.slice(0, 8), { layers }); // warm-up
  let best = Infinity;
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    await session.capture(sample, { layers, position: "last" });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  captureTps = tokens / best;
  captureInfo = { source: "measured", model: { ...shape, type: "q8_0", vocab: "qwen2" }, sampleTexts: sample.length, sampleTokens: tokens };
  session.dispose();
  model.dispose();
  log(`capture: ${captureTps.toFixed(1)} tokens/s (all ${shape.nLayer} layers, last token) on the ${shape.nEmbd}d x ${shape.nLayer}L model`);
}
const captureSeconds = (texts * +a["tokens-per-text"]) / captureTps;

// ---- synthetic activations for the grid ------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), "valuelens-analysis-cost-"));
const acts = join(dir, "acts.arrow");
const vecs = join(dir, "vectors.arrow");
try {
  log(`writing ${texts} texts × ${nLayer} layers × ${dim} dims of synthetic activations ...`);
  const t0 = performance.now();
  const layerNames = Array.from({ length: nLayer }, (_, i) => String(i + 1));
  const provenance = {
    kind: "activations",
    valuelensVersion: "bench",
    createdAt: new Date().toISOString(),
    model: { file: "synthetic", sha256: "0".repeat(64), arch: "llama", name: "synthetic-4096", nLayer, nEmbd: dim },
    layerConvention: "hf-hidden-states",
    position: "last",
    templates: { raw: "{input}" },
    split: { seed: 1, train: 0, val: 0, test: 0, by: "item" },
    extra: { layers: layerNames },
  };
  const w = await openActivationWriter(acts, { provenance, nEmbd: dim, vectorType: a.f16 ? "float16" : "float32", sync: false });
  const rng = new Rng(3, "analysis-cost");
  // Split by item as the paper's 80/20, with a validation tenth.
  const splitOf = (i) => (i % 5 === 4 ? "test" : i % 10 === 3 ? "val" : "train");
  const rows = langs.length * pairs * 2;
  for (const [ci, concept] of concepts.entries()) {
    const dirs = plantedDirections(dim, 100 + ci, { angles: langs.map((_, k) => (k * Math.PI) / (3 * langs.length)) }).directions;
    for (const layer of layerNames) {
      const vectors = new Float32Array(rows * dim);
      rng.fillNormal(vectors);
      const meta = { itemId: [], concept, lang: [], side: [], split: [], template: "raw", layer, tokenCount: 0 };
      let r = 0;
      for (const [li, lang] of langs.entries()) {
        for (let i = 0; i < pairs; i++) {
          for (const side of ["pos", "neg"]) {
            const s = side === "pos" ? 1 : -1;
            const d = dirs[li];
            for (let j = 0; j < dim; j++) vectors[r * dim + j] += 1.5 * s * d[j];
            meta.itemId.push(`i${i}`);
            meta.lang.push(lang);
            meta.side.push(side);
            meta.split.push(splitOf(i));
            r++;
          }
        }
      }
      await w.append({ ...meta, vectors });
    }
  }
  await w.close();
  const setup = (performance.now() - t0) / 1000;
  const bytes = statSync(acts).size;
  log(`  ${(bytes / 2 ** 30).toFixed(2)} GiB in ${setup.toFixed(1)} s`);

  const t1 = performance.now();
  await extractToStore({ activations: acts, out: vecs, methods: ["mean_diff"] });
  const extractSeconds = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const res = await analyze({ activations: acts, vectors: vecs, bootstrap: { samples: +a.bootstrap }, highResource: langs.slice(0, 4) });
  const analyzeSeconds = (performance.now() - t2) / 1000;
  const analysisSeconds = extractSeconds + analyzeSeconds;
  const result = {
    bench: "analysis-cost",
    grid: { concepts: concepts.length, langs: langs.length, pairsPerCell: pairs, texts, layers: nLayer, nEmbd: dim, vectorType: a.f16 ? "float16" : "float32", activationBytes: bytes },
    bootstrap: +a.bootstrap,
    capture: { tokensPerSecond: captureTps, tokensPerText: +a["tokens-per-text"], extrapolatedSeconds: captureSeconds, ...captureInfo },
    seconds: { extract: extractSeconds, analyze: analyzeSeconds },
    ratio: { analysisOverCapture: analysisSeconds / captureSeconds, extractOverCapture: extractSeconds / captureSeconds, analyzeOverCapture: analyzeSeconds / captureSeconds },
    checks: { transfer: !!res.transfer, correlation: !!res.correlation },
  };
  if (a.json) console.log(JSON.stringify(result));
  else {
    console.log(`\nanalysis cost: ${concepts.length} concepts × ${langs.length} languages × ${pairs} pairs (${texts} texts), ${nLayer} layers × ${dim} dims, bootstrap ${a.bootstrap}`);
    console.log(`  capture of the grid (extrapolated: ${texts} texts × ${a["tokens-per-text"]} tokens at ${captureTps.toFixed(1)} tok/s): 1`);
    console.log(`  extract (mean_diff)  / capture = ${(100 * result.ratio.extractOverCapture).toFixed(2)}%`);
    console.log(`  analyze (all tables) / capture = ${(100 * result.ratio.analyzeOverCapture).toFixed(2)}%`);
    console.log(`  analysis total       / capture = ${(100 * result.ratio.analysisOverCapture).toFixed(2)}%   (target ≤ 5%)`);
  }
} finally {
  if (!a.keep) rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}
