/** GGUF on-disk constants (GGUF v3, little-endian). */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_ALIGNMENT_KEY = "general.alignment";
/** ggml supports at most 4 dimensions per tensor. */
export const GGML_MAX_DIMS = 4;

/** Metadata value types as stored in the file. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

export function ggufValueTypeName(t: number): string {
  for (const [name, v] of Object.entries(GgufValueType)) if (v === t) return name;
  return `unknown(${t})`;
}

/** Tensor types this project can write and dequantize. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q8_0: 8,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

export interface GgmlTypeInfo {
  readonly name: string;
  /** Values per block (1 for plain float types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

export const QK8_0 = 32;

/**
 * Block geometry of every ggml type, so the reader can size tensors of real
 * (e.g. Q4_K) models even though it only dequantizes F32/F16/BF16/Q8_0.
 * Mirrors ggml's type traits; 4, 5, 31-33, 36-38 are removed types.
 */
export const GGML_TYPE_INFO: ReadonlyMap<number, GgmlTypeInfo> = new Map<number, GgmlTypeInfo>([
  [0, { name: "F32", blockSize: 1, typeSize: 4 }],
  [1, { name: "F16", blockSize: 1, typeSize: 2 }],
  [2, { name: "Q4_0", blockSize: 32, typeSize: 18 }],
  [3, { name: "Q4_1", blockSize: 32, typeSize: 20 }],
  [6, { name: "Q5_0", blockSize: 32, typeSize: 22 }],
  [7, { name: "Q5_1", blockSize: 32, typeSize: 24 }],
  [8, { name: "Q8_0", blockSize: 32, typeSize: 34 }],
  [9, { name: "Q8_1", blockSize: 32, typeSize: 36 }],
  [10, { name: "Q2_K", blockSize: 256, typeSize: 84 }],
  [11, { name: "Q3_K", blockSize: 256, typeSize: 110 }],
  [12, { name: "Q4_K", blockSize: 256, typeSize: 144 }],
  [13, { name: "Q5_K", blockSize: 256, typeSize: 176 }],
  [14, { name: "Q6_K", blockSize: 256, typeSize: 210 }],
  [15, { name: "Q8_K", blockSize: 256, typeSize: 292 }],
  [16, { name: "IQ2_XXS", blockSize: 256, typeSize: 66 }],
  [17, { name: "IQ2_XS", blockSize: 256, typeSize: 74 }],
  [18, { name: "IQ3_XXS", blockSize: 256, typeSize: 98 }],
  [19, { name: "IQ1_S", blockSize: 256, typeSize: 50 }],
  [20, { name: "IQ4_NL", blockSize: 32, typeSize: 18 }],
  [21, { name: "IQ3_S", blockSize: 256, typeSize: 110 }],
  [22, { name: "IQ2_S", blockSize: 256, typeSize: 82 }],
  [23, { name: "IQ4_XS", blockSize: 256, typeSize: 136 }],
  [24, { name: "I8", blockSize: 1, typeSize: 1 }],
  [25, { name: "I16", blockSize: 1, typeSize: 2 }],
  [26, { name: "I32", blockSize: 1, typeSize: 4 }],
  [27, { name: "I64", blockSize: 1, typeSize: 8 }],
  [28, { name: "F64", blockSize: 1, typeSize: 8 }],
  [29, { name: "IQ1_M", blockSize: 256, typeSize: 56 }],
  [30, { name: "BF16", blockSize: 1, typeSize: 2 }],
  [34, { name: "TQ1_0", blockSize: 256, typeSize: 54 }],
  [35, { name: "TQ2_0", blockSize: 256, typeSize: 66 }],
  [39, { name: "MXFP4", blockSize: 32, typeSize: 17 }],
  [40, { name: "NVFP4", blockSize: 64, typeSize: 36 }],
  [41, { name: "Q1_0", blockSize: 128, typeSize: 18 }],
  [42, { name: "Q2_0", blockSize: 64, typeSize: 18 }],
]);

export function ggmlTypeName(t: number): string {
  return GGML_TYPE_INFO.get(t)?.name ?? `unknown(${t})`;
}

/** Bytes of a tensor of type `t` and ggml shape `shape` (ne0 must be a whole number of blocks). */
export function ggmlTensorBytes(t: number, shape: readonly number[]): number {
  const info = GGML_TYPE_INFO.get(t);
  if (!info) throw new Error(`unknown ggml tensor type ${t}`);
  const ne0 = shape.length > 0 ? shape[0] : 1;
  if (ne0 % info.blockSize !== 0) {
    throw new Error(`ggml type ${info.name} needs ne0 (${ne0}) to be a multiple of ${info.blockSize}`);
  }
  let rows = 1;
  for (let i = 1; i < shape.length; i++) rows *= shape[i];
  return (ne0 / info.blockSize) * info.typeSize * rows;
}

/** llama.cpp's llama_ftype values for general.file_type. */
export const LlamaFileType = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q8_0: 7,
} as const;
export type LlamaFileType = (typeof LlamaFileType)[keyof typeof LlamaFileType];
