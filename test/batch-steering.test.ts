// Batch invariance, steering round trip, cancellation and event-loop friendliness.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type LayerSite, type Model, type Session } from "../src/index.js";
import { Rng } from "../src/gguf/index.js";
import { maxAbsDiff, maxRelErr, tempDir, tinyModel, EXACT_SESSION } from "./helpers/fixtures.js";

const tmp = tempDir();
let model: Model;
let session: Session;
let graphSession: Session;
const L = 4;
const D = 64;

beforeAll(async () => {
  const synth = await tinyModel(tmp.dir, { seed: 11 });
  model = await loadModel(synth.path);
  session = await model.createSession({ ...EXACT_SESSION, contextSize: 2048, batchSize: 1024, maxSequences: 64 });
  graphSession = await model.createSession({ ...EXACT_SESSION, contextSize: 2048, batchSize: 1024, maxSequences: 64, captureMethod: "graph" });
});
afterAll(() => {
  session?.dispose();
  graphSession?.dispose();
  model?.dispose();
  tmp.cleanup();
});

function makeTexts(n: number, seed: number): string[] {
  const words = ["value", "justice", "Wahrheit", "équité", "harm", "好", "правда", "dharma", "kindness", "rule", "outcome", "fair"];
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + ((i * 7 + Math.floor(rng.uniform() * 13)) % 17);
    return Array.from({ length: len }, () => words[Math.floor(rng.uniform() * words.length)]).join(" ");
  });
}

// Both capture methods: the eval callback (the CPU default) and graph outputs (the GPU default).
describe.each(["callback", "graph"] as const)("batch invariance (captureMethod %s)", (method) => {
  const sess = (): Session => (method === "graph" ? graphSession : session);
  test("a text captured alone equals the same text inside a batch of 40 texts of different lengths", async () => {
    const texts = makeTexts(40, 3);
    const lengths = new Set(texts.map((t) => model.tokenize(t).length));
    expect(lengths.size).toBeGreaterThan(8);
    const layers: LayerSite[] = [1, 2, 3, 4, "resid_post:4"];
    for (const position of ["last", "mean", "all"] as const) {
      const batched = await sess().capture(texts, { layers, position });
      expect(batched.decodedTokens).toBe(texts.reduce((s, t) => s + model.tokenize(t).length, 0));
      for (const i of [0, 7, 19, 39]) {
        const alone = await sess().capture([texts[i]], { layers, position });
        for (const k of layers) {
          const n = position === "all" ? batched.tokenCounts[i] : 1;
          for (let p = 0; p < n; p++) {
            expect(maxRelErr(batched.row(k, i, p), alone.row(k, 0, p)), `${position} text ${i} layer ${String(k)} pos ${p}`).toBeLessThanOrEqual(1e-4);
          }
        }
      }
    }
  });

  test("packing respects batchSize and maxSequences (many small decodes give the same rows)", async () => {
    const texts = makeTexts(50, 5);
    const small = await model.createSession({ ...EXACT_SESSION, contextSize: 64, batchSize: 64, maxSequences: 3, captureMethod: method });
    try {
      const a = await small.capture(texts, { layers: [2, 4] });
      const b = await sess().capture(texts, { layers: [2, 4] });
      expect(maxRelErr(a.layer(2), b.layer(2))).toBeLessThanOrEqual(1e-4);
      expect(maxRelErr(a.layer(4), b.layer(4))).toBeLessThanOrEqual(1e-4);
    } finally {
      small.dispose();
    }
  });
});

describe.each(["callback", "graph"] as const)("steering (captureMethod %s)", (method) => {
  const sess = (): Session => (method === "graph" ? graphSession : session);
  const texts = ["Steering changes the residual stream", "kurz", "另一种语言的句子"];
  const sites: LayerSite[] = [1, 2, 3, "resid_post:4"];
  const rng = new Rng(99);
  const v = Float32Array.from({ length: D }, () => rng.normal());

  test("steering layer k adds exactly c·v to resid_post:k at every token and leaves earlier layers untouched", async () => {
    const base = await sess().capture(texts, { layers: sites, position: "all" });
    for (let k = 1; k <= L; k++) {
      const c = k === 1 ? 2.5 : -1.75;
      await sess().setSteering([{ layer: k === L ? `resid_post:${L}` : k, vector: v, coefficient: c }]);
      const steered = await sess().capture(texts, { layers: sites, position: "all" });
      for (let t = 0; t < texts.length; t++) {
        for (let p = 0; p < base.tokenCounts[t]; p++) {
          const site = sites[k - 1];
          const diff = Float32Array.from(steered.row(site, t, p), (x, j) => x - base.row(site, t, p)[j]);
          const want = Float32Array.from(v, (x) => c * x);
          // Absolute error bound 1e-4 on the difference (float32 rounding of the sums is ~1e-6).
          expect(maxAbsDiff(diff, want), `layer ${k} text ${t} pos ${p}`).toBeLessThanOrEqual(1e-4);
          for (let j = 0; j < k - 1; j++) expect(maxAbsDiff(steered.row(sites[j], t, p), base.row(sites[j], t, p)), `layer ${j + 1} below ${k}`).toBe(0);
        }
      }
      // Later layers do change (the model actually reacts).
      if (k < L) expect(maxAbsDiff(steered.layer(sites[k]), base.layer(sites[k]))).toBeGreaterThan(1e-3);
    }
    await sess().clearSteering();
    const restored = await sess().capture(texts, { layers: sites, position: "all" });
    for (const s of sites) expect(maxAbsDiff(restored.layer(s), base.layer(s))).toBe(0);
  });

  test("entries on the same layer are summed; several layers at once", async () => {
    const base = await sess().capture(texts, { layers: sites });
    await sess().setSteering([
      { layer: 1, vector: v, coefficient: 1 },
      { layer: 1, vector: v, coefficient: 0.5 },
      { layer: 3, vector: v, coefficient: 2 },
    ]);
    expect(sess().steering.length).toBe(3);
    const both = await sess().capture(texts, { layers: sites });
    await sess().setSteering([{ layer: 1, vector: v, coefficient: 1.5 }, { layer: 3, vector: v, coefficient: 2 }]);
    const merged = await sess().capture(texts, { layers: sites });
    for (const s of sites) expect(maxRelErr(both.layer(s), merged.layer(s))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(both.layer(1), base.layer(1))).toBeGreaterThan(1);
    await sess().clearSteering();
  });

  test("a steered block above the highest captured site is not run and not an error; captured rows match the other method", async () => {
    await sess().setSteering([{ layer: 3, vector: v, coefficient: 4 }]);
    try {
      const low = await sess().capture(texts, { layers: [1, 2], position: "all" });
      const other = await (method === "graph" ? session : graphSession).capture(texts, { layers: [1, 2], position: "all" });
      for (const k of [1, 2]) expect(maxAbsDiff(low.layer(k), other.layer(k)), `layer ${k}`).toBe(0);
      const high = await sess().capture(texts, { layers: [3] });
      await sess().clearSteering();
      const unsteered = await sess().capture(texts, { layers: [3] });
      expect(maxAbsDiff(high.layer(3), unsteered.layer(3))).toBeGreaterThan(1);
    } finally {
      await sess().clearSteering();
    }
  });

  test("wrong vector length, unknown layer and final_norm are rejected with clear messages", async () => {
    await expect(sess().setSteering([{ layer: 2, vector: new Float32Array(D + 1) }])).rejects.toThrow(/length 65.*nEmbd is 64/);
    await expect(sess().setSteering([{ layer: L + 1, vector: v }])).rejects.toThrow(/unknown layer 5.*1\.\.4/);
    await expect(sess().setSteering([{ layer: 0, vector: v }])).rejects.toThrow(/unknown layer 0/);
    await expect(sess().setSteering([{ layer: "final_norm", vector: v }])).rejects.toThrow(/cannot steer final_norm/);
    await expect(sess().setSteering([{ layer: 2, vector: Float32Array.from(v, (x, i) => (i === 3 ? NaN : x)) }])).rejects.toThrow(/non-finite/);
    // A failed call leaves the previous steering in place (none here).
    expect(sess().steering.length).toBe(0);
  });
});

describe("async behaviour", () => {
  test("capture does not block the event loop and can be aborted", async () => {
    const texts = makeTexts(600, 8);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const controller = new AbortController();
    const p = session.capture(texts, { position: "all", signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    // The session is usable afterwards.
    const ok = await session.capture(texts.slice(0, 2), { layers: [1] });
    expect(ok.nTexts).toBe(2);
  });

  test("an already-aborted signal rejects without running", async () => {
    const c = new AbortController();
    c.abort();
    await expect(session.capture(["x"], { signal: c.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  test("concurrent calls on one session are queued, not rejected", async () => {
    const texts = makeTexts(20, 9);
    const [a, b] = await Promise.all([session.capture(texts, { layers: [2] }), session.capture(texts, { layers: [2] })]);
    expect(maxAbsDiff(a.layer(2), b.layer(2))).toBe(0);
  });
});
