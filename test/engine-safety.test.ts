// The engine fails loudly instead of returning silently wrong numbers, and survives misuse:
// exact capture on a recurrent architecture, sites and steering an architecture cannot provide,
// validation at the native boundary, generation state, thread counts, open/dropped iterators,
// dispose semantics, and errors raised inside the eval callback or while building a result.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { native, type NativeModel, type NativeSession } from "../src/engine/native.js";
import { mambaModel, relabelArch } from "./helpers/arch-models.js";
import { EXACT_SESSION, maxAbsDiff, tempDir, tinyModel } from "./helpers/fixtures.js";

const tmp = tempDir("valuelens-safety-");
let llamaPath: string;
let model: Model;
let session: Session;

beforeAll(async () => {
  llamaPath = (await tinyModel(tmp.dir, { seed: 31 })).path;
  model = await loadModel(llamaPath);
  session = await model.createSession({ contextSize: 256, batchSize: 128, maxSequences: 4, ...EXACT_SESSION });
});
afterAll(() => {
  session?.dispose();
  model?.dispose();
  delete process.env.VALUELENS_FAULT;
  tmp.cleanup();
});

describe.each(["callback", "graph"] as const)("recurrent memory (Mamba): one sequence per decode (captureMethod %s)", (captureMethod) => {
  test("texts of 1 and 3+ tokens packed together get their own rows, identical to capturing each alone", async () => {
    const path = await mambaModel(tmp.dir, llamaPath);
    const m = await loadModel(path);
    const s = await m.createSession({ contextSize: 256, batchSize: 64, maxSequences: 4, ...EXACT_SESSION, captureMethod });
    try {
      expect(m.arch).toBe("mamba");
      const texts = [Int32Array.from([5]), Int32Array.from([9, 40, 77, 12]), Int32Array.from([100, 3])];
      const layers = [1, 2, "resid_post:3" as const, 3];
      for (const position of ["last", "all", "mean"] as const) {
        const packed = await s.capture(texts, { layers, position });
        for (let t = 0; t < texts.length; t++) {
          const alone = await s.capture([texts[t]], { layers, position });
          for (const l of layers) {
            const tokens = position === "all" ? texts[t].length : 1;
            for (let p = 0; p < tokens; p++) {
              expect(maxAbsDiff(packed.row(l, t, p), alone.row(l, 0, p)), `${position} text ${t} layer ${String(l)} token ${p}`).toBe(0);
            }
          }
        }
        // The rows are real activations, not zero-filled buffers.
        expect(maxAbsDiff(packed.row(2, 0), new Float32Array(m.nEmbd))).toBeGreaterThan(1e-3);
      }
    } finally {
      s.dispose();
      m.dispose();
    }
  });
});

describe("architectures without the sites (EuroBERT names no l_out-k and applies no control vector)", () => {
  let m: Model;
  let s: Session;
  beforeAll(async () => {
    m = await loadModel(await relabelArch(llamaPath, join(tmp.dir, "eurobert.gguf"), "eurobert"));
    s = await m.createSession({ contextSize: 128, batchSize: 64, maxSequences: 2 });
  });
  afterAll(() => {
    s?.dispose();
    m?.dispose();
  });

  test("a requested site that never fires is an error, not a zero-filled buffer", async () => {
    expect(m.arch).toBe("eurobert");
    await expect(s.capture(["hello"], { layers: [2] })).rejects.toThrow(/layer site l_out-1 never fired: architecture 'eurobert'/);
  });

  test("the same with graph-output capture", async () => {
    const g = await m.createSession({ contextSize: 128, batchSize: 64, maxSequences: 2, captureMethod: "graph" });
    try {
      for (const position of ["last", "mean", "all"] as const) {
        await expect(g.capture(["hello"], { layers: [2], position })).rejects.toThrow(/layer site l_out-1 never fired: architecture 'eurobert'/);
      }
    } finally {
      g.dispose();
    }
  });

  test("steering that cannot apply is rejected at the first decode", async () => {
    const v = new Float32Array(m.nEmbd).fill(0.5);
    await s.setSteering([{ layer: 2, vector: v }]);
    await expect(s.logprobs("hello", " world")).rejects.toThrow(/steering layer 2 cannot apply on architecture 'eurobert'/);
    await s.setSteering([{ layer: 1, vector: v }]);
    await expect(s.complete("hello", { maxTokens: 2 })).rejects.toThrow(/steering layer 1 cannot apply on architecture 'eurobert'/);
    await s.clearSteering();
    const lp = await s.logprobs("hello", " world");
    expect(Number.isFinite(lp.total)).toBe(true);
  });
});

describe("capture methods", () => {
  test("captureMethod is validated; graph capture needs no eval hook, the callback does", async () => {
    expect(session.captureMethod).toBe("callback"); // auto on the CPU
    await expect(model.createSession({ captureMethod: "gpu" as never })).rejects.toThrow(/captureMethod must be 'auto', 'graph' or 'callback' \(got 'gpu'\)/);
    const g = await model.createSession({ contextSize: 256, batchSize: 128, maxSequences: 4, ...EXACT_SESSION, hooks: false, captureMethod: "graph" });
    const c = await model.createSession({ contextSize: 256, batchSize: 128, maxSequences: 4, ...EXACT_SESSION, hooks: false, captureMethod: "callback" });
    try {
      const a = await g.capture(["no hook needed", "x"], { layers: [1, 4, "final_norm"], position: "mean" });
      const b = await session.capture(["no hook needed", "x"], { layers: [1, 4, "final_norm"], position: "mean" });
      for (const k of [1, 4, "final_norm"] as const) expect(maxAbsDiff(a.layer(k), b.layer(k)), String(k)).toBeLessThanOrEqual(1e-5);
      await expect(c.capture(["x"], { layers: [1] })).rejects.toThrow(/hooks: false and cannot capture through the eval callback/);
    } finally {
      g.dispose();
      c.dispose();
    }
  });
});

describe("native boundary", () => {
  let nm: NativeModel;
  let ns: NativeSession;
  beforeAll(async () => {
    nm = await native().loadModel(llamaPath, {});
    ns = await nm.createSession({ contextSize: 128, batchSize: 64, maxSequences: 2 });
  });
  afterAll(() => {
    ns?.dispose();
    nm?.dispose();
  });

  test("NaN, fractional and out-of-range numbers are rejected, not coerced", async () => {
    const d = nm.info().nEmbd;
    const v = new Float32Array(d).fill(1);
    expect(() => ns.setSteering([{ block: NaN, vector: v }])).toThrow(/setSteering: block must be an integer in 0\.\.3 \(got NaN\)/);
    expect(() => ns.setSteering([{ block: 2.7, vector: v }])).toThrow(/block must be an integer.*2\.7/);
    expect(() => ns.setSteering([{ block: 1, vector: Float32Array.from(v, (x, i) => (i === 2 ? Infinity : x)) }])).toThrow(/non-finite value at 2/);
    expect(() => ns.setSteering([{ block: 1, vector: v }, { block: 1, vector: v }])).toThrow(/block 1 given twice/);
    expect(() => ns.capture(["x"], { sites: [NaN], mode: 0 })).toThrow(/site must be an integer/);
    expect(() => ns.capture(["x"], { sites: [1.5], mode: 0 })).toThrow(/site must be an integer/);
    expect(() => ns.capture(["x"], { sites: [1], mode: 0.5 })).toThrow(/mode must be an integer in 0\.\.2/);
    expect(() => ns.genStart([Int32Array.from([1, 2])], { temperature: NaN })).toThrow(/temperature must be a finite number/);
    expect(() => ns.genStart([Int32Array.from([1, 2])], { topK: 1.5 })).toThrow(/topK must be an integer/);
    expect(() => ns.genStop(NaN)).toThrow(/sequence must be an integer/);
    expect(() => nm.createSession({ threads: 2.5 })).toThrow(/threads must be an integer/);
  });

  test("capture and logprobs end a generation in progress: genStep then fails instead of continuing without the prompt", async () => {
    const prompt = Int32Array.from([1, 50, 60, 70]);
    const first = await ns.genStart([prompt], { temperature: 0 });
    expect(first.tokens[0]).toBeGreaterThanOrEqual(0);
    await ns.capture([Int32Array.from([1, 8, 9])], { sites: [1], mode: 0 });
    await expect(ns.genStep()).rejects.toThrow(/no generation in progress/);
    await ns.genStart([prompt], { temperature: 0 });
    await ns.logprobs(Int32Array.from([1, 5]), Int32Array.from([6]));
    await expect(ns.genStep()).rejects.toThrow(/no generation in progress/);
  });

  test("a full context stops generation with the same clear error on every later step", async () => {
    const small = await nm.createSession({ contextSize: 16, batchSize: 16, maxSequences: 1 });
    try {
      const nCtx = small.info().contextSize; // llama.cpp may round the size up
      let step = await small.genStart([Int32Array.from([1, 30, 31, 32, 33, 34, 35, 36, 37, 38])], { temperature: 1, seed: 3 });
      let error: unknown;
      for (let i = 0; i < nCtx + 4 && step.eog[0] === 0; i++) {
        try {
          step = await small.genStep();
        } catch (e) {
          error = e;
          break;
        }
      }
      expect(step.eog[0], "the seeded sampler produced an end-of-generation token; pick another seed").toBe(0);
      const full = new RegExp(`reached contextSize \\(${nCtx} tokens\\)`);
      expect(String(error)).toMatch(full);
      await expect(small.genStep()).rejects.toThrow(full);
    } finally {
      small.dispose();
    }
  });
});

describe("threads", () => {
  test("a huge thread count is clamped to the CPUs available; the default respects them too", async () => {
    const many = await model.createSession({ contextSize: 64, batchSize: 64, threads: 600 });
    const dflt = await model.createSession({ contextSize: 64, batchSize: 64 });
    try {
      expect(many.threads).toBeGreaterThanOrEqual(1);
      expect(many.threads).toBeLessThanOrEqual(availableParallelism());
      expect(dflt.threads).toBe(many.threads);
      const r = await many.capture(["threads"], { layers: [1] });
      expect(r.nTexts).toBe(1);
    } finally {
      many.dispose();
      dflt.dispose();
    }
  });
});

describe("generate() iterators", () => {
  test("a call made while an iterator is open is rejected with VALUELENS_BUSY; return() releases the session", async () => {
    const it = session.generate("Once upon a time", { maxTokens: 50 });
    await it.next();
    await expect(session.capture(["x"], { layers: [1] })).rejects.toMatchObject({ code: "VALUELENS_BUSY" });
    await expect(session.logprobs("a", " b")).rejects.toThrow(/a generate\(\) iterator is open/);
    await it.return(undefined as never);
    const r = await session.capture(["x"], { layers: [1] });
    expect(r.nTexts).toBe(1);
  });

  test("a dropped iterator releases the session when it is garbage-collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    await (async () => {
      const it = session.generate("Dropped without return", { maxTokens: 50 });
      await it.next();
    })();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      try {
        await session.capture(["after drop"], { layers: [1] });
        ok = true;
      } catch (e) {
        expect(e).toMatchObject({ code: "VALUELENS_BUSY" });
      }
    }
    expect(ok).toBe(true);
  });
});

describe("dispose", () => {
  test("disposing a model disposes its sessions: every call then fails the same way", async () => {
    const m = await loadModel(llamaPath);
    const s = await m.createSession({ contextSize: 64, batchSize: 64 });
    m.dispose();
    await expect(s.capture(["x"])).rejects.toThrow(/session has been disposed/);
    await expect(s.logprobs("a", " b")).rejects.toThrow(/session has been disposed|model has been disposed/);
    await expect(s.complete("a", { maxTokens: 1 })).rejects.toThrow(/session has been disposed|model has been disposed/);
    await expect(m.createSession()).rejects.toThrow(/model has been disposed/);
  });
});

describe("steering inside the graph", () => {
  test("layer 1 is steered as a control vector: a session without the eval hook gives the same log-probs as one with it", async () => {
    const plain = await model.createSession({ contextSize: 256, batchSize: 128, hooks: false, ...EXACT_SESSION });
    try {
      const v = Float32Array.from({ length: model.nEmbd }, (_, i) => Math.sin(i));
      const base = await plain.logprobs("Steer the first block", " and see");
      await plain.setSteering([{ layer: 1, vector: v, coefficient: 3 }]);
      await session.setSteering([{ layer: 1, vector: v, coefficient: 3 }]);
      const a = await plain.logprobs("Steer the first block", " and see");
      const b = await session.logprobs("Steer the first block", " and see");
      await session.clearSteering();
      expect(maxAbsDiff(a.logprobs, b.logprobs)).toBe(0);
      expect(maxAbsDiff(a.logprobs, base.logprobs)).toBeGreaterThan(1e-3);
    } finally {
      plain.dispose();
    }
  });
});

describe("logprobs (float log-softmax)", () => {
  test("the probabilities of every vocabulary token sum to 1 (closed form)", async () => {
    const small = await tinyModel(tmp.dir, { seed: 41, vocabGguf: undefined, builtinVocabSize: 300, name: "vocab300" });
    const m = await loadModel(small.path);
    const s = await m.createSession({ contextSize: 64, batchSize: 64, ...EXACT_SESSION });
    try {
      const prompt = Int32Array.from([1, 77, 120, 9]);
      let total = 0;
      for (let t = 0; t < m.nVocab; t++) total += Math.exp((await s.logprobs(prompt, Int32Array.from([t]))).logprobs[0]);
      // float32 exp and sum over 300 terms: error well under 1e-5.
      expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-5);
    } finally {
      s.dispose();
      m.dispose();
    }
  });
});

describe("errors inside native callbacks", () => {
  test("an exception in the eval callback rejects the call and the session stays usable", async () => {
    process.env.VALUELENS_FAULT = "eval-callback";
    try {
      await expect(session.capture(["boom"], { layers: [2] })).rejects.toThrow(/eval callback: injected fault/);
    } finally {
      delete process.env.VALUELENS_FAULT;
    }
    const r = await session.capture(["fine"], { layers: [2] });
    expect(r.nTexts).toBe(1);
  });

  test("an exception while building the result rejects the promise instead of leaving it unsettled", async () => {
    process.env.VALUELENS_FAULT = "result";
    try {
      await expect(session.capture(["x"], { layers: [1] })).rejects.toThrow(/injected fault while building the result/);
    } finally {
      delete process.env.VALUELENS_FAULT;
    }
  });

  test("when external ArrayBuffers are refused the rows are copied, with identical values", async () => {
    const texts = ["copy me", "and me too"];
    const a = await session.capture(texts, { layers: [1, 4], position: "all" });
    process.env.VALUELENS_FAULT = "external-buffer";
    let b;
    try {
      b = await session.capture(texts, { layers: [1, 4], position: "all" });
    } finally {
      delete process.env.VALUELENS_FAULT;
    }
    expect(maxAbsDiff(a.layer(1), b.layer(1))).toBe(0);
    expect(maxAbsDiff(a.layer(4), b.layer(4))).toBe(0);
  });
});
