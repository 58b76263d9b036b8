// Held-out transfer: layer chosen on the target's validation pairs, T with a cluster-bootstrap interval,
// checked by hand on a small case and by simulated coverage.
import { describe, expect, it } from "vitest";
import { Rng } from "../src/util/rng.js";
import { heldOutTransfer, type TransferOutcomes } from "../src/analysis/index.js";

const bits = (xs: number[]): Uint8Array => Uint8Array.from(xs);
const margins = (xs: number[]): Float64Array => Float64Array.from(xs);

describe("held-out transfer", () => {
  it("chooses each (src, tgt) layer on validation, then M, T and the rate by hand", () => {
    // Two languages, two layers, four test pairs per target. Validation prefers layer 1 for a→b (3/3 vs 2/3)
    // and, on a tie in accuracy, layer 0 for b→b (larger standardised margin).
    const o: TransferOutcomes = {
      langs: ["a", "b"],
      nLayers: 2,
      test: [
        [
          [bits([1, 1, 1, 1]), bits([0, 0, 0, 0])], // a on a
          [bits([1, 0, 0, 0]), bits([1, 1, 1, 0])], // a on b
        ],
        [
          [bits([1, 1, 0, 0]), bits([1, 0, 0, 0])], // b on a
          [bits([1, 1, 0, 0]), bits([1, 1, 1, 1])], // b on b
        ],
      ],
      val: [
        [
          [margins([1, 1, 1]), margins([-1, -1, -1])],
          [margins([1, -1, 1]), margins([1, 1, 1])],
        ],
        [
          [margins([1, 1, -1]), margins([-1, -1, -1])],
          [margins([5, 5.1, -0.1]), margins([1, 2, -3])],
        ],
      ],
    };
    const r = heldOutTransfer([o], { samples: 200 });
    // Chosen layers: a→a 0 (1.0), a→b 1 (0.75), b→a 0 (0.5), b→b 0 (0.5, tie broken by margin).
    expect(r.M.values).toEqual([
      [1, 0.75],
      [0.5, 0.5],
    ]);
    expect(r.T.values).toEqual([
      [0, 0.25],
      [-0.5, 0],
    ]);
    expect(r.rate.perTarget).toEqual({ a: 0, b: 100 });
    expect(r.rate.mean).toBe(50);
    for (let s = 0; s < 2; s++) for (let t = 0; t < 2; t++) {
      expect(r.Tci.lo[s][t]).toBeLessThanOrEqual(r.T.values[s][t] + 1e-12);
      expect(r.Tci.hi[s][t]).toBeGreaterThanOrEqual(r.T.values[s][t] - 1e-12);
    }
    expect(r.Tci.lo[0][0]).toBe(0);
    expect(r.Tci.hi[0][0]).toBe(0);
    expect(() => heldOutTransfer([o], { samples: 0 })).toThrow(/samples/);
    expect(() => heldOutTransfer([])).toThrow(/no concepts/);
  });

  it("simulated coverage of T(src→tgt), 120 questions × 4 pairs, 200 data sets: ≥ 90%", () => {
    // Target test pairs come in groups with a shared difficulty; the source vector recognises a pair with
    // probability 0.95 on easy and 0.15 on hard groups, the target's own with 0.8 / 0.6, so the difference
    // depends on the group. True T = 0.55 − 0.7 = −0.15. Measured: cluster bootstrap 93.5%, pair bootstrap 85%.
    // Percentile intervals run slightly short; MC SE of a 95% coverage over 200 runs: 1.5 points.
    const rng = new Rng("transfer-coverage");
    const G = 120;
    const m = 4;
    let covered = 0;
    let pairLevel = 0;
    const runs = 200;
    for (let r = 0; r < runs; r++) {
      const src = new Uint8Array(G * m);
      const own = new Uint8Array(G * m);
      const groups: string[] = [];
      for (let g = 0; g < G; g++) {
        const easy = rng.uniform() < 0.5;
        for (let j = 0; j < m; j++) {
          src[g * m + j] = rng.uniform() < (easy ? 0.95 : 0.15) ? 1 : 0;
          own[g * m + j] = rng.uniform() < (easy ? 0.8 : 0.6) ? 1 : 0;
          groups.push(`q${g}`);
        }
      }
      const one = (b: Uint8Array): Uint8Array[] => [b];
      const v = [margins([1])];
      const o: TransferOutcomes = {
        langs: ["s", "t"],
        nLayers: 1,
        test: [
          [one(own), one(src)],
          [one(own), one(own)],
        ],
        val: [
          [v, v],
          [v, v],
        ],
      };
      const withGroups = heldOutTransfer([{ ...o, testGroups: [groups, groups] }], { samples: 300, seed: r });
      if (withGroups.Tci.lo[0][1] <= -0.15 && -0.15 <= withGroups.Tci.hi[0][1]) covered++;
      if (r < 100) {
        const flat = heldOutTransfer([o], { samples: 300, seed: r });
        if (flat.Tci.lo[0][1] <= -0.15 && -0.15 <= flat.Tci.hi[0][1]) pairLevel++;
      }
    }
    expect(covered / runs).toBeGreaterThanOrEqual(0.9);
    // Resampling pairs instead of questions ignores the shared difficulty and undercovers.
    expect(pairLevel / 100).toBeLessThan(0.88);
  });
});
