/**
 * GGUF reader: parses only the header through buffered partial reads (the
 * tensor data of multi-GB models is never loaded), and dequantizes single
 * tensors or row ranges on demand.
 */
import { open, type FileHandle } from "node:fs/promises";
import {
  GGML_MAX_DIMS,
  GGML_TYPE_INFO,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgmlType,
  GgufValueType,
  ggmlTypeName,
  ggufValueTypeName,
} from "./constants.js";
import { f16ToF32 } from "../util/f16.js";
import { dequantizeQ8_0 } from "./q8_0.js";
import type {
  GgufArrayValue,
  GgufFile,
  GgufKv,
  GgufScalarType,
  GgufScalarValue,
  GgufTensorInfo,
  GgufValue,
} from "./types.js";

const READ_CHUNK = 1 << 20;
const BF16_TYPE = 30;
const SUPPORTED_VERSIONS = [2, 3];
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Sequential little-endian reader over a file handle with a refillable buffer. */
class Cursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0; // file offset of buf[0]
  private pos = 0; // index into buf
  /** What is being parsed, for error messages. */
  context = "header";

  constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly fileSize: number,
  ) {}

  get offset(): number {
    return this.bufStart + this.pos;
  }

  get remaining(): number {
    return this.fileSize - this.offset;
  }

  private truncated(need: number): Error {
    return new Error(
      `truncated GGUF file ${this.path}: ${this.context} needs ${need} bytes at offset ${this.offset}, but the file is only ${this.fileSize} bytes`,
    );
  }

  /** Make sure `n` bytes are buffered at the current position. */
  async ensure(n: number): Promise<void> {
    if (this.buf.length - this.pos >= n) return;
    if (this.remaining < n) throw this.truncated(n);
    const keep = this.buf.subarray(this.pos);
    const size = Math.max(READ_CHUNK, n);
    const next = Buffer.allocUnsafe(Math.min(size, this.remaining));
    keep.copy(next, 0);
    let filled = keep.length;
    const readFrom = this.bufStart + this.buf.length;
    while (filled < next.length) {
      const { bytesRead } = await this.fh.read(next, filled, next.length - filled, readFrom + filled - keep.length);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.bufStart += this.pos;
    this.pos = 0;
    this.buf = next.subarray(0, filled);
    if (filled < n) throw this.truncated(n);
  }

  // Fast paths: callers ensure() first, then take values synchronously.
  u8(): number {
    return this.buf.readUInt8(this.pos++);
  }
  i8(): number {
    return this.buf.readInt8(this.pos++);
  }
  u16(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f32(): number {
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  bytesAsString(n: number): string {
    const s = utf8.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** u64 that must fit a JS number and not exceed what the file could hold. */
  async count(what: string, minItemBytes: number): Promise<number> {
    await this.ensure(8);
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || Number(v) * minItemBytes > this.remaining) {
      throw new Error(
        `truncated or corrupt GGUF file ${this.path}: ${this.context} declares ${v} ${what}, more than the remaining ${this.remaining} bytes can hold`,
      );
    }
    return Number(v);
  }

  async string(): Promise<string> {
    const n = await this.count("string bytes", 1);
    await this.ensure(n);
    return this.bytesAsString(n);
  }
}

const SCALAR_SIZES: Record<GgufScalarType, number> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.STRING]: 8,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

function isScalarType(t: number): t is GgufScalarType {
  return t in SCALAR_SIZES && t !== GgufValueType.ARRAY;
}

function unknownType(c: Cursor, t: number): Error {
  return new Error(`corrupt GGUF file ${c.path}: ${c.context} has unknown value type ${t}`);
}

async function readScalar(c: Cursor, type: GgufScalarType): Promise<GgufScalarValue> {
  if (type === GgufValueType.STRING) return { type, value: await c.string() };
  await c.ensure(SCALAR_SIZES[type]);
  switch (type) {
    case GgufValueType.UINT8:
      return { type, value: c.u8() };
    case GgufValueType.INT8:
      return { type, value: c.i8() };
    case GgufValueType.UINT16:
      return { type, value: c.u16() };
    case GgufValueType.INT16:
      return { type, value: c.i16() };
    case GgufValueType.UINT32:
      return { type, value: c.u32() };
    case GgufValueType.INT32:
      return { type, value: c.i32() };
    case GgufValueType.FLOAT32:
      return { type, value: c.f32() };
    case GgufValueType.FLOAT64:
      return { type, value: c.f64() };
    case GgufValueType.UINT64:
      return { type, value: c.u64() };
    case GgufValueType.INT64:
      return { type, value: c.i64() };
    case GgufValueType.BOOL: {
      const b = c.u8();
      if (b > 1) throw new Error(`corrupt GGUF file ${c.path}: ${c.context} has invalid bool byte ${b}`);
      return { type, value: b === 1 };
    }
  }
}

/** Read `n` fixed-size numbers, buffering in bounded slices so huge arrays don't need one giant read. */
async function readNumberArray(c: Cursor, n: number, size: number, take: () => number): Promise<number[]> {
  const out = new Array<number>(n);
  const perSlice = Math.max(1, Math.floor(READ_CHUNK / size));
  for (let i = 0; i < n; ) {
    const m = Math.min(perSlice, n - i);
    await c.ensure(m * size);
    for (let j = 0; j < m; j++) out[i++] = take();
  }
  return out;
}

async function readArray(c: Cursor): Promise<GgufArrayValue> {
  await c.ensure(4);
  const itemType = c.u32();
  if (itemType === GgufValueType.ARRAY) {
    throw new Error(`unsupported GGUF file ${c.path}: ${c.context} is a nested array`);
  }
  if (!isScalarType(itemType)) throw unknownType(c, itemType);
  const n = await c.count("array items", SCALAR_SIZES[itemType]);
  const type = GgufValueType.ARRAY;
  switch (itemType) {
    case GgufValueType.UINT8:
      return { type, itemType, value: await readNumberArray(c, n, 1, () => c.u8()) };
    case GgufValueType.INT8:
      return { type, itemType, value: await readNumberArray(c, n, 1, () => c.i8()) };
    case GgufValueType.UINT16:
      return { type, itemType, value: await readNumberArray(c, n, 2, () => c.u16()) };
    case GgufValueType.INT16:
      return { type, itemType, value: await readNumberArray(c, n, 2, () => c.i16()) };
    case GgufValueType.UINT32:
      return { type, itemType, value: await readNumberArray(c, n, 4, () => c.u32()) };
    case GgufValueType.INT32:
      return { type, itemType, value: await readNumberArray(c, n, 4, () => c.i32()) };
    case GgufValueType.FLOAT32:
      return { type, itemType, value: await readNumberArray(c, n, 4, () => c.f32()) };
    case GgufValueType.FLOAT64:
      return { type, itemType, value: await readNumberArray(c, n, 8, () => c.f64()) };
    case GgufValueType.UINT64:
    case GgufValueType.INT64: {
      const value = new Array<bigint>(n);
      for (let i = 0; i < n; i++) {
        await c.ensure(8);
        value[i] = itemType === GgufValueType.UINT64 ? c.u64() : c.i64();
      }
      return { type, itemType, value };
    }
    case GgufValueType.BOOL: {
      const value = new Array<boolean>(n);
      for (let i = 0; i < n; i++) {
        const v = await readScalar(c, itemType);
        value[i] = v.value === true;
      }
      return { type, itemType, value };
    }
    case GgufValueType.STRING: {
      const value = new Array<string>(n);
      for (let i = 0; i < n; i++) value[i] = await c.string();
      return { type, itemType, value };
    }
  }
}

async function readValue(c: Cursor, type: number): Promise<GgufValue> {
  if (type === GgufValueType.ARRAY) return readArray(c);
  if (!isScalarType(type)) throw unknownType(c, type);
  return readScalar(c, type);
}

async function withFile<T>(path: string, fn: (fh: FileHandle, size: number) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new Error(`cannot open GGUF file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { size } = await fh.stat();
    return await fn(fh, size);
  } finally {
    await fh.close();
  }
}

interface Preamble {
  version: number;
  nTensors: number;
  metadata: Map<string, GgufValue>;
}

async function readPreamble(c: Cursor): Promise<Preamble> {
  c.context = "magic";
  if (c.fileSize < 4) throw new Error(`not a GGUF file: ${c.path} is only ${c.fileSize} bytes`);
  await c.ensure(4);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) {
    const hex = magic.toString(16).padStart(8, "0");
    throw new Error(`not a GGUF file: ${c.path} starts with 0x${hex}, expected magic "GGUF"`);
  }
  c.context = "version";
  await c.ensure(4);
  const version = c.u32();
  if (!SUPPORTED_VERSIONS.includes(version)) {
    const hint = version > 0xffff ? " (big-endian GGUF files are not supported)" : "";
    throw new Error(`unsupported GGUF version ${version} in ${c.path}${hint}; supported: ${SUPPORTED_VERSIONS.join(", ")}`);
  }
  c.context = "tensor count";
  const nTensors = await c.count("tensors", 8);
  c.context = "metadata count";
  const nKv = await c.count("metadata entries", 12);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    c.context = `metadata entry #${i} key`;
    const key = await c.string();
    c.context = `metadata '${key}'`;
    if (metadata.has(key)) throw new Error(`corrupt GGUF file ${c.path}: duplicate metadata key '${key}'`);
    await c.ensure(4);
    const type = c.u32();
    metadata.set(key, await readValue(c, type));
  }
  return { version, nTensors, metadata };
}

function resolveAlignment(path: string, metadata: Map<string, GgufValue>): number {
  const a = metadata.get(GGUF_ALIGNMENT_KEY);
  if (!a) return GGUF_DEFAULT_ALIGNMENT;
  if (a.type !== GgufValueType.UINT32) {
    throw new Error(`corrupt GGUF file ${path}: ${GGUF_ALIGNMENT_KEY} has type ${ggufValueTypeName(a.type)}, expected UINT32`);
  }
  const v = a.value;
  if (v === 0 || (v & (v - 1)) !== 0) throw new Error(`corrupt GGUF file ${path}: ${GGUF_ALIGNMENT_KEY}=${v} is not a power of two`);
  return v;
}

/** Parse the header of a GGUF file: metadata, tensor infos, alignment and data offset. */
export async function readGguf(path: string): Promise<GgufFile> {
  return withFile(path, async (fh, fileSize) => {
    const c = new Cursor(fh, path, fileSize);
    const { version, nTensors, metadata } = await readPreamble(c);
    const alignment = resolveAlignment(path, metadata);

    const raw: Array<{ name: string; shape: number[]; type: number; rel: number; nBytes: number }> = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
      c.context = `tensor info #${i} name`;
      const name = await c.string();
      c.context = `tensor info '${name}'`;
      if (names.has(name)) throw new Error(`corrupt GGUF file ${path}: duplicate tensor name '${name}'`);
      names.add(name);
      await c.ensure(4);
      const nDims = c.u32();
      if (nDims < 1 || nDims > GGML_MAX_DIMS) {
        throw new Error(`corrupt GGUF file ${path}: tensor '${name}' has ${nDims} dimensions (1..${GGML_MAX_DIMS} allowed)`);
      }
      await c.ensure(8 * nDims + 12);
      const shape: number[] = [];
      let nElements = 1;
      for (let d = 0; d < nDims; d++) {
        const ne = c.u64();
        if (ne > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`corrupt GGUF file ${path}: tensor '${name}' dimension ${ne} too large`);
        shape.push(Number(ne));
        nElements *= Number(ne);
      }
      const type = c.u32();
      const rel = c.u64();
      const info = GGML_TYPE_INFO.get(type);
      if (!info) throw new Error(`unsupported GGUF file ${path}: tensor '${name}' has unknown ggml type ${type}`);
      if (shape[0] % info.blockSize !== 0) {
        throw new Error(`corrupt GGUF file ${path}: tensor '${name}' of type ${info.name} has ne0=${shape[0]}, not a multiple of ${info.blockSize}`);
      }
      if (rel % BigInt(alignment) !== 0n) {
        throw new Error(`corrupt GGUF file ${path}: tensor '${name}' data offset ${rel} is not a multiple of the alignment ${alignment}`);
      }
      if (!Number.isSafeInteger(nElements) || rel > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new Error(`corrupt GGUF file ${path}: tensor '${name}' is too large`);
      }
      raw.push({ name, shape, type, rel: Number(rel), nBytes: (nElements / info.blockSize) * info.typeSize });
    }

    const dataOffset = Math.ceil(c.offset / alignment) * alignment;
    const tensors: GgufTensorInfo[] = raw.map((t) => {
      const offset = dataOffset + t.rel;
      if (offset + t.nBytes > fileSize) {
        throw new Error(
          `truncated GGUF file ${path}: data of tensor '${t.name}' spans bytes ${offset}..${offset + t.nBytes}, beyond the end of the file (${fileSize} bytes)`,
        );
      }
      return { name: t.name, shape: t.shape, type: t.type, offset, nBytes: t.nBytes };
    });
    return { path, version, metadata, tensors, alignment, dataOffset, fileSize };
  });
}

/** Read only the metadata section (stops before the tensor infos). */
export async function readGgufMetadata(path: string): Promise<Map<string, GgufValue>> {
  return withFile(path, async (fh, size) => (await readPreamble(new Cursor(fh, path, size))).metadata);
}

/** All `tokenizer.*` entries of a GGUF file, in file order, ready to be written into another file. */
export async function readTokenizerMetadata(path: string): Promise<GgufKv[]> {
  const meta = await readGgufMetadata(path);
  const out: GgufKv[] = [];
  for (const [key, value] of meta) if (key.startsWith("tokenizer.")) out.push({ ...value, key });
  if (!out.some((e) => e.key === "tokenizer.ggml.tokens")) {
    throw new Error(`GGUF file ${path} has no tokenizer.ggml.tokens; it is not a usable vocab file`);
  }
  return out;
}

function rowsOf(info: GgufTensorInfo): { ne0: number; rows: number } {
  return { ne0: info.shape[0], rows: info.shape.slice(1).reduce((a, b) => a * b, 1) };
}

// Typed-array views below reinterpret file bytes directly, which is only valid on little-endian hosts.
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decode(path: string, info: GgufTensorInfo, bytes: Uint8Array, n: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (info.type) {
    case GgmlType.F32: {
      if (HOST_LE && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case GgmlType.F16: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      return out;
    }
    case BF16_TYPE: {
      // BF16 is the upper half of a float32.
      const out = new Float32Array(n);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes, n);
    default:
      throw new Error(`cannot dequantize tensor '${info.name}' in ${path}: type ${ggmlTypeName(info.type)} is not supported (F32, F16, BF16, Q8_0 are)`);
  }
}

/** Dequantize rows [rowStart, rowStart+rowCount) of a tensor (a row is ne0 contiguous values). */
export async function readTensorRowsF32(path: string, info: GgufTensorInfo, rowStart: number, rowCount: number): Promise<Float32Array> {
  const { ne0, rows } = rowsOf(info);
  if (!Number.isInteger(rowStart) || !Number.isInteger(rowCount) || rowStart < 0 || rowCount < 0 || rowStart + rowCount > rows) {
    throw new Error(`tensor '${info.name}' in ${path}: rows ${rowStart}..${rowStart + rowCount} out of range (it has ${rows})`);
  }
  const rowBytes = info.nBytes / rows;
  const nBytes = rowBytes * rowCount;
  const start = info.offset + rowBytes * rowStart;
  return withFile(path, async (fh, size) => {
    if (start + nBytes > size) {
      throw new Error(
        `truncated GGUF file ${path}: data of tensor '${info.name}' spans bytes ${start}..${start + nBytes}, beyond the end of the file (${size} bytes)`,
      );
    }
    const bytes = new Uint8Array(nBytes);
    let got = 0;
    while (got < nBytes) {
      const { bytesRead } = await fh.read(bytes, got, nBytes - got, start + got);
      if (bytesRead === 0) throw new Error(`truncated GGUF file ${path}: unexpected end of file in tensor '${info.name}'`);
      got += bytesRead;
    }
    return decode(path, info, bytes, ne0 * rowCount);
  });
}

/** Dequantize a whole tensor (F32, F16, BF16 or Q8_0) into a Float32Array, ne0 fastest. */
export async function readTensorF32(path: string, info: GgufTensorInfo): Promise<Float32Array> {
  return readTensorRowsF32(path, info, 0, rowsOf(info).rows);
}

// ---- typed metadata accessors -------------------------------------------------------------

function describe(v: GgufValue): string {
  return v.type === GgufValueType.ARRAY ? `ARRAY of ${ggufValueTypeName(v.itemType)}` : ggufValueTypeName(v.type);
}

/** A numeric scalar (any integer or float type; 64-bit integers must be safe integers). */
export function metaNumber(meta: Map<string, GgufValue>, key: string): number | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v.value === "number") return v.value;
  if (typeof v.value === "bigint") {
    if (v.value > BigInt(Number.MAX_SAFE_INTEGER) || v.value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`metadata '${key}' = ${v.value} does not fit a JS number`);
    }
    return Number(v.value);
  }
  throw new Error(`metadata '${key}' is ${describe(v)}, expected a number`);
}

export function requireNumber(meta: Map<string, GgufValue>, key: string): number {
  const n = metaNumber(meta, key);
  if (n === undefined) throw new Error(`missing metadata key '${key}'`);
  return n;
}

export function metaString(meta: Map<string, GgufValue>, key: string): string | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== GgufValueType.STRING) throw new Error(`metadata '${key}' is ${describe(v)}, expected STRING`);
  return v.value;
}

export function requireString(meta: Map<string, GgufValue>, key: string): string {
  const s = metaString(meta, key);
  if (s === undefined) throw new Error(`missing metadata key '${key}'`);
  return s;
}

export function metaBool(meta: Map<string, GgufValue>, key: string): boolean | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== GgufValueType.BOOL) throw new Error(`metadata '${key}' is ${describe(v)}, expected BOOL`);
  return v.value;
}

export function metaStringArray(meta: Map<string, GgufValue>, key: string): string[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (v.type !== GgufValueType.ARRAY || v.itemType !== GgufValueType.STRING) {
    throw new Error(`metadata '${key}' is ${describe(v)}, expected ARRAY of STRING`);
  }
  return v.value;
}
