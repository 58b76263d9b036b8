#!/usr/bin/env node
// `npm install` hook. A prebuilt portable addon for this platform (prebuilds/, shipped in the package) is used
// when it loads here and nothing else was asked for; otherwise llama.cpp is materialised and the addon built
// from source (TypeScript is compiled by `prepare`).
//   VALUELENS_SKIP_NATIVE=1      skip the native part entirely (pure-TypeScript use)
//   VALUELENS_BUILD_FROM_SOURCE=1 ignore the prebuild; VALUELENS_GPU / VALUELENS_CPU=native also build from source
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const env = process.env;
const yes = (v) => ["1", "true", "on"].includes((v ?? "").toLowerCase());
if (yes(env.VALUELENS_SKIP_NATIVE)) {
  process.stderr.write("[valuelens] VALUELENS_SKIP_NATIVE set: not building the native addon\n");
  process.exit(0);
}
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

function prebuildUsable() {
  const gpu = (env.VALUELENS_GPU ?? env.npm_config_valuelens_gpu ?? "").toLowerCase();
  const cpu = (env.VALUELENS_CPU ?? env.npm_config_valuelens_cpu ?? "portable").toLowerCase();
  if (yes(env.VALUELENS_BUILD_FROM_SOURCE) || !["", "cpu"].includes(gpu) || cpu !== "portable") return false;
  const addon = join(root, "prebuilds", `${process.platform}-${process.arch}`, "valuelens.node");
  if (!existsSync(addon)) return false;
  // Load it in a child: a missing system library or an old glibc must fall back to a source build, not crash us.
  const probe = `const b = require(${JSON.stringify(addon)}); const i = b.backendInfo(); if (i.loadError) { console.error(i.loadError); process.exit(2); } console.log(i.cpuVariant);`;
  const r = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8" });
  if (r.status === 0) {
    process.stderr.write(`[valuelens] using the prebuilt addon (${process.platform}-${process.arch}, CPU variant ${r.stdout.trim()})\n`);
    return true;
  }
  process.stderr.write(`[valuelens] the prebuilt addon does not load here (${(r.stderr || "").trim().split("\n").pop()}); building from source\n`);
  return false;
}

if (prebuildUsable()) process.exit(0);
const r = spawnSync(process.execPath, [join(here, "build-native.mjs")], { stdio: "inherit" });
process.exit(r.status ?? 1);
