// Capture equals an independent TypeScript forward pass (f32 llama block) at every layer.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { loadReferenceModel, referenceForward, type ReferenceForwardResult } from "./helpers/reference-forward.js";
import { maxRelErr, tempDir, tinyModel, EXACT_SESSION } from "./helpers/fixtures.js";

const TOL = 1e-4; // max |capture − reference| / max |reference| per captured vector

// Both capture methods: the eval callback (the CPU default) and graph outputs (patch 22, the GPU default).
describe.each(["callback", "graph"] as const)("capture vs reference forward pass (captureMethod %s)", (captureMethod) => {
  const tmp = tempDir();
  let model: Model;
  let session: Session;
  const texts = ["The quick brown fox", "Ein kleines Beispiel, bitte.", "a", "日本語のテキストも試す", "Moral choices matter in every language we speak."];
  let refs: ReferenceForwardResult[];
  let tokens: Int32Array[];

  beforeAll(async () => {
    const synth = await tinyModel(tmp.dir);
    model = await loadModel(synth.path);
    session = await model.createSession({ ...EXACT_SESSION, contextSize: 512, batchSize: 256, maxSequences: 8, captureMethod });
    expect(session.captureMethod).toBe(captureMethod);
    const ref = await loadReferenceModel(synth.path);
    tokens = texts.map((t) => model.tokenize(t));
    refs = tokens.map((t) => referenceForward(ref, Array.from(t)));
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
    tmp.cleanup();
  });

  const L = 4;
  const d = 64;
  const refRow = (r: ReferenceForwardResult, k: number | "final_norm" | string, pos: number): Float32Array => {
    const src = k === "final_norm" || k === L ? r.finalNorm : typeof k === "number" ? r.hidden[k] : r.hidden[Number(String(k).split(":")[1])];
    return src.subarray(pos * d, (pos + 1) * d);
  };
  const layers = [1, 2, 3, 4, "final_norm", "resid_post:1", "resid_post:4"] as const;

  test("position last: every layer incl. final_norm and resid_post", async () => {
    const acts = await session.capture(texts, { layers: [...layers], position: "last" });
    expect(Array.from(acts.tokenCounts)).toEqual(tokens.map((t) => t.length));
    for (let i = 0; i < texts.length; i++) {
      for (const k of layers) {
        const err = maxRelErr(acts.row(k, i), refRow(refs[i], k, tokens[i].length - 1));
        expect(err, `text ${i} layer ${k}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  test("position all: every token of every text", async () => {
    const acts = await session.capture(texts, { layers: [...layers], position: "all" });
    for (let i = 0; i < texts.length; i++) {
      for (let p = 0; p < tokens[i].length; p++) {
        for (const k of layers) expect(maxRelErr(acts.row(k, i, p), refRow(refs[i], k, p)), `text ${i} pos ${p} layer ${k}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  test("position mean: mean over each text's tokens", async () => {
    const acts = await session.capture(texts, { layers: [...layers], position: "mean" });
    for (let i = 0; i < texts.length; i++) {
      for (const k of layers) {
        const mean = new Float32Array(d);
        for (let p = 0; p < tokens[i].length; p++) {
          const row = refRow(refs[i], k, p);
          for (let j = 0; j < d; j++) mean[j] += row[j] / tokens[i].length;
        }
        expect(maxRelErr(acts.row(k, i), mean), `text ${i} layer ${k}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  test("layer nLayer is the final-norm output, not the last block's raw output", async () => {
    const acts = await session.capture([texts[0]], { layers: [L, "resid_post:4"] });
    const top = acts.row(L, 0);
    const pre = acts.row("resid_post:4", 0);
    expect(maxRelErr(top, pre)).toBeGreaterThan(0.05);
    expect(maxRelErr(pre, refs[0].hidden[L].subarray((tokens[0].length - 1) * d, tokens[0].length * d))).toBeLessThanOrEqual(TOL);
  });

  test("pre-tokenized input gives the same rows as text input", async () => {
    const a = await session.capture(texts, { layers: [2] });
    const b = await session.capture(tokens, { layers: [2] });
    expect(maxRelErr(a.layer(2), b.layer(2))).toBe(0);
  });
});
