// Bad input is rejected with a clear message and the process survives.
import { copyFileSync, openSync, closeSync, ftruncateSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { readGguf, readTensorF32, writeGguf, type GgufKv } from "../src/gguf/index.js";
import { spmVocab, hasVocabs, tempDir, tinyModel } from "./helpers/fixtures.js";

const tmp = tempDir();
let good: string;
let model: Model;
let session: Session;

beforeAll(async () => {
  good = (await tinyModel(tmp.dir, { seed: 21 })).path;
  model = await loadModel(good);
  session = await model.createSession({ contextSize: 256, batchSize: 64, maxSequences: 4 });
});
afterAll(() => {
  session?.dispose();
  model?.dispose();
  tmp.cleanup();
});

describe("model files", () => {
  test("missing file", async () => {
    await expect(loadModel(join(tmp.dir, "nope.gguf"))).rejects.toThrow(/cannot open model file .*nope\.gguf.*no such file/);
  });

  test("a file that is not GGUF", async () => {
    const p = join(tmp.dir, "not.gguf");
    writeFileSync(p, "this is plain text, not a model\n".repeat(10));
    await expect(loadModel(p)).rejects.toThrow(/not a GGUF file/);
  });

  test("a truncated GGUF (header intact, tensor data cut)", async () => {
    const p = join(tmp.dir, "truncated.gguf");
    copyFileSync(good, p);
    const fd = openSync(p, "r+");
    ftruncateSync(fd, Math.floor(statSync(good).size * 0.6));
    closeSync(fd);
    await expect(loadModel(p)).rejects.toThrow(/failed to load model .*truncated\.gguf/);
  });

  test("a GGUF truncated inside its header", async () => {
    const p = join(tmp.dir, "header-cut.gguf");
    copyFileSync(good, p);
    const fd = openSync(p, "r+");
    ftruncateSync(fd, 64);
    closeSync(fd);
    await expect(loadModel(p)).rejects.toThrow(/failed to load model/);
  });

  test("a GGUF with a tensor of the wrong shape", async () => {
    const src = await readGguf(good);
    const metadata: GgufKv[] = [...src.metadata].map(([key, v]) => ({ key, ...v }) as GgufKv);
    const tensors = await Promise.all(
      src.tensors.map(async (t) => {
        const data = await readTensorF32(good, t);
        // attn_q of block 1 claims [nEmbd, nEmbd/2] instead of [nEmbd, nEmbd].
        if (t.name === "blk.1.attn_q.weight") return { name: t.name, shape: [t.shape[0], t.shape[1] / 2], type: 0 as const, data: data.subarray(0, data.length / 2) };
        return { name: t.name, shape: t.shape, type: 0 as const, data };
      }),
    );
    const p = join(tmp.dir, "bad-shape.gguf");
    await writeGguf(p, { metadata, tensors });
    await expect(loadModel(p)).rejects.toThrow(/blk\.1\.attn_q\.weight.*wrong shape|wrong shape.*blk\.1\.attn_q/);
  });

  test.skipIf(!hasVocabs)("a vocab-only load tokenizes but cannot make sessions", async () => {
    const v = await loadModel(spmVocab, { vocabOnly: true });
    expect(v.vocabOnly).toBe(true);
    expect(v.tokenize("hello world", { addSpecial: false }).length).toBeGreaterThan(0);
    await expect(v.createSession()).rejects.toThrow(/vocabOnly/);
    v.dispose();
  });
});

describe("requests", () => {
  test("unknown layers", async () => {
    await expect(session.capture(["x"], { layers: [0] })).rejects.toThrow(/unknown layer 0: this model has layers 1\.\.4/);
    await expect(session.capture(["x"], { layers: [5] })).rejects.toThrow(/unknown layer 5/);
    await expect(session.capture(["x"], { layers: ["resid_post:9" as const] })).rejects.toThrow(/resid_post takes 1\.\.4/);
    await expect(session.capture(["x"], { layers: [2, 2] })).rejects.toThrow(/requested twice/);
    await expect(session.capture(["x"], { layers: [] })).rejects.toThrow(/no layers/);
  });

  test("bad position, text longer than the batch, token ids outside the vocabulary", async () => {
    await expect(session.capture(["x"], { position: "first" as never })).rejects.toThrow(/position must be last, mean or all/);
    await expect(session.capture(["word ".repeat(200)])).rejects.toThrow(/text 0 has \d+ tokens, more than the session's batchSize \(64\)/);
    await expect(session.capture([Int32Array.from([1, 999999])])).rejects.toThrow(/token id 999999 outside the vocabulary/);
    expect(() => model.detokenize([5, -3])).toThrow(/outside the vocabulary/);
  });

  test("bad session options", async () => {
    await expect(model.createSession({ batchSize: 512, contextSize: 128 })).rejects.toThrow(/batchSize \(512\) must not exceed contextSize \(128\)/);
    await expect(model.createSession({ kvType: "f8" as never })).rejects.toThrow(/kvType must be f16, f32 or q8_0/);
    await expect(model.createSession({ maxSequences: 100000 })).rejects.toThrow(/maxSequences must be an integer/);
  });

  test("generation and log-prob requests out of range", async () => {
    await expect(session.complete("hi", { maxTokens: 0 })).rejects.toThrow(/maxTokens must be a positive integer/);
    await expect(session.generateBatch(Array(5).fill("hi"))).rejects.toThrow(/exceed this session's maxSequences \(4\)/);
    await expect(session.logprobs(new Int32Array(0), " x")).rejects.toThrow(/prompt has no tokens/);
    await expect(session.complete("hi", { grammar: "root ::= (" , maxTokens: 2 })).rejects.toThrow(/invalid grammar/);
  });

  test("disposed objects", async () => {
    const m = await loadModel(good);
    const s = await m.createSession({ contextSize: 64, batchSize: 64 });
    s.dispose();
    await expect(s.capture(["x"])).rejects.toThrow(/session has been disposed/);
    m.dispose();
    expect(() => m.tokenize("x")).toThrow(/model has been disposed/);
  });
});
