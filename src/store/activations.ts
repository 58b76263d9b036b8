// Streaming, crash-safe writer of activation files (Arrow IPC stream, one row per (text, layer)).
import { copyFile, open, rename, rm, stat, truncate, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import {
  Dictionary,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Int32,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  Type,
  makeData,
  vectorFromArray,
  type Data,
  type DataType,
} from "apache-arrow";
import type { Side, Split } from "../data/types.js";
import { f32ArrayToF16 } from "../util/f16.js";
import { EOS_BYTES, encodeBatchMessages, encodeSchemaMessage, scanStream, streamBatches, syncDir, type StreamScan } from "./ipc.js";
import { ProvenanceMismatchError, provenanceDifferences, provenanceFromSchema, provenanceMetadata } from "./provenance.js";
import { ACTIVATION_COLUMNS as C, type Provenance } from "./schema.js";
import { lockOutput, type OutputLock } from "../util/output.js";

export type VectorType = "float32" | "float16";

/** Identity of one stored row. `layer` is the canonical layer site name (`String(layerSite)`). */
export interface RowKey {
  itemId: string;
  concept: string;
  lang: string;
  side: Side;
  template: string;
  layer: string | number;
}

/** Identity of one templated text (a row key without the layer). */
export type TextKey = Omit<RowKey, "layer">;

export interface ActivationRow extends RowKey {
  split: Split;
  tokenCount: number;
  vector: ArrayLike<number>;
}

/**
 * Columnar form of `n` rows. Each metadata column is either one value for all rows or one value per row.
 * `vectors` is row-major n × nEmbd (n = vectors.length / nEmbd); e.g. `Activations.layer(l)` of a capture is
 * exactly this for the rows of layer `l`.
 */
export interface ActivationColumns {
  itemId: string | readonly string[];
  concept: string | readonly string[];
  lang: string | readonly string[];
  side: Side | readonly Side[];
  split: Split | readonly Split[];
  template: string | readonly string[];
  layer: string | number | readonly (string | number)[];
  tokenCount: number | ArrayLike<number>;
  vectors: Float32Array;
}

export interface ActivationWriterOptions {
  /** Written into the schema metadata (`kind` is forced to "activations"). On resume it must match the file's. */
  provenance: Provenance;
  nEmbd: number;
  vectorType: VectorType;
  /** Continue an existing `path + ".partial"` (preferred) or finished `path` instead of starting over. */
  resume?: boolean;
  /** Rows per record batch (default: about 8 MiB of vectors per batch). */
  batchRows?: number;
  /** fdatasync after every batch (default true). */
  sync?: boolean;
}

export interface ActivationWriter {
  readonly path: string;
  readonly partialPath: string;
  readonly nEmbd: number;
  readonly vectorType: VectorType;
  readonly batchRows: number;
  /** The provenance stored in the file (the existing file's when resuming). */
  readonly provenance: Provenance;
  /** Rows found in the existing file when resuming (0 otherwise). */
  readonly resumedRows: number;
  /** Rows in the file plus rows appended but not yet flushed. */
  readonly rowCount: number;
  /** Whether a row with this key is stored or appended (flushed or not). */
  has(key: RowKey): boolean;
  /** Whether every one of `layers` of this text is stored or appended. */
  hasAll(text: TextKey, layers: readonly (string | number)[]): boolean;
  /** Buffer rows and write every full batch to disk. Throws on a key already present. Await it before the next call. */
  append(rows: readonly ActivationRow[] | ActivationColumns): Promise<void>;
  /** Write buffered rows as a (short) batch now. */
  flush(): Promise<void>;
  /** Flush, end the stream and atomically rename `.partial` to `path`. */
  close(): Promise<void>;
  /** Flush and stop without finishing: `.partial` stays for a later `resume`. */
  abort(): Promise<void>;
}

const DICT_COLUMNS = [C.concept, C.lang, C.side, C.split, C.template, C.layer] as const;
const SIDES: readonly string[] = ["pos", "neg"];
const SPLITS: readonly string[] = ["train", "val", "test"];

/** The Arrow schema of an activation file. Dictionary ids are fixed so batches of any writer session agree. */
export function activationSchema(nEmbd: number, vectorType: VectorType, provenance: Provenance): Schema {
  const dict = (name: string, id: number) => new Field(name, new Dictionary(new Utf8(), new Int32(), id), false);
  const elem: DataType = vectorType === "float16" ? new Float16() : new Float32();
  return new Schema(
    [
      new Field(C.itemId, new Utf8(), false),
      ...DICT_COLUMNS.map((name, i) => dict(name, i)),
      new Field(C.tokenCount, new Int32(), false),
      new Field(C.vector, new FixedSizeList(nEmbd, new Field("item", elem, false)), false),
    ],
    provenanceMetadata(provenance),
  );
}

/** nEmbd and element type of a file's vector column, or a reason it is not an activation schema. */
export function vectorLayout(schema: Schema): { nEmbd: number; vectorType: VectorType } | string {
  const names = schema.fields.map((f) => f.name);
  const expected = [C.itemId, ...DICT_COLUMNS, C.tokenCount, C.vector];
  if (names.join(",") !== expected.join(",")) return `columns are [${names.join(", ")}], expected [${expected.join(", ")}]`;
  const t = schema.fields[names.length - 1].type;
  if (t.typeId !== Type.FixedSizeList) return `column "${C.vector}" is not a FixedSizeList`;
  const fsl = t as FixedSizeList;
  const child = fsl.children[0].type;
  const precision = child.typeId === Type.Float ? (child as Float16 | Float32).precision : -1;
  const vectorType = precision === Precision.HALF ? "float16" : precision === Precision.SINGLE ? "float32" : null;
  if (vectorType === null) return `column "${C.vector}" has element type ${String(child)}, expected Float32 or Float16`;
  return { nEmbd: fsl.listSize, vectorType };
}

function groupKey(k: Omit<TextKey, "itemId">): string {
  return `${k.concept}\u0000${k.lang}\u0000${k.side}\u0000${k.template}`;
}

/**
 * Row keys, compactly (runs have ~10^6 texts × tens of layers): texts grouped by (concept, lang, side, template),
 * and per item a bitset over interned layer names: a small integer while layer ids are < 31, else an array of words.
 */
export class RowKeyIndex {
  private readonly groups = new Map<string, Map<string, number | number[]>>();
  private readonly layerIds = new Map<string, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the key; false if it was already present. */
  add(text: TextKey, layer: string): boolean {
    let id = this.layerIds.get(layer);
    if (id === undefined) {
      id = this.layerIds.size;
      this.layerIds.set(layer, id);
    }
    const g = groupKey(text);
    let items = this.groups.get(g);
    if (items === undefined) {
      items = new Map();
      this.groups.set(g, items);
    }
    const cur = items.get(text.itemId) ?? 0;
    if (typeof cur === "number" && id < 31) {
      if ((cur & (1 << id)) !== 0) return false;
      items.set(text.itemId, cur | (1 << id));
    } else {
      const words = typeof cur === "number" ? [cur] : cur;
      const w = id >>> 5;
      while (words.length <= w) words.push(0);
      const m = 1 << (id & 31);
      if ((words[w] & m) !== 0) return false;
      words[w] |= m;
      if (words !== cur) items.set(text.itemId, words);
    }
    this.count++;
    return true;
  }

  has(text: TextKey, layer: string): boolean {
    const id = this.layerIds.get(layer);
    if (id === undefined) return false;
    const cur = this.groups.get(groupKey(text))?.get(text.itemId);
    if (cur === undefined) return false;
    const word = typeof cur === "number" ? (id < 32 ? cur : 0) : (cur[id >>> 5] ?? 0);
    return (word & (1 << (id & 31))) !== 0;
  }
}

function column<T>(v: T | readonly T[], n: number, name: string): (i: number) => T {
  if (!Array.isArray(v)) return () => v as T;
  const arr = v as readonly T[];
  if (arr.length !== n) throw new RangeError(`append: column ${name} has ${arr.length} values for ${n} rows`);
  return (i) => arr[i];
}

function checkedString(v: unknown, name: string): string {
  if (typeof v !== "string" || v.length === 0) throw new TypeError(`append: ${name} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** Per-batch dictionary: distinct values in first-seen order and Int32 indices. */
function dictionaryData(values: readonly string[], n: number, type: Dictionary): Data {
  const ids = new Map<string, number>();
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let id = ids.get(values[i]);
    if (id === undefined) {
      id = ids.size;
      ids.set(values[i], id);
    }
    indices[i] = id;
  }
  const dictionary = vectorFromArray([...ids.keys()], new Utf8());
  return makeData({ type, length: n, nullCount: 0, data: indices, dictionary });
}

interface RowMeta extends TextKey {
  split: Split;
  layer: string;
  tokenCount: number;
  vec: ArrayLike<number>;
  vecOffset: number;
}

class Pending {
  n = 0;
  readonly itemId: string[] = [];
  readonly strings: string[][] = DICT_COLUMNS.map(() => []);
  readonly tokenCount: Int32Array;
  readonly vec: Float32Array | Uint16Array;
  constructor(
    readonly capacity: number,
    nEmbd: number,
    vectorType: VectorType,
  ) {
    this.tokenCount = new Int32Array(capacity);
    this.vec = vectorType === "float16" ? new Uint16Array(capacity * nEmbd) : new Float32Array(capacity * nEmbd);
  }
  clear(): void {
    this.n = 0;
    this.itemId.length = 0;
    for (const s of this.strings) s.length = 0;
  }
}

class ActivationWriterImpl implements ActivationWriter {
  readonly partialPath: string;
  private fh: FileHandle | null = null;
  private pos = 0;
  private readonly keys = new RowKeyIndex();
  private readonly pending: Pending;
  private readonly schema: Schema;
  private readonly f32Scratch: Float32Array;
  private chain: Promise<void> = Promise.resolve();
  private failed: Error | null = null;
  private state: "open" | "closed" | "aborted" = "open";
  resumedRows = 0;
  /** Held from open to close/abort: a second writer of the same file fails at once, naming this one. */
  lock: OutputLock | null = null;

  constructor(
    readonly path: string,
    readonly nEmbd: number,
    readonly vectorType: VectorType,
    readonly batchRows: number,
    public provenance: Provenance,
    private readonly sync: boolean,
  ) {
    this.partialPath = `${path}.partial`;
    this.schema = activationSchema(nEmbd, vectorType, provenance);
    this.pending = new Pending(batchRows, nEmbd, vectorType);
    this.f32Scratch = new Float32Array(nEmbd);
  }

  get rowCount(): number {
    return this.keys.size;
  }

  has(key: RowKey): boolean {
    return this.keys.has(key, String(key.layer));
  }

  hasAll(text: TextKey, layers: readonly (string | number)[]): boolean {
    return layers.every((l) => this.keys.has(text, String(l)));
  }

  /** Open a fresh `.partial`, or continue one; returns after the file holds only complete batches. */
  async init(resume: boolean): Promise<void> {
    if (resume) {
      const source = await this.resumeSource();
      if (source !== null) {
        await this.adopt(source.path, source.scan);
        return;
      }
    }
    await rm(this.partialPath, { force: true });
    this.fh = await open(this.partialPath, "w");
    await this.writeBytes(encodeSchemaMessage(this.schema));
    if (this.sync) await this.fh.datasync();
    await syncDir(dirname(this.partialPath));
  }

  private async resumeSource(): Promise<{ path: string; scan: StreamScan } | null> {
    for (const p of [this.partialPath, this.path]) {
      const exists = await stat(p).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!exists) continue;
      const scan = await scanStream(p);
      if (scan.schema !== null) return { path: p, scan };
      // A .partial killed before its schema was written holds nothing.
    }
    return null;
  }

  private async adopt(source: string, scan: StreamScan): Promise<void> {
    if (scan.schema === null || scan.format !== "stream") throw new Error(`${source}: not an Arrow IPC stream file`);
    const layout = vectorLayout(scan.schema);
    if (typeof layout === "string") throw new Error(`${source}: not an activation file: ${layout}`);
    const existing = provenanceFromSchema(scan.schema, source);
    const diffs = provenanceDifferences(existing, this.provenance);
    if (layout.nEmbd !== this.nEmbd) diffs.push(`nEmbd: file has ${layout.nEmbd}, wanted ${this.nEmbd}`);
    if (layout.vectorType !== this.vectorType) diffs.push(`vectorType: file has ${layout.vectorType}, wanted ${this.vectorType}`);
    if (diffs.length > 0) throw new ProvenanceMismatchError(source, diffs);
    this.provenance = existing;

    for await (const batch of streamBatches(source)) {
      const cols = batch.data.children;
      const itemIds = batch.getChildAt(0)!;
      const dicts = DICT_COLUMNS.map((_, j) => decodeDictColumn(cols[1 + j]));
      for (let i = 0; i < batch.numRows; i++) {
        const text = { itemId: itemIds.get(i) as string, concept: dicts[0][i], lang: dicts[1][i], side: dicts[2][i] as Side, template: dicts[4][i] };
        this.keys.add(text, dicts[5][i]);
      }
    }
    this.resumedRows = this.keys.size;

    if (source === this.partialPath) {
      // Drop the torn tail (or end-of-stream marker) so new batches follow the last complete one.
      await truncate(this.partialPath, scan.validEnd);
    } else {
      // Continue a finished file in a copy; the finished file stays valid until close() replaces it.
      const tmp = `${this.partialPath}.tmp`;
      await copyFile(source, tmp);
      await truncate(tmp, scan.validEnd);
      const t = await open(tmp, "r+");
      await t.sync();
      await t.close();
      await rename(tmp, this.partialPath);
      await syncDir(dirname(this.partialPath));
    }
    this.fh = await open(this.partialPath, "r+");
    this.pos = scan.validEnd;
    if (this.sync) await this.fh.sync();
  }

  private async writeBytes(bytes: Uint8Array): Promise<void> {
    const fh = this.fh!;
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
  }

  private checkOpen(): void {
    if (this.failed !== null) throw new Error(`activation writer for ${this.path} failed earlier: ${this.failed.message}`);
    if (this.state !== "open") throw new Error(`activation writer for ${this.path} is ${this.state}`);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.failed !== null) throw this.failed;
      try {
        await task();
      } catch (e) {
        this.failed = e as Error;
        throw e;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Encode the buffered rows now (synchronously, so the buffers can be reused) and queue the write. */
  private cutBatch(): Promise<void> {
    const p = this.pending;
    if (p.n === 0) return this.chain;
    const n = p.n;
    const d = this.nEmbd;
    const fields = this.schema.fields;
    const children: Data[] = [vectorFromArray(p.itemId, new Utf8()).data[0]];
    DICT_COLUMNS.forEach((_, j) => children.push(dictionaryData(p.strings[j], n, fields[1 + j].type as Dictionary)));
    children.push(makeData({ type: new Int32(), length: n, nullCount: 0, data: p.tokenCount.subarray(0, n) }));
    const fsl = fields[fields.length - 1].type as FixedSizeList;
    const elem = fsl.children[0].type;
    const child =
      this.vectorType === "float16"
        ? makeData({ type: elem as Float16, length: n * d, nullCount: 0, data: (p.vec as Uint16Array).subarray(0, n * d) })
        : makeData({ type: elem as Float32, length: n * d, nullCount: 0, data: (p.vec as Float32Array).subarray(0, n * d) });
    children.push(makeData({ type: fsl, length: n, nullCount: 0, child }));
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
    const bytes = encodeBatchMessages(batch);
    p.clear();
    return this.enqueue(async () => {
      await this.writeBytes(bytes);
      if (this.sync) await this.fh!.datasync();
    });
  }

  async append(rows: readonly ActivationRow[] | ActivationColumns): Promise<void> {
    this.checkOpen();
    const d = this.nEmbd;
    const templates = this.provenance.templates ?? {};
    // Validate every row before taking any, so a rejected call leaves the writer as it was.
    const metas: RowMeta[] = [];
    const inCall = new Set<string>();
    const check = (r: RowKey & { split: Split; tokenCount: number }, vec: ArrayLike<number>, vecOffset: number) => {
      const m: RowMeta = {
        itemId: checkedString(r.itemId, "itemId"),
        concept: checkedString(r.concept, "concept"),
        lang: checkedString(r.lang, "lang"),
        side: r.side,
        split: r.split,
        template: checkedString(r.template, "template"),
        layer: checkedString(String(r.layer), "layer"),
        tokenCount: r.tokenCount,
        vec,
        vecOffset,
      };
      if (!SIDES.includes(m.side)) throw new TypeError(`append: side must be "pos" or "neg", got ${JSON.stringify(m.side)}`);
      if (!SPLITS.includes(m.split)) throw new TypeError(`append: split must be train/val/test, got ${JSON.stringify(m.split)}`);
      if (!Number.isInteger(m.tokenCount) || m.tokenCount < 0) throw new TypeError(`append: tokenCount must be a non-negative integer, got ${m.tokenCount}`);
      if (!Object.hasOwn(templates, m.template)) {
        throw new Error(`append: template "${m.template}" is not in the provenance templates (${Object.keys(templates).join(", ") || "none"})`);
      }
      const callKey = `${groupKey(m)}\u0000${m.itemId}\u0000${m.layer}`;
      if (this.keys.has(m, m.layer) || inCall.has(callKey)) {
        throw new Error(`append: duplicate row (item ${m.itemId}, ${m.concept}/${m.lang}, ${m.side}, template ${m.template}, layer ${m.layer}); check has() first`);
      }
      inCall.add(callKey);
      metas.push(m);
    };
    if (Array.isArray(rows)) {
      for (const r of rows as readonly ActivationRow[]) {
        if (r.vector?.length !== d) throw new RangeError(`append: vector of item ${r.itemId} has length ${r.vector?.length}, expected nEmbd ${d}`);
        check(r, r.vector, 0);
      }
    } else {
      const c = rows as ActivationColumns;
      if (!(c.vectors instanceof Float32Array) || c.vectors.length % d !== 0) {
        throw new RangeError(`append: vectors must be a Float32Array of n × nEmbd (${d}) values`);
      }
      const n = c.vectors.length / d;
      const itemId = column(c.itemId, n, "itemId");
      const concept = column(c.concept, n, "concept");
      const lang = column(c.lang, n, "lang");
      const side = column(c.side, n, "side");
      const split = column(c.split, n, "split");
      const template = column(c.template, n, "template");
      const layer = column(c.layer, n, "layer");
      const tc = typeof c.tokenCount === "number" ? null : c.tokenCount;
      if (tc !== null && tc.length !== n) throw new RangeError(`append: column tokenCount has ${tc.length} values for ${n} rows`);
      for (let i = 0; i < n; i++) {
        const row = {
          itemId: itemId(i),
          concept: concept(i),
          lang: lang(i),
          side: side(i),
          split: split(i),
          template: template(i),
          layer: layer(i),
          tokenCount: tc === null ? (c.tokenCount as number) : tc[i],
        };
        check(row, c.vectors, i * d);
      }
    }

    const writes: Promise<void>[] = [];
    const p = this.pending;
    for (const m of metas) {
      this.keys.add(m, m.layer);
      const i = p.n;
      p.itemId.push(m.itemId);
      const s = p.strings;
      s[0].push(m.concept);
      s[1].push(m.lang);
      s[2].push(m.side);
      s[3].push(m.split);
      s[4].push(m.template);
      s[5].push(m.layer);
      p.tokenCount[i] = m.tokenCount;
      let src: Float32Array;
      if (m.vec instanceof Float32Array) src = m.vec.subarray(m.vecOffset, m.vecOffset + d);
      else {
        src = this.f32Scratch;
        for (let k = 0; k < d; k++) src[k] = m.vec[m.vecOffset + k];
      }
      if (p.vec instanceof Uint16Array) f32ArrayToF16(src, p.vec.subarray(i * d, (i + 1) * d));
      else p.vec.set(src, i * d);
      p.n++;
      if (p.n === p.capacity) writes.push(this.cutBatch());
    }
    await Promise.all(writes);
  }

  async flush(): Promise<void> {
    this.checkOpen();
    await this.cutBatch();
  }

  async close(): Promise<void> {
    this.checkOpen();
    try {
      await this.cutBatch();
      await this.enqueue(async () => {
        await this.writeBytes(EOS_BYTES);
        await this.fh!.sync();
        await this.fh!.close();
        this.fh = null;
        await rename(this.partialPath, this.path);
        await syncDir(dirname(this.path));
      });
      this.state = "closed";
    } catch (e) {
      // Keep whatever complete batches reached .partial for a resume.
      this.state = "aborted";
      await this.fh?.close().catch(() => undefined);
      this.fh = null;
      throw e;
    } finally {
      await this.lock?.release();
    }
  }

  async abort(): Promise<void> {
    if (this.state !== "open") return;
    try {
      if (this.failed === null) await this.cutBatch();
      await this.chain;
    } finally {
      this.state = "aborted";
      await this.fh?.close().catch(() => undefined);
      this.fh = null;
      await this.lock?.release();
    }
  }
}

function defaultBatchRows(nEmbd: number, vectorType: VectorType): number {
  const rowBytes = nEmbd * (vectorType === "float16" ? 2 : 4);
  return Math.max(16, Math.min(65536, Math.floor((8 << 20) / rowBytes)));
}

/**
 * Open an activation file for writing. Rows go to `path + ".partial"` as they come (complete record batches,
 * fdatasync'd); `close()` renames it to `path`. With `resume`, rows already in `.partial` (or in a finished `path`)
 * are kept and reported by `has()`, and new rows are appended after them.
 */
export async function openActivationWriter(path: string, options: ActivationWriterOptions): Promise<ActivationWriter> {
  const { nEmbd, vectorType } = options;
  if (!Number.isInteger(nEmbd) || nEmbd <= 0) throw new RangeError(`nEmbd must be a positive integer, got ${nEmbd}`);
  if (vectorType !== "float32" && vectorType !== "float16") throw new RangeError(`vectorType must be "float32" or "float16", got ${String(vectorType)}`);
  if (options.provenance.model?.nEmbd !== nEmbd) {
    throw new RangeError(`nEmbd ${nEmbd} differs from provenance.model.nEmbd ${options.provenance.model?.nEmbd}`);
  }
  const batchRows = options.batchRows ?? defaultBatchRows(nEmbd, vectorType);
  if (!Number.isInteger(batchRows) || batchRows <= 0) throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  const provenance: Provenance = { ...options.provenance, kind: "activations" };
  const w = new ActivationWriterImpl(path, nEmbd, vectorType, batchRows, provenance, options.sync ?? true);
  w.lock = await lockOutput(path);
  try {
    await w.init(options.resume ?? false);
  } catch (e) {
    await w.lock.release();
    throw e;
  }
  return w;
}

/** Per-row strings of a dictionary-encoded Utf8 column. */
export function decodeDictColumn(data: Data): string[] {
  const dict = data.dictionary;
  if (dict === undefined) throw new Error("expected a dictionary-encoded column");
  const values: string[] = [];
  for (let j = 0; j < dict.length; j++) values.push(dict.get(j) as string);
  const idx = data.values as ArrayLike<number>;
  const out = new Array<string>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = values[idx[data.offset + i]];
  return out;
}
