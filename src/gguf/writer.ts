/**
 * Streaming GGUF v3 writer.
 *
 * The header (metadata + tensor infos) is built in memory and fully validated
 * before any file is created; tensor data is then produced row by row into a
 * fixed-size chunk and written through a file handle, so a tensor never has to
 * exist twice in memory. Output goes to `<path>.tmp-<pid>` and is renamed into
 * place only on success.
 */
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import {
  GGML_MAX_DIMS,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  ggmlTensorBytes,
  ggufValueTypeName,
} from "./constants.js";
import { f32BitsToF16Bits } from "../util/f16.js";
import { quantizeQ8_0 } from "./q8_0.js";
import type { GgufKv, GgufScalarType, GgufTensorSpec, GgufWriteSpec } from "./types.js";

/** ggml's GGML_MAX_NAME is 64 including the terminating NUL. */
const MAX_TENSOR_NAME_BYTES = 63;
const CHUNK_BYTES = 8 << 20;

const utf8 = new TextEncoder();

/** Growable little-endian byte buffer for the header. */
class ByteBuilder {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.view.setInt8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }
  i64(v: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** GGUF string: u64 byte length + UTF-8 bytes, no terminator. */
  str(s: string): void {
    const b = utf8.encode(s);
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const INT_RANGES: Partial<Record<GgufScalarType, readonly [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff],
  [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff],
  [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffffffff],
  [GgufValueType.INT32]: [-0x80000000, 0x7fffffff],
};

function checkInt(key: string, type: GgufScalarType, v: number): void {
  const range = INT_RANGES[type];
  if (!range) return;
  if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
    throw new Error(`metadata '${key}': ${v} is not a valid ${ggufValueTypeName(type)}`);
  }
}

function checkBigInt(key: string, type: GgufScalarType, v: bigint): void {
  const ok = type === GgufValueType.UINT64 ? v >= 0n && v < 1n << 64n : v >= -(1n << 63n) && v < 1n << 63n;
  if (!ok) throw new Error(`metadata '${key}': ${v} is not a valid ${ggufValueTypeName(type)}`);
}

/** Write one scalar of `type`; `v` has already been checked against the type by the caller's union. */
function writeScalar(b: ByteBuilder, key: string, type: GgufScalarType, v: number | bigint | boolean | string): void {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64: {
      if (typeof v !== "number") throw new Error(`metadata '${key}': expected a number for ${ggufValueTypeName(type)}`);
      checkInt(key, type, v);
      if (type === GgufValueType.UINT8) b.u8(v);
      else if (type === GgufValueType.INT8) b.i8(v);
      else if (type === GgufValueType.UINT16) b.u16(v);
      else if (type === GgufValueType.INT16) b.i16(v);
      else if (type === GgufValueType.UINT32) b.u32(v);
      else if (type === GgufValueType.INT32) b.i32(v);
      else if (type === GgufValueType.FLOAT32) b.f32(v);
      else b.f64(v);
      return;
    }
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
      if (typeof v !== "bigint") throw new Error(`metadata '${key}': expected a bigint for ${ggufValueTypeName(type)}`);
      checkBigInt(key, type, v);
      if (type === GgufValueType.UINT64) b.u64(v);
      else b.i64(v);
      return;
    case GgufValueType.BOOL:
      if (typeof v !== "boolean") throw new Error(`metadata '${key}': expected a boolean`);
      b.u8(v ? 1 : 0);
      return;
    case GgufValueType.STRING:
      if (typeof v !== "string") throw new Error(`metadata '${key}': expected a string`);
      b.str(v);
      return;
    default:
      throw new Error(`metadata '${key}': unsupported value type ${ggufValueTypeName(type)}`);
  }
}

function writeKv(b: ByteBuilder, e: GgufKv): void {
  b.str(e.key);
  b.u32(e.type);
  if (e.type === GgufValueType.ARRAY) {
    if (!Array.isArray(e.value)) throw new Error(`metadata '${e.key}': array value must be an array`);
    b.u32(e.itemType);
    b.u64(BigInt(e.value.length));
    for (const item of e.value) writeScalar(b, e.key, e.itemType, item);
  } else {
    writeScalar(b, e.key, e.type, e.value);
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function resolveAlignment(spec: GgufWriteSpec): { alignment: number; metadata: GgufKv[] } {
  const metadata = [...spec.metadata];
  const entry = metadata.find((e) => e.key === GGUF_ALIGNMENT_KEY);
  let fromMeta: number | undefined;
  if (entry) {
    if (entry.type !== GgufValueType.UINT32) throw new Error(`metadata '${GGUF_ALIGNMENT_KEY}' must be UINT32`);
    fromMeta = entry.value;
  }
  if (fromMeta !== undefined && spec.alignment !== undefined && fromMeta !== spec.alignment) {
    throw new Error(`alignment ${spec.alignment} conflicts with ${GGUF_ALIGNMENT_KEY}=${fromMeta}`);
  }
  const alignment = spec.alignment ?? fromMeta ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`alignment must be a positive power of two, got ${alignment}`);
  }
  // Readers assume 32 unless told otherwise, so record any other value.
  if (fromMeta === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    metadata.push({ key: GGUF_ALIGNMENT_KEY, type: GgufValueType.UINT32, value: alignment });
  }
  return { alignment, metadata };
}

interface PlannedTensor {
  spec: GgufTensorSpec;
  ne0: number;
  rows: number;
  nBytes: number;
  relOffset: number;
}

function planTensors(tensors: readonly GgufTensorSpec[], alignment: number): { planned: PlannedTensor[]; dataBytes: number } {
  const names = new Set<string>();
  const planned: PlannedTensor[] = [];
  let rel = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`duplicate tensor name '${t.name}'`);
    names.add(t.name);
    if (utf8.encode(t.name).length > MAX_TENSOR_NAME_BYTES) {
      throw new Error(`tensor name '${t.name}' is longer than ${MAX_TENSOR_NAME_BYTES} bytes`);
    }
    if (t.shape.length < 1 || t.shape.length > GGML_MAX_DIMS) {
      throw new Error(`tensor '${t.name}': shape must have 1..${GGML_MAX_DIMS} dimensions, got [${t.shape.join(", ")}]`);
    }
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 1) throw new Error(`tensor '${t.name}': invalid dimension ${d} in shape [${t.shape.join(", ")}]`);
    }
    if (t.type !== GgmlType.F32 && t.type !== GgmlType.F16 && t.type !== GgmlType.Q8_0) {
      throw new Error(`tensor '${t.name}': writer supports F32, F16 and Q8_0 only (got type ${String(t.type)})`);
    }
    let nBytes: number;
    try {
      nBytes = ggmlTensorBytes(t.type, t.shape);
    } catch (e) {
      throw new Error(`tensor '${t.name}': ${(e as Error).message}`);
    }
    const ne0 = t.shape[0];
    const rows = t.shape.slice(1).reduce((a, b) => a * b, 1);
    if (t.data instanceof Float32Array && t.data.length !== ne0 * rows) {
      throw new Error(`tensor '${t.name}': data has ${t.data.length} values, shape [${t.shape.join(", ")}] needs ${ne0 * rows}`);
    }
    planned.push({ spec: t, ne0, rows, nBytes, relOffset: rel });
    rel = alignUp(rel + nBytes, alignment);
  }
  return { planned, dataBytes: rel };
}

/** Serialize magic, counts, metadata and tensor infos, padded to `alignment`. */
function buildHeader(metadata: readonly GgufKv[], planned: readonly PlannedTensor[], alignment: number): Uint8Array {
  const keys = new Set<string>();
  for (const e of metadata) {
    if (keys.has(e.key)) throw new Error(`duplicate metadata key '${e.key}'`);
    keys.add(e.key);
  }
  const b = new ByteBuilder();
  b.u32(GGUF_MAGIC);
  b.u32(GGUF_VERSION);
  b.u64(BigInt(planned.length));
  b.u64(BigInt(metadata.length));
  for (const e of metadata) writeKv(b, e);
  for (const p of planned) {
    b.str(p.spec.name);
    b.u32(p.spec.shape.length);
    for (const d of p.spec.shape) b.u64(BigInt(d));
    b.u32(p.spec.type);
    b.u64(BigInt(p.relOffset));
  }
  b.zeros(alignUp(b.length, alignment) - b.length);
  return b.result();
}

/** Buffers bytes and writes them sequentially through a file handle. */
class ChunkedFileWriter {
  private readonly chunk = new Uint8Array(CHUNK_BYTES);
  private used = 0;
  private written = 0;
  constructor(private readonly fh: FileHandle) {}

  /** Bytes accepted so far (written or buffered). */
  get position(): number {
    return this.written + this.used;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let src = bytes;
    while (src.length > 0) {
      const n = Math.min(src.length, this.chunk.length - this.used);
      this.chunk.set(src.subarray(0, n), this.used);
      this.used += n;
      src = src.subarray(n);
      if (this.used === this.chunk.length) await this.flush();
    }
  }
  async zeros(n: number): Promise<void> {
    if (n > 0) await this.write(new Uint8Array(n));
  }
  async flush(): Promise<void> {
    let off = 0;
    while (off < this.used) {
      const { bytesWritten } = await this.fh.write(this.chunk, off, this.used - off);
      off += bytesWritten;
    }
    this.written += this.used;
    this.used = 0;
  }
}

/** Encode rows of one tensor and hand them to the chunk writer. */
async function writeTensorData(out: ChunkedFileWriter, p: PlannedTensor): Promise<void> {
  const { spec, ne0, rows } = p;
  const rowBytes = p.nBytes / rows;
  // Several rows per encode call keeps per-call overhead low for narrow tensors.
  const rowsPerBatch = Math.max(1, Math.floor((1 << 20) / Math.max(rowBytes, 1)));
  const values = new Float32Array(ne0 * Math.min(rowsPerBatch, rows));
  // Rounded up to 4 bytes so the Float32/Uint16 views below are valid for odd-length F16 tensors.
  const encoded = new Uint8Array(Math.ceil((rowBytes * Math.min(rowsPerBatch, rows)) / 4) * 4);
  const encodedF32 = new Float32Array(encoded.buffer);
  const encodedU16 = new Uint16Array(encoded.buffer);
  const source = spec.data;

  for (let r0 = 0; r0 < rows; r0 += rowsPerBatch) {
    const nr = Math.min(rowsPerBatch, rows - r0);
    const n = nr * ne0;
    let batch: Float32Array;
    if (source instanceof Float32Array) {
      batch = source.subarray(r0 * ne0, r0 * ne0 + n);
    } else {
      for (let r = 0; r < nr; r++) {
        const row = values.subarray(r * ne0, (r + 1) * ne0);
        row.fill(0); // a callback that skips entries must not leak the previous row
        source(r0 + r, row);
      }
      batch = values.subarray(0, n);
    }
    const nb = nr * rowBytes;
    if (spec.type === GgmlType.F32) {
      encodedF32.set(batch);
    } else if (spec.type === GgmlType.F16) {
      const bits = new Uint32Array(batch.buffer, batch.byteOffset, n);
      for (let i = 0; i < n; i++) encodedU16[i] = f32BitsToF16Bits(bits[i]);
    } else {
      quantizeQ8_0(batch, encoded, 0);
    }
    await out.write(encoded.subarray(0, nb));
  }
}

export interface GgufWriteResult {
  path: string;
  bytes: number;
  alignment: number;
  dataOffset: number;
}

/** Write a GGUF v3 file atomically (temp file + rename). */
export async function writeGguf(path: string, spec: GgufWriteSpec): Promise<GgufWriteResult> {
  const { alignment, metadata } = resolveAlignment(spec);
  const { planned } = planTensors(spec.tensors, alignment);
  const header = buildHeader(metadata, planned, alignment);

  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  let closed = false;
  try {
    const out = new ChunkedFileWriter(fh);
    await out.write(header);
    for (const p of planned) {
      await out.zeros(header.length + p.relOffset - out.position);
      try {
        await writeTensorData(out, p);
      } catch (e) {
        throw new Error(`writing tensor '${p.spec.name}' to ${path}: ${(e as Error).message}`, { cause: e });
      }
    }
    // Trailing padding like ggml's writer, so the file size is aligned too.
    await out.zeros(alignUp(out.position, alignment) - out.position);
    await out.flush();
    await fh.close();
    closed = true;
    await rename(tmp, path);
    return { path, bytes: out.position, alignment, dataOffset: header.length };
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
