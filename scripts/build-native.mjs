#!/usr/bin/env node
// Builds the native addon with cmake-js. Backend switches come from the environment or npm config:
//   VALUELENS_GPU=cuda|metal|vulkan (or `npm install --valuelens-gpu=cuda`), VALUELENS_RPC=0 (the RPC backend
//   and build/bin/rpc-server are built by default: ~8 s of compiling, no extra runtime library),
//   VALUELENS_CPU=portable|native (portable, the default: every CPU variant as a runtime-loaded library, so the
//   build runs on any CPU of its architecture; native: one static build for this host's CPU only),
//   VALUELENS_BUILD_DIR (default build/), LLAMA_CPP_DIR=/path/to/llama.cpp to build against an existing checkout.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { materialize } from "../vendor/materialize.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const gpu = (env.VALUELENS_GPU ?? env.npm_config_valuelens_gpu ?? "").toLowerCase();
const rpc = !["0", "false", "off"].includes((env.VALUELENS_RPC ?? env.npm_config_valuelens_rpc ?? "").toLowerCase());
const debug = ["1", "true"].includes((env.VALUELENS_DEBUG ?? "").toLowerCase());
const cpu = (env.VALUELENS_CPU ?? env.npm_config_valuelens_cpu ?? "portable").toLowerCase();
if (!["portable", "native"].includes(cpu)) {
  process.stderr.write(`[valuelens] VALUELENS_CPU must be portable or native (got '${cpu}')\n`);
  process.exit(1);
}
const outDir = env.VALUELENS_BUILD_DIR ?? "build";

const llamaDir = await materialize();
// Through the module resolver: installed as a dependency, npm hoists cmake-js into the project's node_modules.
const cmakeJs = join(dirname(createRequire(import.meta.url).resolve("cmake-js/package.json")), "bin", "cmake-js");
const args = [cmakeJs, "compile", "--out", outDir, `--CDLLAMA_CPP_DIR=${llamaDir}`, `--CDVALUELENS_GPU=${gpu}`,
  `--CDVALUELENS_RPC=${rpc ? "ON" : "OFF"}`, `--CDVALUELENS_CPU=${cpu}`, "--parallel", String(availableParallelism())];
// VALUELENS_CUDA_ARCH=90 (etc.): compile CUDA kernels for that GPU only (minutes instead of an hour for all).
if (env.VALUELENS_CUDA_ARCH) args.push(`--CDCMAKE_CUDA_ARCHITECTURES=${env.VALUELENS_CUDA_ARCH}`);
if (debug) args.push("--debug");
process.stderr.write(`[valuelens] building the native addon (backend: ${gpu || "cpu"}${rpc ? " + rpc" : ""}, cpu: ${cpu})\n`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...env, CMAKE_BUILD_PARALLEL_LEVEL: String(availableParallelism()) } });
if (r.status !== 0) {
  process.stderr.write("[valuelens] native build failed; see the output above\n");
  process.exit(r.status ?? 1);
}
