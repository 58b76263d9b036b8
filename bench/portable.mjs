#!/usr/bin/env node
// Portable build (runtime CPU dispatch) vs a native build (-march=native) of the same llama.cpp on this machine:
// the capture benchmark runs against each addon in alternating child processes, and the ratio of their
// throughputs is printed (target: ≥ 0.95). The native build goes to build-native-cpu/ (made on first use, a few
// minutes). Options: --rounds R (3), --texts N (256), plus the model flags of bench/capture.mjs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { modelFlags } from "./common.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const { values: a } = parseArgs({ options: { ...modelFlags, rounds: { type: "string", default: "3" }, texts: { type: "string", default: "256" }, json: { type: "boolean", default: false } } });
const log = (...m) => (a.json ? undefined : console.log(...m));

const portable = join(root, "build", "Release", "valuelens.node");
const native = join(root, "build-native-cpu", "Release", "valuelens.node");
if (!existsSync(portable)) throw new Error(`no portable build at ${portable}: run npm run build:native`);
if (!existsSync(native)) {
  log("building the native comparison addon into build-native-cpu/ (VALUELENS_CPU=native) ...");
  const b = spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs")], {
    stdio: a.json ? "ignore" : "inherit",
    env: { ...process.env, VALUELENS_CPU: "native", VALUELENS_BUILD_DIR: "build-native-cpu", VALUELENS_RPC: "0" },
    cwd: root,
  });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const passThrough = Object.keys(modelFlags).flatMap((k) => [`--${k}`, String(a[k])]);
function run(addon) {
  const r = spawnSync(process.execPath, [join(here, "capture.mjs"), "--json", "--rounds", "1", "--texts", a.texts, ...passThrough], { env: { ...process.env, VALUELENS_BINARY: addon }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`capture bench failed for ${addon}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}
const variant = (addon) => JSON.parse(spawnSync(process.execPath, ["-e", `console.log(JSON.stringify(require(${JSON.stringify(addon)}).backendInfo().cpuVariant))`], { encoding: "utf8" }).stdout);
const best = { portable: { plain: 0, last: 0 }, native: { plain: 0, last: 0 } };
for (let r = 0; r < +a.rounds; r++) {
  // Alternate the order each round so drift on a shared machine does not favour one build.
  const order = r % 2 === 0 ? ["portable", "native"] : ["native", "portable"];
  for (const which of order) {
    const res = run(which === "portable" ? portable : native);
    best[which].plain = Math.max(best[which].plain, res.tokensPerSecond.plain);
    best[which].last = Math.max(best[which].last, res.tokensPerSecond.last);
    log(`  round ${r + 1} ${which.padEnd(8)} plain ${res.tokensPerSecond.plain.toFixed(1)} tok/s, capture (all layers, last) ${res.tokensPerSecond.last.toFixed(1)} tok/s`);
  }
}
const result = {
  bench: "portable",
  cpuVariant: variant(portable),
  model: { dim: +a.dim, layers: +a.layers, type: a.type },
  texts: +a.texts,
  rounds: +a.rounds,
  tokensPerSecond: best,
  ratio: { capture: best.portable.last / best.native.last, plainDecode: best.portable.plain / best.native.plain },
};
if (a.json) console.log(JSON.stringify(result));
else {
  console.log(`\nportable vs native build (${result.cpuVariant} variant), best of ${a.rounds}:`);
  console.log(`  capture, all layers at the last token: ${best.portable.last.toFixed(1)} vs ${best.native.last.toFixed(1)} tok/s   ratio = ${result.ratio.capture.toFixed(3)}`);
  console.log(`  plain decode:                          ${best.portable.plain.toFixed(1)} vs ${best.native.plain.toFixed(1)} tok/s   ratio = ${result.ratio.plainDecode.toFixed(3)}`);
}
