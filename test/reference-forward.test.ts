import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng, readGguf, readTensorF32, synthModel } from "../src/gguf/index.js";
import { loadReferenceModel, matVec, referenceForward, rmsNorm, ropeNormal, type ReferenceModel } from "./helpers/reference-forward.js";
import { LLAMA_SPM_VOCAB, findVocab } from "./helpers/vocab.js";

let dir: string;
let model: ReferenceModel;
const vocabGguf = findVocab(LLAMA_SPM_VOCAB);
const TOKENS = [1, 15043, 3186, 29892, 2924, 322, 24116, 1017, 42].map((t) => (vocabGguf ? t : t % 512));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "valuelens-ref-"));
  // The real llama-spm vocab when installed, else the built-in one: the forward pass does not care.
  const res = await synthModel({
    out: join(dir, "tiny.gguf"),
    vocabGguf,
    nEmbd: 32,
    nLayer: 2,
    nHead: 4,
    nHeadKv: 2,
    nFf: 64,
    seed: 21,
    blockScale: 1,
  });
  model = await loadReferenceModel(res.path);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rows(m: Float32Array, from: number, to: number, width: number): Float32Array {
  return m.subarray(from * width, to * width);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("reference forward", () => {
  it("loads the model with the synth hyperparameters", () => {
    expect(model.nEmbd).toBe(32);
    expect(model.nLayer).toBe(2);
    expect(model.nHead).toBe(4);
    expect(model.nHeadKv).toBe(2);
    expect(model.headDim).toBe(8);
    expect(model.output).toBeNull();
    expect(model.layers).toHaveLength(2);
  });

  it("returns embeddings as hidden[0] and nLayer block outputs", () => {
    const r = referenceForward(model, TOKENS);
    expect(r.hidden).toHaveLength(3);
    for (const h of r.hidden) expect(h.length).toBe(TOKENS.length * 32);
    TOKENS.forEach((tok, t) => {
      expect(rows(r.hidden[0], t, t + 1, 32)).toEqual(model.tokenEmbd.subarray(tok * 32, (tok + 1) * 32));
    });
    // Blocks actually change the stream.
    expect(maxAbsDiff(r.hidden[1], r.hidden[0])).toBeGreaterThan(0.01);
  });

  it("is causal: appending tokens leaves earlier positions unchanged", () => {
    const prefix = referenceForward(model, TOKENS.slice(0, 5));
    const full = referenceForward(model, TOKENS);
    for (let k = 0; k <= model.nLayer; k++) expect(rows(full.hidden[k], 0, 5, 32)).toEqual(prefix.hidden[k]);
    expect(rows(full.finalNorm, 0, 5, 32)).toEqual(prefix.finalNorm);
    // ... while a changed earlier token does affect later positions.
    const changed = referenceForward(model, [TOKENS[0], 7, ...TOKENS.slice(2)]);
    expect(maxAbsDiff(rows(changed.hidden[1], 4, 5, 32), rows(full.hidden[1], 4, 5, 32))).toBeGreaterThan(1e-4);
  });

  it("steering at block b adds exactly the vector to hidden[b+1] and leaves hidden[≤b] untouched", () => {
    const base = referenceForward(model, TOKENS);
    const v = new Float32Array(32);
    new Rng(99).fillNormal(v, 0, 0.7);
    for (const b of [0, 1]) {
      const steered = referenceForward(model, TOKENS, { steer: new Map([[b, v]]) });
      for (let k = 0; k <= b; k++) expect(steered.hidden[k]).toEqual(base.hidden[k]);
      for (let t = 0; t < TOKENS.length; t++) {
        for (let i = 0; i < 32; i++) {
          const d = steered.hidden[b + 1][t * 32 + i] - base.hidden[b + 1][t * 32 + i];
          expect(Math.abs(d - v[i])).toBeLessThan(1e-6);
        }
      }
      if (b + 2 <= model.nLayer) expect(maxAbsDiff(steered.hidden[b + 2], base.hidden[b + 2])).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(steered.finalNorm, base.finalNorm)).toBeGreaterThan(1e-3);
    }
    expect(() => referenceForward(model, TOKENS, { steer: new Map([[2, v]]) })).toThrow(/outside 0\.\.1/);
  });

  it("finalNorm and tied logits match a direct computation", async () => {
    const r = referenceForward(model, TOKENS, { logits: true });
    const g = await readGguf(model.path);
    const normInfo = g.tensors.find((t) => t.name === "output_norm.weight");
    if (!normInfo) throw new Error("no output_norm.weight");
    const w = await readTensorF32(model.path, normInfo);
    const eps = model.rmsEps;
    for (let t = 0; t < TOKENS.length; t++) {
      const x = rows(r.hidden[2], t, t + 1, 32);
      let ss = 0;
      for (const v of x) ss += v * v;
      const inv = 1 / Math.sqrt(ss / 32 + eps);
      for (let i = 0; i < 32; i++) expect(Math.abs(r.finalNorm[t * 32 + i] - x[i] * inv * w[i])).toBeLessThan(1e-6);
      // Tied lm head: logit[v] = finalNorm · token_embd[v].
      for (const tok of [0, 1, 2, 100, model.nVocab - 1]) {
        let dot = 0;
        for (let i = 0; i < 32; i++) dot += r.finalNorm[t * 32 + i] * model.tokenEmbd[tok * 32 + i];
        expect(Math.abs((r.logits as Float32Array)[t * model.nVocab + tok] - dot)).toBeLessThan(1e-4);
      }
    }
  });

  it("at position 0 attention reduces to Wo·v (softmax over one key)", () => {
    const r = referenceForward(model, TOKENS.slice(0, 1));
    const L = model.layers[0];
    const x = r.hidden[0];
    const xn = rmsNorm(x, L.attnNorm, model.rmsEps);
    const v = matVec(L.wv, xn, model.nHeadKv * model.headDim);
    // Query head h reads kv head floor(h / 2).
    const heads = new Float32Array(model.nHead * model.headDim);
    for (let h = 0; h < model.nHead; h++) heads.set(v.subarray(Math.floor(h / 2) * 8, Math.floor(h / 2) * 8 + 8), h * 8);
    const attn = matVec(L.wo, heads, 32);
    const hvec = x.map((xi, i) => xi + attn[i]);
    const hn = rmsNorm(hvec, L.ffnNorm, model.rmsEps);
    const gate = matVec(L.wGate, hn, 64);
    const up = matVec(L.wUp, hn, 64);
    const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
    const ffn = matVec(L.wDown, act, 32);
    const want = hvec.map((hi, i) => hi + ffn[i]);
    expect(maxAbsDiff(r.hidden[1], want)).toBeLessThan(1e-6);
  });

  it("RoPE rotates adjacent pairs by pos·base^(−2i/d)", () => {
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const y = x.slice();
    ropeNormal(y, 2, 8, 0, 10000);
    expect(y).toEqual(x); // position 0 is the identity
    ropeNormal(y, 2, 8, 3, 10000);
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 4; i++) {
        const theta = 3 * Math.pow(10000, (-2 * i) / 8);
        const [a, b] = [x[h * 8 + 2 * i], x[h * 8 + 2 * i + 1]];
        expect(y[h * 8 + 2 * i]).toBeCloseTo(a * Math.cos(theta) - b * Math.sin(theta), 5);
        expect(y[h * 8 + 2 * i + 1]).toBeCloseTo(a * Math.sin(theta) + b * Math.cos(theta), 5);
      }
    }
  });
});
