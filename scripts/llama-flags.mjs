#!/usr/bin/env node
// Compiler and linker flags for building native/ against an installed llama.cpp (binding.gyp path).
// LLAMA_PREFIX=/prefix (with include/llama.h and lib/libllama.{a,so}) wins; otherwise pkg-config `llama`.
// Usage: node scripts/llama-flags.mjs include|libs|defines
// "defines" names the folder of a portable (GGML_BACKEND_DL) install's backend libraries, so the addon finds
// them without VALUELENS_BACKEND_DIR.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const what = process.argv[2];
const prefix = process.env.LLAMA_PREFIX;

function fail(msg) {
  process.stderr.write(`[valuelens] ${msg}\n`);
  process.exit(1);
}

function fromPrefix(p) {
  if (!existsSync(join(p, "include", "llama.h"))) fail(`LLAMA_PREFIX=${p} has no include/llama.h`);
  const libdir = ["lib", "lib64"].map((d) => join(p, d)).find((d) => existsSync(join(d, "libllama.a")) || existsSync(join(d, "libllama.so")) || existsSync(join(d, "libllama.dylib")));
  if (!libdir) fail(`LLAMA_PREFIX=${p} has no lib/libllama.{a,so,dylib}`);
  if (what === "include") return [join(p, "include")];
  if (what === "defines") {
    const dir = [join(p, "bin"), libdir, join(p, "lib", "ggml")].find((d) => existsSync(d) && readdirSync(d).some((f) => /^(lib)?ggml-cpu.*\.(so|dylib|dll)$/.test(f)));
    // Single-quoted: gyp splits command output like a shell, which would eat bare double quotes.
    return dir ? [`'VALUELENS_BACKEND_DIR_DEFAULT="${dir}"'`] : [];
  }
  if (!existsSync(join(libdir, "libllama.a"))) return [`-L${libdir}`, "-lllama", "-lggml", "-lggml-base", `-Wl,-rpath,${libdir}`, "-ldl"];
  // Static archives must come in dependency order: llama, ggml, the backends, ggml-base.
  const backends = readdirSync(libdir)
    .filter((f) => /^libggml-.+\.a$/.test(f) && f !== "libggml-base.a")
    .map((f) => `-l${f.slice(3, -2)}`);
  return [`-L${libdir}`, "-lllama", "-lggml", ...backends, "-lggml-base", "-fopenmp", "-lpthread", "-ldl", "-lm"];
}

function fromPkgConfig() {
  if (what === "defines") return [];
  try {
    const flag = what === "include" ? "--cflags-only-I" : "--libs";
    const out = execFileSync("pkg-config", [flag, "llama"], { encoding: "utf8" }).trim();
    return what === "include" ? out.split(/\s+/).filter(Boolean).map((f) => f.replace(/^-I/, "")) : out.split(/\s+/).filter(Boolean);
  } catch {
    fail("llama.cpp not found: set LLAMA_PREFIX or make `pkg-config llama` work");
  }
}

if (!["include", "libs", "defines"].includes(what)) fail("usage: llama-flags.mjs include|libs|defines");
process.stdout.write((prefix ? fromPrefix(prefix) : fromPkgConfig()).join(" ") + "\n");
