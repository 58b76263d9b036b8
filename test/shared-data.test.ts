// Integration on the real public datasets in ../shared/data (skipped when absent): TruthfulQA in four
// languages, ETHICS deontology and StereoSet → pairs → capture on a synthetic qwen2-vocabulary model →
// vectors → every analysis. The model is random, so the numbers are meaningless: the test checks shapes,
// alignment and that nothing is lost on the way.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captureTexts } from "../src/data/pairs.js";
import { splitByItem, type SplitPair } from "../src/data/splits.js";
import { RAW_TEMPLATE } from "../src/data/templates.js";
import { loadModel, synthModel, type Model, type Session } from "../src/index.js";
import { analyze, type AnalysisResults } from "../src/pipeline/analyze.js";
import { captureToStore } from "../src/pipeline/capture.js";
import { extractToStore } from "../src/pipeline/extract.js";
import { limitUnits, loadPairs } from "../src/pipeline/sources.js";
import { inspectActivations, readActivations, readVectors } from "../src/store/index.js";
import { packageRoot } from "../src/engine/native.js";
import { hasVocabs, qwenVocab, tempDir } from "./helpers/fixtures.js";

const SHARED = join(packageRoot(), "..", "shared", "data");
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe.skipIf(!existsSync(SHARED) || !hasVocabs)("real datasets through the whole chain", () => {
  let model: Model;
  let session: Session;
  let pairs: SplitPair[];
  let results: AnalysisResults;
  const acts = join(tmp.dir, "acts.arrow");
  const vecs = join(tmp.dir, "vectors.arrow");
  const TQA = ["en", "es", "ca", "fr"];

  beforeAll(async () => {
    // HiTZ's professional es/ca translations first, Okapi's machine-translated fr after (first source wins).
    const truth = await loadPairs({ datasets: ["truthfulqa-multi", "m-truthfulqa"], dataRoot: SHARED, concepts: ["truthfulness"], langs: TQA, adapterOptions: { truthfulPairs: "first" } });
    const deon = await loadPairs({ datasets: ["ethics-deontology"], dataRoot: SHARED, concepts: ["deontology"] });
    const fair = await loadPairs({ datasets: ["stereoset"], dataRoot: SHARED, concepts: ["fairness"] });
    for (const l of TQA) expect(truth.pairs.some((p) => p.lang === l), l).toBe(true);
    // The same 40 items per concept in every language keeps the run quick and the languages aligned.
    const all = [...limitUnits(truth.pairs, 40), ...limitUnits(deon.pairs, 40), ...limitUnits(fair.pairs, 40)];
    pairs = splitByItem(all, { seed: 1, valFraction: 0.25 }).pairs;
    const synth = await synthModel({ out: join(tmp.dir, "m.gguf"), vocabGguf: qwenVocab, nEmbd: 32, nLayer: 3, nHead: 4, nHeadKv: 2, nFf: 64, seed: 9 });
    model = await loadModel(synth.path);
    session = await model.createSession({ contextSize: 4096, batchSize: 2048, maxSequences: 64 });
    const texts = captureTexts(pairs, RAW_TEMPLATE);
    const r = await captureToStore({ model, session, texts, templates: [RAW_TEMPLATE], layers: [1, 2, 3], out: acts });
    expect(r.rowsWritten).toBe(texts.length * 3);
    await extractToStore({ activations: acts, out: vecs, methods: ["mean_diff", "pca"] });
    results = await analyze({ activations: acts, vectors: vecs, method: "mean_diff", bootstrap: { samples: 50 } });
  }, 600_000);
  afterAll(() => {
    session?.dispose();
    model?.dispose();
  });

  test("every pair's two texts are stored at every layer, with its split", async () => {
    const info = await inspectActivations(acts);
    expect(info.complete).toBe(true);
    expect(info.rows).toBe(pairs.length * 2 * 3);
    const seen = new Map<string, number>();
    for await (const b of readActivations(acts, { layers: ["2"] })) {
      for (let i = 0; i < b.nRows; i++) seen.set(`${b.concept[i]}|${b.lang[i]}|${b.itemId[i]}|${b.split[i]}`, (seen.get(`${b.concept[i]}|${b.lang[i]}|${b.itemId[i]}|${b.split[i]}`) ?? 0) + 1);
    }
    for (const p of pairs) expect(seen.get(`${p.concept}|${p.lang}|${p.id}|${p.split}`), p.id).toBe(2);
  });

  test("splits are aligned across languages: an item has the same split everywhere", () => {
    const splitOf = new Map<string, string>();
    for (const p of pairs.filter((x) => x.concept === "truthfulness")) {
      const key = p.group ?? p.id;
      const prev = splitOf.get(key);
      if (prev) expect(p.split, key).toBe(prev);
      splitOf.set(key, p.split);
    }
  });

  test("vectors, recognition and cross-lingual tables cover every concept and language", async () => {
    const vf = await readVectors(vecs);
    const cells = new Set(vf.rows.map((r) => `${r.concept}/${r.lang}`));
    expect([...cells].sort()).toEqual(["deontology/en", "fairness/en", "fairness/pt", ...TQA.map((l) => `truthfulness/${l}`)].sort());
    expect(vf.rows.length).toBe(cells.size * 3 * 2);
    for (const r of vf.rows) expect(r.unit.length).toBe(32);
    for (const p of pairs) {
      const s = results.recognition[p.concept][p.lang];
      expect(s.accuracy.length).toBe(3);
      expect(s.nTest).toBe(pairs.filter((x) => x.concept === p.concept && x.lang === p.lang && x.split === "test").length);
      expect(s.nVal).toBe(pairs.filter((x) => x.concept === p.concept && x.lang === p.lang && x.split === "val").length);
    }
    const tq = results.crossLingual!.truthfulness;
    expect([...tq.sources].sort()).toEqual([...TQA].sort());
    for (const s of tq.sources) for (const t of tq.targets) expect(tq.acc[s][t].length).toBe(3);
    const sim = results.similarity.perConcept.truthfulness;
    expect(sim.cos.length).toBe(4);
  });
});
