#!/usr/bin/env node
// `npm run bench [-- name [options]]`: runs one benchmark (default: all). Each prints ratios
// against a baseline measured in the same process.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const benches = ["capture", "capture-matrix", "generate", "capture-memory", "pca", "peer", "analysis-cost", "portable"];
const [name, ...rest] = process.argv.slice(2);
const chosen = name && !name.startsWith("-") ? [name] : benches;
const args = name && !name.startsWith("-") ? rest : process.argv.slice(2);
for (const b of chosen) {
  if (!benches.includes(b)) {
    console.error(`unknown benchmark '${b}' (have: ${benches.join(", ")})`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [join(here, `${b}.mjs`), ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
