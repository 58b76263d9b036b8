#!/usr/bin/env node
// `npm install` hook: materialise llama.cpp and build the addon (TypeScript is compiled by `prepare`).
// VALUELENS_SKIP_NATIVE=1 skips the native build (e.g. to install only the pure-TypeScript parts).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

if (["1", "true"].includes((process.env.VALUELENS_SKIP_NATIVE ?? "").toLowerCase())) {
  process.stderr.write("[valuelens] VALUELENS_SKIP_NATIVE set: not building the native addon\n");
  process.exit(0);
}
const here = dirname(fileURLToPath(import.meta.url));
const r = spawnSync(process.execPath, [join(here, "build-native.mjs")], { stdio: "inherit" });
process.exit(r.status ?? 1);
