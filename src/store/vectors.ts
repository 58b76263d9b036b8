// Vector store: one row per (concept, lang, layer, method) concept direction, written atomically.
import { readFile } from "node:fs/promises";
import {
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int8,
  Schema,
  Table,
  Type,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  RecordBatch,
  Struct,
  type Data,
} from "apache-arrow";
import { lockOutput, writeFileAtomic } from "../util/output.js";
import { provenanceFromSchema, provenanceMetadata } from "./provenance.js";
import { VECTOR_COLUMNS as V, type Provenance } from "./schema.js";

export type VectorMethod = "mean_diff" | "pca" | "random" | "logistic";
const METHODS: readonly string[] = ["mean_diff", "pca", "random", "logistic"];

export interface VectorRow {
  concept: string;
  lang: string;
  /** Canonical layer site name (`String(layerSite)`). */
  layer: string;
  method: VectorMethod;
  /** Unit length, sign applied (positives project higher). */
  unit: Float32Array;
  /** As the method produced it, before the sign. */
  raw: Float32Array;
  sign: 1 | -1;
  /** PCA only; null otherwise. */
  explainedVariance: number | null;
  nTrain: number;
}

export interface VectorFile {
  provenance: Provenance;
  nEmbd: number;
  rows: VectorRow[];
}

export function vectorSchema(nEmbd: number, provenance: Provenance): Schema {
  const fsl = () => new FixedSizeList(nEmbd, new Field("item", new Float32(), false));
  return new Schema(
    [
      new Field(V.concept, new Utf8(), false),
      new Field(V.lang, new Utf8(), false),
      new Field(V.layer, new Utf8(), false),
      new Field(V.method, new Utf8(), false),
      new Field(V.unit, fsl(), false),
      new Field(V.raw, fsl(), false),
      new Field(V.sign, new Int8(), false),
      new Field(V.explainedVariance, new Float64(), true),
      new Field(V.nTrain, new Int32(), false),
    ],
    provenanceMetadata(provenance),
  );
}

/** Write a vector file (Arrow IPC file format) atomically. `provenance.kind` is forced to "vectors". */
export async function writeVectors(path: string, provenance: Provenance, rows: readonly VectorRow[]): Promise<void> {
  const nEmbd = provenance.model?.nEmbd;
  if (!Number.isInteger(nEmbd) || nEmbd <= 0) throw new RangeError(`provenance.model.nEmbd must be a positive integer, got ${nEmbd}`);
  const seen = new Set<string>();
  for (const r of rows) {
    const where = `${r.concept}/${r.lang} layer ${r.layer} ${r.method}`;
    for (const [k, v] of [["concept", r.concept], ["lang", r.lang], ["layer", r.layer]] as const) {
      if (typeof v !== "string" || v.length === 0) throw new TypeError(`writeVectors: ${k} must be a non-empty string (${where})`);
    }
    if (!METHODS.includes(r.method)) throw new TypeError(`writeVectors: unknown method ${JSON.stringify(r.method)} (${where})`);
    if (r.unit.length !== nEmbd || r.raw.length !== nEmbd) throw new RangeError(`writeVectors: unit/raw must have nEmbd = ${nEmbd} values (${where})`);
    if (r.sign !== 1 && r.sign !== -1) throw new RangeError(`writeVectors: sign must be +1 or -1 (${where})`);
    if (!Number.isInteger(r.nTrain) || r.nTrain < 0) throw new RangeError(`writeVectors: nTrain must be a non-negative integer (${where})`);
    const key = `${r.concept}\u0000${r.lang}\u0000${r.layer}\u0000${r.method}`;
    if (seen.has(key)) throw new Error(`writeVectors: duplicate row ${where}`);
    seen.add(key);
  }
  const schema = vectorSchema(nEmbd, { ...provenance, kind: "vectors" });
  const n = rows.length;
  const flat = (get: (r: VectorRow) => Float32Array) => {
    const out = new Float32Array(n * nEmbd);
    rows.forEach((r, i) => out.set(get(r), i * nEmbd));
    return out;
  };
  const fslData = (fieldIdx: number, values: Float32Array): Data => {
    const type = schema.fields[fieldIdx].type as FixedSizeList;
    const child = makeData({ type: type.children[0].type as Float32, length: n * nEmbd, nullCount: 0, data: values });
    return makeData({ type, length: n, nullCount: 0, child });
  };
  const str = (get: (r: VectorRow) => string) => vectorFromArray(rows.map(get), new Utf8()).data[0];
  const children: Data[] = [
    str((r) => r.concept),
    str((r) => r.lang),
    str((r) => r.layer),
    str((r) => r.method),
    fslData(4, flat((r) => r.unit)),
    fslData(5, flat((r) => r.raw)),
    makeData({ type: new Int8(), length: n, nullCount: 0, data: Int8Array.from(rows, (r) => r.sign) }),
    vectorFromArray(rows.map((r) => r.explainedVariance ?? null), new Float64()).data[0],
    makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.nTrain) }),
  ];
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
  const lock = await lockOutput(path);
  try {
    await writeFileAtomic(path, tableToIPC(new Table(schema, [batch]), "file"));
  } finally {
    await lock.release();
  }
}

/** Read a whole vector file (they are small: one row per concept, lang, layer, method). */
export async function readVectors(path: string): Promise<VectorFile> {
  const table = tableFromIPC(await readFile(path));
  const provenance = provenanceFromSchema(table.schema, path);
  const names = table.schema.fields.map((f) => f.name);
  const expected = [V.concept, V.lang, V.layer, V.method, V.unit, V.raw, V.sign, V.explainedVariance, V.nTrain];
  if (names.join(",") !== expected.join(",")) throw new Error(`${path}: not a vector file: columns are [${names.join(", ")}]`);
  const unitType = table.schema.fields[4].type;
  if (unitType.typeId !== Type.FixedSizeList) throw new Error(`${path}: column ${V.unit} is not a FixedSizeList`);
  const nEmbd = (unitType as FixedSizeList).listSize;
  const rows: VectorRow[] = [];
  for (const batch of table.batches) {
    const c = batch.data.children;
    const get = (i: number) => batch.getChildAt(i)!;
    const vec = (data: Data, i: number): Float32Array => {
      const child = data.children[0];
      const base = child.offset + (data.offset + i) * nEmbd;
      return (child.values as Float32Array).slice(base, base + nEmbd);
    };
    for (let i = 0; i < batch.numRows; i++) {
      const ev = get(7).get(i) as number | null;
      rows.push({
        concept: get(0).get(i) as string,
        lang: get(1).get(i) as string,
        layer: get(2).get(i) as string,
        method: get(3).get(i) as VectorMethod,
        unit: vec(c[4], i),
        raw: vec(c[5], i),
        sign: (get(6).get(i) as number) < 0 ? -1 : 1,
        explainedVariance: ev ?? null,
        nTrain: get(8).get(i) as number,
      });
    }
  }
  return { provenance, nEmbd, rows };
}
