// The whole chain on a planted model through the CLI: capture → extract → recognize → similarity →
// transfer → correlate, checked against the planted ground truth.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readVectors } from "../src/store/index.js";
import { extract } from "../src/extract/index.js";
import { recognitionAccuracy } from "../src/analysis/index.js";
import { collectPairs } from "../src/pipeline/matrices.js";
import { runCli } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { buildWorld, cosine, type World } from "./helpers/planted-world.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const LANGS = ["en", "es", "fr"];
const ANGLES = { morality: { en: 0, es: 0, fr: 40 }, fairness: { en: 0, es: 25, fr: 60 } } as const;

async function cli(args: string[]): Promise<unknown> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`valuelens ${args[0]} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

describe.skipIf(!hasVocabs)("concept pipeline on a planted model", () => {
  let world: World;
  const acts = join(tmp.dir, "acts.arrow");
  const vecs = join(tmp.dir, "vectors.arrow");

  beforeAll(async () => {
    world = await buildWorld({ dir: tmp.dir, concepts: ANGLES });
    await cli(["capture", "--model", world.modelPath, "--data", world.pairsPath, "--template", "raw", "--out", acts, "--val", "0.2", "--json"]);
    await cli(["extract", "--activations", acts, "--method", "mean_diff,pca,random", "--out", vecs, "--json"]);
  }, 300_000);

  test("mean_diff and pca recover the planted direction at every layer (cos ≥ 0.99)", async () => {
    const vf = await readVectors(vecs);
    const layers = new Set(vf.rows.map((r) => r.layer));
    expect([...layers]).toEqual(["1", "2", "3", "4"]);
    for (const r of vf.rows.filter((x) => x.method !== "random")) {
      const planted = world.directions.get(r.concept)!.get(r.lang)!;
      expect(cosine(r.unit, planted), `${r.method} ${r.concept}/${r.lang} layer ${r.layer}`).toBeGreaterThanOrEqual(0.99);
      expect(r.sign).toBe(1);
    }
  });

  test("recognition ≥ 0.95 with the extracted vectors; the random baseline is at chance", async () => {
    const out = (await cli(["recognize", "--activations", acts, "--vectors", vecs, "--method", "mean_diff", "--json"])) as {
      recognition: Record<string, Record<string, { accuracy: number[]; oracle: { accuracy: number }; heldOut?: { accuracy: number }; nTest: number }>>;
    };
    for (const c of Object.keys(ANGLES)) {
      for (const l of LANGS) {
        const s = out.recognition[c][l];
        expect(s.nTest).toBeGreaterThanOrEqual(20);
        expect(Math.min(...s.accuracy), `${c}/${l}`).toBeGreaterThanOrEqual(0.95);
        expect(s.heldOut!.accuracy).toBeGreaterThanOrEqual(0.95);
      }
    }
    // The paper's random baseline (labels shuffled within pairs) over many seeds: mean accuracy ≈ 0.5.
    const tree = await collectPairs(acts, { layers: ["2"], splits: ["train", "test"] });
    const train = tree.get("morality")!.get("en")!.get("train")!.get("2")!;
    const testPairs = tree.get("morality")!.get("en")!.get("test")!.get("2")!;
    const accs = Array.from({ length: 40 }, (_, s) => recognitionAccuracy(testPairs, extract("random", train, { seed: s + 1 }).unit));
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / (accs.length - 1));
    expect(Math.abs(mean - 0.5)).toBeLessThanOrEqual(2 * (sd / Math.sqrt(accs.length)) + 0.02);
  });

  test("cross-lingual similarity reproduces the planted angles within 0.02", async () => {
    const out = (await cli(["similarity", "--vectors", vecs, "--method", "mean_diff", "--json"])) as {
      langs: string[];
      perConcept: Record<string, { langs: string[]; layers: string[]; cos: number[][][] }>;
    };
    for (const [concept, angles] of Object.entries(ANGLES)) {
      const pc = out.perConcept[concept];
      const planted = world.directions.get(concept)!;
      for (const [i, a] of pc.langs.entries()) {
        for (const [j, b] of pc.langs.entries()) {
          const want = cosine(planted.get(a)!, planted.get(b)!);
          if (a === "en" && b === "fr") expect(want).toBeCloseTo(Math.cos((angles.fr * Math.PI) / 180), 6);
          for (let k = 0; k < pc.layers.length; k++) expect(Math.abs(pc.cos[i][j][k] - want), `${concept} ${a}-${b} layer ${pc.layers[k]}`).toBeLessThanOrEqual(0.02);
        }
      }
    }
  });

  test("transfer between languages planted on the same direction is ≈ 0; correlation runs on lang2vec", async () => {
    const out = (await cli(["transfer", "--activations", acts, "--vectors", vecs, "--method", "mean_diff", "--json"])) as {
      transfer: { langs: string[]; T: { langs: string[]; values: number[][] }; M: { values: number[][] } };
    };
    const T = out.transfer.T;
    const at = (a: string, b: string) => T.values[T.langs.indexOf(a)][T.langs.indexOf(b)];
    // en and es share the morality direction and fairness differs by 25°: both recognise each other's pairs fully.
    expect(Math.abs(at("en", "es"))).toBeLessThanOrEqual(0.02);
    expect(Math.abs(at("es", "en"))).toBeLessThanOrEqual(0.02);
    for (const l of LANGS) expect(at(l, l)).toBe(0);
    const cor = (await cli(["correlate", "--activations", acts, "--vectors", vecs, "--method", "mean_diff", "--high", "en", "--json"])) as {
      correlation: { langs: string[]; table: Record<string, { direct: number; directReleasedCode: number }> };
    };
    expect(cor.correlation.langs).toEqual(LANGS);
    expect(Object.keys(cor.correlation.table)).toEqual(["genetic", "syntactic", "geographic", "phonological"]);
    for (const v of Object.values(cor.correlation.table)) expect(v.direct).toBeGreaterThanOrEqual(-1);
  });

  test("human-readable output of recognize and similarity", async () => {
    const r = await runCli(["recognize", "--activations", acts, "--vectors", vecs, "--method", "mean_diff", "--cross-lingual", "--bootstrap", "100"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/recognition accuracy \(mean_diff/);
    expect(r.stdout).toMatch(/morality\s+fr\s+\d+/);
    expect(r.stdout).toMatch(/cross-lingual recognition, fairness/);
    const s = await runCli(["similarity", "--vectors", vecs, "--layer", "2"]);
    expect(s.stdout).toMatch(/cross-lingual similarity \(mean_diff/);
    expect(s.stdout).toMatch(/at layer 2/);
  });
});
