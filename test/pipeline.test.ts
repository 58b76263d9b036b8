// The whole chain on a planted model through the CLI: capture → extract → recognize → similarity →
// transfer → correlate, checked against the planted ground truth.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readVectors } from "../src/store/index.js";
import { writePairsJsonl } from "../src/data/jsonl.js";
import { Rng } from "../src/util/rng.js";
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
    // A concept with no signal: the morality/en texts with pos and neg swapped by a fair coin per item.
    const coin = new Rng("no-concept");
    const noise = world.pairs
      .filter((p) => p.concept === "morality" && p.lang === "en")
      .map((p) => (coin.uniform() < 0.5 ? { ...p, concept: "noise" } : { ...p, concept: "noise", pos: p.neg, neg: p.pos }));
    const data = join(tmp.dir, "pairs-with-noise.jsonl");
    await writePairsJsonl(data, [...world.pairs, ...noise]);
    await cli(["capture", "--model", world.modelPath, "--data", data, "--template", "raw", "--out", acts, "--val", "0.2", "--json"]);
    await cli(["extract", "--activations", acts, "--method", "mean_diff,pca,random", "--out", vecs, "--json"]);
  }, 300_000);

  test("mean_diff and pca recover the planted direction at every layer (cos ≥ 0.99)", async () => {
    const vf = await readVectors(vecs);
    const layers = new Set(vf.rows.map((r) => r.layer));
    expect([...layers]).toEqual(["1", "2", "3", "4"]);
    for (const r of vf.rows.filter((x) => x.method !== "random" && x.concept !== "noise")) {
      const planted = world.directions.get(r.concept)!.get(r.lang)!;
      expect(cosine(r.unit, planted), `${r.method} ${r.concept}/${r.lang} layer ${r.layer}`).toBeGreaterThanOrEqual(0.99);
      expect(r.sign).toBe(1);
    }
  });

  test("recognition ≥ 0.95 with the extracted vectors; with no concept the held-out interval covers 0.5", async () => {
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
    // No concept: the held-out interval covers chance.
    const noise = out.recognition.noise.en as unknown as { heldOut: { accuracy: number; ci: { lo: number; hi: number } } };
    expect(noise.heldOut.ci.lo).toBeLessThanOrEqual(0.5);
    expect(noise.heldOut.ci.hi).toBeGreaterThanOrEqual(0.5);
  });

  test("random baseline: chance-level per cell over draws, similarity unrelated to the planted geometry", async () => {
    const out = (await cli(["recognize", "--activations", acts, "--vectors", vecs, "--method", "random", "--concepts", "morality,fairness", "--json"])) as {
      recognition: Record<string, Record<string, { baseline: { replicates: number; noSelection: { mean: number; sd: number }; heldOut: { mean: number }; atConceptLayer: { method: string; layer: string; accuracy: { mean: number } } } }>>;
    };
    for (const c of Object.keys(ANGLES)) {
      for (const l of LANGS) {
        const b = out.recognition[c][l].baseline;
        expect(b.replicates).toBe(10);
        expect(b.noSelection.mean, `${c}/${l}`).toBeGreaterThanOrEqual(0.2);
        expect(b.noSelection.mean, `${c}/${l}`).toBeLessThanOrEqual(0.8);
        expect(b.noSelection.sd).toBeGreaterThan(0); // draws differ
        // The validation choice applied to random draws is optimistic on a strong concept (measured 0.95 for
        // morality/en): selection, not the direction, carries the information.
        expect(b.heldOut.mean).toBeGreaterThanOrEqual(b.noSelection.mean);
        // At the layer the concept's own (mean_diff) vectors choose on validation, the draws are at chance.
        expect(b.atConceptLayer.method).toBe("mean_diff");
        expect(b.atConceptLayer.accuracy.mean, `${c}/${l}`).toBeGreaterThanOrEqual(0.2);
        expect(b.atConceptLayer.accuracy.mean, `${c}/${l}`).toBeLessThanOrEqual(0.8);
      }
    }
    const at = Object.keys(ANGLES).flatMap((c) => LANGS.map((l) => out.recognition[c][l].baseline.atConceptLayer.accuracy.mean));
    console.log(`random baseline at the concept's held-out layer, mean over draws per cell: ${Math.min(...at).toFixed(3)} – ${Math.max(...at).toFixed(3)}`);
    // Independent draws per cell: |cos| is O(1/√64) at every layer, where the planted vectors have 0.5 … 1.
    // (The former shared-seed label flips reproduced the planted geometry: 0.93 where the truth is 0.998.)
    const sim = (await cli(["similarity", "--vectors", vecs, "--method", "random", "--concepts", "morality,fairness", "--json"])) as {
      perConcept: Record<string, { langs: string[]; cos: number[][][] }>;
    };
    for (const pc of Object.values(sim.perConcept)) {
      for (const [i, a] of pc.langs.entries()) for (const [j, b] of pc.langs.entries()) {
        if (i !== j) for (const v of pc.cos[i][j]) expect(Math.abs(v), `${a}-${b}`).toBeLessThan(0.6);
      }
    }
    const vf = await readVectors(vecs);
    const en = vf.rows.find((r) => r.method === "random" && r.concept === "morality" && r.lang === "en" && r.layer === "2")!;
    expect(Math.abs(cosine(en.unit, world.directions.get("morality")!.get("en")!))).toBeLessThan(0.6);
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
    const out = (await cli(["transfer", "--activations", acts, "--vectors", vecs, "--method", "mean_diff", "--bootstrap", "200", "--json"])) as {
      transfer: {
        langs: string[];
        T: { langs: string[]; values: number[][] };
        M: { values: number[][] };
        heldOut: { langs: string[]; T: { values: number[][] }; Tci: { lo: number[][]; hi: number[][] }; rate: { mean: number; meanCi: { lo: number; hi: number } } };
      };
    };
    // Held-out variant: languages planted on one direction transfer fully, inside the interval.
    const h = out.transfer.heldOut;
    const hi = (a: string): number => h.langs.indexOf(a);
    expect(Math.abs(h.T.values[hi("en")][hi("es")])).toBeLessThanOrEqual(0.02);
    for (const [a, b] of [["en", "es"], ["fr", "en"]]) {
      expect(h.Tci.lo[hi(a)][hi(b)]).toBeLessThanOrEqual(h.T.values[hi(a)][hi(b)] + 1e-12);
      expect(h.Tci.hi[hi(a)][hi(b)]).toBeGreaterThanOrEqual(h.T.values[hi(a)][hi(b)] - 1e-12);
    }
    expect(h.rate.meanCi.lo).toBeLessThanOrEqual(h.rate.mean);
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
