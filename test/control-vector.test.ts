// llama.cpp control-vector GGUF interop: exact round trip, the format llama.cpp's loader reads, errors.
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { GgmlType, GgufValueType, Rng, kv, readGguf, writeGguf } from "../src/gguf/index.js";
import { exportControlVector, importControlVector } from "../src/steer/control-vector.js";
import { tempDir } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const rng = new Rng(5);
const vec = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe("control vectors", () => {
  test("export → import round trip is exact, with llama.cpp's layer mapping", async () => {
    const a = vec(48);
    const b = vec(48);
    const p = join(tmp.dir, "cv.gguf");
    await exportControlVector(p, [{ layer: 3, vector: a }, { layer: "resid_post:6", vector: b }], { modelHint: "llama", nLayer: 6 });
    const r = await importControlVector(p, { nEmbd: 48, nLayer: 6 });
    expect(r.modelHint).toBe("llama");
    expect(r.layerCount).toBe(6);
    expect(r.layers.map((l) => [l.layer, l.block])).toEqual([["resid_post:3", 2], ["resid_post:6", 5]]);
    expect(Array.from(r.layers[0].vector)).toEqual(Array.from(a));
    expect(Array.from(r.layers[1].vector)).toEqual(Array.from(b));
  });

  test("the file has exactly what llama.cpp's control-vector loader reads", async () => {
    const p = join(tmp.dir, "format.gguf");
    await exportControlVector(p, [{ layer: 2, vector: vec(16) }, { layer: 2, vector: vec(16) }], { modelHint: "qwen2", nLayer: 4, scale: 2 });
    const f = await readGguf(p);
    expect(f.metadata.get("general.architecture")).toMatchObject({ type: GgufValueType.STRING, value: "controlvector" });
    expect(f.metadata.get("controlvector.model_hint")).toMatchObject({ value: "qwen2" });
    expect(f.metadata.get("controlvector.layer_count")).toMatchObject({ type: GgufValueType.INT32, value: 4 });
    // One 1-D F32 tensor per block named direction.N with N ≥ 1 (entries on one layer summed).
    expect(f.tensors.map((t) => [t.name, t.type, t.shape])).toEqual([["direction.1", GgmlType.F32, [16]]]);
  });

  test("imports files written by other tools (extra keys, several layers, any order)", async () => {
    const p = join(tmp.dir, "repeng-like.gguf");
    const d5 = vec(8);
    const d1 = vec(8);
    await writeGguf(p, {
      metadata: [kv.str("general.architecture", "controlvector"), kv.str("controlvector.model_hint", "mistral"), kv.i32("controlvector.layer_count", 8), kv.str("general.name", "x")],
      tensors: [
        { name: "direction.5", shape: [8], type: GgmlType.F32, data: d5 },
        { name: "direction.1", shape: [8], type: GgmlType.F32, data: d1 },
      ],
    });
    const r = await importControlVector(p, { nEmbd: 8, nLayer: 8, requireLayers: [2, 6] });
    expect(r.layers.map((l) => l.layer)).toEqual(["resid_post:2", "resid_post:6"]);
    expect(Array.from(r.layers[1].vector)).toEqual(Array.from(d5));
  });

  test("wrong n_embd, missing layers, out-of-range blocks and layer 1 are clear errors", async () => {
    const p = join(tmp.dir, "e.gguf");
    await exportControlVector(p, [{ layer: 3, vector: vec(16) }], { modelHint: "llama", nLayer: 6 });
    await expect(importControlVector(p, { nEmbd: 32, nLayer: 6 })).rejects.toThrow(/direction\.2 has length 16, the model's nEmbd is 32/);
    await expect(importControlVector(p, { nEmbd: 16, nLayer: 6, requireLayers: [4] })).rejects.toThrow(/no direction for layer 4 \(direction\.3 missing\)/);
    await expect(importControlVector(p, { nEmbd: 16, nLayer: 2 })).rejects.toThrow(/direction\.2 addresses block 2, but the model has blocks 0\.\.1/);
    await expect(exportControlVector(join(tmp.dir, "l1.gguf"), [{ layer: 1, vector: vec(16) }], { modelHint: "llama", nLayer: 6 })).rejects.toThrow(/layer 1 \(block 0\) cannot be expressed/);
    const bad = join(tmp.dir, "model.gguf");
    await writeGguf(bad, { metadata: [kv.str("general.architecture", "llama")], tensors: [] });
    await expect(importControlVector(bad, { nEmbd: 16, nLayer: 6 })).rejects.toThrow(/not a control vector/);
  });
});
