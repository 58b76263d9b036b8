// Seeded train/val/test splits.
//
// PRNG: `Rng` from src/util/rng.ts (xoshiro128** seeded via splitmix32 from an FNV-1a hash of the seed), with
// the Fisher–Yates loop Python's random.shuffle uses: for i = n−1 … 1, swap a[i] with a[rng.int(i + 1)].
// Python's Mersenne Twister stream cannot be reproduced here, so the permutations differ from the paper's even
// with seed 1; the rules (what is shuffled, how it is cut) are the paper's.

import { Rng } from "../util/rng.js";
import type { ContrastPair, Split } from "./types.js";

/** The paper's seed (`random.seed(1)`). */
export const DEFAULT_SPLIT_SEED = 1;
/** The paper's train share: train = first floor(0.8·N) after the shuffle, test = the rest. */
export const PAPER_TRAIN_FRACTION = 0.8;

export interface SplitPair extends ContrastPair {
  split: Split;
}

/** Fisher–Yates shuffle in place (the loop of Python's random.shuffle, driven by `rng`). */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

export interface ItemSplitOptions {
  /** Default 1 (the paper's). */
  seed?: number;
  /**
   * Share of the shuffled units cut for train+val, default 0.8: train+val = first floor(f·N), test = the rest.
   */
  trainFraction?: number;
  /**
   * Beyond the paper: share of the train block moved to validation (the last floor(v·nTrain) units of it), so the
   * best layer can be picked on validation. Default 0. The test set does not depend on it.
   */
  valFraction?: number;
  /**
   * The paper's training-size ablation (`--split`): a value < 1 keeps floor(N·value) training units, a value ≥ 1
   * that many units, never more than the train block; the test set is unchanged and the units in between are
   * left out (absent from the result). Applied after `valFraction` is carved out.
   */
  trainLimit?: number;
}

export interface UnitCounts {
  train: number;
  val: number;
  test: number;
  unused: number;
}

/**
 * Splits unit ids (item ids or groups) deterministically: the ids are deduplicated and sorted (so input order
 * does not matter), shuffled with `new Rng(seed)`, then cut [train | val | test]. Units left out by `trainLimit`
 * are absent from the returned map.
 */
export function splitIds(ids: Iterable<string>, opts: ItemSplitOptions = {}): Map<string, Split> {
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  const tf = opts.trainFraction ?? PAPER_TRAIN_FRACTION;
  const vf = opts.valFraction ?? 0;
  if (!(tf >= 0 && tf <= 1)) throw new Error(`trainFraction must be in [0, 1], got ${tf}`);
  if (!(vf >= 0 && vf < 1)) throw new Error(`valFraction must be in [0, 1), got ${vf}`);
  const units = [...new Set(ids)].sort(compareCodeUnits);
  shuffleInPlace(units, new Rng(seed));
  return cut(units, tf, vf, opts.trainLimit);
}

function cut(units: readonly string[], tf: number, vf: number, trainLimit: number | undefined): Map<string, Split> {
  const n = units.length;
  const trainBlock = Math.floor(tf * n);
  const nVal = Math.floor(vf * trainBlock);
  let nTrain = trainBlock - nVal;
  if (trainLimit !== undefined) {
    if (!(trainLimit > 0)) throw new Error(`trainLimit must be > 0, got ${trainLimit}`);
    const want = trainLimit < 1 ? Math.floor(n * trainLimit) : Math.floor(trainLimit);
    nTrain = Math.min(nTrain, want);
  }
  const out = new Map<string, Split>();
  for (let i = 0; i < n; i++) {
    if (i < nTrain) out.set(units[i], "train");
    else if (i >= trainBlock - nVal && i < trainBlock) out.set(units[i], "val");
    else if (i >= trainBlock) out.set(units[i], "test");
  }
  return out;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface SplitResult {
  /** Input pairs with their split, in input order; pairs left out by `trainLimit` are absent. */
  pairs: SplitPair[];
  /** Per concept: unit (group or id) → split. */
  units: Map<string, Map<string, Split>>;
  /** Per concept: how many units fell in each split. */
  counts: Record<string, UnitCounts>;
  seed: number;
}

/** The split unit of a pair: its group, else its id. */
export function splitUnit(p: ContrastPair): string {
  return p.group ?? p.id;
}

/**
 * Split by item, aligned across languages: per concept, the union of units (group, else id) over all
 * languages is shuffled once and cut, so a given id gets the same split in every language. Splitting happens
 * before any per-language loss, so test sets stay parallel where the data are. Throws if one id carries
 * different groups in different languages.
 */
export function splitByItem(pairs: readonly ContrastPair[], opts: ItemSplitOptions = {}): SplitResult {
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  const unitsByConcept = new Map<string, Set<string>>();
  const groupOf = new Map<string, string>();
  for (const p of pairs) {
    const key = `${p.concept}\u0000${p.id}`;
    const g = splitUnit(p);
    const prev = groupOf.get(key);
    if (prev !== undefined && prev !== g) {
      throw new Error(`pair id "${p.id}" (${p.concept}) has group "${prev}" in one language and "${g}" in ${p.lang}`);
    }
    groupOf.set(key, g);
    let s = unitsByConcept.get(p.concept);
    if (!s) unitsByConcept.set(p.concept, (s = new Set()));
    s.add(g);
  }
  const units = new Map<string, Map<string, Split>>();
  const counts: Record<string, UnitCounts> = {};
  for (const [concept, s] of [...unitsByConcept].sort((a, b) => compareCodeUnits(a[0], b[0]))) {
    const m = splitIds(s, { ...opts, seed });
    units.set(concept, m);
    counts[concept] = countUnits(m, s.size);
  }
  const out: SplitPair[] = [];
  for (const p of pairs) {
    const split = units.get(p.concept)?.get(splitUnit(p));
    if (split) out.push({ ...p, split });
  }
  return { pairs: out, units, counts, seed };
}

function countUnits(m: Map<string, Split>, total: number): UnitCounts {
  const c: UnitCounts = { train: 0, val: 0, test: 0, unused: 0 };
  for (const s of m.values()) c[s]++;
  c.unused = total - m.size;
  return c;
}

/**
 * The paper's per-language split: for each (concept, lang), the pairs in the given order (the JSON order after
 * the pos === neg filter, as the loaders return them) are shuffled with a fresh `new Rng(seed)`, the first
 * floor(0.8·N) are train and the last N − floor(0.8·N) test. As in the paper, languages with different N get
 * unrelated permutations, so test sets are not parallel across languages; prefer `splitByItem`. Ignores groups.
 * Counts are keyed "concept/lang".
 */
export function paperSplit(pairs: readonly ContrastPair[], seed = DEFAULT_SPLIT_SEED): SplitResult {
  const cells = new Map<string, ContrastPair[]>();
  for (const p of pairs) {
    const k = `${p.concept}/${p.lang}`;
    let a = cells.get(k);
    if (!a) cells.set(k, (a = []));
    a.push(p);
  }
  const splitOf = new Map<ContrastPair, Split>();
  const units = new Map<string, Map<string, Split>>();
  const counts: Record<string, UnitCounts> = {};
  for (const [k, cell] of cells) {
    const order = shuffleInPlace([...cell], new Rng(seed));
    const nTrain = Math.floor(PAPER_TRAIN_FRACTION * order.length);
    const m = new Map<string, Split>();
    order.forEach((p, i) => {
      const s: Split = i < nTrain ? "train" : "test";
      splitOf.set(p, s);
      m.set(p.id, s);
    });
    units.set(k, m);
    counts[k] = { train: nTrain, val: 0, test: order.length - nTrain, unused: 0 };
  }
  return { pairs: pairs.map((p) => ({ ...p, split: splitOf.get(p)! })), units, counts, seed };
}
