// The CLI's engine commands: synth (with a planted concept) and info, plus flag errors.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadModel, readSynthInfo } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("valuelens CLI", () => {
  test("no command prints usage and exits 2; --help exits 0", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/usage: valuelens <command>/);
    expect((await runCli(["--help"])).code).toBe(0);
    const s = await runCli(["synth", "--help"]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/--plant FILE\.json/);
  });

  test("unknown command and bad flags are usage errors naming the problem", async () => {
    const a = await runCli(["frobnicate"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command 'frobnicate'/);
    const b = await runCli(["synth", "--out", join(tmp.dir, "x.gguf"), "--layers", "two"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--layers must be an integer ≥ 1 \(got 'two'\)/);
    const c = await runCli(["synth", "--out", join(tmp.dir, "x.gguf"), "--dim", "30", "--heads", "4"]);
    expect(c.stderr).toMatch(/--dim \(30\) must be divisible by --heads \(4\)/);
    const d = await runCli(["synth", "--nope"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/unknown option --nope \(valuelens help synth lists the options\)/);
    const e = await runCli(["info", join(tmp.dir, "missing.gguf")]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/cannot open model file/);
  });

  test.skipIf(!hasVocabs)("synth --plant writes a model whose planted ground truth and shape round-trip", async () => {
    const spec = join(tmp.dir, "plant.json");
    writeFileSync(spec, JSON.stringify({ seed: 2, concepts: [{ concept: "morality", alpha: 3, langs: { en: { pos: ["good", "kind"], neg: ["bad", "cruel"] }, fr: { angleDeg: 40, pos: ["bon", "gentil"], neg: ["mauvais", "cruel"] } } }] }));
    const out = join(tmp.dir, "planted.gguf");
    const r = await runCli(["synth", "--out", out, "--dim", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--vocab", "qwen2", "--plant", spec, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { nVocab: number; planted: Array<{ lang: string; posTokens: number; negTokens: number }> };
    expect(summary.nVocab).toBe(151936);
    expect(summary.planted.map((p) => p.lang)).toEqual(["en", "fr"]);
    // "cruel" is on the neg side in both languages but never on both sides of one language.
    expect(summary.planted.every((p) => p.posTokens > 0 && p.negTokens > 0)).toBe(true);
    const info = await readSynthInfo(out);
    const [en, fr] = info!.planted;
    let dot = 0;
    for (let i = 0; i < 32; i++) dot += en.direction[i] * fr.direction[i];
    expect(dot).toBeCloseTo(Math.cos((40 * Math.PI) / 180), 5);
    const m = await loadModel(out);
    expect([m.arch, m.nLayer, m.nEmbd, m.nHeadKv]).toEqual(["llama", 2, 32, 2]);
    m.dispose();
    const i = await runCli(["info", out, "--json"]);
    expect(JSON.parse(i.stdout)).toMatchObject({ arch: "llama", nLayer: 2, nEmbd: 32, nVocab: 151936 });
  });
});
