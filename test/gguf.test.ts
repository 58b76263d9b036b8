import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GgmlType,
  GgufValueType,
  Q8_0_BLOCK_BYTES,
  Rng,
  dequantizeQ8_0,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToF16,
  f32ToF16,
  kv,
  quantizeQ8_0,
  readGguf,
  readGgufMetadata,
  readTensorF32,
  readTensorRowsF32,
  readTokenizerMetadata,
  roundToF16,
  writeGguf,
  type GgufKv,
  type GgufTensorInfo,
} from "../src/gguf/index.js";
import { LLAMA_SPM_VOCAB, findVocab } from "./helpers/vocab.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "valuelens-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fr = Math.fround;

function randomF32(n: number, seed: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  new Rng(seed).fillNormal(out, 0, std);
  return out;
}

function tensor(file: { tensors: GgufTensorInfo[] }, name: string): GgufTensorInfo {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
}

const ALL_TYPES_METADATA: GgufKv[] = [
  kv.u8("t.u8", 255),
  kv.i8("t.i8", -128),
  kv.u16("t.u16", 65535),
  kv.i16("t.i16", -32768),
  kv.u32("t.u32", 0xffffffff),
  kv.i32("t.i32", -0x80000000),
  kv.f32("t.f32", fr(1.1)),
  kv.bool("t.bool.true", true),
  kv.bool("t.bool.false", false),
  kv.str("t.string", "héllo wörld 🌍 \u0000 end"),
  kv.str("t.string.empty", ""),
  kv.u64("t.u64", (1n << 64n) - 1n),
  kv.i64("t.i64", -(1n << 63n)),
  kv.f64("t.f64", Math.PI),
  kv.numArray("t.arr.u8", GgufValueType.UINT8, [0, 1, 255]),
  kv.numArray("t.arr.i8", GgufValueType.INT8, [-128, 0, 127]),
  kv.numArray("t.arr.u16", GgufValueType.UINT16, [0, 65535]),
  kv.numArray("t.arr.i16", GgufValueType.INT16, [-32768, 32767]),
  kv.numArray("t.arr.u32", GgufValueType.UINT32, [0, 0xffffffff]),
  kv.numArray("t.arr.i32", GgufValueType.INT32, [-0x80000000, 0x7fffffff, 5]),
  kv.numArray("t.arr.f32", GgufValueType.FLOAT32, [fr(0.1), -2.5, Infinity]),
  kv.numArray("t.arr.f64", GgufValueType.FLOAT64, [0.1, -1e300]),
  kv.bigArray("t.arr.u64", GgufValueType.UINT64, [0n, (1n << 64n) - 1n]),
  kv.bigArray("t.arr.i64", GgufValueType.INT64, [-(1n << 63n), (1n << 63n) - 1n]),
  kv.boolArray("t.arr.bool", [true, false, true]),
  kv.strArray("t.arr.string", ["a", "", "ünïcødé", "▁token"]),
  kv.strArray("t.arr.empty", []),
];

describe("metadata round trip", () => {
  it("preserves every value type, value and key order", async () => {
    const path = join(dir, "meta.gguf");
    await writeGguf(path, { metadata: ALL_TYPES_METADATA, tensors: [] });
    const g = await readGguf(path);
    expect(g.version).toBe(3);
    expect(g.tensors).toEqual([]);
    expect(g.alignment).toBe(32);
    expect([...g.metadata.keys()]).toEqual(ALL_TYPES_METADATA.map((e) => e.key));
    for (const e of ALL_TYPES_METADATA) {
      const { key, ...value } = e;
      expect(g.metadata.get(key), key).toEqual(value);
    }
    expect(await readGgufMetadata(path)).toEqual(g.metadata);
    expect((await stat(path)).size % 32).toBe(0);
  });

  it("writes the exact GGUF v3 byte layout", async () => {
    const path = join(dir, "layout.gguf");
    await writeGguf(path, { metadata: [kv.u32("a", 7)], tensors: [{ name: "t", shape: [2], type: GgmlType.F32, data: new Float32Array([1, 2]) }] });
    const b = await readFile(path);
    expect(b.subarray(0, 4).toString("latin1")).toBe("GGUF");
    expect(b.readUInt32LE(4)).toBe(3);
    expect(b.readBigUInt64LE(8)).toBe(1n); // tensors
    expect(b.readBigUInt64LE(16)).toBe(1n); // kvs
    expect(b.readBigUInt64LE(24)).toBe(1n); // key length
    expect(b.toString("latin1", 32, 33)).toBe("a");
    expect(b.readUInt32LE(33)).toBe(GgufValueType.UINT32);
    expect(b.readUInt32LE(37)).toBe(7);
    expect(b.readBigUInt64LE(41)).toBe(1n); // tensor name length
    expect(b.toString("latin1", 49, 50)).toBe("t");
    expect(b.readUInt32LE(50)).toBe(1); // n_dims
    expect(b.readBigUInt64LE(54)).toBe(2n); // ne0
    expect(b.readUInt32LE(62)).toBe(GgmlType.F32);
    expect(b.readBigUInt64LE(66)).toBe(0n); // offset relative to data start
    // Header is 74 bytes, so data starts at 96.
    expect(b.readFloatLE(96)).toBe(1);
    expect(b.readFloatLE(100)).toBe(2);
    expect(b.length).toBe(128);
  });

  it("honours general.alignment and records a custom alignment", async () => {
    const tensors = [
      { name: "a", shape: [3], type: GgmlType.F32, data: new Float32Array([1, 2, 3]) },
      { name: "b", shape: [5], type: GgmlType.F16, data: new Float32Array([1, 2, 3, 4, 5]) },
    ];
    const p1 = join(dir, "align64.gguf");
    await writeGguf(p1, { metadata: [], tensors, alignment: 64 });
    const g1 = await readGguf(p1);
    expect(g1.alignment).toBe(64);
    expect(g1.metadata.get("general.alignment")).toEqual({ type: GgufValueType.UINT32, value: 64 });
    for (const t of g1.tensors) expect(t.offset % 64).toBe(0);
    expect(g1.dataOffset % 64).toBe(0);

    const p2 = join(dir, "align128.gguf");
    await writeGguf(p2, { metadata: [kv.u32("general.alignment", 128)], tensors });
    const g2 = await readGguf(p2);
    expect(g2.alignment).toBe(128);
    for (const t of g2.tensors) expect(t.offset % 128).toBe(0);
    expect(Array.from(await readTensorF32(p2, tensor(g2, "b")))).toEqual([1, 2, 3, 4, 5]);

    await expect(writeGguf(join(dir, "x.gguf"), { metadata: [kv.u32("general.alignment", 128)], tensors, alignment: 64 })).rejects.toThrow(
      /conflicts/,
    );
    await expect(writeGguf(join(dir, "x.gguf"), { metadata: [], tensors, alignment: 48 })).rejects.toThrow(/power of two/);
  });
});

describe("tensor round trip", () => {
  it("F32 is exact, for Float32Array data and row callbacks alike", async () => {
    const path = join(dir, "f32.gguf");
    const a = randomF32(7 * 5 * 3, 1);
    const rows = randomF32(64 * 9, 2);
    await writeGguf(path, {
      metadata: [kv.str("general.architecture", "test")],
      tensors: [
        { name: "a", shape: [7, 5, 3], type: GgmlType.F32, data: a },
        { name: "rows", shape: [64, 9], type: GgmlType.F32, data: (r, out) => out.set(rows.subarray(r * 64, (r + 1) * 64)) },
      ],
    });
    const g = await readGguf(path);
    expect(g.tensors.map((t) => [t.name, t.shape, t.type, t.nBytes])).toEqual([
      ["a", [7, 5, 3], GgmlType.F32, 7 * 5 * 3 * 4],
      ["rows", [64, 9], GgmlType.F32, 64 * 9 * 4],
    ]);
    expect(await readTensorF32(path, tensor(g, "a"))).toEqual(a);
    expect(await readTensorF32(path, tensor(g, "rows"))).toEqual(rows);
    expect(await readTensorRowsF32(path, tensor(g, "rows"), 3, 2)).toEqual(rows.subarray(3 * 64, 5 * 64));
    await expect(readTensorRowsF32(path, tensor(g, "rows"), 8, 2)).rejects.toThrow(/out of range/);
  });

  it("F16 is exact for representable values", async () => {
    const path = join(dir, "f16.gguf");
    const special = [0, -0, 1, -1, 65504, -65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 0.5, 1 / 3, Infinity, -Infinity];
    const data = new Float32Array(256);
    const rnd = randomF32(256, 3, 10);
    for (let i = 0; i < data.length; i++) data[i] = i < special.length ? roundToF16(special[i]) : roundToF16(rnd[i]);
    await writeGguf(path, { metadata: [], tensors: [{ name: "h", shape: [16, 16], type: GgmlType.F16, data }] });
    const g = await readGguf(path);
    expect(tensor(g, "h").nBytes).toBe(512);
    const back = await readTensorF32(path, tensor(g, "h"));
    expect(back).toEqual(data);
    expect(Object.is(back[1], -0)).toBe(true);
  });

  it("Q8_0 stays within the closed-form per-block bound", async () => {
    const path = join(dir, "q8.gguf");
    const ne0 = 96;
    const nRows = 20;
    const data = randomF32(ne0 * nRows, 4, 3);
    data.fill(0, 0, 32); // all-zero block: d = 0
    data[40] = 1e-3; // one block dominated by a single outlier
    data[41] = 50;
    await writeGguf(path, { metadata: [], tensors: [{ name: "q", shape: [ne0, nRows], type: GgmlType.Q8_0, data }] });
    const g = await readGguf(path);
    const info = tensor(g, "q");
    expect(info.nBytes).toBe((ne0 / 32) * nRows * Q8_0_BLOCK_BYTES);
    const back = await readTensorF32(path, info);
    const raw = (await readFile(path)).subarray(info.offset, info.offset + info.nBytes);
    for (let b = 0; b < data.length / 32; b++) {
      const block = data.subarray(b * 32, b * 32 + 32);
      let amax = 0;
      for (const x of block) amax = Math.max(amax, Math.abs(x));
      const d = fr(amax / 127);
      const dStored = f16ToF32(raw.readUInt16LE(b * 34));
      expect(dStored).toBe(roundToF16(d));
      for (let j = 0; j < 32; j++) {
        const x = block[j];
        const q = raw.readInt8(b * 34 + 2 + j);
        // q is x/d rounded to nearest, i.e. |x − d·q| ≤ d/2 with the float32 scale ...
        expect(Math.abs(x - d * q)).toBeLessThanOrEqual(d / 2 + 1e-6 * d);
        // ... and storing d as f16 adds at most |q|·|d − f16(d)| ≤ 127·|d − f16(d)|.
        expect(Math.abs(x - back[b * 32 + j])).toBeLessThanOrEqual(d / 2 + 127 * Math.abs(d - dStored) + 1e-6 * d);
      }
    }
    expect(Array.from(back.subarray(0, 32))).toEqual(new Array<number>(32).fill(0));
  });

  it("Q8_0 quantization follows ggml's reference rounding", () => {
    const x = new Float32Array(32);
    x[0] = 127; // amax = 127 → d = 1, id = 1
    x[1] = 2.5; // roundf: half away from zero
    x[2] = -2.5;
    x[3] = 0.49;
    x[4] = -126.5;
    const bytes = quantizeQ8_0(x);
    expect(bytes.length).toBe(34);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    expect(view.readUInt16LE(0)).toBe(0x3c00); // d = 1.0
    expect([1, 2, 3, 4, 5].map((j) => view.readInt8(1 + j))).toEqual([127, 3, -3, 0, -127]);
    expect(Array.from(dequantizeQ8_0(bytes, 32).subarray(0, 5))).toEqual([127, 3, -3, 0, -127]);
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/multiple of 32/);
  });

  it("writes a 151936×896 F16 tensor from a row callback in a few seconds", async () => {
    const path = join(dir, "big.gguf");
    const ne0 = 896;
    const nRows = 151936;
    const t0 = performance.now();
    await writeGguf(path, {
      metadata: [],
      tensors: [{ name: "token_embd.weight", shape: [ne0, nRows], type: GgmlType.F16, data: (r, out) => out.fill((r % 2048) / 8) }],
    });
    const ms = performance.now() - t0;
    const g = await readGguf(path);
    const info = tensor(g, "token_embd.weight");
    expect(info.nBytes).toBe(ne0 * nRows * 2);
    const rows = await readTensorRowsF32(path, info, nRows - 2, 2);
    expect(rows[0]).toBe(((nRows - 2) % 2048) / 8);
    expect(rows[ne0]).toBe(((nRows - 1) % 2048) / 8);
    expect(ms).toBeLessThan(10_000);
    await rm(path);
  });
});

describe("f16 conversion", () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // max finite
    [65519, 0x7bff], // below the midpoint to 65536
    [65520, 0x7c00], // midpoint rounds to even = overflow to inf
    [1e10, 0x7c00],
    [-1e10, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // min normal
    [2 ** -24, 0x0001], // min subnormal
    [1023 * 2 ** -24, 0x03ff], // max subnormal
    [2 ** -25, 0x0000], // tie between 0 and min subnormal → even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps → even (2)
    [5 * 2 ** -25, 0x0002], // tie between 2 and 3 ulps → even (2)
    [-(2 ** -26), 0x8000], // underflow keeps the sign
    [2047 * 2 ** -25, 0x0400], // rounds up from the largest subnormal into the min normal
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie
    [1e-30, 0x0000], // float32 subnormal range and tiny normals flush to zero
  ];
  it.each(cases)("f32ToF16(%d) = %i", (x, bits) => {
    expect(f32ToF16(x)).toBe(bits);
  });

  it("maps NaN to the quiet NaN 0x7e00 and decodes NaN patterns as NaN", () => {
    expect(f32ToF16(Number.NaN)).toBe(0x7e00);
    expect(f16ToF32(0x7c01)).toBeNaN();
    expect(f16ToF32(0xfe00)).toBeNaN();
  });

  it("decodes subnormals and specials exactly", () => {
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });

  it("round-trips every non-NaN float16 bit pattern", () => {
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN) expect(f32ToF16(f16ToF32(h))).toBe(h);
    }
  });

  it("rounds to the nearest representable value", () => {
    const xs = randomF32(5000, 9, 100);
    for (const x of xs) {
      const h = f32ToF16(x);
      const y = f16ToF32(h);
      // Neighbouring f16 values must not be closer.
      expect(Math.abs(x - y)).toBeLessThanOrEqual(Math.abs(x - f16ToF32(h + 1)));
      expect(Math.abs(x - y)).toBeLessThanOrEqual(Math.abs(x - f16ToF32(h - 1)));
    }
  });

  it("bulk conversions agree with the scalar ones", () => {
    const xs = randomF32(1000, 10, 1000);
    const h = f32ArrayToF16(xs);
    for (let i = 0; i < xs.length; i++) expect(h[i]).toBe(f32ToF16(xs[i]));
    const back = f16ArrayToF32(h);
    for (let i = 0; i < xs.length; i++) expect(back[i]).toBe(f16ToF32(h[i]));
  });
});

describe("reader errors", () => {
  async function validFile(name: string): Promise<string> {
    const path = join(dir, name);
    await writeGguf(path, {
      metadata: [kv.str("general.name", "x"), kv.u32("some.count", 3)],
      tensors: [{ name: "w", shape: [32, 4], type: GgmlType.F32, data: randomF32(128, 5) }],
    });
    return path;
  }

  it("rejects a file with a bad magic", async () => {
    const path = join(dir, "bad-magic.gguf");
    await writeFile(path, Buffer.from("GGMLxxxxxxxxxxxxxxxxxxxxxxxx"));
    await expect(readGguf(path)).rejects.toThrow(/not a GGUF file.*bad-magic\.gguf.*magic "GGUF"/);
  });

  it("rejects empty and tiny files as not GGUF", async () => {
    const path = join(dir, "empty.gguf");
    await writeFile(path, Buffer.alloc(0));
    await expect(readGguf(path)).rejects.toThrow(/not a GGUF file.*empty\.gguf.*0 bytes/);
  });

  it("reports an unsupported version", async () => {
    const path = await validFile("version.gguf");
    const b = await readFile(path);
    b.writeUInt32LE(7, 4);
    await writeFile(path, b);
    await expect(readGguf(path)).rejects.toThrow(/unsupported GGUF version 7 in .*version\.gguf/);
  });

  it("reports a truncated header", async () => {
    const path = await validFile("trunc-header.gguf");
    await truncate(path, 50);
    await expect(readGguf(path)).rejects.toThrow(/truncated GGUF file .*trunc-header\.gguf.*metadata 'general\.name'/);
  });

  it("reports tensor data beyond the end of the file", async () => {
    const path = await validFile("trunc-data.gguf");
    const g = await readGguf(path);
    await truncate(path, g.dataOffset + 100);
    await expect(readGguf(path)).rejects.toThrow(/truncated GGUF file .*trunc-data\.gguf.*tensor 'w'.*beyond the end of the file/);
    await expect(readTensorF32(path, g.tensors[0])).rejects.toThrow(/truncated GGUF file .*tensor 'w'/);
  });

  it("reports an unknown metadata value type", async () => {
    const path = await validFile("bad-type.gguf");
    const b = await readFile(path);
    // First kv: key "general.name" (8-byte length + 12 bytes) starts at 24, its type follows.
    const typeOffset = 24 + 8 + "general.name".length;
    expect(b.readUInt32LE(typeOffset)).toBe(GgufValueType.STRING);
    b.writeUInt32LE(99, typeOffset);
    await writeFile(path, b);
    await expect(readGguf(path)).rejects.toThrow(/bad-type\.gguf.*metadata 'general\.name'.*unknown value type 99/);
  });

  it("reports an absurd string length instead of allocating it", async () => {
    const path = await validFile("huge-string.gguf");
    const b = await readFile(path);
    b.writeBigUInt64LE(1n << 40n, 24);
    await writeFile(path, b);
    await expect(readGguf(path)).rejects.toThrow(/huge-string\.gguf.*declares 1099511627776 string bytes/);
  });

  it("reports a missing file", async () => {
    await expect(readGguf(join(dir, "nope.gguf"))).rejects.toThrow(/cannot open GGUF file .*nope\.gguf/);
  });
});

describe("writer validation", () => {
  const ok = { name: "w", shape: [32], type: GgmlType.F32, data: new Float32Array(32) };

  it("rejects invalid specs before creating any file", async () => {
    const path = join(dir, "invalid.gguf");
    await expect(writeGguf(path, { metadata: [kv.u8("a", 256)], tensors: [] })).rejects.toThrow(/'a': 256 is not a valid UINT8/);
    await expect(writeGguf(path, { metadata: [kv.u32("a", 1), kv.u32("a", 2)], tensors: [] })).rejects.toThrow(/duplicate metadata key 'a'/);
    await expect(writeGguf(path, { metadata: [], tensors: [ok, ok] })).rejects.toThrow(/duplicate tensor name 'w'/);
    await expect(writeGguf(path, { metadata: [], tensors: [{ ...ok, shape: [31] }] })).rejects.toThrow(/has 32 values, shape \[31\] needs 31/);
    await expect(writeGguf(path, { metadata: [], tensors: [{ ...ok, type: GgmlType.Q8_0, shape: [16, 2] }] })).rejects.toThrow(/multiple of 32/);
    await expect(writeGguf(path, { metadata: [], tensors: [{ ...ok, shape: [2, 2, 2, 2, 2] }] })).rejects.toThrow(/1\.\.4 dimensions/);
    await expect(writeGguf(path, { metadata: [], tensors: [{ ...ok, name: "x".repeat(64) }] })).rejects.toThrow(/longer than 63 bytes/);
    expect((await readdir(dir)).filter((f) => f.startsWith("invalid.gguf"))).toEqual([]);
  });

  it("leaves neither the target nor a temp file when data production fails", async () => {
    const path = join(dir, "failing.gguf");
    const failing = {
      name: "w",
      shape: [32, 1000],
      type: GgmlType.F16,
      data: (row: number, out: Float32Array): void => {
        if (row === 500) throw new Error("boom");
        out.fill(row);
      },
    };
    await expect(writeGguf(path, { metadata: [], tensors: [failing] })).rejects.toThrow(/writing tensor 'w' to .*failing\.gguf: boom/);
    expect((await readdir(dir)).filter((f) => f.startsWith("failing.gguf"))).toEqual([]);
  });
});

describe("tokenizer metadata", () => {
  const vocab = findVocab(LLAMA_SPM_VOCAB);
  it.skipIf(!vocab)("reads the tokenizer.* keys of a vocab GGUF", async () => {
    const toks = await readTokenizerMetadata(vocab as string);
    expect(toks.every((e) => e.key.startsWith("tokenizer."))).toBe(true);
    const tokens = toks.find((e) => e.key === "tokenizer.ggml.tokens");
    expect(tokens?.type === GgufValueType.ARRAY && tokens.itemType === GgufValueType.STRING && tokens.value.length).toBe(32000);
    expect(toks.find((e) => e.key === "tokenizer.ggml.model")?.value).toBe("llama");
  });
});

describe("Rng", () => {
  it("is deterministic with pinned outputs", () => {
    const r = new Rng(42);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([3520298829, 2619352578, 115826014]);
    expect(r.uniform()).toBe(0.8309145706344071);
    expect(r.normal()).toBe(-0.6207751234399167);
    expect(r.normal()).toBe(0.5137543519979796);
    expect(new Rng(42, "token_embd.weight").nextU32()).toBe(1435017215);
  });

  it("fillNormal continues exactly the normal() sequence", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    a.normal();
    b.normal();
    const xs = new Float64Array(9);
    a.fillNormal(xs);
    for (const x of xs) expect(x).toBe(b.normal());
    expect(a.normal()).toBe(b.normal());
  });

  it("has plausible moments", () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let umin = 1;
    let umax = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
      const u = r.uniform();
      umin = Math.min(umin, u);
      umax = Math.max(umax, u);
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(umin).toBeGreaterThanOrEqual(0);
    expect(umax).toBeLessThan(1);
  });
});
