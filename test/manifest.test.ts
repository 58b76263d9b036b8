// Experiment manifests: validation errors name the offending key path, unknown keys are rejected, defaults are
// filled in, and the hash identifies the normalised content. Shard parsing and assignment.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ManifestError, manifestHash, parseManifest, validateManifest } from "../src/run/manifest.js";
import { assignShards, parseShard, shardFromEnv } from "../src/run/shard.js";
import { packageRoot } from "../src/engine/native.js";

const base = {
  models: [{ id: "a", path: "a.gguf", template: "raw" }],
  data: { path: "pairs.jsonl" },
  concepts: ["morality"],
  languages: ["en", "fr"],
};

function issues(value: unknown): string[] {
  try {
    validateManifest(value);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).issues;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("manifest validation", () => {
  test("defaults", () => {
    const m = validateManifest(base);
    expect(m.version).toBe(1);
    expect(m.methods).toEqual(["mean_diff"]);
    expect(m.layers).toBe("all");
    expect(m.position).toBe("last");
    expect(m.split).toEqual({ seed: 1, trainFraction: 0.8, valFraction: 0.1 });
    expect(m.analyses).toEqual(["recognition", "similarity", "transfer", "correlation"]);
    expect(m.analysis).toEqual({ ties: "correct", bootstrap: 1000 });
    expect(m.extract).toEqual({ seed: 1 });
    expect(m.capture).toEqual({ chunkTexts: 256 });
    expect(m.output).toEqual({ f16: false });
    expect(m.models[0]).toEqual({ id: "a", path: "a.gguf", template: "raw", session: {}, weight: 1 });
  });

  test("model ids default from the file name; synthetic models get their defaults", () => {
    const m = validateManifest({
      ...base,
      models: [{ path: "dir/Qwen2.5-0.5B.Q8_0.gguf" }, { synth: { dim: 32 } }],
      data: { synth: { angles: { morality: { en: 0, fr: 30 } } } },
    });
    expect(m.models[0].id).toBe("Qwen2.5-0.5B.Q8_0");
    expect(m.models[0].template).toBe("auto");
    expect(m.models[1].id).toBe("model-1");
    expect(m.models[1].synth).toMatchObject({ vocab: "qwen2", dim: 32, layers: 4, heads: 4, kvHeads: 4, ff: 64, plant: true, alpha: 15 });
    expect(m.data.synth).toMatchObject({ vocab: "qwen2", seed: 1, items: 60, wordsPerSide: 16 });
  });

  test("errors point at the key path", () => {
    expect(issues({ ...base, models: [base.models[0], { id: "b", path: "b.gguf", template: "foo" }] })).toEqual([
      "models[1].template: unknown template 'foo' (use llama2-chat, qwen-chat, bloomz, raw, auto, gguf or a text containing {input})",
    ]);
    expect(issues({ ...base, methods: ["mean_diff", "svd"] })).toEqual(["methods[1]: must be one of mean_diff, pca, random, logistic, got string \"svd\""]);
    expect(issues({ ...base, split: { trainFraction: 1.5 } })).toEqual(["split.trainFraction: must be in (0, 1), got 1.5"]);
    expect(issues({ ...base, models: [{ ...base.models[0], session: { batchSize: 0 } }] })).toEqual(["models[0].session.batchSize: must be between 1 and 9007199254740991, got 0"]);
    expect(issues({ ...base, models: [{ ...base.models[0], rpc: ["localhost"] }] })).toEqual(["models[0].rpc[0]: 'localhost' is not host:port"]);
    expect(issues({ ...base, layers: "1-3,final_nrom" })[0]).toMatch(/^layers: unknown layer 'final_nrom'/);
    expect(issues({ ...base, concepts: ["a/b"] })[0]).toMatch(/^concepts\[0\]: 'a\/b' is not a valid name/);
    expect(issues({ ...base, languages: ["en", "en"] })).toEqual(["languages[1]: duplicate 'en'"]);
    expect(issues({ ...base, analysis: { highResource: ["zh"] } })).toEqual(["analysis.highResource[0]: 'zh' is not one of the languages (en, fr)"]);
  });

  test("unknown keys are rejected wherever they are", () => {
    expect(issues({ ...base, mehtods: ["pca"] })[0]).toMatch(/^mehtods: unknown key \(allowed: version, name, models, data/);
    expect(issues({ ...base, models: [{ ...base.models[0], gpu_layers: 3 }] })[0]).toMatch(/^models\[0\]\.gpu_layers: unknown key/);
    expect(issues({ ...base, output: { f16: true, parquet: true } })[0]).toMatch(/^output\.parquet: unknown key \(allowed: f16\)/);
    expect(issues({ ...base, data: { synth: { angles: { morality: { en: 0, fr: 0 } }, itemz: 3 } } })[0]).toMatch(/^data\.synth\.itemz: unknown key/);
  });

  test("every problem is reported at once", () => {
    const all = issues({ models: [{ id: "x" }, { id: "x", path: "p.gguf", synth: {} }], data: {}, concepts: [], position: "first" });
    expect(all).toEqual(
      expect.arrayContaining([
        "models[0]: give exactly one of 'path' (a GGUF file) or 'synth' (a synthetic model)",
        "models[1]: give exactly one of 'path' (a GGUF file) or 'synth' (a synthetic model)",
        "models[1].id: duplicate model id 'x' (also models[0]); set distinct ids",
        "concepts: must not be empty",
        "languages: required: a list of names",
        "data: give 'path' (MVALUE folder or .jsonl), 'datasets' (+ 'dataRoot') or 'synth'",
        "position: must be one of last, mean, got string \"first\"",
      ]),
    );
  });

  test("synthetic data needs an angle for every cell; planting needs synthetic data", () => {
    expect(issues({ ...base, data: { synth: { angles: { morality: { en: 0 } } } } })).toEqual(["data.synth.angles.morality.fr: missing (every concept × language of the grid needs an angle)"]);
    expect(issues({ ...base, data: { synth: { angles: { morality: { en: 0, fr: 120 } } } } })).toEqual(["data.synth.angles.morality.fr: must be between 0 and 90 (degrees), got 120"]);
    expect(issues({ ...base, models: [{ synth: { plant: true } }] })).toEqual(["models[0].synth.plant: planting needs data.synth (the planted words come from it)"]);
    expect(issues({ ...base, models: [{ synth: { dim: 60, heads: 8 } }] })[0]).toMatch(/^models\[0\]\.synth\.heads: dim 60 must split/);
  });

  test("JSON manifests are read as well", () => {
    expect(parseManifest(JSON.stringify({ ...base, methods: ["pca"] })).methods).toEqual(["pca"]);
  });

  test("YAML parse errors and top-level shapes", () => {
    expect(() => parseManifest("models: [a, b\n", "m.yaml")).toThrow(/m\.yaml: not valid YAML/);
    expect(issues([1, 2])).toEqual(["(top level): must be a mapping, got a list"]);
    expect(issues({ ...base, version: 2 })).toEqual(["version: must be 1, got number 2"]);
  });

  test("the hash is of the normalised content", () => {
    const a = validateManifest(base);
    const b = validateManifest({ ...base, methods: ["mean_diff"], position: "last", layers: "all" });
    expect(manifestHash(a)).toBe(manifestHash(b));
    expect(manifestHash(validateManifest({ ...base, methods: ["pca"] }))).not.toBe(manifestHash(a));
    expect(validateManifest({ ...base, layers: [1, "2", "final_norm"] }).layers).toBe("1,2,final_norm");
  });

  test("the shipped example manifest is valid", () => {
    const text = readFileSync(join(packageRoot(), "docs", "examples", "synthetic-grid.yaml"), "utf8");
    const m = parseManifest(text);
    expect(m.models.map((x) => x.id)).toEqual(["small", "deeper"]);
    expect(m.concepts.length * m.languages.length * m.models.length).toBe(12);
  });
});

describe("shards", () => {
  test("--shard i/N is 0-based and validated", () => {
    expect(parseShard("0/3")).toEqual({ index: 0, count: 3 });
    expect(parseShard(" 2 / 3 ")).toEqual({ index: 2, count: 3 });
    expect(() => parseShard("3/3")).toThrow(/outside 0\.\.2 \(shard indices are 0-based/);
    expect(() => parseShard("1/0")).toThrow(/count must be an integer ≥ 1/);
    expect(() => parseShard("1of3")).toThrow(/i\/N/);
  });

  test("from SLURM arrays, Kubernetes indexed Jobs and VALUELENS_SHARD", () => {
    expect(shardFromEnv({})).toBeNull();
    expect(shardFromEnv({ VALUELENS_SHARD: "1/4" })).toEqual({ index: 1, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "0" })).toEqual({ index: 2, count: 4 });
    // --array=1-4: shifted to 0-based.
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "4" })).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "5", SLURM_ARRAY_TASK_COUNT: "4" })).toThrow(/outside 0\.\.3/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_STEP: "2" })).toThrow(/contiguous array/);
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: "0", VALUELENS_SHARDS: "3" })).toEqual({ index: 0, count: 3 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: "2" }, 3)).toEqual({ index: 2, count: 3 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: "1" })).toThrow(/--shards N or set VALUELENS_SHARDS/);
    expect(() => shardFromEnv({ VALUELENS_SHARDS: "3" })).toThrow(/without a shard index/);
  });

  test("assignment: contiguous, balanced by cost, every unit exactly once", () => {
    expect(assignShards([1, 1, 1, 1, 1, 1], 3)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(assignShards([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1).every((s) => s === 0)).toBe(true);
    // An expensive unit gets a shard mostly to itself.
    expect(assignShards([1, 1, 10, 1, 1], 2)).toEqual([0, 0, 1, 1, 1]);
    expect(assignShards([5, 1, 1, 1, 1, 1], 2)).toEqual([0, 1, 1, 1, 1, 1]);
    // More shards than units: some shards are empty, none out of range.
    const many = assignShards([1, 1], 5);
    expect(many.every((s) => s >= 0 && s < 5)).toBe(true);
    expect(new Set(many).size).toBe(2);
  });
});
