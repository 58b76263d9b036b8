// The portable build: ggml's CPU backend exists once per instruction-set level and the best one the processor
// supports is loaded at start. Every variant this host can run must compute the same activations (and match the
// independent f32 reference forward pass); none may carry AMX (its kernels crash on Q8_0 with gcc 12 builds).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nativeBinding } from "../src/index.js";
import { loadReferenceModel, referenceForward } from "./helpers/reference-forward.js";
import { maxRelErr, tempDir, tinyModel } from "./helpers/fixtures.js";
import { runProbe, type ProbeResult } from "./helpers/probe.js";

/** Least to most capable; ggml scores later ones higher, so the last one the CPU supports is chosen. */
const LEVELS = ["x64", "haswell", "skylakex", "icelake", "zen4"];
const REF_TOL = 1e-4; // f32 weights: max |capture − reference| / max |reference| (as test/capture-reference)
const Q8_TOL = 1e-4; // Q8_0 weights: any two variants, same relative measure

const info = nativeBinding().backendInfo();
const portable = info.cpuBuild === "portable";

describe.skipIf(!portable)("portable CPU build", () => {
  const tmp = tempDir("valuelens-portable-");
  let f32Path: string;
  let q8Path: string;
  const runs = new Map<string, ProbeResult>();
  const supported = info.cpuVariants.filter((v) => v.supported).map((v) => v.name);
  const unsupported = info.cpuVariants.filter((v) => !v.supported).map((v) => v.name);

  beforeAll(async () => {
    f32Path = (await tinyModel(tmp.dir, { seed: 11 })).path;
    q8Path = (await tinyModel(tmp.dir, { seed: 11, weightType: "q8_0" })).path;
    for (const v of supported) {
      const r = runProbe([f32Path, q8Path], { env: { VALUELENS_CPU_VARIANT: v } });
      expect(r.status, `variant ${v}: ${r.stderr.slice(-2000)}`).toBe(0);
      runs.set(v, r.result!);
    }
  }, 600_000);
  afterAll(() => tmp.cleanup());

  test("ships every x86-64 level and loads the best one this CPU supports", () => {
    if (process.arch === "x64") expect(info.cpuVariants.map((v) => v.name).sort()).toEqual([...LEVELS].sort());
    expect(supported).toContain(process.arch === "x64" ? "x64" : supported[0]);
    const best = LEVELS.filter((l) => supported.includes(l)).pop();
    expect(info.cpuVariant).toBe(best);
    expect(info.backendDir).toBeTruthy();
    expect(info.loadError).toBeNull();
  });

  test("each variant reports itself, and none was built with AMX", () => {
    for (const [v, r] of runs) {
      expect(r.cpuVariant).toBe(v);
      const amx = Object.entries(r.cpuFeatures).filter(([k, val]) => k.startsWith("AMX") && val !== "0");
      expect(amx, `variant ${v}`).toEqual([]);
    }
  });

  test("every variant this CPU runs matches the f32 reference forward pass and the others on Q8_0", async () => {
    const ref = await loadReferenceModel(f32Path);
    const first = runs.values().next().value as ProbeResult;
    const nLayer = Object.keys(first.models[f32Path].rows).length;
    for (const [v, r] of runs) {
      const m = r.models[f32Path];
      m.tokens.forEach((toks, i) => {
        const out = referenceForward(ref, toks);
        for (let k = 1; k <= nLayer; k++) {
          const want = k === nLayer ? out.finalNorm : out.hidden[k];
          const row = want.subarray((toks.length - 1) * ref.nEmbd, toks.length * ref.nEmbd);
          expect(maxRelErr(m.rows[k][i], row), `variant ${v} text ${i} layer ${k}`).toBeLessThanOrEqual(REF_TOL);
        }
      });
      expect(m.generated.length).toBeGreaterThan(0);
      const q = r.models[q8Path];
      const q0 = first.models[q8Path];
      for (let k = 1; k <= nLayer; k++) {
        q.rows[k].forEach((row, i) => expect(maxRelErr(row, q0.rows[k][i]), `Q8_0 variant ${v} text ${i} layer ${k}`).toBeLessThanOrEqual(Q8_TOL));
      }
      expect(q.generated).toEqual(q0.generated);
    }
  });

  test("a variant this CPU cannot run, or one that does not exist, is refused by name", () => {
    const bad = runProbe([f32Path], { env: { VALUELENS_CPU_VARIANT: "pentium3" } });
    expect(bad.status).not.toBe(0);
    expect(bad.signal).toBeNull();
    expect(bad.stderr).toMatch(/VALUELENS_CPU_VARIANT=pentium3: no such CPU variant .*available: .*haswell/);
    if (unsupported.length > 0) {
      const r = runProbe([f32Path], { env: { VALUELENS_CPU_VARIANT: unsupported[0] } });
      expect(r.status).not.toBe(0);
      expect(r.signal).toBeNull();
      expect(r.stderr).toContain(`VALUELENS_CPU_VARIANT=${unsupported[0]}: this processor lacks an instruction set that variant needs`);
    }
  });
});
