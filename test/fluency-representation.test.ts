// Fluency (mean token log-prob / perplexity under the unsteered model) and representation score (projection
// of the output's activations onto a direction), both against direct computations with the reference forward pass.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { fluency, fluencyBatch, representationScore, representationScores } from "../src/steer/scorers/index.js";
import { loadReferenceModel, referenceForward, type ReferenceModel } from "./helpers/reference-forward.js";
import { hasVocabs, plantedTinyModel, tempDir, tinyModel, EXACT_SESSION } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function referenceTokenLogprobs(ref: ReferenceModel, prompt: Int32Array, cont: Int32Array): number[] {
  const r = referenceForward(ref, [...prompt, ...cont], { logits: true });
  const V = ref.nVocab;
  const out: number[] = [];
  for (let i = 0; i < cont.length; i++) {
    const row = r.logits!.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let s = 0;
    for (const x of row) s += Math.exp(x - mx);
    out.push(row[cont[i]] - mx - Math.log(s));
  }
  return out;
}

function unit(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  const norm = Math.hypot(...v);
  return v.map((a) => a / norm);
}

describe("fluency and representation score on a random model", () => {
  let model: Model;
  let session: Session;
  let ref: ReferenceModel;
  beforeAll(async () => {
    const { path } = await tinyModel(tmp.dir, { seed: 61 });
    model = await loadModel(path);
    session = await model.createSession({ ...EXACT_SESSION, contextSize: 1024, batchSize: 256, maxSequences: 4 });
    ref = await loadReferenceModel(path);
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  test("fluency = mean reference log-prob of the output after the prompt; perplexity = exp(−mean)", async () => {
    const prompt = "The most important value is";
    const output = " honesty, because trust depends on it.";
    const f = await fluency(session, prompt, output);
    const want = referenceTokenLogprobs(ref, model.tokenize(prompt, { addSpecial: true, parseSpecial: true }), model.tokenize(output, { addSpecial: false }));
    const mean = want.reduce((a, b) => a + b, 0) / want.length;
    expect(f.nTokens).toBe(want.length);
    expect(Math.abs(f.meanLogprob - mean)).toBeLessThanOrEqual(1e-3);
    expect(f.perplexity).toBeCloseTo(Math.exp(-f.meanLogprob), 9);
    expect(Math.abs(Math.log(f.perplexity) + mean)).toBeLessThanOrEqual(1e-3);
    expect(f.total).toBeCloseTo(f.meanLogprob * f.nTokens, 6);
  });

  test("generated token ids score exactly those tokens; a steered session is refused unless allowed", async () => {
    const prompt = "Once upon a time";
    const v = unit(model.nEmbd, 3);
    await session.setSteering([{ layer: 2, vector: v, coefficient: 6 }]);
    const gen = await session.complete(prompt, { maxTokens: 6 });
    await expect(fluency(session, prompt, gen.tokens)).rejects.toThrow(/steered/);
    const steered = await fluency(session, prompt, gen.tokens, { allowSteered: true });
    await session.clearSteering();
    const f = await fluency(session, prompt, gen.tokens);
    const want = referenceTokenLogprobs(ref, model.tokenize(prompt), Int32Array.from(gen.tokens));
    expect(f.nTokens).toBe(gen.tokens.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(f.logprobs[i] - want[i])).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(steered.meanLogprob - f.meanLogprob)).toBeGreaterThan(1e-3);
    const [b] = await fluencyBatch(session, [{ prompt, output: gen.tokens }]);
    expect(b.meanLogprob).toBe(f.meanLogprob);
    const empty = await fluency(session, prompt, "");
    expect(empty.nTokens).toBe(0);
    expect(Number.isNaN(empty.meanLogprob) && Number.isNaN(empty.perplexity)).toBe(true);
  });

  test("representation score (default: output alone, mean over its tokens without BOS) = reference projection", async () => {
    const layer = 2;
    const v = unit(model.nEmbd, 11);
    const scaled = v.map((a) => a * 3); // not unit: the projection is onto v/‖v‖
    const output = " Honesty builds trust between people.";
    const r = await representationScore(session, { output }, { layer, vector: scaled });
    const toks = [model.bos, ...model.tokenize(output, { addSpecial: false })];
    const hidden = referenceForward(ref, toks).hidden[layer];
    const d = model.nEmbd;
    const mean = new Float64Array(d);
    for (let t = 1; t < toks.length; t++) for (let k = 0; k < d; k++) mean[k] += hidden[t * d + k] / (toks.length - 1);
    let dot = 0;
    for (let k = 0; k < d; k++) dot += mean[k] * v[k];
    expect(r.nTokens).toBe(toks.length - 1);
    expect(Math.abs(r.projection - dot)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.hypot(...mean)));
    expect(r.cosine).toBeCloseTo(dot / Math.hypot(...mean), 3);
    // Including BOS in the mean (capture's own "mean") gives a different number: the choice matters.
    const withBos = await session.capture([output], { layers: [layer], position: "mean" });
    let dotBos = 0;
    for (let k = 0; k < d; k++) dotBos += withBos.row(layer, 0)[k] * v[k];
    expect(Math.abs(dotBos - r.projection)).toBeGreaterThan(1e-3);
  });

  test("position last and context prompt+output", async () => {
    const layer = 3;
    const v = unit(model.nEmbd, 5);
    const prompt = "Question: what matters most?";
    const output = " Kindness and fairness.";
    const d = model.nEmbd;
    const pTok = model.tokenize(prompt, { addSpecial: true, parseSpecial: true });
    const oTok = model.tokenize(output, { addSpecial: false });
    const seq = [...pTok, ...oTok];
    const hidden = referenceForward(ref, seq).hidden[layer];
    const proj = (row: ArrayLike<number>) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += row[k] * v[k];
      return s;
    };
    const last = await representationScore(session, { prompt, output }, { layer, vector: v, context: "prompt+output", position: "last" });
    expect(last.projection).toBeCloseTo(proj(hidden.subarray((seq.length - 1) * d, seq.length * d)), 3);
    const mean = await representationScore(session, { prompt, output }, { layer, vector: v, context: "prompt+output" });
    let want = 0;
    for (let t = pTok.length; t < seq.length; t++) want += proj(hidden.subarray(t * d, (t + 1) * d)) / oTok.length;
    expect(mean.nTokens).toBe(oTok.length);
    expect(mean.projection).toBeCloseTo(want, 3);
    // Batched scores equal one-at-a-time ones; empty outputs are NaN and do not disturb the rest.
    const batch = await representationScores(session, [{ prompt, output }, { prompt, output: "" }, { prompt, output: " Yes." }], { layer, vector: v, context: "prompt+output" });
    expect(batch[0].projection).toBeCloseTo(mean.projection, 4);
    expect(Number.isNaN(batch[1].projection)).toBe(true);
    const single = await representationScore(session, { prompt, output: " Yes." }, { layer, vector: v, context: "prompt+output" });
    expect(batch[2].projection).toBeCloseTo(single.projection, 4);
    await expect(representationScore(session, { output }, { layer, vector: v, context: "prompt+output" })).rejects.toThrow(/no prompt/);
    await expect(representationScore(session, { output }, { layer, vector: new Float32Array(3) })).rejects.toThrow(/nEmbd/);
  });
});

describe.skipIf(!hasVocabs)("representation score on a planted model", () => {
  let model: Model;
  let session: Session;
  let direction: Float32Array;
  beforeAll(async () => {
    const planted = await plantedTinyModel(tmp.dir, "planted-repr");
    direction = planted.direction;
    model = await loadModel(planted.path);
    session = await model.createSession({ contextSize: 1024, batchSize: 256, maxSequences: 4 });
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  test("outputs generated with +direction score above those generated with −direction (read unsteered)", async () => {
    const prompts = ["The weather today", "Numbers and letters"];
    await session.setSteering([{ layer: 2, vector: direction, coefficient: 40 }]);
    const up = await session.generateBatch(prompts, { maxTokens: 8 });
    await expect(representationScore(session, { output: up[0].tokens }, { layer: 1, vector: direction })).rejects.toThrow(/steered/);
    await session.setSteering([{ layer: 2, vector: direction, coefficient: -40 }]);
    const down = await session.generateBatch(prompts, { maxTokens: 8 });
    await session.clearSteering();
    const opts = { layer: 1, vector: direction };
    const su = await representationScores(session, up.map((g) => ({ output: g.tokens })), opts);
    const sd = await representationScores(session, down.map((g) => ({ output: g.tokens })), opts);
    for (let i = 0; i < prompts.length; i++) {
      expect(su[i].projection).toBeGreaterThan(0);
      expect(sd[i].projection).toBeLessThan(0);
    }
  });
});
