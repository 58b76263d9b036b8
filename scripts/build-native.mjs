#!/usr/bin/env node
// Builds the native addon with cmake-js. Backend switches come from the environment or npm config:
//   VALUELENS_GPU=cuda|metal|vulkan (or `npm install --valuelens-gpu=cuda`), VALUELENS_RPC=0 (the RPC backend
//   and build/bin/rpc-server are built by default: ~8 s of compiling, no extra runtime library),
//   LLAMA_CPP_DIR=/path/to/llama.cpp to build against an existing checkout.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { materialize } from "../vendor/materialize.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const gpu = (env.VALUELENS_GPU ?? env.npm_config_valuelens_gpu ?? "").toLowerCase();
const rpc = !["0", "false", "off"].includes((env.VALUELENS_RPC ?? env.npm_config_valuelens_rpc ?? "").toLowerCase());
const debug = ["1", "true"].includes((env.VALUELENS_DEBUG ?? "").toLowerCase());

const llamaDir = await materialize();
const cmakeJs = join(root, "node_modules", "cmake-js", "bin", "cmake-js");
const args = [cmakeJs, "compile", "--out", "build", `--CDLLAMA_CPP_DIR=${llamaDir}`, `--CDVALUELENS_GPU=${gpu}`,
  `--CDVALUELENS_RPC=${rpc ? "ON" : "OFF"}`, "--parallel", String(availableParallelism())];
if (debug) args.push("--debug");
process.stderr.write(`[valuelens] building the native addon (backend: ${gpu || "cpu"}${rpc ? " + rpc" : ""})\n`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...env, CMAKE_BUILD_PARALLEL_LEVEL: String(availableParallelism()) } });
if (r.status !== 0) {
  process.stderr.write("[valuelens] native build failed; see the output above\n");
  process.exit(r.status ?? 1);
}
