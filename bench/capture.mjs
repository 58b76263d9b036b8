#!/usr/bin/env node
// Capture throughput vs plain batched llama.cpp decode, side by side in one process.
//   (a) plain decode, session without the eval callback (llama.cpp as is)
//   (b) capture of every layer at the last token
//   (c) capture of every layer at every token
//   (e) with --compare-methods: (b), (c) and the mean over tokens with each capture method, graph outputs and the
//       eval callback, each in its own session (the default session uses "auto": graph where layers are offloaded)
// Same texts, same batching; prints tokens/s, the ratios (b)/(a) and (c)/(a), and peak RSS.
// Options: --texts N (512) --dim 896 --layers 24 --heads 14 --kv-heads 2 --ff 4864 --type q8_0|f16
//          --vocab qwen2|llama-spm --rounds R (2) --threads T --compare-methods --json
import { parseArgs } from "node:util";
import { loadModel } from "../dist/index.js";
import { Rng } from "../dist/gguf/index.js";
import { benchModel, modelFlags } from "./common.mjs";

const { values: a } = parseArgs({
  options: {
    ...modelFlags,
    texts: { type: "string", default: "512" },
    rounds: { type: "string", default: "2" },
    threads: { type: "string", default: "0" },
    "compare-methods": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const log = (...m) => (a.json ? undefined : console.log(...m));
const { path: modelPath, shape } = await benchModel(a, log);
const model = await loadModel(modelPath, { gpuLayers: +a["gpu-layers"] });
const rng = new Rng(7);
// 20–80 tokens each, ids drawn from the ordinary (non-special) part of the vocabulary.
const texts = Array.from({ length: +a.texts }, () => Int32Array.from({ length: 20 + Math.floor(rng.uniform() * 61) }, () => 1000 + Math.floor(rng.uniform() * (model.nVocab - 2000))));
const totalTokens = texts.reduce((s, t) => s + t.length, 0);
const sessionOpts = { contextSize: 4096, batchSize: 2048, maxSequences: 64, threads: +a.threads || undefined };
const plain = await model.createSession({ ...sessionOpts, hooks: false });
const hooked = await model.createSession(sessionOpts);
const layers = Array.from({ length: model.nLayer }, (_, i) => i + 1);
const methods = a["compare-methods"] ? ["graph", "callback"] : [];
const methodPositions = ["last", "mean", "all"];
const bySession = Object.fromEntries(await Promise.all(methods.map(async (m) => [m, await model.createSession({ ...sessionOpts, captureMethod: m })])));

const modes = {
  plain: () => plain.decode(texts),
  last: () => hooked.capture(texts, { layers, position: "last" }),
  all: () => hooked.capture(texts, { layers, position: "all" }),
  // Every token but without the top two sites: llama.cpp then computes the last block, the final
  // norm and the lm head only for the last token of each text, as in (a). Isolates that cost.
  ...(layers.length > 2 ? { allBelowTop: () => hooked.capture(texts, { layers: layers.slice(0, -2), position: "all" }) } : {}),
  ...Object.fromEntries(
    methods.flatMap((m) => methodPositions.map((pos) => [`${pos}:${m}`, () => bySession[m].capture(texts, { layers, position: pos })])),
  ),
};
const rss = {};
const best = Object.fromEntries(Object.keys(modes).map((k) => [k, Infinity]));
await plain.decode(texts.slice(0, 64)); // warm-up (page in weights, allocate buffers)
await hooked.capture(texts.slice(0, 64), { layers });
for (const s of Object.values(bySession)) await s.capture(texts.slice(0, 64), { layers });
for (let r = 0; r < +a.rounds; r++) {
  for (const [name, fn] of Object.entries(modes)) {
    const t0 = performance.now();
    let res = await fn();
    const dt = (performance.now() - t0) / 1000;
    res = null;
    best[name] = Math.min(best[name], dt);
    rss[name] = Math.max(rss[name] ?? 0, process.resourceUsage().maxRSS / 1024);
    log(`  round ${r + 1} ${name.padEnd(11)} ${(totalTokens / dt).toFixed(1)} tok/s`);
  }
}
const tps = Object.fromEntries(Object.entries(best).map(([k, v]) => [k, totalTokens / v]));
const result = {
  bench: "capture",
  model: { ...shape, type: a.type, vocab: a.vocab, nVocab: model.nVocab },
  texts: texts.length,
  tokens: totalTokens,
  batching: sessionOpts,
  tokensPerSecond: tps,
  captureMethod: hooked.captureMethod,
  ratio: {
    lastOverPlain: tps.last / tps.plain,
    allOverPlain: tps.all / tps.plain,
    ...(tps.allBelowTop ? { allBelowTopOverPlain: tps.allBelowTop / tps.plain } : {}),
    ...Object.fromEntries(methods.flatMap((m) => methodPositions.map((pos) => [`${pos}:${m}OverPlain`, tps[`${pos}:${m}`] / tps.plain]))),
  },
  peakRssMiB: rss,
  rounds: +a.rounds,
};
if (a.json) console.log(JSON.stringify(result));
else {
  console.log(`\ncapture benchmark: ${texts.length} texts, ${totalTokens} tokens, model ${shape.nEmbd}d x ${shape.nLayer}L ${a.type} (${a.vocab} vocab), best of ${a.rounds}`);
  console.log(`  capture method of the default session: ${hooked.captureMethod}`);
  console.log(`  (a) plain decode        ${tps.plain.toFixed(1)} tok/s`);
  console.log(`  (b) capture all, last   ${tps.last.toFixed(1)} tok/s   ratio (b)/(a) = ${result.ratio.lastOverPlain.toFixed(3)}`);
  console.log(`  (c) capture all, every  ${tps.all.toFixed(1)} tok/s   ratio (c)/(a) = ${result.ratio.allOverPlain.toFixed(3)}`);
  if (tps.allBelowTop) console.log(`  (d) every token, layers 1..L-2 ${tps.allBelowTop.toFixed(1)} tok/s   ratio (d)/(a) = ${result.ratio.allBelowTopOverPlain.toFixed(3)}`);
  for (const m of methods) {
    for (const pos of methodPositions) console.log(`  (e) ${m.padEnd(8)} ${pos.padEnd(4)}  ${tps[`${pos}:${m}`].toFixed(1)} tok/s   ratio /(a) = ${result.ratio[`${pos}:${m}OverPlain`].toFixed(3)}`);
  }
  console.log(`  peak RSS (MiB, cumulative after each mode): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
}
plain.dispose();
hooked.dispose();
for (const s of Object.values(bySession)) s.dispose();
model.dispose();
