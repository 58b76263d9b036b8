import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GgmlType,
  GgufValueType,
  SYNTH_KEYS,
  plantedDirections,
  readGguf,
  readGgufMetadata,
  readSynthInfo,
  readTensorF32,
  readTensorRowsF32,
  synthModel,
  type GgufFile,
  type GgufTensorInfo,
  type SynthOptions,
} from "../src/gguf/index.js";
import { LLAMA_SPM_VOCAB, findVocab } from "./helpers/vocab.js";
import { cosine } from "./helpers/fixtures.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "valuelens-synth-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TINY: Omit<SynthOptions, "out"> = { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 96, seed: 11 };

function tensor(g: GgufFile, name: string): GgufTensorInfo {
  const t = g.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`missing tensor ${name}`);
  return t;
}


function std(xs: Float32Array): number {
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  const m = s / xs.length;
  return Math.sqrt(s2 / xs.length - m * m);
}

function expectedTensors(nLayer: number, nEmbd: number, nVocab: number, nQ: number, nKv: number, nFf: number, tied: boolean): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [["token_embd.weight", [nEmbd, nVocab]]];
  for (let i = 0; i < nLayer; i++) {
    out.push(
      [`blk.${i}.attn_norm.weight`, [nEmbd]],
      [`blk.${i}.attn_q.weight`, [nEmbd, nQ]],
      [`blk.${i}.attn_k.weight`, [nEmbd, nKv]],
      [`blk.${i}.attn_v.weight`, [nEmbd, nKv]],
      [`blk.${i}.attn_output.weight`, [nQ, nEmbd]],
      [`blk.${i}.ffn_norm.weight`, [nEmbd]],
      [`blk.${i}.ffn_gate.weight`, [nEmbd, nFf]],
      [`blk.${i}.ffn_up.weight`, [nEmbd, nFf]],
      [`blk.${i}.ffn_down.weight`, [nFf, nEmbd]],
    );
  }
  out.push(["output_norm.weight", [nEmbd]]);
  if (!tied) out.push(["output.weight", [nEmbd, nVocab]]);
  return out;
}

describe("synthModel layout", () => {
  it.each([
    ["f32", GgmlType.F32, 0, true],
    ["f16", GgmlType.F16, 1, true],
    ["q8_0", GgmlType.Q8_0, 7, false],
  ] as const)("writes the llama layout with %s weights", async (weightType, ggml, fileType, tied) => {
    const out = join(dir, `layout-${weightType}.gguf`);
    const res = await synthModel({ ...TINY, out, weightType, tiedEmbeddings: tied, builtinVocabSize: 300 });
    expect(res.nVocab).toBe(300);
    expect(res.headDim).toBe(16);
    expect(res.vocab).toBe("builtin");
    const g = await readGguf(out);
    const m = g.metadata;
    const val = (k: string): unknown => m.get(k)?.value;
    expect(val("general.architecture")).toBe("llama");
    expect(val("general.name")).toBe("valuelens-synth");
    expect(val("general.file_type")).toBe(fileType);
    expect(val("llama.context_length")).toBe(2048);
    expect(val("llama.embedding_length")).toBe(64);
    expect(val("llama.block_count")).toBe(2);
    expect(val("llama.feed_forward_length")).toBe(96);
    expect(val("llama.attention.head_count")).toBe(4);
    expect(val("llama.attention.head_count_kv")).toBe(2);
    expect(val("llama.attention.layer_norm_rms_epsilon")).toBe(Math.fround(1e-5));
    expect(val("llama.rope.freq_base")).toBe(10000);
    expect(val("llama.rope.dimension_count")).toBe(16);
    expect(val("llama.vocab_size")).toBe(300);
    expect(val(SYNTH_KEYS.seed)).toBe(11n);
    expect(val(SYNTH_KEYS.weightType)).toBe(weightType);
    expect(val(SYNTH_KEYS.tiedEmbeddings)).toBe(tied);
    for (const k of ["llama.context_length", "llama.embedding_length", "llama.block_count", "llama.vocab_size"]) {
      expect(m.get(k)?.type, k).toBe(GgufValueType.UINT32);
    }

    const expected = expectedTensors(2, 64, 300, 64, 32, 96, tied);
    expect(g.tensors.map((t) => [t.name, t.shape])).toEqual(expected);
    expect(res.tensors.map((t) => [t.name, t.shape])).toEqual(expected);
    for (const t of g.tensors) expect(t.type, t.name).toBe(t.shape.length === 1 ? GgmlType.F32 : ggml);
  });

  it("initialises weights with the documented scales", async () => {
    const out = join(dir, "stats.gguf");
    await synthModel({ ...TINY, nEmbd: 128, nFf: 256, out, blockScale: 0.5, normNoise: 0.1, builtinVocabSize: 1024 });
    const g = await readGguf(out);
    const s = async (name: string): Promise<number> => std(await readTensorF32(out, tensor(g, name)));
    expect(await s("token_embd.weight")).toBeCloseTo(1, 1);
    expect(await s("blk.0.attn_q.weight")).toBeCloseTo(1 / Math.sqrt(128), 2);
    expect(await s("blk.1.ffn_gate.weight")).toBeCloseTo(1 / Math.sqrt(128), 2);
    expect(await s("blk.0.attn_output.weight")).toBeCloseTo(0.5 / Math.sqrt(128), 2);
    expect(await s("blk.0.ffn_down.weight")).toBeCloseTo(0.5 / Math.sqrt(256), 2);
    const norm = await readTensorF32(out, tensor(g, "blk.0.attn_norm.weight"));
    const mean = norm.reduce((a, b) => a + b, 0) / norm.length;
    expect(mean).toBeCloseTo(1, 1);
    expect(std(norm)).toBeGreaterThan(0.05);
    expect(std(norm)).toBeLessThan(0.15);
  });

  it("is deterministic for a seed and differs across seeds", async () => {
    const a = await synthModel({ ...TINY, out: join(dir, "det-a.gguf"), builtinVocabSize: 300 });
    const b = await synthModel({ ...TINY, out: join(dir, "det-b.gguf"), builtinVocabSize: 300 });
    const c = await synthModel({ ...TINY, seed: 12, out: join(dir, "det-c.gguf"), builtinVocabSize: 300 });
    const [ga, gb, gc] = await Promise.all([a, b, c].map((r) => readGguf(r.path)));
    const q = (g: GgufFile, p: string): Promise<Float32Array> => readTensorF32(p, tensor(g, "blk.1.attn_k.weight"));
    expect(await q(gb, b.path)).toEqual(await q(ga, a.path));
    expect(await q(gc, c.path)).not.toEqual(await q(ga, a.path));
  });

  it("validates its options", async () => {
    const out = join(dir, "invalid.gguf");
    await expect(synthModel({ ...TINY, out, nHead: 5 })).rejects.toThrow(/divisible by nHead/);
    await expect(synthModel({ ...TINY, out, nHeadKv: 3 })).rejects.toThrow(/multiple of nHeadKv/);
    await expect(synthModel({ ...TINY, out, nFf: 100, weightType: "q8_0" })).rejects.toThrow(/q8_0 needs nFf/);
    const direction = new Float32Array(64).fill(1);
    await expect(
      synthModel({ ...TINY, out, builtinVocabSize: 300, planted: [{ concept: "c", lang: "en", posTokens: [300], negTokens: [], direction, alpha: 1 }] }),
    ).rejects.toThrow(/token id 300 outside the vocab/);
    await expect(
      synthModel({ ...TINY, out, planted: [{ concept: "c", lang: "en", posTokens: [1], negTokens: [], direction: new Float32Array(63), alpha: 1 }] }),
    ).rejects.toThrow(/direction has length 63/);
  });
});

describe("tokenizer copy", () => {
  const vocab = findVocab(LLAMA_SPM_VOCAB);
  it.skipIf(!vocab)("copies every tokenizer.* key from the vocab GGUF", async () => {
    const out = join(dir, "spm.gguf");
    const res = await synthModel({ ...TINY, out, vocabGguf: vocab });
    expect(res.nVocab).toBe(32000);
    expect(res.vocab).toBe(LLAMA_SPM_VOCAB);
    const src = await readGgufMetadata(vocab as string);
    const dst = await readGgufMetadata(out);
    const tokenizerKeys = [...src.keys()].filter((k) => k.startsWith("tokenizer."));
    expect(tokenizerKeys).toEqual(expect.arrayContaining(["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.model"]));
    for (const k of tokenizerKeys) expect(dst.get(k), k).toEqual(src.get(k));
    // Only the tokenizer is copied: the vocab file's own llama.* hparams must not leak in.
    expect(dst.get("llama.embedding_length")?.value).toBe(64);
    expect(dst.get("general.name")?.value).toBe("valuelens-synth");
    expect(dst.get("llama.vocab_size")?.value).toBe(32000);
    const g = await readGguf(out);
    expect(tensor(g, "token_embd.weight").shape).toEqual([64, 32000]);
  });
});

describe("plantedDirections", () => {
  it("has the prescribed cosines to the base and to each other", () => {
    const angles = [0, 0.2, Math.PI / 4, 1.2, Math.PI / 2, 2.5];
    const p = plantedDirections(96, 5, { angles });
    expect(p.directions).toHaveLength(angles.length);
    expect(Math.sqrt(p.base.reduce((a, x) => a + x * x, 0))).toBeCloseTo(1, 6);
    for (let a = 0; a < angles.length; a++) {
      const da = p.directions[a];
      expect(Math.sqrt(da.reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 6);
      expect(Math.abs(cosine(da, p.base) - Math.cos(angles[a]))).toBeLessThan(1e-6);
      expect(p.baseCosines[a]).toBe(Math.cos(angles[a]));
      for (let b = 0; b < angles.length; b++) {
        const want = a === b ? 1 : Math.cos(angles[a]) * Math.cos(angles[b]);
        expect(p.cosines[a][b]).toBe(want);
        expect(Math.abs(cosine(da, p.directions[b]) - want), `${a},${b}`).toBeLessThan(1e-6);
      }
    }
  });

  it("uses a given base, is deterministic per seed, and checks dimensions", () => {
    const base = new Float32Array(32);
    base[3] = 2;
    const p = plantedDirections(32, 1, { base, angles: [0.5] });
    expect(p.base[3]).toBe(1);
    expect(Math.abs(cosine(p.directions[0], base) - Math.cos(0.5))).toBeLessThan(1e-6);
    expect(plantedDirections(32, 1, { angles: [0.5, 1] })).toEqual(plantedDirections(32, 1, { angles: [0.5, 1] }));
    expect(plantedDirections(32, 2, { angles: [0.5] }).base).not.toEqual(plantedDirections(32, 1, { angles: [0.5] }).base);
    expect(() => plantedDirections(4, 1, { angles: [1, 2, 3, 4] })).toThrow(/nEmbd ≥ 5/);
  });
});

describe("planting", () => {
  it("shifts exactly the chosen embedding rows by ±alpha·u and records the ground truth", async () => {
    const dirs = plantedDirections(TINY.nEmbd, 3, { angles: [0.4, 1.1] });
    const alpha = 2.5;
    const beta = 1.25;
    const planted = [
      { concept: "care", lang: "en", posTokens: [10, 20], negTokens: [30], direction: Array.from(dirs.directions[0], (x) => 3 * x), alpha },
      { concept: "fairness", lang: "de", posTokens: [20], negTokens: [40, 41], direction: dirs.directions[1], alpha: beta },
    ];
    const base = await synthModel({ ...TINY, out: join(dir, "plain.gguf"), builtinVocabSize: 300 });
    const res = await synthModel({ ...TINY, out: join(dir, "planted.gguf"), builtinVocabSize: 300, planted });
    // Directions are normalised to unit length.
    expect(Math.abs(cosine(res.planted[0].direction, dirs.directions[0]) - 1)).toBeLessThan(1e-6);
    expect(Math.sqrt(res.planted[0].direction.reduce((a, x) => a + x * x, 0))).toBeCloseTo(1, 6);

    const [g0, g1] = await Promise.all([readGguf(base.path), readGguf(res.path)]);
    const e0 = await readTensorF32(base.path, tensor(g0, "token_embd.weight"));
    const e1 = await readTensorF32(res.path, tensor(g1, "token_embd.weight"));
    const n = TINY.nEmbd;
    const u = res.planted[0].direction;
    const w = res.planted[1].direction;
    const expectedShift = (tok: number): (i: number) => number => {
      const su = (planted[0].posTokens.includes(tok) ? 1 : 0) - (planted[0].negTokens.includes(tok) ? 1 : 0);
      const sw = (planted[1].posTokens.includes(tok) ? 1 : 0) - (planted[1].negTokens.includes(tok) ? 1 : 0);
      return (i) => su * alpha * u[i] + sw * beta * w[i];
    };
    for (let tok = 0; tok < res.nVocab; tok++) {
      const shift = expectedShift(tok);
      for (let i = 0; i < n; i++) {
        const d = e1[tok * n + i] - e0[tok * n + i];
        if (Math.abs(d - shift(i)) > 1e-6) throw new Error(`token ${tok} dim ${i}: shift ${d}, expected ${shift(i)}`);
      }
    }
    // pos − neg separation grows by exactly 2·alpha·u.
    for (let i = 0; i < n; i++) {
      const before = e0[10 * n + i] - e0[30 * n + i];
      const after = e1[10 * n + i] - e1[30 * n + i];
      expect(Math.abs(after - before - 2 * alpha * u[i])).toBeLessThan(1e-6);
    }
    // Everything else is byte-identical.
    const q0 = await readTensorF32(base.path, tensor(g0, "blk.0.attn_q.weight"));
    const q1 = await readTensorF32(res.path, tensor(g1, "blk.0.attn_q.weight"));
    expect(q1).toEqual(q0);

    const info = await readSynthInfo(res.path);
    expect(info).not.toBeNull();
    expect(info?.seed).toBe(TINY.seed);
    expect(info?.planted.map((p) => [p.concept, p.lang, p.alpha, p.posTokens, p.negTokens])).toEqual([
      ["care", "en", alpha, [10, 20], [30]],
      ["fairness", "de", beta, [20], [40, 41]],
    ]);
    expect(info?.planted[0].direction).toEqual(u);
    expect(info?.planted[1].direction).toEqual(w);
    const row = await readTensorRowsF32(res.path, tensor(g1, "token_embd.weight"), 20, 1);
    expect(row).toEqual(e1.subarray(20 * n, 21 * n));
  });

  it("returns null synth info for other GGUFs", async () => {
    const vocab = findVocab(LLAMA_SPM_VOCAB);
    if (!vocab) return;
    expect(await readSynthInfo(vocab)).toBeNull();
  });
});
