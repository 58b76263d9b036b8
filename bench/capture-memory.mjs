#!/usr/bin/env node
// Peak memory of capture + Arrow store as the dataset grows: the same capture run for 1k and 20k texts,
// each in a fresh child process; prints both peaks and their ratio (flat streaming ⇒ ratio ≈ 1).
// Options: --sizes 1000,20000 --layers 4 --dim 512 --json
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === "--child") {
  const [, , , n, dir, dim, layers] = process.argv;
  const { loadModel, synthModel } = await import("../dist/index.js");
  const { captureToStore } = await import("../dist/pipeline/capture.js");
    // The built-in 512-token vocabulary keeps the lm head cheap, so the run measures capture and store.
  const { path } = await synthModel({ out: join(dir, "m.gguf"), nEmbd: +dim, nLayer: +layers, nHead: 4, nHeadKv: 2, nFf: 2 * +dim, seed: 1 });
  const model = await loadModel(path);
  const session = await model.createSession({ contextSize: 4096, batchSize: 2048, maxSequences: 64 });
  const words = ["value", "fair", "truth", "harm", "rule", "care", "duty", "good", "law", "kind"];
  const texts = Array.from({ length: +n }, (_, i) => ({
    itemId: `i${i >> 1}`, concept: "morality", lang: "en", side: i % 2 ? "neg" : "pos", split: "train", template: "raw",
    text: Array.from({ length: 4 + (i % 9) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(" "),
  }));
  const before = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  await captureToStore({ model, session, texts, templates: [{ id: "raw", text: "{input}" }], layers: Array.from({ length: +layers }, (_, i) => i + 1), out: join(dir, "acts.arrow") });
  console.log(JSON.stringify({ n: +n, peakRssMiB: process.resourceUsage().maxRSS / 1024, baselineRssMiB: before / 1024, seconds: (performance.now() - t0) / 1000 }));
  process.exit(0);
}

const { values: a } = parseArgs({ options: { sizes: { type: "string", default: "1000,20000" }, dim: { type: "string", default: "512" }, layers: { type: "string", default: "4" }, json: { type: "boolean", default: false } } });
const results = [];
for (const n of a.sizes.split(",").map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), "valuelens-mem-"));
  const r = spawnSync(process.execPath, [self, "--child", String(n), dir, a.dim, a.layers], { encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(r.stderr);
  results.push(JSON.parse(r.stdout.trim().split("\n").at(-1)));
}
const first = results[0];
const last = results.at(-1);
const out = { bench: "capture-memory", results, ratio: last.peakRssMiB / first.peakRssMiB, growthRatio: (last.peakRssMiB - last.baselineRssMiB) / Math.max(1, first.peakRssMiB - first.baselineRssMiB) };
if (a.json) console.log(JSON.stringify(out));
else {
  for (const r of results) console.log(`  ${String(r.n).padStart(6)} texts: peak RSS ${r.peakRssMiB.toFixed(0)} MiB (before capture ${r.baselineRssMiB.toFixed(0)} MiB), ${r.seconds.toFixed(1)} s`);
  const gib = (n) => ((n * +a.layers * +a.dim * 4) / 2 ** 20).toFixed(0);
  console.log(`  (the activations themselves: ${gib(first.n)} MiB and ${gib(last.n)} MiB)`);
  console.log(`  peak ratio ${last.n}/${first.n} texts = ${out.ratio.toFixed(3)}; growth during capture ratio = ${out.growthRatio.toFixed(2)}`);
}
