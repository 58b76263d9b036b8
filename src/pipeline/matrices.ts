// Streams an activation file once and gathers aligned pos/neg matrices per (concept, lang, split, layer)
// for a group of layers, so memory is bounded by the group, not by the whole run.
import type { Split } from "../data/types.js";
import type { PairMatrices } from "../extract/index.js";
import { readActivations, readProvenance } from "../store/index.js";

export interface AlignedPairs extends PairMatrices {
  itemIds: string[];
}

/** concept → lang → split → layer → aligned pairs. */
export type PairTree = Map<string, Map<string, Map<Split, Map<string, AlignedPairs>>>>;

export interface CollectOptions {
  layers: readonly string[];
  splits: readonly Split[];
  concepts?: readonly string[];
  langs?: readonly string[];
  template?: string;
}

function child<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

export async function collectPairs(path: string, opts: CollectOptions): Promise<PairTree> {
  // rows[concept|lang|split|layer] = itemId → {pos, neg}
  const rows = new Map<string, Map<string, { pos?: Float32Array; neg?: Float32Array }>>();
  let dim = 0;
  let template: string | undefined = opts.template;
  for await (const b of readActivations(path, { layers: opts.layers, splits: opts.splits, concepts: opts.concepts, langs: opts.langs, ...(opts.template ? { templates: [opts.template] } : {}) })) {
    dim = b.nEmbd;
    for (let i = 0; i < b.nRows; i++) {
      if (template === undefined) template = b.template[i];
      else if (b.template[i] !== template) throw new Error(`${path} holds several templates (${template}, ${b.template[i]}): choose one`);
      const key = `${b.concept[i]}\u0000${b.lang[i]}\u0000${b.split[i]}\u0000${b.layer[i]}`;
      const items = child(rows, key, () => new Map());
      const slot = child(items, b.itemId[i], () => ({}));
      const v = b.vectors.slice(i * dim, (i + 1) * dim);
      if (b.side[i] === "pos") slot.pos = v;
      else slot.neg = v;
    }
  }
  const tree: PairTree = new Map();
  for (const [key, items] of rows) {
    const [concept, lang, split, layer] = key.split("\u0000") as [string, string, Split, string];
    const ids = [...items.keys()].filter((id) => items.get(id)!.pos && items.get(id)!.neg).sort();
    const pos = new Float32Array(ids.length * dim);
    const neg = new Float32Array(ids.length * dim);
    ids.forEach((id, r) => {
      const s = items.get(id)!;
      pos.set(s.pos!, r * dim);
      neg.set(s.neg!, r * dim);
    });
    child(child(child(tree, concept, () => new Map()), lang, () => new Map()), split, () => new Map()).set(layer, { pos, neg, dim, itemIds: ids });
  }
  return tree;
}

/** Layers stored in an activation file (recorded at capture time), in capture order. */
export async function storedLayers(path: string): Promise<string[]> {
  const p = await readProvenance(path);
  const layers = (p.extra as { layers?: unknown } | undefined)?.layers;
  if (Array.isArray(layers) && layers.every((l) => typeof l === "string")) return layers as string[];
  // Files from other writers: find the layers by a pass over the file.
  const seen = new Set<string>();
  for await (const b of readActivations(path)) for (const l of b.layer) seen.add(l);
  return [...seen];
}

/** Splits the layers into groups whose pairs fit the memory budget (bytes). */
export function layerGroups(layers: readonly string[], rowsPerLayer: number, dim: number, budgetBytes: number): string[][] {
  const perLayer = Math.max(1, rowsPerLayer * dim * 4 * 2); // vectors gathered + aligned copies
  const size = Math.max(1, Math.floor(budgetBytes / perLayer));
  const out: string[][] = [];
  for (let i = 0; i < layers.length; i += size) out.push(layers.slice(i, i + size));
  return out;
}
