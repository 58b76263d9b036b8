#!/usr/bin/env node
// valuelens capture vs a peer: node-llama-cpp's embedding API on the same GGUF and the same token sequences.
//   (a) node-llama-cpp 3.22.1 getEmbeddingFor, one text per call (its API): the final-layer embedding
//   (b) valuelens capture of EVERY layer at the last token, texts packed into shared decodes
//   (c) valuelens capture of every layer, one text per call (same granularity as (a))
// Prints texts/s and the ratios (b)/(a), (c)/(a). node-llama-cpp is installed into a temporary folder at bench
// time (registry only; its CPU binary ships in @node-llama-cpp/linux-x64 etc.); it is never a project dependency.
// Options: --texts N (64) --dim 896 --layers 24 --heads 14 --kv-heads 2 --ff 4864 --type q8_0 --vocab qwen2
//          --rounds R (2) --threads T (0 = all cores) --peer-dir DIR (reuse an install) --keep --json
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadModel } from "../dist/index.js";
import { Rng } from "../dist/gguf/index.js";
import { benchModel, modelFlags } from "./common.mjs";

const PEER = "node-llama-cpp";
const PEER_VERSION = "3.22.1";
const { values: a } = parseArgs({
  options: {
    ...modelFlags,
    texts: { type: "string", default: "64" },
    rounds: { type: "string", default: "2" },
    threads: { type: "string", default: "0" },
    "peer-dir": { type: "string" },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const log = (...m) => (a.json ? undefined : console.log(...m));
let cleanup = () => undefined;
const skip = (reason) => {
  cleanup();
  if (a.json) console.log(JSON.stringify({ bench: "peer", skipped: reason }));
  else console.log(`peer benchmark skipped: ${reason}`);
  process.exit(0);
};

// ---- the peer, installed at bench time ---------------------------------------------------------------------------
const platformPkg = `@node-llama-cpp/${process.platform}-${process.arch}`;
let peerDir = a["peer-dir"];
let ownDir = false;
if (!peerDir || !existsSync(join(peerDir, "node_modules", PEER, "package.json"))) {
  peerDir ??= mkdtempSync(join(tmpdir(), "valuelens-peer-"));
  ownDir = !a["peer-dir"];
  cleanup = () => {
    if (ownDir && !a.keep) rmSync(peerDir, { recursive: true, force: true });
  };
  log(`installing ${PEER}@${PEER_VERSION} (+ ${platformPkg}) into ${peerDir} ...`);
  // Only the CPU binary of this platform (the optional GPU builds are ~600 MB); no install scripts, so nothing is
  // downloaded or built beyond the registry tarballs.
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["install", "--prefix", peerDir, `${PEER}@${PEER_VERSION}`, `${platformPkg}@${PEER_VERSION}`, "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (r.status !== 0) skip(`npm install ${PEER}@${PEER_VERSION} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || "").trim().split("\n").slice(-3).join(" | ")}`);
}
let peer;
try {
  peer = await import(pathToFileURL(join(peerDir, "node_modules", PEER, "dist", "index.js")).href);
} catch (e) {
  skip(`cannot import ${PEER} from ${peerDir}: ${e.message}`);
}
let llama;
try {
  llama = await peer.getLlama({ gpu: false, build: "never", logLevel: peer.LlamaLogLevel.error, progressLogs: false });
} catch (e) {
  skip(`${PEER} has no usable prebuilt CPU binary for ${process.platform}-${process.arch} (it would build from source, which this benchmark does not do): ${e.message}`);
}

// ---- model and texts (the capture benchmark's synthetic model and text distribution) ------------------------------
const { path: modelPath, shape } = await benchModel(a, log);
const threads = +a.threads || availableParallelism();
const model = await loadModel(modelPath);
const rng = new Rng(7);
// 20–80 tokens each from the ordinary part of the vocabulary; both sides get exactly these ids (no BOS added).
const texts = Array.from({ length: +a.texts }, () => Int32Array.from({ length: 20 + Math.floor(rng.uniform() * 61) }, () => 1000 + Math.floor(rng.uniform() * (model.nVocab - 2000))));
const totalTokens = texts.reduce((s, t) => s + t.length, 0);
const session = await model.createSession({ contextSize: 4096, batchSize: 2048, maxSequences: 64, threads });
const layers = Array.from({ length: model.nLayer }, (_, i) => i + 1);

const peerModel = await llama.loadModel({ modelPath });
const peerCtx = await peerModel.createEmbeddingContext({ contextSize: 4096, batchSize: 2048, threads });

const modes = {
  peer: async () => {
    for (const t of texts) await peerCtx.getEmbeddingFor(Array.from(t));
  },
  batched: () => session.capture(texts, { layers, position: "last" }),
  single: async () => {
    for (const t of texts) await session.capture([t], { layers, position: "last" });
  },
};
// Same embedding check: node-llama-cpp's final-layer vector vs valuelens' top layer (post final norm).
const probe = texts[0];
const pv = (await peerCtx.getEmbeddingFor(Array.from(probe))).vector;
const vv = (await session.capture([probe], { layers: [model.nLayer] })).layer(model.nLayer);
let dot = 0;
let pp = 0;
let qq = 0;
for (let i = 0; i < vv.length; i++) {
  dot += pv[i] * vv[i];
  pp += pv[i] * pv[i];
  qq += vv[i] * vv[i];
}
const agreement = dot / Math.sqrt(pp * qq);

await modes.peer(); // warm-up
await modes.batched();
const best = { peer: Infinity, batched: Infinity, single: Infinity };
for (let r = 0; r < +a.rounds; r++) {
  for (const [name, fn] of Object.entries(modes)) {
    const t0 = performance.now();
    await fn();
    const dt = (performance.now() - t0) / 1000;
    best[name] = Math.min(best[name], dt);
    log(`  round ${r + 1} ${name.padEnd(8)} ${(texts.length / dt).toFixed(2)} texts/s`);
  }
}
const tps = Object.fromEntries(Object.entries(best).map(([k, v]) => [k, texts.length / v]));
const result = {
  bench: "peer",
  peer: `${PEER}@${PEER_VERSION} getEmbeddingFor (final layer), ${llama.buildType} build`,
  model: { ...shape, type: a.type, vocab: a.vocab },
  texts: texts.length,
  tokens: totalTokens,
  threads,
  layersCaptured: layers.length,
  textsPerSecond: tps,
  ratio: { batchedAllLayersOverPeer: tps.batched / tps.peer, singleAllLayersOverPeer: tps.single / tps.peer },
  finalLayerCosine: agreement,
  rounds: +a.rounds,
};
if (a.json) console.log(JSON.stringify(result));
else {
  console.log(`\npeer benchmark: ${texts.length} texts (${totalTokens} tokens), model ${shape.nEmbd}d x ${shape.nLayer}L ${a.type}, ${threads} threads, best of ${a.rounds}`);
  console.log(`  (a) ${PEER} embedding, final layer       ${tps.peer.toFixed(2)} texts/s`);
  console.log(`  (b) valuelens capture, all ${layers.length} layers     ${tps.batched.toFixed(2)} texts/s   ratio (b)/(a) = ${result.ratio.batchedAllLayersOverPeer.toFixed(2)}`);
  console.log(`  (c) same, one text per call          ${tps.single.toFixed(2)} texts/s   ratio (c)/(a) = ${result.ratio.singleAllLayersOverPeer.toFixed(2)}`);
  console.log(`  final-layer vectors agree: cosine ${agreement.toFixed(4)} (valuelens layer ${model.nLayer} vs ${PEER} embedding)`);
}
await peerCtx.dispose();
await peerModel.dispose();
await llama.dispose();
session.dispose();
model.dispose();
cleanup();
