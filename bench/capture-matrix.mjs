#!/usr/bin/env node
// The capture benchmark over model shapes × weight types (issue figures): tiny, ~0.5B-like and ~1.5B-like
// synthetic models, F16 and Q8_0, each run by bench/capture.mjs in its own process (ratios inside each run are
// against plain decode in that same process). Options: --texts N (64) --rounds R (1) --shapes tiny,0.5b,1.5b
//   --types f16,q8_0 --json
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SHAPES = {
  tiny: ["--dim", "256", "--layers", "8", "--heads", "4", "--kv-heads", "2", "--ff", "1024"],
  "0.5b": ["--dim", "896", "--layers", "24", "--heads", "14", "--kv-heads", "2", "--ff", "4864"],
  "1.5b": ["--dim", "1536", "--layers", "28", "--heads", "12", "--kv-heads", "2", "--ff", "8960"],
};
const { values: a } = parseArgs({ options: { texts: { type: "string", default: "64" }, rounds: { type: "string", default: "1" }, shapes: { type: "string", default: "tiny,0.5b,1.5b" }, types: { type: "string", default: "f16,q8_0" }, json: { type: "boolean", default: false } } });
const here = dirname(fileURLToPath(import.meta.url));
const rows = [];
const line = (r) => `${r.shape.padEnd(6)} ${r.type.padEnd(5)} ${String(r.tokens).padStart(6)}  ${r.tokensPerSecond.plain.toFixed(1).padStart(11)}  ${r.ratio.lastOverPlain.toFixed(3).padStart(10)}  ${r.ratio.allOverPlain.toFixed(3).padStart(9)}  ${r.peakRssMiB.all.toFixed(0).padStart(8)}`;
if (!a.json) console.log(`shape  type  tokens  plain tok/s  last/plain  all/plain  peak RSS MiB (all)`);
for (const shape of a.shapes.split(",")) {
  if (!SHAPES[shape]) throw new Error(`unknown shape '${shape}' (have: ${Object.keys(SHAPES).join(", ")})`);
  for (const type of a.types.split(",")) {
    const r = spawnSync(process.execPath, [join(here, "capture.mjs"), ...SHAPES[shape], "--type", type, "--texts", a.texts, "--rounds", a.rounds, "--json"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`capture bench ${shape} ${type} failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split("\n").at(-1));
    rows.push({ shape, type, ...res });
    if (!a.json) console.log(line(rows.at(-1)));
  }
}
if (a.json) console.log(JSON.stringify(rows));

