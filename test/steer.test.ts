// Steering API: planted-direction steering moves planted tokens' log-probs monotonically with the coefficient; entries
// for layer ranges, per-layer coefficients, weighted sums and raw vectors; residual-norm scaling from an activation
// file; withSteering never leaks.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, type Model, type Session } from "../src/index.js";
import { plantedDirections } from "../src/gguf/index.js";
import { openActivationWriter, type ActivationRow, type Provenance, type VectorFile, type VectorRow } from "../src/store/index.js";
import { applySteering, buildSteering, findVector, parseLayerSpec, residualNorms, withSteering } from "../src/steer/steer.js";
import { hasVocabs, plantedTinyModel, tempDir } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const D = 64;
const L = 4;

function provenance(kind: Provenance["kind"]): Provenance {
  return {
    kind,
    valuelensVersion: "test",
    createdAt: "2024-01-01T00:00:00.000Z",
    model: { file: "planted.gguf", sha256: "0".repeat(64), arch: "llama", name: "planted", nLayer: L, nEmbd: D },
    layerConvention: "hf-hidden-states",
    position: "last",
    templates: { raw: "{input}" },
  };
}

function row(concept: string, lang: string, layer: string, unit: Float32Array, opts: Partial<VectorRow> = {}): VectorRow {
  return { concept, lang, layer, method: "mean_diff", unit, raw: unit.map((x) => 2.5 * x), sign: 1, explainedVariance: null, nTrain: 10, ...opts };
}

const [direction, other] = plantedDirections(D, 3, { angles: [0, Math.PI / 2] }).directions;

/** A vector file: morality/en at layers 1..3 and resid_post:4 (`direction`), morality/fr (`other`), a pca row with sign −1. */
function vectorFile(direction: Float32Array, other: Float32Array): VectorFile {
  const rows: VectorRow[] = [];
  for (const layer of ["1", "2", "resid_post:3", "resid_post:4"]) {
    rows.push(row("morality", "en", layer, direction));
    rows.push(row("morality", "fr", layer, other));
  }
  rows.push(row("morality", "en", "2", direction, { method: "pca", raw: direction.map((x) => -3 * x), sign: -1 }));
  return { provenance: provenance("vectors"), nEmbd: D, rows };
}

describe("steering entries", () => {
  const vf = vectorFile(direction, other);

  test("layer ranges, per-layer coefficients (array or by name), weighted sums", () => {
    expect(parseLayerSpec("2-4")).toEqual([2, 3, 4]);
    expect(parseLayerSpec("1, 3,resid_post:4")).toEqual([1, 3, "resid_post:4"]);
    expect(() => parseLayerSpec("4-2")).toThrow(/range/);
    expect(() => parseLayerSpec("5", L)).toThrow(/layers 1..4/);

    const plan = buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }, { concept: "morality", lang: "fr", weight: -0.5 }], layers: "1-3", coefficient: [1, 2, 3] });
    expect(plan.layers).toEqual(["1", "2", "3"]);
    expect(plan.entries.map((e) => [e.layer, e.coefficient])).toEqual([[1, 1], [1, -0.5], [2, 2], [2, -1], [3, 3], [3, -1.5]]);
    expect(plan.entries[0].vector).toBe(vf.rows[0].unit);
    expect(plan.entries[1].vector).toBe(vf.rows[1].unit);
    // Layer 3 is stored as resid_post:3 (the same site below the top).
    expect(plan.parts[4]).toMatchObject({ concept: "morality", lang: "en", method: "mean_diff", layer: "3", vectorLayer: "resid_post:3", weight: 1, coefficient: 3, scale: 1, effective: 3, vectorNorm: 1 });
    expect(plan.zero).toBe(false);

    const byName = buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [2, "resid_post:4"], coefficient: { "2": -4, "resid_post:4": 0.5 } });
    expect(byName.entries.map((e) => [e.layer, e.coefficient])).toEqual([[2, -4], ["resid_post:4", 0.5]]);
    expect(buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [1, 2], coefficient: 0 }).zero).toBe(true);
  });

  test("raw vectors are raw × sign; method selection; errors name what is missing", () => {
    const raw = buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en", method: "pca" }], layers: [2], coefficient: 2, vector: "raw" });
    const v = raw.entries[0].vector as Float32Array;
    for (let i = 0; i < D; i++) expect(v[i]).toBeCloseTo(3 * direction[i], 6);
    expect(raw.parts[0].vectorNorm).toBeCloseTo(3, 5);
    expect(raw.parts[0].effective).toBe(2);
    // Two methods at layer 2: mean_diff is the default.
    expect(findVector(vf, { concept: "morality", lang: "en", layer: 2 }).method).toBe("mean_diff");
    const one = (layers: string) => () => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers, coefficient: 1 });
    // Numeric layer L (the top, read after the final norm) cannot be steered: resid_post:L is the steerable site.
    expect(one("4")).toThrow(/cannot steer layer 4 \(the top\).*use "resid_post:4"/);
    expect(one("3,resid_post:3")).toThrow(/same site/);
    expect(() => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "de" }], layers: [1], coefficient: 1 })).toThrow(/no vectors for morality\/de/);
    expect(() => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [1, 2], coefficient: [1] })).toThrow(/2 layers/);
    expect(() => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [1], coefficient: 1, vector: "raw", scale: "residual", residualNorms: { "1": 2 } })).toThrow(/unit vectors/);
    expect(() => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [1], coefficient: 1, scale: "residual" })).toThrow(/residualNorms/);
  });

  test("residual-norm scaling uses the median norm measured from an activation file", async () => {
    const path = join(tmp.dir, "acts.arrow");
    const w = await openActivationWriter(path, { provenance: provenance("activations"), nEmbd: D, vectorType: "float32" });
    // Per layer, rows whose norms are known: the median of [a, b, c, d, e] sorted.
    const norms: Record<string, number[]> = { "1": [1, 2, 3, 100, 4], "2": [5, 6, 7, 8, 9], "resid_post:4": [10, 30, 20, 40, 50], "4": [1, 1, 1, 1, 1] };
    const rows: ActivationRow[] = Object.entries(norms).flatMap(([layer, ns]) =>
      ns.map((n, i) => {
        const v = new Float32Array(D);
        v[i % D] = n * 0.6;
        v[(i + 1) % D] = -n * 0.8;
        return { itemId: `x${i}`, concept: "c", lang: "en", side: i % 2 ? ("pos" as const) : ("neg" as const), split: "train" as const, template: "raw", layer, tokenCount: 3, vector: v };
      }),
    );
    await w.append(rows);
    await w.close();
    const med = await residualNorms(path);
    expect(med.get("1")).toBeCloseTo(3, 5);
    expect(med.get("2")).toBeCloseTo(7, 5);
    expect(med.get("resid_post:4")).toBeCloseTo(30, 5);
    const mean = await residualNorms(path, { layers: ["1"], statistic: "mean" });
    expect([...mean.keys()]).toEqual(["1"]);
    expect(mean.get("1")).toBeCloseTo(22, 4);

    const plan = buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [1, 2, "resid_post:4"], coefficient: 0.5, scale: "residual", residualNorms: med });
    expect(plan.parts.map((p) => p.scale)).toEqual([med.get("1"), med.get("2"), med.get("resid_post:4")]);
    expect(plan.entries.map((e) => e.coefficient)).toEqual([0.5 * med.get("1")!, 0.5 * med.get("2")!, 0.5 * med.get("resid_post:4")!]);
    // The top block's residual is resid_post:4, never layer 4 (read after the final norm).
    expect(() => buildSteering({ vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: ["resid_post:4"], coefficient: 1, scale: "residual", residualNorms: { "4": 1 } })).toThrow(
      /needs resid_post:4/,
    );
  });
});

describe.skipIf(!hasVocabs)("steering a planted model", () => {
  let model: Model;
  let session: Session;
  let pos: number[];
  let neg: number[];
  let vf: VectorFile;
  const prompt = "The weather today is";

  beforeAll(async () => {
    // The shared planted model (tied embeddings): planted words get ±6·direction in their embedding rows.
    const planted = await plantedTinyModel(tmp.dir);
    ({ pos, neg } = planted);
    vf = vectorFile(planted.direction, other);
    model = await loadModel(planted.path);
    session = await model.createSession({ contextSize: 1024, batchSize: 256, maxSequences: 4 });
  });
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  async function tokenLogprobs(tokens: readonly number[]): Promise<number[]> {
    const out: number[] = [];
    for (const t of tokens) out.push((await session.logprobs(prompt, Int32Array.of(t))).total);
    return out;
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  test("log-probs of planted positive tokens rise monotonically with the coefficient, negative ones fall", async () => {
    const base = { pos: await tokenLogprobs(pos), neg: await tokenLogprobs(neg) };
    const coefficients = [-6, -3, 0, 3, 6];
    const curve: Array<{ pos: number[]; neg: number[] }> = [];
    for (const c of coefficients) {
      curve.push(await withSteering(session, { vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: [2], coefficient: c }, async () => ({ pos: await tokenLogprobs(pos), neg: await tokenLogprobs(neg) })));
    }
    expect(session.steering).toEqual([]);
    for (let i = 1; i < coefficients.length; i++) {
      expect(mean(curve[i].pos), `pos at ${coefficients[i]}`).toBeGreaterThan(mean(curve[i - 1].pos));
      expect(mean(curve[i].neg), `neg at ${coefficients[i]}`).toBeLessThan(mean(curve[i - 1].neg));
    }
    // Coefficient 0 is exactly the unsteered model; the sign of the change follows the sign of the coefficient.
    expect(curve[2]).toEqual(base);
    for (let k = 0; k < pos.length; k++) {
      expect(curve[4].pos[k]).toBeGreaterThan(base.pos[k]);
      expect(curve[0].pos[k]).toBeLessThan(base.pos[k]);
    }
    for (let k = 0; k < neg.length; k++) {
      expect(curve[4].neg[k]).toBeLessThan(base.neg[k]);
      expect(curve[0].neg[k]).toBeGreaterThan(base.neg[k]);
    }
  });

  test("applySteering sets the entries; withSteering clears when fn throws and restores earlier steering", async () => {
    const spec = { vectors: vf, terms: [{ concept: "morality", lang: "en" }], layers: "1-2", coefficient: [2, 3] };
    await applySteering(session, spec);
    expect(session.steering.map((e) => [e.layer, e.coefficient])).toEqual([[1, 2], [2, 3]]);
    await applySteering(session, { ...spec, coefficient: 0 });
    expect(session.steering).toEqual([]);

    const before = (await session.logprobs(prompt, Int32Array.of(pos[0]))).total;
    await expect(
      withSteering(session, spec, async (s) => {
        expect(s.steering.length).toBe(2);
        expect((await s.logprobs(prompt, Int32Array.of(pos[0]))).total).toBeGreaterThan(before);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(session.steering).toEqual([]);
    expect((await session.logprobs(prompt, Int32Array.of(pos[0]))).total).toBe(before);

    // Nested: the outer steering comes back after the inner scope.
    await withSteering(session, spec, async () => {
      await withSteering(session, { ...spec, layers: [2], coefficient: -5 }, (s) => expect(s.steering.map((e) => e.coefficient)).toEqual([-5]));
      expect(session.steering.map((e) => e.coefficient)).toEqual([2, 3]);
    });
    expect(session.steering).toEqual([]);
    // A bad spec throws before anything is set.
    await expect(withSteering(session, { ...spec, layers: [4], coefficient: 1 }, () => undefined)).rejects.toThrow(/layer 4/);
    expect(session.steering).toEqual([]);
  });
});
