/** Typed GGUF metadata values and tensor descriptions shared by writer and reader. */
import { GgufValueType, type GgmlType } from "./constants.js";

type VT = typeof GgufValueType;

/** Scalar types whose values are JS numbers (64-bit integers use bigint instead). */
export type GgufNumberType =
  | VT["UINT8"]
  | VT["INT8"]
  | VT["UINT16"]
  | VT["INT16"]
  | VT["UINT32"]
  | VT["INT32"]
  | VT["FLOAT32"]
  | VT["FLOAT64"];
export type GgufBigIntType = VT["UINT64"] | VT["INT64"];
export type GgufScalarType = GgufNumberType | GgufBigIntType | VT["BOOL"] | VT["STRING"];

export type GgufScalarValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: VT["BOOL"]; value: boolean }
  | { type: VT["STRING"]; value: string };

/** Arrays hold one scalar item type; nested arrays are not supported (llama.cpp rejects them too). */
export type GgufArrayValue =
  | { type: VT["ARRAY"]; itemType: GgufNumberType; value: number[] }
  | { type: VT["ARRAY"]; itemType: GgufBigIntType; value: bigint[] }
  | { type: VT["ARRAY"]; itemType: VT["BOOL"]; value: boolean[] }
  | { type: VT["ARRAY"]; itemType: VT["STRING"]; value: string[] };

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** One metadata entry: `{ key, type, value }` (plus `itemType` for arrays). */
export type GgufKv = GgufValue & { key: string };

/** Fills `out` (length ne0) with the values of row `row`; rows are requested in order 0, 1, 2, ... */
export type GgufRowSource = (row: number, out: Float32Array) => void;

export interface GgufTensorSpec {
  name: string;
  /** ggml order: shape[0] = ne0 is the contiguous dimension. */
  shape: readonly number[];
  type: GgmlType;
  /** All values (ne0 fastest), or a row callback so huge tensors are produced on the fly. */
  data: Float32Array | GgufRowSource;
}

export interface GgufWriteSpec {
  metadata: readonly GgufKv[];
  tensors: readonly GgufTensorSpec[];
  /** Data alignment in bytes (power of two). Defaults to general.alignment if present, else 32. */
  alignment?: number;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order, ne0 first. */
  shape: number[];
  /** ggml type id (see GgmlType / GGML_TYPE_INFO). */
  type: number;
  /** Absolute byte offset of the tensor data in the file. */
  offset: number;
  nBytes: number;
}

export interface GgufFile {
  path: string;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset where the tensor data section starts. */
  dataOffset: number;
  fileSize: number;
}

/** Constructors for metadata entries, so call sites stay short and correctly typed. */
export const kv = {
  u8: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT8, value }),
  i8: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.INT8, value }),
  u16: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT16, value }),
  i16: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.INT16, value }),
  u32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value }),
  i32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.INT32, value }),
  f32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT32, value }),
  f64: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT64, value }),
  u64: (key: string, value: bigint | number): GgufKv => ({ key, type: GgufValueType.UINT64, value: BigInt(value) }),
  i64: (key: string, value: bigint | number): GgufKv => ({ key, type: GgufValueType.INT64, value: BigInt(value) }),
  bool: (key: string, value: boolean): GgufKv => ({ key, type: GgufValueType.BOOL, value }),
  str: (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value }),
  numArray: (key: string, itemType: GgufNumberType, value: readonly number[]): GgufKv => ({
    key,
    type: GgufValueType.ARRAY,
    itemType,
    value: [...value],
  }),
  bigArray: (key: string, itemType: GgufBigIntType, value: readonly bigint[]): GgufKv => ({
    key,
    type: GgufValueType.ARRAY,
    itemType,
    value: [...value],
  }),
  boolArray: (key: string, value: readonly boolean[]): GgufKv => ({
    key,
    type: GgufValueType.ARRAY,
    itemType: GgufValueType.BOOL,
    value: [...value],
  }),
  strArray: (key: string, value: readonly string[]): GgufKv => ({
    key,
    type: GgufValueType.ARRAY,
    itemType: GgufValueType.STRING,
    value: [...value],
  }),
} as const;

/** Attach a key to a value read from a file (e.g. to copy entries between files). */
export function withKey(key: string, value: GgufValue): GgufKv {
  return { ...value, key };
}
