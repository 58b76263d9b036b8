// Gathers, layer group by layer group, what the held-out transfer needs: every source vector's recognition bits
// on every target's test pairs and its margins on the target's validation pairs, at every layer.
import { bitsFromMargins, crossLingualRecognition, type CrossLingualResult, type TieRule, type TransferOutcomes } from "../analysis/index.js";
import type { AlignedPairs } from "./matrices.js";

/** concept → pair id → source-item group. */
export type GroupMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

interface ConceptCells {
  test: Map<string, Uint8Array[]>; // `${s}\u0000${t}` → per layer
  val: Map<string, Float64Array[]>;
  testIds: Map<string, string[]>; // target → test item ids
  hasVal: Set<string>;
}

export class TransferCollector {
  private readonly cells = new Map<string, ConceptCells>();

  constructor(
    private readonly layers: readonly string[],
    private readonly ties: TieRule,
  ) {}

  /**
   * Scores one layer group of one concept; returns the test-split cross-lingual part (the paper's tables).
   * `vectors`: source → layer → unit; `test` / `val`: target → layer → pairs.
   */
  add(
    concept: string,
    group: readonly string[],
    vectors: ReadonlyMap<string, ReadonlyMap<string, ArrayLike<number>>>,
    test: ReadonlyMap<string, ReadonlyMap<string, AlignedPairs>>,
    val: ReadonlyMap<string, ReadonlyMap<string, AlignedPairs>>,
    sources?: readonly string[],
    targets?: readonly string[],
  ): CrossLingualResult {
    let c = this.cells.get(concept);
    if (!c) this.cells.set(concept, (c = { test: new Map(), val: new Map(), testIds: new Map(), hasVal: new Set() }));
    const cells = c;
    const at = (l: number): number => this.layers.indexOf(group[l]);
    const slot = <T>(m: Map<string, T[]>, key: string): T[] => m.get(key) ?? m.set(key, new Array<T>(this.layers.length)).get(key)!;
    for (const [t, byLayer] of test) {
      const first = byLayer.get(group[0]);
      if (first) cells.testIds.set(t, first.itemIds);
    }
    const part = crossLingualRecognition(
      { layers: group, vectors, test, ...(sources ? { sources } : {}), ...(targets ? { targets } : {}) },
      { ties: this.ties, onMargins: (s, t, l, m) => (slot(cells.test, `${s}\u0000${t}`)[at(l)] = bitsFromMargins(m, this.ties)) },
    );
    const withVal = new Map([...val].filter(([, byLayer]) => [...byLayer.values()].every((p) => p.itemIds.length > 0)));
    if (withVal.size > 0) {
      crossLingualRecognition(
        { layers: group, vectors, test: withVal, ...(sources ? { sources } : {}), targets: (targets ?? [...withVal.keys()]).filter((t) => withVal.has(t)) },
        { ties: this.ties, onMargins: (s, t, l, m) => (slot(cells.val, `${s}\u0000${t}`)[at(l)] = m) },
      );
      for (const t of withVal.keys()) cells.hasVal.add(t);
    }
    return part;
  }

  /** Outcomes of the concepts with every language as source and target, test and validation at every layer. */
  outcomes(langs: readonly string[], groups?: GroupMap): TransferOutcomes[] {
    const out: TransferOutcomes[] = [];
    for (const [concept, c] of this.cells) {
      const test: Uint8Array[][][] = [];
      const val: Float64Array[][][] = [];
      let complete = langs.every((t) => c.hasVal.has(t) && c.testIds.has(t));
      for (const s of langs) {
        if (!complete) break;
        const tr: Uint8Array[][] = [];
        const vr: Float64Array[][] = [];
        for (const t of langs) {
          const tb = c.test.get(`${s}\u0000${t}`);
          const vb = c.val.get(`${s}\u0000${t}`);
          if (!tb || !vb || tb.some((x) => !x) || vb.some((x) => !x)) {
            complete = false;
            break;
          }
          tr.push(tb);
          vr.push(vb);
        }
        test.push(tr);
        val.push(vr);
      }
      if (!complete) continue;
      const byId = groups?.[concept];
      out.push({
        langs: [...langs],
        nLayers: this.layers.length,
        test,
        val,
        ...(byId ? { testGroups: langs.map((t) => c.testIds.get(t)!.map((id) => byId[id] ?? id)) } : {}),
      });
    }
    return out;
  }
}
