// A build made here must run on older CPUs (cluster users build on a login node, run on compute nodes). Debian's
// qemu-user runs Node on an emulated Haswell (AVX2, no AVX-512) and Nehalem (SSE4.2, no AVX: the baseline x86-64 variant): the portable build
// must pick the matching CPU variant there, capture the reference activations and generate. .ci/run installs
// qemu-user; without it this file is skipped.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nativeBinding } from "../src/index.js";
import { loadReferenceModel, referenceForward, type ReferenceModel } from "./helpers/reference-forward.js";
import { maxRelErr, tempDir, tinyModel } from "./helpers/fixtures.js";
import { runProbe, type ProbeResult } from "./helpers/probe.js";

const TOL = 1e-4; // as test/capture-reference: max |capture − reference| / max |reference|
const hasQemu = process.arch === "x64" && spawnSync("qemu-x86_64", ["--version"]).status === 0;
const portable = nativeBinding().backendInfo().cpuBuild === "portable";

describe.skipIf(!hasQemu || !portable)("the portable build under qemu on older CPUs", () => {
  const tmp = tempDir("valuelens-qemu-");
  let model: string;
  let ref: ReferenceModel;
  beforeAll(async () => {
    model = (await tinyModel(tmp.dir, { seed: 13 })).path;
    ref = await loadReferenceModel(model);
  });
  afterAll(() => tmp.cleanup());

  function check(r: ProbeResult): void {
    const m = r.models[model];
    m.tokens.forEach((toks, i) => {
      const out = referenceForward(ref, toks);
      for (let k = 1; k <= ref.nLayer; k++) {
        const want = (k === ref.nLayer ? out.finalNorm : out.hidden[k]).subarray((toks.length - 1) * ref.nEmbd, toks.length * ref.nEmbd);
        expect(maxRelErr(m.rows[k][i], want), `text ${i} layer ${k}`).toBeLessThanOrEqual(TOL);
      }
    });
    expect(m.generated.length).toBeGreaterThan(0);
  }

  for (const [cpu, variant] of [["Haswell", "haswell"], ["Nehalem", "x64"]] as const) {
    test(`-cpu ${cpu}: loads the ${variant} variant, captures and generates`, { timeout: 600_000 }, () => {
      const r = runProbe([model], { prefix: ["qemu-x86_64", "-cpu", cpu], timeoutMs: 540_000 });
      expect(r.signal, r.stderr.slice(-2000)).toBeNull();
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      expect(r.result!.cpuVariant).toBe(variant);
      check(r.result!);
    });
  }
});
