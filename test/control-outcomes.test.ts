// The control experiment's controls and outcomes without a model: the same-norm random direction, the classifier
// command protocol and its errors, prompts with continuations, and the concept-over-random contrast in closed form.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { randomControlLang, randomControlRows, withRandomControls } from "../src/steer/random-control.js";
import { ClassifierError, commandClassifier } from "../src/steer/scorers/classifier.js";
import { checkContinuations } from "../src/steer/scorers/preference.js";
import { parsePromptsJsonl } from "../src/steer/prompts.js";
import { summarizeControl, type ControlRow } from "../src/steer/control.js";
import { buildSteering } from "../src/steer/steer.js";
import type { VectorFile, VectorRow } from "../src/store/index.js";
import { tempDir } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function vectorFile(d: number): VectorFile {
  const rows: VectorRow[] = [];
  for (const lang of ["en", "fr"]) {
    for (let k = 1; k <= 3; k++) {
      const unit = new Float32Array(d);
      unit[k] = 1;
      rows.push({ concept: "morality", lang, layer: String(k), method: "mean_diff", unit, raw: unit.map((x) => x * (lang === "en" ? 5 : 2) * k), sign: 1, explainedVariance: null, nTrain: 10 });
    }
  }
  return { provenance: { kind: "vectors", valuelensVersion: "t", createdAt: "t", model: { file: "m", sha256: "0", arch: "llama", name: "m", nLayer: 4, nEmbd: d }, layerConvention: "hf-hidden-states", position: "last", templates: {} }, nEmbd: d, rows };
}

describe("same-norm random control", () => {
  const d = 4096;
  const vf = vectorFile(d);
  test("a unit random direction per layer, the source's raw norm, seeded, nearly orthogonal to the concept", () => {
    const a = randomControlRows(vf, { concept: "morality", lang: "en", method: "mean_diff", seed: 1 });
    expect(a.map((r) => [r.lang, r.layer])).toEqual([1, 2, 3].map((k) => ["en~random", String(k)]));
    for (const r of a) {
      const src = vf.rows.find((x) => x.lang === "en" && x.layer === r.layer)!;
      expect(Math.hypot(...r.unit)).toBeCloseTo(1, 6);
      expect(Math.hypot(...r.raw)).toBeCloseTo(Math.hypot(...src.raw), 4);
      // |cos| with the concept of a random unit vector in d dims is ~N(0, 1/d): 5 SD = 0.078.
      expect(Math.abs(r.unit.reduce((s, x, i) => s + x * src.unit[i], 0))).toBeLessThan(5 / Math.sqrt(d));
    }
    const again = randomControlRows(vf, { concept: "morality", lang: "en", method: "mean_diff", seed: 1 });
    expect(again.map((r) => Array.from(r.unit))).toEqual(a.map((r) => Array.from(r.unit)));
    const other = randomControlRows(vf, { concept: "morality", lang: "en", method: "mean_diff", seed: 2 });
    expect(Array.from(other[0].unit)).not.toEqual(Array.from(a[0].unit));
    // Layers and sources get different directions.
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(Math.abs(dot(a[0].unit, a[1].unit))).toBeLessThan(5 / Math.sqrt(d));
    const fr = randomControlRows(vf, { concept: "morality", lang: "fr", method: "mean_diff", seed: 1 });
    expect(Math.abs(dot(a[0].unit, fr[0].unit))).toBeLessThan(5 / Math.sqrt(d));
    expect(() => randomControlRows(vf, { concept: "morality", lang: "de", method: "mean_diff" })).toThrow(/no mean_diff vectors for morality\/de/);
  });

  test("steering plans of a source and its control inject vectors of the same norm (unit and raw)", () => {
    const all = withRandomControls(vf, { concept: "morality", method: "mean_diff", sources: ["en", "fr"] });
    for (const vector of ["unit", "raw"] as const) {
      for (const lang of ["en", "fr"]) {
        const spec = { vectors: all, layers: [1, 2, 3], coefficient: 3, vector, nLayer: 4 };
        const a = buildSteering({ ...spec, terms: [{ concept: "morality", lang }] });
        const b = buildSteering({ ...spec, terms: [{ concept: "morality", lang: randomControlLang(lang) }] });
        a.entries.forEach((e, i) => expect(Math.hypot(...b.entries[i].vector) * b.entries[i].coefficient!).toBeCloseTo(Math.hypot(...e.vector) * e.coefficient!, 3));
      }
    }
  });
});

describe("the classifier command", () => {
  const script = (name: string, body: string) => {
    const p = join(tmp.dir, name);
    writeFileSync(p, `import { createInterface } from "node:readline";\nconst lines = [];\nfor await (const l of createInterface({ input: process.stdin })) if (l.trim()) lines.push(JSON.parse(l));\n${body}\n`);
    return `"${process.execPath}" "${p}"`;
  };
  const items = [
    { id: "a", lang: "en", text: "one two" },
    { id: "b", lang: "fr", text: "trois" },
  ];

  test("reads JSON lines, gives one score per text in order (bare numbers or {score})", async () => {
    const c = commandClassifier(script("ok.mjs", `for (const [i, x] of lines.entries()) console.log(i % 2 ? JSON.stringify({ score: x.text.length / 10 }) : String(x.text.length / 10));`));
    expect(await c.score(items)).toEqual([0.7, 0.5]);
    expect(await c.score([])).toEqual([]);
  });

  test("a failing command, a wrong line count or a score outside [0, 1] is an error naming the command", async () => {
    const fail = commandClassifier(script("fail.mjs", `console.error("model file missing"); process.exit(3);`));
    await expect(fail.score(items)).rejects.toThrow(/fail\.mjs.*exited with 3: model file missing/);
    await expect(fail.score(items)).rejects.toBeInstanceOf(ClassifierError);
    const short = commandClassifier(script("short.mjs", `console.log("0.5");`));
    await expect(short.score(items)).rejects.toThrow(/1 output lines for 2 texts/);
    const big = commandClassifier(script("big.mjs", `for (const x of lines) console.log("1.5");`));
    await expect(big.score(items)).rejects.toThrow(/line 1 is not a score in \[0, 1\]: 1\.5/);
    const text = commandClassifier(script("text.mjs", `for (const x of lines) console.log("toxic");`));
    await expect(text.score(items)).rejects.toThrow(/line 1 is not JSON: toxic/);
    expect(() => commandClassifier("  ")).toThrow(/empty command/);
  });

  test("an abort stops the command", async () => {
    const slow = commandClassifier(script("slow.mjs", `await new Promise((r) => setTimeout(r, 20000));`));
    const ac = new AbortController();
    const t0 = Date.now();
    const p = slow.score(items, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe("continuations", () => {
  test("prompts may carry positive/negative continuations (a string or a list), both or neither", () => {
    const ps = parsePromptsJsonl(['{"id":"1","lang":"en","prompt":"p","positive":" no","negative":[" sure"," ok"]}', '{"id":"2","lang":"en","prompt":"q"}'].join("\n"));
    expect(ps[0]).toMatchObject({ positive: [" no"], negative: [" sure", " ok"] });
    expect(ps[1].positive).toBeUndefined();
    expect(() => parsePromptsJsonl('{"id":"1","lang":"en","prompt":"p","positive":" no"}', "f.jsonl")).toThrow(/f\.jsonl:1: "positive" and "negative" go together/);
    expect(() => parsePromptsJsonl('{"id":"1","lang":"en","prompt":"p","positive":[],"negative":"x"}', "f.jsonl")).toThrow(/"positive" must be a non-empty string/);
    expect(() => checkContinuations({ positive: ["a"], negative: [] }, "en")).toThrow(/en: no negative continuations/);
  });
});

describe("concept over random, closed form", () => {
  test("overRandom = slope(S) − slope(S~random), paired over prompts", () => {
    // Metric = slope × coefficient + a per-prompt offset: slopes 0.5 (en) and 0.1 (en~random), exactly.
    const coefficients = [-2, 0, 2];
    const rows: ControlRow[] = [];
    for (const [source, slope] of [["en", 0.5], ["en~random", 0.1]] as const) {
      for (const c of coefficients) {
        for (let p = 0; p < 6; p++) {
          rows.push({ id: `p${p}`, source, target: "fr", coefficient: c, representation: slope * c + p * 0.3 } as ControlRow);
        }
      }
    }
    const s = summarizeControl(rows, { sources: ["en", "en~random"], targets: ["fr"], coefficients, metrics: ["representation"], randomControls: { "en~random": "en" }, bootstrap: { samples: 200 } });
    const e = s.comparison[0].metrics.representation!.overRandom.en;
    expect(e.value!).toBeCloseTo(0.4, 12);
    // Every resample has the same slopes: the interval is the point.
    expect(e.lo!).toBeCloseTo(0.4, 12);
    expect(e.hi!).toBeCloseTo(0.4, 12);
    expect(() => summarizeControl(rows, { sources: ["en"], targets: ["fr"], coefficients, metrics: ["representation"], randomControls: { "en~random": "en" } })).toThrow(/not among the sources/);
  });
});
