// valuelens as a dependency: `npm pack` ships a prebuilt portable addon, and installing the tarball into an empty
// project with no C++ compiler (nor cmake) on PATH gives a package that captures the same activations.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { nativeBinding } from "../src/index.js";
import { packageRoot } from "../src/engine/native.js";
import { tempDir, tinyModel } from "./helpers/fixtures.js";
import { probeScript, runProbe } from "./helpers/probe.js";

const root = packageRoot();
const portable = nativeBinding().backendInfo().cpuBuild === "portable";
const npmCli = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");

describe.skipIf(!portable)("npm pack → install in a fresh project without a compiler", () => {
  const tmp = tempDir("valuelens-pack-");
  afterAll(() => tmp.cleanup());

  test("the tarball carries the prebuilt addon and installs and captures with only node on PATH", { timeout: 900_000 }, async () => {
    const packDir = join(tmp.dir, "pack");
    mkdirSync(packDir);
    const packed = spawnSync(process.execPath, [npmCli, "pack", "--pack-destination", packDir, "--json"], { cwd: root, encoding: "utf8", timeout: 600_000 });
    expect(packed.status, packed.stderr.slice(-3000)).toBe(0);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info.files.map((f) => f.path);
    const plat = `prebuilds/${process.platform}-${process.arch}`;
    expect(files).toContain(`${plat}/valuelens.node`);
    expect(files.filter((f) => f.startsWith(`${plat}/libggml-cpu-`)).length).toBeGreaterThanOrEqual(2);
    expect(files).toContain("dist/index.js");
    expect(files.filter((f) => f.startsWith("test/") || f.startsWith("src/") || f.startsWith("bench/out") || f.startsWith("node_modules/"))).toEqual([]);
    expect(readdirSync(root)).not.toContain("prebuilds"); // postpack removed it again

    // PATH holds node, npm and sh (npm runs install scripts through it) only: no cc, c++, make or cmake, so a
    // source build could not happen.
    const bin = join(tmp.dir, "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    symlinkSync("/bin/sh", join(bin, "sh"));
    symlinkSync(realpathSync(npmCli), join(bin, "npm"));
    const proj = join(tmp.dir, "proj");
    mkdirSync(proj);
    writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
    const env = { HOME: process.env.HOME ?? tmp.dir, PATH: bin, npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? tmp.dir, ".npm") };
    const inst = spawnSync(process.execPath, [npmCli, "install", join(packDir, info.filename), "--no-audit", "--no-fund", "--prefer-offline"], { cwd: proj, env, encoding: "utf8", timeout: 600_000 });
    expect(inst.status, `${inst.stdout}\n${inst.stderr}`.slice(-4000)).toBe(0);
    expect(`${inst.stdout}\n${inst.stderr}`).not.toMatch(/building the native addon/);
    for (const tool of ["cc", "c++", "g++", "make", "cmake"]) expect(spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { env }).status).not.toBe(0);

    const model = (await tinyModel(tmp.dir, { seed: 17 })).path;
    copyFileSync(probeScript, join(proj, "probe.mjs"));
    const viaPackage = spawnSync(process.execPath, [join(proj, "probe.mjs"), "valuelens", model], { cwd: proj, env: { ...env, PATH: bin }, encoding: "utf8", timeout: 300_000 });
    expect(viaPackage.status, viaPackage.stderr.slice(-3000)).toBe(0);
    const installed = JSON.parse(viaPackage.stdout.trim().split("\n").pop()!) as { cpuBuild: string; cpuVariant: string; models: Record<string, { rows: Record<string, number[][]> }> };
    expect(installed.cpuBuild).toBe("portable");
    const here = runProbe([model]).result!;
    expect(installed.cpuVariant).toBe(here.cpuVariant);
    expect(installed.models[model].rows).toEqual(here.models[model].rows); // the same binaries: bit for bit
  });
});
