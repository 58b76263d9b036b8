// Similarity intervals: the paired cluster bootstrap has the coverage it claims on simulated clustered data (and a
// naive item-level bootstrap does not), and on an activation file its point values are exactly the cosines of the
// mean-difference vectors that `extract` stores.
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { layerCosines, pairIntervals, resampleClusters, resampledMeans } from "../src/analysis/similarity-intervals.js";
import { Rng } from "../src/util/rng.js";
import { extractToStore } from "../src/pipeline/extract.js";
import { similarityIntervals } from "../src/pipeline/similarity-intervals.js";
import { openActivationWriter, readVectors, type ActivationRow, type Provenance } from "../src/store/index.js";
import { cosine } from "../src/analysis/similarity.js";
import { tempDir } from "./helpers/fixtures.js";
import { runCli } from "./helpers/cli.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Two languages' per-item differences: mu + a cluster effect (shared by the cluster's items) + item noise. */
function simulate(rng: Rng, o: { d: number; clusters: number; per: number; mu: Float64Array[]; clusterSd: number; itemSd: number }) {
  const n = o.clusters * o.per;
  const itemIds = Array.from({ length: n }, (_, i) => `i${i}`);
  const cluster = (id: string) => `g${Math.floor(Number(id.slice(1)) / o.per)}`;
  const langs = o.mu.map((mu) => {
    const diffs = new Float32Array(n * o.d);
    for (let g = 0; g < o.clusters; g++) {
      const u = Array.from({ length: o.d }, () => o.clusterSd * rng.normal());
      for (let k = 0; k < o.per; k++) {
        const i = g * o.per + k;
        for (let j = 0; j < o.d; j++) diffs[i * o.d + j] = mu[j] + u[j] + o.itemSd * rng.normal();
      }
    }
    return { itemIds, diffs, dim: o.d };
  });
  return { langs, cluster };
}

describe("paired cluster bootstrap of the similarity", () => {
  test("simulated coverage, 40 clusters × 4 items, 300 data sets: cluster-aware ≥ 90%, item-level < 85%", () => {
    const d = 6;
    const angle = (50 * Math.PI) / 180;
    const mu = [new Float64Array(d), new Float64Array(d)];
    mu[0][0] = 4;
    mu[1][0] = 4 * Math.cos(angle);
    mu[1][1] = 4 * Math.sin(angle);
    const truth = Math.cos(angle);
    const rng = new Rng(7, "similarity-coverage");
    let hitCluster = 0;
    let hitItem = 0;
    const R = 300;
    for (let r = 0; r < R; r++) {
      const { langs, cluster } = simulate(rng, { d, clusters: 40, per: 4, mu, clusterSd: 1.6, itemSd: 0.4 });
      const clusters = [...new Set(langs[0].itemIds.map(cluster))];
      const rc = resampleClusters(clusters, 200, r, "c");
      const c = layerCosines(langs.map((x) => resampledMeans(x, rc, cluster)));
      const ci = pairIntervals(c.full, c.boot)[0];
      if (ci.lo <= truth && truth <= ci.hi) hitCluster++;
      const ri = resampleClusters(langs[0].itemIds, 200, r, "i");
      const ci2 = pairIntervals(...(Object.values(layerCosines(langs.map((x) => resampledMeans(x, ri, (id) => id)))) as [Float64Array, Float64Array[]]))[0];
      if (ci2.lo <= truth && truth <= ci2.hi) hitItem++;
    }
    console.log(`similarity interval coverage (nominal 95%): cluster-aware ${((100 * hitCluster) / R).toFixed(1)}%, item-level ${((100 * hitItem) / R).toFixed(1)}%`);
    expect(hitCluster / R).toBeGreaterThanOrEqual(0.9);
    expect(hitItem / R).toBeLessThan(0.85);
  });

  test("resampled means are weighted means; a resample without a language's clusters is dropped", () => {
    const x = { itemIds: ["a", "b", "c"], diffs: Float32Array.from([1, 0, 3, 0, 0, 6]), dim: 2 };
    const r = { clusters: ["a", "b", "c"], weights: [Int32Array.from([2, 0, 1]), Int32Array.from([0, 0, 0])] };
    const m = resampledMeans(x, r, (id) => id);
    expect(Array.from(m.full)).toEqual([4 / 3, 2]);
    expect(Array.from(m.boot[0])).toEqual([(2 * 1 + 0) / 3, 6 / 3]);
    expect(m.boot[1].every((v) => Number.isNaN(v))).toBe(true);
    expect(() => resampledMeans(x, { clusters: ["a"], weights: [] }, (id) => id)).toThrow(/item b has no cluster/);
  });
});

describe("on an activation file", () => {
  test("point values are the cosines of the stored mean_diff vectors; intervals cover them; max over layers and correlation", async () => {
    const D = 12;
    const prov: Provenance = {
      kind: "activations",
      valuelensVersion: "test",
      createdAt: "2024-01-01T00:00:00.000Z",
      model: { file: "m.gguf", sha256: "0".repeat(64), arch: "llama", name: "m", nLayer: 2, nEmbd: D },
      layerConvention: "hf-hidden-states",
      position: "last",
      templates: { raw: "{input}" },
      extra: { layers: ["1", "2"], groups: { morality: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`q${i}`, `g${Math.floor(i / 3)}`])) } },
    };
    const path = join(tmp.dir, "acts.arrow");
    const w = await openActivationWriter(path, { provenance: prov, nEmbd: D, vectorType: "float32" });
    const rng = new Rng(3, "acts");
    const rows: ActivationRow[] = [];
    const langs = ["en", "fr", "es", "zh"];
    for (const [li, lang] of langs.entries()) {
      for (const layer of ["1", "2"]) {
        for (let i = 0; i < 30; i++) {
          for (const side of ["pos", "neg"] as const) {
            const v = new Float32Array(D);
            rng.fillNormal(v);
            if (side === "pos") v[li % 3] += 3 + Number(layer);
            rows.push({ itemId: `q${i}`, concept: "morality", lang, side, split: i < 24 ? "train" : "test", template: "raw", layer, tokenCount: 4, vector: v });
          }
        }
      }
    }
    await w.append(rows);
    await w.close();
    const vecPath = join(tmp.dir, "vectors.arrow");
    await extractToStore({ activations: path, out: vecPath, methods: ["mean_diff"] });
    const vf = await readVectors(vecPath);
    const res = await similarityIntervals({ activations: path, samples: 300, layer: "2", correlation: ["genetic"] });
    expect(res.langs).toEqual([...langs].sort());
    expect(res.layers).toEqual(["1", "2"]);
    expect(res.concepts[0]).toMatchObject({ concept: "morality", items: 24, clusters: 8 });
    const vec = (lang: string, layer: string) => vf.rows.find((r) => r.lang === lang && r.layer === layer && r.method === "mean_diff")!.unit;
    res.pairs.forEach(([a, b], p) => {
      for (const [l, layer] of res.layers.entries()) {
        const ci = res.concepts[0].perLayer[l][p];
        expect(ci.value, `${a}-${b} @${layer}`).toBeCloseTo(cosine(vec(a, layer), vec(b, layer)), 6);
        expect(ci.lo).toBeLessThanOrEqual(ci.value + 1e-9);
        expect(ci.hi).toBeGreaterThanOrEqual(ci.value - 1e-9);
      }
      const max = Math.max(...res.layers.map((layer) => cosine(vec(a, layer), vec(b, layer))));
      expect(res.aggregate[p].value).toBeCloseTo(max, 6);
      expect(res.atLayer!.values[p].value).toBeCloseTo(cosine(vec(a, "2"), vec(b, "2")), 6);
    });
    // en and zh share a planted axis (indices 0 and 3, 3 % 3 = 0): high similarity whose interval excludes 0; en–fr do not.
    const at = (a: string, b: string) => res.aggregate[res.pairs.findIndex(([x, y]) => (x === a && y === b) || (x === b && y === a))];
    expect(at("en", "zh").lo).toBeGreaterThan(0.5);
    expect(at("en", "fr").hi).toBeLessThan(at("en", "zh").lo);
    expect(res.correlation![0].type).toBe("genetic");
    expect(res.correlation![0].lo).toBeLessThanOrEqual(res.correlation![0].value);
    await expect(similarityIntervals({ activations: path, layer: "7" })).rejects.toThrow(/layer 7 is not among the layers/);

    // The CLI: similarity and correlate with --intervals give the library's numbers.
    const sim = await runCli(["similarity", "--vectors", vecPath, "--activations", path, "--intervals", "300", "--layer", "2", "--json"]);
    expect(sim.code, sim.stderr).toBe(0);
    const j = JSON.parse(sim.stdout) as { intervals: typeof res };
    // Same resamples (seed 0, per concept), whatever the language order: the same values per pair.
    const byPair = (r: typeof res) => Object.fromEntries(r.pairs.map(([a, b], p) => [[a, b].sort().join("-"), r.aggregate[p]]));
    expect(byPair(j.intervals)).toEqual(JSON.parse(JSON.stringify(byPair(res))));
    const text = await runCli(["similarity", "--vectors", vecPath, "--activations", path, "--intervals", "50", "--progress", "none"]);
    expect(text.stdout).toMatch(/95% cluster-bootstrap intervals \(50 resamples/);
    expect(text.stdout).toMatch(/en–zh\s+0\.\d+\s+\[0\.\d+, 0\.\d+\]/);
    const cor = await runCli(["correlate", "--activations", path, "--vectors", vecPath, "--intervals", "100", "--permutations", "99", "--progress", "none"]);
    expect(cor.code, cor.stderr).toBe(0);
    expect(cor.stdout).toMatch(/95% interval/);
    expect(cor.stdout).toMatch(/genetic\s+-?\d\.\d+\s+\[-?\d\.\d+, -?\d\.\d+\]/);
    const noActs = await runCli(["similarity", "--vectors", vecPath, "--intervals", "50"]);
    expect(noActs.code).toBe(2);
    expect(noActs.stderr).toMatch(/--activations/);
  });
});
