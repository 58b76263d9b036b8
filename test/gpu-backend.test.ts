// A GPU build against the CPU build, every layer offloaded: capture must equal the CPU build's at every site,
// steering must move exactly the steered site by c·v, and generation, logprobs and abort must behave the same.
// Without a GPU (CI): the addon built with VALUELENS_GPU=vulkan (build-vulkan/, made by .ci/run or
// `VALUELENS_GPU=vulkan VALUELENS_BUILD_DIR=build-vulkan npm run build:native`) on Mesa's lavapipe, a Vulkan device
// on the CPU. On an NVIDIA machine bench/gpu/cuda.sh runs this file with VALUELENS_GPU_ADDON=build-cuda/…
// and VALUELENS_GPU_BACKEND=CUDA.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { packageRoot } from "../src/engine/native.js";
import { maxRelErr, tempDir, tinyModel } from "./helpers/fixtures.js";
import { distIndex } from "./helpers/probe.js";

// Measured on lavapipe against the CPU backend: ~2e-6 relative (f32 weights, f32 KV cache). Vulkan shaders
// accumulate in another order and use their own exp/rsqrt, so the bound is looser than CPU-vs-reference.
const TOL = 1e-3;
const STEER_TOL = 1e-3; // |Δ − c·v| absolute, per element
// Log-probs relative to their size: this random-weight model's log-probs are −30…−60 nats (logits in the hundreds),
// and a float32 log-softmax over 32k logits summed in another order differs by ~1e-4 of that (measured on
// lavapipe: at most 4.6e-3 nats on −39.8, 1.2e-4 relative).
const LP_TOL_REL = 5e-4;

const vkAddon = process.env.VALUELENS_GPU_ADDON ?? join(packageRoot(), "build-vulkan", "Release", "valuelens.node");
const backend = process.env.VALUELENS_GPU_BACKEND ?? "Vulkan";
const enabled = existsSync(vkAddon);

interface GpuProbe {
  backends: string[];
  captureMethod: "graph" | "callback";
  mean: Record<string, number[][]>;
  callback: { last: Record<string, number[][]>; mean: Record<string, number[][]> };
  devices: Array<{ name: string; type: string }>;
  last: Record<string, number[][]>;
  all: Record<string, number[][]>;
  steered: Record<string, Record<string, number[][]>>;
  afterSteering: Record<string, number[][]>;
  steerVector: number[];
  generated: number[];
  logprobs: number[];
  aborted: string;
  afterAbort: number[];
}

function probe(model: string, env: NodeJS.ProcessEnv, gpuLayers: number): GpuProbe {
  const script = join(packageRoot(), "test", "fixtures", "gpu-probe.mjs");
  const r = spawnSync(process.execPath, [script, distIndex, model, String(gpuLayers), "3"], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 600_000, maxBuffer: 64 << 20 });
  expect(r.signal, r.stderr.slice(-3000)).toBeNull();
  expect(r.status, r.stderr.slice(-3000)).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as GpuProbe;
}

describe.skipIf(!enabled)(`${backend} build, every layer offloaded`, () => {
  const tmp = tempDir("valuelens-vulkan-");
  let cpu: GpuProbe;
  let vk: GpuProbe;
  beforeAll(async () => {
    const model = (await tinyModel(tmp.dir, { seed: 21 })).path;
    cpu = probe(model, {}, 0);
    // ggml lists CPU-type Vulkan devices (lavapipe) only when asked for by index.
    vk = probe(model, { VALUELENS_BINARY: vkAddon, ...(backend === "Vulkan" ? { GGML_VK_VISIBLE_DEVICES: process.env.GGML_VK_VISIBLE_DEVICES ?? "0" } : {}) }, -1);
  }, 900_000);
  afterAll(() => tmp.cleanup());

  test("the GPU backend and a device are there, and the work ran on it", () => {
    expect(vk.backends).toContain(backend);
    expect(vk.devices.some((d) => d.name.toUpperCase().startsWith(backend.toUpperCase()))).toBe(true);
    // Not bit-identical anywhere would be odd for a CPU rerun: it proves another backend computed it.
    const identical = Object.keys(cpu.last).every((k) => JSON.stringify(cpu.last[k]) === JSON.stringify(vk.last[k]));
    expect(identical).toBe(false);
  });

  test("capture equals the CPU build at every site, last token and every token", () => {
    for (const pos of ["last", "all"] as const) {
      for (const [site, perText] of Object.entries(cpu[pos])) {
        perText.forEach((row, i) => expect(maxRelErr(vk[pos][site][i], row), `${pos} ${site} text ${i}`).toBeLessThanOrEqual(TOL));
      }
    }
  });

  test("capture on the device runs as graph outputs; the eval-callback method gives the same rows there", () => {
    expect(vk.captureMethod).toBe("graph");
    expect(cpu.captureMethod).toBe("callback");
    for (const [site, perText] of Object.entries(vk.last)) {
      // the same shaders compute the same rows; only where they are read differs
      perText.forEach((row, i) => expect(maxRelErr(vk.callback.last[site][i], row), `last ${site} text ${i}`).toBeLessThanOrEqual(1e-6));
    }
    for (const [site, perText] of Object.entries(cpu.mean)) {
      // the graph's mean is a matrix product on the device, the callback's a double-precision sum on the host
      perText.forEach((row, i) => {
        expect(maxRelErr(vk.mean[site][i], row), `mean ${site} text ${i} vs CPU`).toBeLessThanOrEqual(TOL);
        expect(maxRelErr(vk.callback.mean[site][i], row), `callback mean ${site} text ${i} vs CPU`).toBeLessThanOrEqual(TOL);
      });
    }
  });

  test("steering at layer 1 and layer 3 adds c·v at that site only", () => {
    for (const k of ["1", "3"]) {
      const s = vk.steered[k];
      s[`resid_post:${k}`].forEach((row, i) => {
        const base = vk.last[`resid_post:${k}`][i];
        let worst = 0;
        row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - base[j] - 2 * vk.steerVector[j]))));
        expect(worst, `layer ${k} text ${i}`).toBeLessThanOrEqual(STEER_TOL);
      });
      for (let below = 1; below < Number(k); below++) expect(s[`resid_post:${below}`]).toEqual(vk.last[`resid_post:${below}`]);
      // and the CPU build agrees on the steered result downstream
      for (const [site, perText] of Object.entries(cpu.steered[k])) {
        perText.forEach((row, i) => expect(maxRelErr(s[site][i], row), `steered ${k} ${site} text ${i}`).toBeLessThanOrEqual(TOL));
      }
    }
  });

  test("after steering was set, cleared and replaced between decodes, unsteered capture is what it was", () => {
    // One context throughout (patch 23: no scheduler re-reserve, which corrupted the heap on Vulkan after a
    // decode; the process dies if it comes back): nothing of the steering may survive the clear.
    for (const [site, perText] of Object.entries(vk.last)) {
      perText.forEach((row, i) => expect(maxRelErr(vk.afterSteering[site][i], row), `${site} text ${i}`).toBeLessThanOrEqual(1e-6));
    }
  });

  test("greedy generation, logprobs and abort behave as on the CPU", () => {
    expect(vk.generated).toEqual(cpu.generated);
    expect(vk.logprobs.length).toBe(cpu.logprobs.length);
    vk.logprobs.forEach((x, i) => expect(Math.abs(x - cpu.logprobs[i])).toBeLessThanOrEqual(LP_TOL_REL * Math.max(1, Math.abs(cpu.logprobs[i]))));
    expect(vk.aborted).toBe("AbortError");
    expect(cpu.aborted).toBe("AbortError");
    expect(maxRelErr(vk.afterAbort, cpu.afterAbort)).toBeLessThanOrEqual(TOL);
  });
});
