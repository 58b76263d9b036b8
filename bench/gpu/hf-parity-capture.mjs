#!/usr/bin/env node
// First half of the transformers parity check (bench/gpu/cuda.sh): writes a synthetic llama GGUF (f32, llama's
// SentencePiece vocabulary) and captures HF-numbered layers 1..L at every token with the given addon (every layer
// offloaded), into OUT/hf-capture.json. bench/gpu/hf_parity.py loads the same weights into transformers'
// LlamaForCausalLM and compares with output_hidden_states.
//   node bench/gpu/hf-parity-capture.mjs OUT_DIR ADDON
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [outDir, addon] = process.argv.slice(2);
if (!outDir || !addon) throw new Error("usage: hf-parity-capture.mjs OUT_DIR ADDON");
if (!process.env.VALUELENS_BINARY) {
  // Re-run with the addon selected before valuelens loads it.
  const r = spawnSync(process.execPath, [process.argv[1], outDir, addon], { stdio: "inherit", env: { ...process.env, VALUELENS_BINARY: resolve(addon) } });
  process.exit(r.status ?? 1);
}
const { loadModel, synthModel, nativeBinding } = await import("../../dist/index.js");
const { packageRoot } = await import("../../dist/engine/native.js");
const model = resolve(outDir, "hf-parity.gguf");
await synthModel({
  out: model,
  vocabGguf: join(packageRoot(), "vendor", "llama.cpp", "models", "ggml-vocab-llama-spm.gguf"),
  nEmbd: 256, nLayer: 6, nHead: 8, nHeadKv: 2, nFf: 688, contextLength: 512, seed: 31, weightType: "f32",
});
const m = await loadModel(model, { gpuLayers: -1 });
const s = await m.createSession({ kvType: "f32", flashAttention: "off", contextSize: 512, batchSize: 128, maxSequences: 4 });
const texts = ["The quick brown fox jumps over the lazy dog.", "Is it fair to break a promise to save a life?", "Les valeurs humaines varient selon les langues."];
const layers = Array.from({ length: m.nLayer }, (_, i) => i + 1);
const acts = await s.capture(texts, { layers, position: "all" });
const out = {
  model,
  backends: nativeBinding().backendInfo().backends,
  nLayer: m.nLayer,
  texts: texts.map((t, i) => ({
    tokens: Array.from(m.tokenize(t)),
    layers: Object.fromEntries(layers.map((k) => [k, Array.from({ length: acts.tokenCounts[i] }, (_, p) => Array.from(acts.row(k, i, p)))])),
  })),
};
writeFileSync(join(outDir, "hf-capture.json"), JSON.stringify(out));
console.log(`captured ${texts.length} texts × ${m.nLayer} layers on ${out.backends.join("+")} → ${join(outDir, "hf-capture.json")}`);
s.dispose();
m.dispose();
