// quantize(): llama.cpp's quantizer on a synthetic F32 model (rows of 256, so the K-quants apply), then capture
// and generation on each quantized file on this host — the weights users actually own (Q8_0, Q4_0, Q4_K_M).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadModel, quantize, readGguf, type QuantType } from "../src/index.js";
import { GGML_TYPE_INFO } from "../src/gguf/index.js";
import { cosine, tempDir, tinyModel } from "./helpers/fixtures.js";
import { runCli } from "./helpers/cli.js";

const texts = ["The quick brown fox jumps", "Fairness matters to everyone.", "x"];

async function lastTokenRows(path: string): Promise<{ rows: Float32Array[][]; generated: number[] }> {
  const m = await loadModel(path);
  const s = await m.createSession({ contextSize: 256, batchSize: 64, maxSequences: 4 });
  const layers = Array.from({ length: m.nLayer }, (_, i) => i + 1);
  const acts = await s.capture(texts, { layers, position: "last" });
  const rows = layers.map((k) => texts.map((_, i) => Float32Array.from(acts.row(k, i))));
  const [g] = await s.generateBatch(["Once upon a time"], { maxTokens: 8, temperature: 0 });
  s.dispose();
  m.dispose();
  return { rows, generated: g.tokens };
}

describe("quantize", () => {
  const tmp = tempDir("valuelens-quant-");
  let f32: string;
  let base: Awaited<ReturnType<typeof lastTokenRows>>;
  beforeAll(async () => {
    f32 = (await tinyModel(tmp.dir, { seed: 5, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 512, nLayer: 3 })).path;
    base = await lastTokenRows(f32);
  }, 300_000);
  afterAll(() => tmp.cleanup());

  // Minimum cosine to the F32 model's activations at every layer: 8-bit barely moves them, 4-bit a little more.
  const cases: Array<{ type: QuantType; tensor: string; minCos: number }> = [
    { type: "Q8_0", tensor: "Q8_0", minCos: 0.999 },
    { type: "Q4_0", tensor: "Q4_0", minCos: 0.98 },
    { type: "Q4_K_M", tensor: "Q4_K", minCos: 0.98 },
  ];
  for (const c of cases) {
    test(`${c.type}: weights in ${c.tensor}, capture close to F32 at every layer, generation runs`, async () => {
      const out = join(tmp.dir, `m-${c.type}.gguf`);
      const r = await quantize(f32, out, { type: c.type, threads: 2 });
      expect(r.outputBytes).toBeLessThan(r.inputBytes / 3);
      const g = await readGguf(out);
      const ffnUp = g.tensors.find((t) => t.name === "blk.0.ffn_up.weight");
      expect(GGML_TYPE_INFO.get(ffnUp!.type)?.name).toBe(c.tensor);
      expect(readdirSync(tmp.dir).filter((f) => f.includes(".partial"))).toEqual([]);
      const q = await lastTokenRows(out);
      let worst = 1;
      q.rows.forEach((perText, k) => perText.forEach((row, i) => (worst = Math.min(worst, cosine(row, base.rows[k][i])))));
      expect(worst).toBeGreaterThanOrEqual(c.minCos);
      expect(q.generated.length).toBeGreaterThan(0);
    });
  }

  test("bad input is refused by name and leaves nothing behind", async () => {
    const out = join(tmp.dir, "bad.gguf");
    await expect(quantize(join(tmp.dir, "missing.gguf"), out, { type: "Q8_0" })).rejects.toThrow(/cannot read input model .*missing\.gguf/);
    await expect(quantize(f32, out, { type: "Q9_9" as QuantType })).rejects.toThrow(/unknown type 'Q9_9' \(known: F16, BF16, Q8_0/);
    await expect(quantize(f32, f32, { type: "Q8_0" })).rejects.toThrow(/is the input file/);
    await expect(quantize(f32, join(tmp.dir, "no", "such", "dir.gguf"), { type: "Q8_0" })).rejects.toThrow(/output folder .* does not exist/);
    const notGguf = join(tmp.dir, "not.gguf");
    writeFileSync(notGguf, "this is not a GGUF file at all, just text");
    await expect(quantize(notGguf, out, { type: "Q8_0" })).rejects.toThrow(/quantize: llama.cpp failed to quantize .*not\.gguf/);
    expect(existsSync(out)).toBe(false);
    mkdirSync(join(tmp.dir, "adir"));
    await expect(quantize(f32, join(tmp.dir, "adir"), { type: "Q8_0" })).rejects.toThrow(/is a directory/);
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".partial"))).toEqual([]);
  });

  test("valuelens quantize: CLI, --force to replace, --json", async () => {
    const out = join(tmp.dir, "cli-q8.gguf");
    const a = await runCli(["quantize", f32, out, "--type", "Q8_0", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ type: "Q8_0", path: out });
    const again = await runCli(["quantize", f32, out, "--type", "Q8_0"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists \(pass force: true \/ --force/);
    const forced = await runCli(["quantize", f32, out, "--type", "Q4_0", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Q4_0, [\d.]+ MiB → [\d.]+ MiB/);
    const noType = await runCli(["quantize", f32, out]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(/--type is required/);
  });
});
