// The second build path: native/ compiled by node-gyp (binding.gyp) against an installed llama.cpp.
// The vendored build is installed into a temporary prefix, the addon is rebuilt against it, and a
// capture through that addon must equal one through the cmake-js addon.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { loadModel } from "../src/index.js";
import { packageRoot } from "../src/engine/native.js";
import { tempDir, tinyModel } from "./helpers/fixtures.js";

const root = packageRoot();
const cmakeInstall = join(root, "build", "llama.cpp", "cmake_install.cmake");
const tmp = tempDir("valuelens-gyp-");
afterAll(() => tmp.cleanup());

// Node's own headers next to the running binary (e.g. /usr/include/node), so node-gyp needs no download.
function nodeDir(): string[] {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? [`--nodedir=${prefix}`] : [];
}

test.skipIf(!existsSync(cmakeInstall))("binding.gyp builds against an installed llama.cpp and captures the same activations", { timeout: 600_000 }, async () => {
  const prefix = join(tmp.dir, "prefix");
  execFileSync("cmake", ["--install", join(root, "build", "llama.cpp"), "--prefix", prefix], { stdio: "pipe" });
  expect(existsSync(join(prefix, "include", "llama.h"))).toBe(true);

  const proj = join(tmp.dir, "proj");
  mkdirSync(proj);
  for (const p of ["binding.gyp", "native", "scripts", "package.json"]) cpSync(join(root, p), join(proj, p), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(proj, "node_modules"));
  const gyp = spawnSync(process.execPath, [join(root, "node_modules", "node-gyp", "bin", "node-gyp.js"), "rebuild", "-j", "2", ...nodeDir()], {
    cwd: proj,
    env: { ...process.env, LLAMA_PREFIX: prefix },
    encoding: "utf8",
  });
  expect(gyp.status, gyp.stderr.slice(-3000)).toBe(0);
  const addon = join(proj, "build", "Release", "valuelens.node");
  expect(existsSync(addon)).toBe(true);

  const model = (await tinyModel(tmp.dir, { seed: 3 })).path;
  const script = `
    import { loadModel, nativeBinding } from ${JSON.stringify(join(root, "dist", "index.js"))};
    const m = await loadModel(${JSON.stringify(model)});
    const s = await m.createSession({ kvType: "f32", flashAttention: "off" });
    const a = await s.capture(["binding.gyp smoke test"], { layers: [1, ${4}] });
    console.log(JSON.stringify({ build: nativeBinding().backendInfo().build, l1: Array.from(a.layer(1)), top: Array.from(a.layer(4)) }));
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, VALUELENS_BINARY: addon }, encoding: "utf8" });
  expect(child.status, child.stderr).toBe(0);
  const viaGyp = JSON.parse(child.stdout) as { build: string; l1: number[]; top: number[] };
  expect(viaGyp.build).toBe("installed");

  const m = await loadModel(model);
  const s = await m.createSession({ kvType: "f32", flashAttention: "off" });
  const a = await s.capture(["binding.gyp smoke test"], { layers: [1, 4] });
  expect(viaGyp.l1).toEqual(Array.from(a.layer(1)));
  expect(viaGyp.top).toEqual(Array.from(a.layer(4)));
  s.dispose();
  m.dispose();
});
