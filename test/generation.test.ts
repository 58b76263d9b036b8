// Generation: determinism, sampling seeds, stop strings, batching, steering a planted model, log-probs.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { loadReferenceModel, referenceForward } from "./helpers/reference-forward.js";
import { hasVocabs, plantedTinyModel, tempDir, tinyModel, EXACT_SESSION } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("generation on a random model", () => {
  let model: Model;
  let session: Session;
  let path: string;
  beforeAll(async () => {
    path = (await tinyModel(tmp.dir, { seed: 31 })).path;
    model = await loadModel(path);
    session = await model.createSession({ ...EXACT_SESSION, contextSize: 1024, batchSize: 256, maxSequences: 8 });
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  test("greedy is deterministic and streaming yields the same tokens and text", async () => {
    const a = await session.complete("Once upon a time", { maxTokens: 12 });
    const b = await session.complete("Once upon a time", { maxTokens: 12 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens.length).toBe(12);
    expect(a.stopReason).toBe("maxTokens");
    const streamed: number[] = [];
    let text = "";
    const it = session.generate("Once upon a time", { maxTokens: 12 });
    let r = await it.next();
    while (!r.done) {
      streamed.push(r.value.token);
      text += r.value.text;
      r = await it.next();
    }
    expect(streamed).toEqual(a.tokens);
    expect(text).toBe(a.text);
    expect(r.value.text).toBe(a.text);
  });

  test("greedy tokens are the argmax of the reference model's logits", async () => {
    const ref = await loadReferenceModel(path);
    const prompt = model.tokenize("Once upon a time");
    const out = await session.complete(prompt, { maxTokens: 4 });
    const seq = Array.from(prompt);
    for (const tok of out.tokens) {
      const r = referenceForward(ref, seq, { logits: true });
      const V = model.nVocab;
      const last = r.logits!.subarray((seq.length - 1) * V, seq.length * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
      expect(tok).toBe(best);
      seq.push(tok);
    }
  });

  test("log-probs equal the reference log-softmax (abs error ≤ 1e-3 nats)", async () => {
    const ref = await loadReferenceModel(path);
    const prompt = model.tokenize("The answer is");
    const cont = model.tokenize(" forty two", { addSpecial: false });
    const lp = await session.logprobs(prompt, cont);
    const all = [...prompt, ...cont];
    const r = referenceForward(ref, all, { logits: true });
    const V = model.nVocab;
    for (let i = 0; i < cont.length; i++) {
      const row = r.logits!.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
      let mx = -Infinity;
      for (const x of row) mx = Math.max(mx, x);
      let s = 0;
      for (const x of row) s += Math.exp(x - mx);
      const want = row[cont[i]] - mx - Math.log(s);
      expect(Math.abs(lp.logprobs[i] - want), `token ${i}`).toBeLessThanOrEqual(1e-3);
    }
    expect(lp.total).toBeCloseTo(Array.from(lp.logprobs).reduce((a, b) => a + b, 0), 5);
  });

  test("seeded sampling is reproducible and the seed matters", async () => {
    // A random tied-embedding model repeats its input token with a logit gap of ~|e|² = 64, and
    // top-p runs before temperature (llama.cpp's order), so use a high temperature and no top-p.
    const opts = { maxTokens: 16, temperature: 8 };
    const a = await session.complete("Hello", { ...opts, seed: 5 });
    const b = await session.complete("Hello", { ...opts, seed: 5 });
    expect(a.tokens).toEqual(b.tokens);
    const others = await Promise.all([6, 7, 8].map((seed) => session.complete("Hello", { ...opts, seed })));
    expect(others.some((o) => o.tokens.join() !== a.tokens.join())).toBe(true);
  });

  test("stop strings cut the text before the stop and end generation", async () => {
    const full = await session.complete("Once upon a time", { maxTokens: 12 });
    const stop = full.text.slice(Math.floor(full.text.length / 2), Math.floor(full.text.length / 2) + 3);
    expect(stop.length).toBe(3);
    const cut = await session.complete("Once upon a time", { maxTokens: 12, stop: [stop] });
    expect(cut.stopReason).toBe("stop");
    expect(full.text.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBe(full.text.indexOf(stop));
  });

  test("batched greedy generation equals one-at-a-time", async () => {
    const prompts = ["Once upon a time", "In a land far away", "x", "Die Antwort lautet", "答案是"];
    const batched = await session.generateBatch(prompts, { maxTokens: 10 });
    for (let i = 0; i < prompts.length; i++) {
      const single = await session.complete(prompts[i], { maxTokens: 10 });
      expect(batched[i].tokens, prompts[i]).toEqual(single.tokens);
    }
  });

  test("a grammar constrains the output", async () => {
    const r = await session.complete("Answer:", { grammar: 'root ::= ("yes" | "no") "."', maxTokens: 8 });
    expect(["yes.", "no."]).toContain(r.text);
  });

  test("generation can be aborted", async () => {
    const c = new AbortController();
    const it = session.generate("Once", { maxTokens: 500, signal: c.signal });
    await it.next();
    c.abort();
    await expect(it.next()).rejects.toMatchObject({ name: "AbortError" });
    const ok = await session.complete("Once", { maxTokens: 2 });
    expect(ok.tokens.length).toBe(2);
  });
});

describe.skipIf(!hasVocabs)("steering a planted model", () => {
  let model: Model;
  let session: Session;
  let pos: number[];
  let neg: number[];
  let direction: Float32Array;

  beforeAll(async () => {
    const planted = await plantedTinyModel(tmp.dir);
    ({ pos, neg, direction } = planted);
    expect(pos.length).toBeGreaterThanOrEqual(8);
    expect(neg.length).toBeGreaterThanOrEqual(8);
    model = await loadModel(planted.path);
    session = await model.createSession({ contextSize: 1024, batchSize: 256, maxSequences: 8 });
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  const prompts = ["The weather today", "Numbers and letters", "Ein Satz", "Something else entirely"];
  const share = (tokens: number[][], set: number[]) => {
    const all = tokens.flat();
    return all.filter((t) => set.includes(t)).length / all.length;
  };

  test("a strong +direction moves greedy output to the planted positive tokens, −direction to the negative ones", async () => {
    const plain = (await session.generateBatch(prompts, { maxTokens: 8 })).map((r) => r.tokens);
    await session.setSteering([{ layer: 2, vector: direction, coefficient: 40 }]);
    const up = (await session.generateBatch(prompts, { maxTokens: 8 })).map((r) => r.tokens);
    await session.setSteering([{ layer: 2, vector: direction, coefficient: -40 }]);
    const down = (await session.generateBatch(prompts, { maxTokens: 8 })).map((r) => r.tokens);
    await session.clearSteering();
    const again = (await session.generateBatch(prompts, { maxTokens: 8 })).map((r) => r.tokens);
    expect(again).toEqual(plain);
    expect(share(up, pos)).toBeGreaterThanOrEqual(0.9);
    expect(share(down, neg)).toBeGreaterThanOrEqual(0.9);
    expect(share(plain, pos)).toBeLessThan(0.5);
    expect(share(plain, neg)).toBeLessThan(0.5);
  });

  test("steering layer 1 (block 0, outside llama.cpp's control-vector range) works too", async () => {
    await session.setSteering([{ layer: 1, vector: direction, coefficient: 40 }]);
    const up = (await session.generateBatch(prompts, { maxTokens: 8 })).map((r) => r.tokens);
    await session.clearSteering();
    expect(share(up, pos)).toBeGreaterThanOrEqual(0.9);
  });
});
