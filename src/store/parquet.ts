// Export of an Arrow activation or vector file to Parquet, batch by batch, via parquet-wasm.
import {
  Field,
  FixedSizeList,
  Float32,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  type Data,
  type DataType,
} from "apache-arrow";
import * as pq from "parquet-wasm";
import { f16ArrayToF32 } from "../util/f16.js";
import { readSchema, streamBatches } from "./ipc.js";
import { writeFileAtomic } from "../util/output.js";

export interface ParquetExportOptions {
  /** Default "snappy". */
  compression?: "uncompressed" | "snappy" | "zstd";
  /** Rows per row group (default: about 32 MiB of data; parquet-wasm buffers a group, peak wasm memory ≈ 3× that). */
  rowGroupRows?: number;
}

export interface ParquetExportResult {
  rows: number;
  batches: number;
}

function isF16List(t: DataType): boolean {
  if (t.typeId !== Type.FixedSizeList) return false;
  const c = (t as FixedSizeList).children[0].type;
  return c.typeId === Type.Float && (c as Float32).precision === Precision.HALF;
}

/**
 * Parquet-friendly schema: dictionary strings become plain Utf8 (Parquet dictionary-encodes them itself, and each of
 * our batches has its own dictionary), Float16 vectors become Float32 (Float16 Parquet is not widely readable).
 * FixedSizeList vectors stay: they are written as Parquet LIST and read by DuckDB as FLOAT[].
 */
function parquetSchema(schema: Schema): Schema {
  const fields = schema.fields.map((f) => {
    if (f.type.typeId === Type.Dictionary) return new Field(f.name, new Utf8(), f.nullable, f.metadata);
    if (isF16List(f.type)) {
      const t = f.type as FixedSizeList;
      return new Field(f.name, new FixedSizeList(t.listSize, new Field(t.children[0].name, new Float32(), t.children[0].nullable)), f.nullable, f.metadata);
    }
    return f;
  });
  return new Schema(fields, schema.metadata);
}

function convertBatch(batch: RecordBatch, schema: Schema): RecordBatch {
  const n = batch.numRows;
  const children: Data[] = batch.data.children.map((data, j) => {
    const src = batch.schema.fields[j].type;
    if (src.typeId === Type.Dictionary) {
      const dict = data.dictionary!;
      const values: string[] = [];
      for (let k = 0; k < dict.length; k++) values.push(dict.get(k) as string);
      const idx = data.values as ArrayLike<number>;
      return vectorFromArray(
        Array.from({ length: n }, (_, i) => values[idx[data.offset + i]]),
        new Utf8(),
      ).data[0];
    }
    if (isF16List(src)) {
      const type = schema.fields[j].type as FixedSizeList;
      const d = type.listSize;
      const child = data.children[0];
      const base = child.offset + data.offset * d;
      const f32 = f16ArrayToF32((child.values as Uint16Array).subarray(base, base + n * d));
      return makeData({ type, length: n, nullCount: 0, child: makeData({ type: type.children[0].type as Float32, length: n * d, nullCount: 0, data: f32 }) });
    }
    return data;
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

function emptyBatch(schema: Schema): RecordBatch {
  const children = schema.fields.map((f) => makeData({ type: f.type, length: 0, nullCount: 0 }));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }));
}

function toWasmBatches(batches: RecordBatch[], schema: Schema): pq.RecordBatch[] {
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(new Table(schema, batches), "stream"));
  const out = wasmTable.recordBatches();
  wasmTable.free();
  return out;
}

/**
 * Write `arrowPath` (a valuelens Arrow IPC stream or file, finished or `.partial`) as Parquet at `parquetPath`
 * (atomically: temp file + rename). The valuelens provenance is kept as Parquet key-value metadata "valuelens".
 */
export async function exportParquet(arrowPath: string, parquetPath: string, options: ParquetExportOptions = {}): Promise<ParquetExportResult> {
  const schema = parquetSchema(await readSchema(arrowPath));
  const rowBytes = schema.fields.reduce((s, f) => s + (f.type.typeId === Type.FixedSizeList ? (f.type as FixedSizeList).listSize * 4 : 16), 0);
  const rowGroupRows = options.rowGroupRows ?? Math.max(1024, Math.min(1 << 20, Math.floor((32 << 20) / rowBytes)));
  const codec = { uncompressed: pq.Compression.UNCOMPRESSED, snappy: pq.Compression.SNAPPY, zstd: pq.Compression.ZSTD }[options.compression ?? "snappy"];
  let props = new pq.WriterPropertiesBuilder().setCompression(codec).setMaxRowGroupSize(rowGroupRows).setDictionaryEnabled(false);
  for (const f of schema.fields) if (f.type.typeId === Type.Utf8) props = props.setColumnDictionaryEnabled(f.name, true);
  if (schema.metadata.size > 0) props = props.setKeyValueMetadata(new Map(schema.metadata));

  const result: ParquetExportResult = { rows: 0, batches: 0 };
  const source = streamBatches(arrowPath);
  let first = true;
  const input = new ReadableStream<pq.RecordBatch>({
    async pull(controller) {
      const next = await source.next();
      if (next.done) {
        // parquet-wasm needs a batch to learn the schema: an empty file still gets one, empty.
        if (first) for (const b of toWasmBatches([emptyBatch(schema)], schema)) controller.enqueue(b);
        controller.close();
        return;
      }
      first = false;
      result.rows += next.value.numRows;
      result.batches++;
      for (const b of toWasmBatches([convertBatch(next.value, schema)], schema)) controller.enqueue(b);
    },
    async cancel() {
      await source.return(undefined);
    },
  });
  const output = await pq.transformParquetStream(input, props.build());
  await writeFileAtomic(parquetPath, output as AsyncIterable<Uint8Array>);
  return result;
}
