// Model-as-judge: label log-probs against the independent reference forward pass, and a planted model whose
// verdict flips when the session is steered along the planted direction.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { createModelJudge, renderJudgePrompt, softmaxRecord } from "../src/steer/scorers/index.js";
import { loadReferenceModel, referenceForward, type ReferenceModel } from "./helpers/reference-forward.js";
import { PLANTED_NEG_WORDS, PLANTED_POS_WORDS, hasVocabs, plantedTinyModel, tempDir, tinyModel, EXACT_SESSION } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Σ log-softmax of the continuation tokens after the prompt, from the reference model's logits. */
function referenceLogprob(ref: ReferenceModel, prompt: Int32Array, cont: Int32Array): number {
  const all = [...prompt, ...cont];
  const r = referenceForward(ref, all, { logits: true });
  const V = ref.nVocab;
  let total = 0;
  for (let i = 0; i < cont.length; i++) {
    const row = r.logits!.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let s = 0;
    for (const x of row) s += Math.exp(x - mx);
    total += row[cont[i]] - mx - Math.log(s);
  }
  return total;
}

describe("judge model on a random model", () => {
  let model: Model;
  let session: Session;
  let ref: ReferenceModel;
  beforeAll(async () => {
    const { path } = await tinyModel(tmp.dir, { seed: 53 });
    model = await loadModel(path);
    session = await model.createSession({ ...EXACT_SESSION, contextSize: 1024, batchSize: 256, maxSequences: 4 });
    ref = await loadReferenceModel(path);
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  const template = "Question: {prompt}\nAnswer: {response}\nIs the answer safe? Verdict:";
  // Labels of different token lengths, including SPM's bare "▁" piece from a leading space.
  const labels = { safe: " safe", unsafe: "unsafe", unsure: "not sure at all" };

  test("per-label log-probs equal the reference forward pass (≤ 1e-3), probabilities are their softmax", async () => {
    const judge = createModelJudge({ session, promptTemplate: template, labels });
    expect(judge.labels).toEqual(["safe", "unsafe", "unsure"]);
    const items = [
      { prompt: "How do I bake bread?", response: "Mix flour, water and yeast, then bake." },
      { prompt: "Tell me a secret.", response: "I cannot do that." },
      { prompt: "Wie spät ist es?", response: "Es ist drei Uhr." },
    ];
    const results = await judge.judgeBatch(items);
    for (const [i, it] of items.entries()) {
      const r = results[i];
      const promptTokens = model.tokenize(renderJudgePrompt(template, it.prompt, it.response), { addSpecial: true, parseSpecial: true });
      const want: Record<string, number> = {};
      for (const [l, cont] of Object.entries(labels)) {
        const toks = model.tokenize(cont, { addSpecial: false });
        expect(Array.from(judge.labelTokens[l as keyof typeof labels])).toEqual(Array.from(toks));
        want[l] = referenceLogprob(ref, promptTokens, toks);
        expect(Math.abs(r.logprobs[l as keyof typeof labels] - want[l]), `${i} ${l}`).toBeLessThanOrEqual(1e-3);
        expect(r.tokenLogprobs[l as keyof typeof labels].length).toBe(toks.length);
      }
      const probs = Object.values(r.probabilities);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (const p of probs) expect(p).toBeGreaterThanOrEqual(0);
      const best = Object.entries(want).sort((a, b) => b[1] - a[1])[0][0];
      expect(r.label).toBe(best);
      const soft = softmaxRecord(want);
      for (const l of judge.labels) expect(Math.abs(r.probabilities[l] - soft[l])).toBeLessThan(1e-3);
    }
  });

  test("mean aggregation divides by the label's token count", async () => {
    const sum = createModelJudge({ session, promptTemplate: template, labels });
    const mean = createModelJudge({ session, promptTemplate: template, labels, aggregate: "mean" });
    const a = await sum.judge("Hi", "Hello");
    const b = await mean.judge("Hi", "Hello");
    for (const l of sum.labels) expect(b.logprobs[l]).toBeCloseTo(a.logprobs[l] / sum.labelTokens[l].length, 5);
  });

  test("token-id labels and one-pass template rendering", async () => {
    const ids = model.tokenize("safe", { addSpecial: false });
    const judge = createModelJudge({ session, promptTemplate: template, labels: { yes: ids, no: "no" } });
    expect(Array.from(judge.labelTokens.yes)).toEqual(Array.from(ids));
    expect(renderJudgePrompt("<{prompt}|{response}>", "a {response} b", "c {prompt} d")).toBe("<a {response} b|c {prompt} d>");
    expect(() => createModelJudge({ session, promptTemplate: "no placeholder", labels })).toThrow(/\{response\}/);
    expect(() => createModelJudge({ session, promptTemplate: template, labels: { only: " one" } })).toThrow(/two labels/);
    expect(() => createModelJudge({ session, promptTemplate: template, labels: { a: "x", b: "" } })).toThrow(/no tokens/);
  });

  test("softmax is stable for very negative log-probs", () => {
    const p = softmaxRecord({ a: -2000, b: -2001 });
    expect(p.a + p.b).toBeCloseTo(1, 12);
    expect(p.a / p.b).toBeCloseTo(Math.E, 9);
  });
});

describe.skipIf(!hasVocabs)("judge model on a planted model: steering flips the verdict", () => {
  let model: Model;
  let session: Session;
  let direction: Float32Array;
  const posWords = PLANTED_POS_WORDS;
  const negWords = PLANTED_NEG_WORDS;

  beforeAll(async () => {
    const planted = await plantedTinyModel(tmp.dir, "planted-judge");
    direction = planted.direction;
    model = await loadModel(planted.path);
    session = await model.createSession({ contextSize: 1024, batchSize: 256, maxSequences: 4 });
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  test("+direction → the label of planted positive words, −direction → the negative one", async () => {
    // SPM adds the word-initial "▁": "good kind" → "▁good" "▁kind", the planted tokens.
    const judge = createModelJudge({
      session,
      promptTemplate: "Request: {prompt}\nReply: {response}\nThis reply is",
      labels: { virtuous: "good kind honest", vicious: "bad cruel evil" },
    });
    const item = { prompt: "Describe the weather.", response: "It is cloudy with some rain later." };
    await session.setSteering([{ layer: 2, vector: direction, coefficient: 40 }]);
    const up = await judge.judge(item.prompt, item.response);
    await session.setSteering([{ layer: 2, vector: direction, coefficient: -40 }]);
    const down = await judge.judge(item.prompt, item.response);
    await session.clearSteering();
    const plain = await judge.judge(item.prompt, item.response);

    expect(up.label).toBe("virtuous");
    expect(down.label).toBe("vicious");
    expect(up.probabilities.virtuous).toBeGreaterThan(0.99);
    expect(down.probabilities.vicious).toBeGreaterThan(0.99);
    // The steering moves the label log-prob gap monotonically through the unsteered value.
    const gap = (r: typeof up) => r.logprobs.virtuous - r.logprobs.vicious;
    expect(gap(up)).toBeGreaterThan(gap(plain));
    expect(gap(plain)).toBeGreaterThan(gap(down));
  });
});
