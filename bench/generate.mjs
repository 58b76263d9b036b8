#!/usr/bin/env node
// Steered vs unsteered batched generation, side by side in one process (same prompts, same batch).
//   (a) unsteered; (b) steered at layers 2..L through llama.cpp control vectors;
//   (c) steered at layer 1 too (a control vector with patch 21; the eval-callback fallback without it).
// Options: --prompts N (16) --tokens N (32) --dim 896 --layers 24 --heads 14 --kv-heads 2 --ff 4864
//          --type q8_0|f16 --vocab qwen2 --rounds R (2) --json
import { parseArgs } from "node:util";
import { loadModel } from "../dist/index.js";
import { Rng } from "../dist/gguf/index.js";
import { benchModel, modelFlags } from "./common.mjs";

const { values: a } = parseArgs({
  options: {
    ...modelFlags,
    prompts: { type: "string", default: "16" },
    tokens: { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const log = (...m) => (a.json ? undefined : console.log(...m));
const { path: modelPath, shape } = await benchModel(a, log);
const model = await loadModel(modelPath, { gpuLayers: +a["gpu-layers"] });
const rng = new Rng(11);
const prompts = Array.from({ length: +a.prompts }, () => Int32Array.from({ length: 16 + Math.floor(rng.uniform() * 16) }, () => 1000 + Math.floor(rng.uniform() * (model.nVocab - 2000))));
const session = await model.createSession({ contextSize: 4096, batchSize: 1024, maxSequences: Math.max(16, prompts.length) });
const v = Float32Array.from({ length: model.nEmbd }, () => rng.normal() * 0.05);
const maxTokens = +a.tokens;
// The top block is steered as resid_post:L (numeric layer L is read after the final norm and is rejected).
const site = (k) => (k === model.nLayer ? `resid_post:${k}` : k);
const conditions = {
  unsteered: [],
  cvec: Array.from({ length: model.nLayer - 1 }, (_, i) => ({ layer: site(i + 2), vector: v, coefficient: 1 })),
  withLayer1: Array.from({ length: model.nLayer }, (_, i) => ({ layer: site(i + 1), vector: v, coefficient: 1 })),
};
const best = {};
await session.generateBatch(prompts.slice(0, 2), { maxTokens: 4 }); // warm-up
for (let r = 0; r < +a.rounds; r++) {
  for (const [name, steering] of Object.entries(conditions)) {
    await session.setSteering(steering);
    const t0 = performance.now();
    const out = await session.generateBatch(prompts, { maxTokens, stop: [] });
    const dt = (performance.now() - t0) / 1000;
    const generated = out.reduce((s, o) => s + o.tokens.length, 0);
    best[name] = Math.max(best[name] ?? 0, generated / dt);
    log(`  round ${r + 1} ${name.padEnd(10)} ${(generated / dt).toFixed(1)} tok/s`);
  }
}
await session.clearSteering();
const result = {
  bench: "generate",
  model: { ...shape, type: a.type, vocab: a.vocab },
  prompts: prompts.length,
  maxTokens,
  tokensPerSecond: best,
  ratio: { cvecOverUnsteered: best.cvec / best.unsteered, withLayer1OverUnsteered: best.withLayer1 / best.unsteered },
};
if (a.json) console.log(JSON.stringify(result));
else {
  console.log(`\ngeneration benchmark: ${prompts.length} prompts in one batch, ${maxTokens} new tokens each, model ${shape.nEmbd}d x ${shape.nLayer}L ${a.type}, best of ${a.rounds}`);
  console.log(`  (a) unsteered                   ${best.unsteered.toFixed(1)} tok/s`);
  console.log(`  (b) steered, layers 2..L (cvec) ${best.cvec.toFixed(1)} tok/s   ratio (b)/(a) = ${result.ratio.cvecOverUnsteered.toFixed(3)}`);
  console.log(`  (c) steered, layers 1..L        ${best.withLayer1.toFixed(1)} tok/s   ratio (c)/(a) = ${result.ratio.withLayer1OverUnsteered.toFixed(3)}`);
}
session.dispose();
model.dispose();
