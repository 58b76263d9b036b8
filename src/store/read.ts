// Streaming readers of activation files: filtered blocks, aligned pos/neg matrices, provenance.
import type { Data, FixedSizeList, RecordBatch } from "apache-arrow";
import type { Side, Split } from "../data/types.js";
import { f16ArrayToF32 } from "../util/f16.js";
import { decodeDictColumn, vectorLayout, type VectorType } from "./activations.js";
import { readSchema, scanStream, streamBatches } from "./ipc.js";
import { provenanceFromSchema } from "./provenance.js";
import type { Provenance } from "./schema.js";

export interface ActivationFilter {
  layers?: readonly (string | number)[];
  langs?: readonly string[];
  concepts?: readonly string[];
  splits?: readonly Split[];
  sides?: readonly Side[];
  templates?: readonly string[];
  itemIds?: readonly string[] | ReadonlySet<string>;
}

/** Rows of one record batch that passed the filter, decoded. */
export interface ActivationBlock {
  nRows: number;
  nEmbd: number;
  itemId: string[];
  concept: string[];
  lang: string[];
  side: Side[];
  split: Split[];
  template: string[];
  layer: string[];
  tokenCount: Int32Array;
  /** Row-major nRows × nEmbd, float16 files decoded to float32. */
  vectors: Float32Array;
}

export interface ActivationFileInfo {
  provenance: Provenance;
  nEmbd: number;
  vectorType: VectorType;
  batches: number;
  rows: number;
  /** False for a `.partial` (no end-of-stream marker yet). */
  complete: boolean;
  /** Bytes of a torn last batch that readers ignore. */
  tornBytes: number;
}

/** Provenance of any valuelens Arrow file (activations or vectors, finished or `.partial`). */
export async function readProvenance(path: string): Promise<Provenance> {
  return provenanceFromSchema(await readSchema(path), path);
}

/** Header facts of an activation file, from message headers only (no vector data is read). */
export async function inspectActivations(path: string): Promise<ActivationFileInfo> {
  const scan = await scanStream(path);
  if (scan.schema === null) throw new Error(`${path}: no complete Arrow schema message (empty or torn file)`);
  const layout = vectorLayout(scan.schema);
  if (typeof layout === "string") throw new Error(`${path}: not an activation file: ${layout}`);
  return {
    provenance: provenanceFromSchema(scan.schema, path),
    ...layout,
    batches: scan.batches,
    rows: scan.rows,
    complete: scan.complete,
    tornBytes: scan.tornBytes,
  };
}

/** Complete record batches of an activation file as Arrow objects, unfiltered. */
export async function* readActivationBatches(path: string): AsyncGenerator<RecordBatch> {
  const schema = await readSchema(path);
  const layout = vectorLayout(schema);
  if (typeof layout === "string") throw new Error(`${path}: not an activation file: ${layout}`);
  yield* streamBatches(path);
}

const DICT_FILTERS: [keyof ActivationFilter, number][] = [
  ["concepts", 1],
  ["langs", 2],
  ["sides", 3],
  ["splits", 4],
  ["templates", 5],
  ["layers", 6],
];

/** Per-row pass mask of a dictionary column: test each dictionary entry once, then look indices up. */
function dictMask(data: Data, allowed: ReadonlySet<string>, mask: Uint8Array): void {
  const dict = data.dictionary!;
  const ok = new Uint8Array(dict.length);
  for (let j = 0; j < dict.length; j++) ok[j] = allowed.has(dict.get(j) as string) ? 1 : 0;
  const idx = data.values as ArrayLike<number>;
  for (let i = 0; i < mask.length; i++) if (mask[i] && !ok[idx[data.offset + i]]) mask[i] = 0;
}

/**
 * Stream the rows of an activation file that pass `filter`, one block per record batch (batches with no passing
 * row are skipped). Memory is bounded by one batch. Works on a finished file and on a live or torn `.partial`.
 */
export async function* readActivations(path: string, filter: ActivationFilter = {}): AsyncGenerator<ActivationBlock> {
  const schema = await readSchema(path);
  const layout = vectorLayout(schema);
  if (typeof layout === "string") throw new Error(`${path}: not an activation file: ${layout}`);
  const d = layout.nEmbd;
  const sets = DICT_FILTERS.flatMap(([key, col]) => {
    const v = filter[key] as readonly (string | number)[] | undefined;
    return v === undefined ? [] : [{ col, allowed: new Set(v.map(String)) }];
  });
  const itemSet = filter.itemIds === undefined ? null : new Set(filter.itemIds);

  for await (const batch of streamBatches(path)) {
    const n = batch.numRows;
    const cols = batch.data.children;
    const mask = new Uint8Array(n).fill(1);
    for (const { col, allowed } of sets) dictMask(cols[col], allowed, mask);
    const itemCol = batch.getChildAt(0)!;
    if (itemSet !== null) for (let i = 0; i < n; i++) if (mask[i] && !itemSet.has(itemCol.get(i) as string)) mask[i] = 0;
    let m = 0;
    for (let i = 0; i < n; i++) m += mask[i];
    if (m === 0) continue;

    const dicts = [1, 2, 3, 4, 5, 6].map((c) => decodeDictColumn(cols[c]));
    const tcData = cols[7];
    const tc = tcData.values as Int32Array;
    const fsl = cols[8] as Data<FixedSizeList>;
    const child = fsl.children[0];
    const base = child.offset + fsl.offset * d;
    const src = child.values as Float32Array | Uint16Array;
    const block: ActivationBlock = {
      nRows: m,
      nEmbd: d,
      itemId: [],
      concept: [],
      lang: [],
      side: [],
      split: [],
      template: [],
      layer: [],
      tokenCount: new Int32Array(m),
      vectors: new Float32Array(m * d),
    };
    let o = 0;
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      block.itemId.push(itemCol.get(i) as string);
      block.concept.push(dicts[0][i]);
      block.lang.push(dicts[1][i]);
      block.side.push(dicts[2][i] as Side);
      block.split.push(dicts[3][i] as Split);
      block.template.push(dicts[4][i]);
      block.layer.push(dicts[5][i]);
      block.tokenCount[o] = tc[tcData.offset + i];
      const row = src.subarray(base + i * d, base + (i + 1) * d);
      const dst = block.vectors.subarray(o * d, (o + 1) * d);
      if (row instanceof Uint16Array) f16ArrayToF32(row, dst);
      else dst.set(row);
      o++;
    }
    yield block;
  }
}

export interface MatrixSelection {
  concept: string;
  lang: string;
  layer: string | number;
  /** Default: all splits. */
  split?: Split;
  /** Required when the selection holds rows of more than one template. */
  template?: string;
}

export interface ActivationMatrix {
  /** Pair ids in file order (first appearance); row i of `pos` and `neg` belong to itemIds[i]. */
  itemIds: string[];
  nEmbd: number;
  /** Row-major n × nEmbd. */
  pos: Float32Array;
  neg: Float32Array;
  /** Ids with only one side stored (dropped from the matrices). */
  droppedIds: string[];
  dropped: number;
}

/** Load one (concept, lang, layer[, split]) selection as aligned pos/neg matrices; pairs missing a side are dropped. */
export async function loadActivationMatrix(path: string, sel: MatrixSelection): Promise<ActivationMatrix> {
  const filter: ActivationFilter = {
    concepts: [sel.concept],
    langs: [sel.lang],
    layers: [String(sel.layer)],
    ...(sel.split !== undefined ? { splits: [sel.split] } : {}),
    ...(sel.template !== undefined ? { templates: [sel.template] } : {}),
  };
  const order: string[] = [];
  const rows = new Map<string, { pos?: Float32Array; neg?: Float32Array }>();
  let nEmbd = 0;
  for await (const b of readActivations(path, filter)) {
    nEmbd = b.nEmbd;
    for (let i = 0; i < b.nRows; i++) {
      const id = b.itemId[i];
      let r = rows.get(id);
      if (r === undefined) {
        r = {};
        rows.set(id, r);
        order.push(id);
      }
      const side = b.side[i];
      if (r[side] !== undefined) {
        throw new Error(
          `${path}: item ${id} has more than one ${side} row for ${sel.concept}/${sel.lang} layer ${sel.layer}` +
            (sel.template === undefined ? " (several templates? pass `template`)" : ""),
        );
      }
      r[side] = b.vectors.slice(i * b.nEmbd, (i + 1) * b.nEmbd);
    }
  }
  if (nEmbd === 0) nEmbd = (await inspectActivations(path)).nEmbd;
  const itemIds = order.filter((id) => {
    const r = rows.get(id)!;
    return r.pos !== undefined && r.neg !== undefined;
  });
  const droppedIds = order.filter((id) => {
    const r = rows.get(id)!;
    return r.pos === undefined || r.neg === undefined;
  });
  const pos = new Float32Array(itemIds.length * nEmbd);
  const neg = new Float32Array(itemIds.length * nEmbd);
  itemIds.forEach((id, i) => {
    const r = rows.get(id)!;
    pos.set(r.pos!, i * nEmbd);
    neg.set(r.neg!, i * nEmbd);
  });
  return { itemIds, nEmbd, pos, neg, droppedIds, dropped: droppedIds.length };
}
