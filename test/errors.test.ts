// Errors a caller can branch on: each deliberate failure carries its documented `code` (README, "Error codes"),
// every cancellation is the one AbortError, and Model and Session work with `using`.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model } from "../src/index.js";
import { parseLayers } from "../src/engine/layers.js";
import { parseManifest } from "../src/run/manifest.js";
import { OutputLockedError, prepareOutput } from "../src/util/output.js";
import { AbortError, isAbortError, throwIfAborted, toAbortError, UsageError, ValuelensError } from "../src/util/errors.js";
import { tempDir, tinyModel } from "./helpers/fixtures.js";

const tmp = tempDir("valuelens-errors-");
let modelPath: string;

beforeAll(async () => {
  modelPath = (await tinyModel(tmp.dir, { seed: 5 })).path;
});
afterAll(() => tmp.cleanup());

describe("codes", () => {
  test("a layer list that does not parse or does not exist: VALUELENS_BAD_LAYER", () => {
    for (const spec of ["4-2", "two", "9", "resid_post:9", ","]) {
      expect(() => parseLayers(spec, 4), spec).toThrow(expect.objectContaining({ code: "VALUELENS_BAD_LAYER" }));
    }
    expect(parseLayers("all", 3)).toEqual([1, 2, 3]);
    expect(parseLayers(" 1 - 2 , final_norm", 4)).toEqual([1, 2, "final_norm"]);
  });

  test("a bad manifest: VALUELENS_BAD_MANIFEST; a bad command line: VALUELENS_USAGE", () => {
    expect(() => parseManifest("{}")).toThrow(expect.objectContaining({ code: "VALUELENS_BAD_MANIFEST" }));
    expect(new UsageError("x")).toMatchObject({ code: "VALUELENS_USAGE", name: "UsageError" });
  });

  test("outputs: VALUELENS_OUTPUT, and VALUELENS_LOCKED for one another process holds", async () => {
    const holder = { pid: 1, host: "h", command: "valuelens run", startedAt: "now", token: "t" };
    expect(new OutputLockedError("out", holder)).toMatchObject({ code: "VALUELENS_LOCKED", name: "OutputLockedError" });
    await expect(prepareOutput(join(tmp.dir, "missing-parent-file", "x"), "file")).resolves.toBeUndefined();
    writeFileSync(join(tmp.dir, "a-file"), "");
    await expect(prepareOutput(join(tmp.dir, "a-file", "x"), "file")).rejects.toMatchObject({ code: "VALUELENS_OUTPUT" });
  });

  test("a model file that is missing or not a GGUF: VALUELENS_BAD_MODEL", async () => {
    await expect(loadModel(join(tmp.dir, "nope.gguf"))).rejects.toMatchObject({ code: "VALUELENS_BAD_MODEL" });
    const junk = join(tmp.dir, "junk.gguf");
    writeFileSync(junk, "not a gguf file at all");
    await expect(loadModel(junk)).rejects.toMatchObject({ code: "VALUELENS_BAD_MODEL" });
  });

  test("calls after dispose(): VALUELENS_DISPOSED", async () => {
    const model = await loadModel(modelPath);
    const session = await model.createSession({ contextSize: 64, batchSize: 32, maxSequences: 1 });
    model.dispose();
    expect(() => model.tokenize("x")).toThrow(expect.objectContaining({ code: "VALUELENS_DISPOSED" }));
    await expect(session.capture(["x"], { layers: [1] })).rejects.toMatchObject({ code: "VALUELENS_DISPOSED" });
    await expect(model.createSession()).rejects.toMatchObject({ code: "VALUELENS_DISPOSED" });
  });
});

test("every code is documented in the README's table", () => {
  const codes = new Set(readFileSync(join(import.meta.dirname, "..", "src", "util", "errors.ts"), "utf8").match(/VALUELENS_[A-Z_]+/g));
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Error codes"));
  expect(codes.size).toBeGreaterThanOrEqual(12);
  for (const code of codes) expect(section, code).toContain(`| \`${code}\` |`);
});

describe("one AbortError", () => {
  test("a cancelled capture, an aborted signal and the platform's AbortError all become it", async () => {
    const model = await loadModel(modelPath);
    try {
      const session = await model.createSession({ contextSize: 64, batchSize: 32, maxSequences: 1 });
      const c = new AbortController();
      c.abort();
      const e = await session.capture(["x"], { layers: [1], signal: c.signal }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AbortError);
      expect(e).toMatchObject({ name: "AbortError", code: "VALUELENS_ABORTED" });
    } finally {
      model.dispose();
    }
    const platform = (() => {
      try {
        AbortSignal.abort().throwIfAborted();
      } catch (x) {
        return x;
      }
    })();
    expect(isAbortError(platform)).toBe(true);
    expect(toAbortError(platform)).toBeInstanceOf(AbortError);
    expect(toAbortError(new Error("other"))).not.toBeInstanceOf(AbortError);
    expect(() => throwIfAborted(AbortSignal.abort())).toThrow(AbortError);
    expect(new AbortError()).toBeInstanceOf(ValuelensError);
  });
});

describe("using", () => {
  test("Model and Session are disposed at the end of a `using` scope", async () => {
    let outer: Model;
    {
      using model = await loadModel(modelPath);
      outer = model;
      using session = await model.createSession({ contextSize: 64, batchSize: 32, maxSequences: 1 });
      expect((await session.capture(["x"], { layers: [1] })).layers).toEqual([1]);
    }
    expect(() => outer.tokenize("x")).toThrow(expect.objectContaining({ code: "VALUELENS_DISPOSED" }));
    {
      await using model = await loadModel(modelPath);
      outer = model;
    }
    expect(() => outer.tokenize("x")).toThrow(expect.objectContaining({ code: "VALUELENS_DISPOSED" }));
  });
});
