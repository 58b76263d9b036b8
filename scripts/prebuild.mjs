#!/usr/bin/env node
// `npm pack` hook (prepack): copies the portable CPU build (the addon, llama.cpp's shared libraries and every CPU
// variant) into prebuilds/<platform>-<arch>/, so that installing the tarball needs no compiler. Only a portable
// CPU-only build qualifies: a native build would die on older CPUs, a GPU build needs that GPU's runtime.
// `--clean` (postpack) removes the folder again; it is never committed.
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prebuilds = join(root, "prebuilds");
const target = join(prebuilds, `${process.platform}-${process.arch}`);

function fail(msg) {
  process.stderr.write(`[valuelens prebuild] error: ${msg}\n`);
  process.exit(1);
}

if (process.argv.includes("--clean")) {
  rmSync(prebuilds, { recursive: true, force: true });
  process.exit(0);
}
if (["1", "true"].includes((process.env.VALUELENS_SKIP_PREBUILD ?? "").toLowerCase())) {
  process.stderr.write("[valuelens prebuild] VALUELENS_SKIP_PREBUILD set: packing without a prebuilt addon\n");
  process.exit(0);
}

const build = process.env.VALUELENS_BUILD_DIR ?? join(root, "build");
const cache = join(build, "CMakeCache.txt");
if (!existsSync(cache)) fail(`no native build in ${build}: run \`npm run build:native\` first (or set VALUELENS_SKIP_PREBUILD=1)`);
const cacheText = readFileSync(cache, "utf8");
const setting = (name) => (cacheText.match(new RegExp(`^${name}:[A-Z]+=(.*)$`, "m"))?.[1] ?? "").trim().toLowerCase();
if (setting("VALUELENS_CPU") !== "portable") fail(`the build in ${build} is VALUELENS_CPU=${setting("VALUELENS_CPU") || "?"}; only a portable build can be shipped`);
if (!["", "cpu"].includes(setting("VALUELENS_GPU"))) fail(`the build in ${build} has the ${setting("VALUELENS_GPU")} backend; ship CPU-only prebuilds`);

const addon = join(build, "Release", "valuelens.node");
const libDir = join(build, "bin");
if (!existsSync(addon)) fail(`${addon} is missing`);

// The shared libraries under the names the loader asks for (their sonames, libfoo.so.N, dereferenced) and the
// backend modules (libggml-cpu-haswell.so, libggml-rpc.so, …), which ggml finds by scanning the folder.
const wanted = readdirSync(libDir).filter((f) => {
  if (/\.so\.\d+$/.test(f) || /\.\d+\.dylib$/.test(f)) return true;
  return /^(lib)?ggml-.+\.(so|dylib|dll)$/.test(f) && !lstatSync(join(libDir, f)).isSymbolicLink();
});
if (!wanted.some((f) => /ggml-cpu/.test(f))) fail(`no CPU backend libraries in ${libDir}`);

const tmp = `${target}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
copyFileSync(addon, join(tmp, "valuelens.node"));
for (const f of wanted) copyFileSync(join(libDir, f), join(tmp, f));
const lock = JSON.parse(readFileSync(join(root, "vendor", "llama.cpp.lock.json"), "utf8"));
writeFileSync(join(tmp, "prebuild.json"), JSON.stringify({ platform: process.platform, arch: process.arch, napi: 8, cpu: "portable", llamaCpp: lock.commit, files: ["valuelens.node", ...wanted] }, null, 2) + "\n");
rmSync(target, { recursive: true, force: true });
renameSync(tmp, target);
process.stderr.write(`[valuelens prebuild] ${target}: valuelens.node + ${wanted.length} libraries\n`);
