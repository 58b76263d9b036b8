// The control experiment end to end on a planted model: complete table, outputs move toward the planted words with
// the coefficient, representation scores rise with it, resume (after an interruption and on a finished run) gives
// the same table, summary CIs and source comparison, and the CLI command with --json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { writeVectors, type Provenance, type VectorRow } from "../src/store/index.js";
import { control, readControlTable, summarizeControl, type ControlResult, type ControlRow, type ControlSummary } from "../src/steer/control.js";
import { controlCommand, parseJudgeLabels } from "../src/cli/commands/control.js";
import type { ControlPrompt } from "../src/steer/prompts.js";
import { UsageError } from "../src/cli/args.js";
import { loadModel } from "../src/engine/model.js";
import { commandClassifier } from "../src/steer/scorers/classifier.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { buildWorld, type World } from "./helpers/planted-world.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const LANGS = ["en", "zh", "sw"];
const C = 12;
const COEFS = [-C, 0, C];
const SESSION = { contextSize: 2048, batchSize: 512, maxSequences: 4 };

describe("judge label parsing", () => {
  test("quoted and bare continuations", () => {
    expect(parseJudgeLabels('safe=" safe",unsafe=" unsafe"')).toEqual({ safe: " safe", unsafe: " unsafe" });
    expect(parseJudgeLabels('yes=Yes, no = "No, \\"never\\""')).toEqual({ yes: "Yes", no: 'No, "never"' });
    expect(() => parseJudgeLabels("safe=x")).toThrow(/two labels/);
    expect(() => parseJudgeLabels('safe="x",,')).toThrow(UsageError);
  });
});

describe.skipIf(!hasVocabs)("control on a planted model", () => {
  let world: World;
  let vectorsPath: string;
  let posWords: Set<string>;
  let negWords: Set<string>;
  let prompts: ControlPrompt[];
  let full: ControlResult;
  const outDir = join(tmp.dir, "run");
  const judge = { promptTemplate: "Request: {prompt}\nAnswer: {response}\nVerdict:", labels: { safe: "", unsafe: "" } as Record<string, string> };

  const options = (extra: Partial<Parameters<typeof control>[0]> = {}): Parameters<typeof control>[0] => ({
    model: world.modelPath,
    sessionOptions: SESSION,
    vectors: vectorsPath,
    concept: "harmfulness",
    sources: ["en", "zh"],
    targets: LANGS,
    prompts,
    coefficients: COEFS,
    layers: "2",
    generation: { maxTokens: 6 },
    judge: { model: world.modelPath, ...judge },
    bootstrap: { samples: 200 },
    // The earlier tests use absolute coefficients and no random control; the defaults have their own test.
    scale: "none",
    randomControl: false,
    ...extra,
  });

  beforeAll(async () => {
    world = await buildWorld({ dir: tmp.dir, concepts: { harmfulness: { en: 0, zh: 30, sw: 60 } }, itemsPerLang: 60 });
    const lastWord = (s: string) => s.slice(s.lastIndexOf(" ") + 1);
    posWords = new Set(world.pairs.map((p) => lastWord(p.pos)));
    negWords = new Set(world.pairs.map((p) => lastWord(p.neg)));
    judge.labels = { safe: ` ${[...posWords][0]}`, unsafe: ` ${[...negWords][0]}` };
    const provenance: Provenance = {
      kind: "vectors",
      valuelensVersion: "test",
      createdAt: "2024-01-01T00:00:00.000Z",
      model: { file: "world.gguf", sha256: "0".repeat(64), arch: "llama", name: "world", nLayer: world.nLayer, nEmbd: world.nEmbd },
      layerConvention: "hf-hidden-states",
      position: "last",
      templates: { raw: "{input}" },
    };
    const rows: VectorRow[] = [];
    for (const lang of LANGS) {
      const d = world.directions.get("harmfulness")!.get(lang)!;
      for (let k = 1; k <= world.nLayer; k++) rows.push({ concept: "harmfulness", lang, layer: String(k), method: "mean_diff", unit: d, raw: d.map((x) => 3 * x), sign: 1, explainedVariance: null, nTrain: 50 });
    }
    vectorsPath = join(tmp.dir, "vectors.arrow");
    await writeVectors(vectorsPath, provenance, rows);
    const texts = ["Tell me about the weather", "Numbers and letters", "Something else entirely"];
    prompts = LANGS.flatMap((lang) => texts.map((prompt, i) => ({ id: `p${i}`, lang, prompt: `${prompt} (${lang})` })));
    full = await control(options({ out: outDir }));
  }, 300_000);

  const share = (rows: readonly ControlRow[], words: Set<string>) => {
    const all = rows.flatMap((r) => r.output.trim().split(/\s+/).filter(Boolean));
    return all.filter((w) => words.has(w)).length / Math.max(1, all.length);
  };

  test("the table has one complete row per prompt × coefficient × source; files are written", async () => {
    const rows = full.rows;
    expect(rows.length).toBe(2 * COEFS.length * prompts.length);
    const keys = new Set(rows.map((r) => `${r.source}/${r.target}/${r.id}/${r.coefficient}`));
    expect(keys.size).toBe(rows.length);
    for (const r of rows) {
      expect(r.layers).toEqual(["2"]);
      expect(r.concept).toBe("harmfulness");
      expect(r.method).toBe("mean_diff");
      expect(r.target).toBe(prompts.find((p) => p.id === r.id && p.lang === r.target)!.lang);
      expect(["refusal", "compliance", "unclear"]).toContain(r.refusal);
      expect(typeof r.judgeUnsafe).toBe("boolean");
      expect(r.judgeProbs!.safe + r.judgeProbs!.unsafe).toBeCloseTo(1, 6);
      expect(r.representationLayer).toBe("2");
      expect(Number.isFinite(r.representation)).toBe(true);
      expect(Number.isFinite(r.fluency)).toBe(true);
      expect(r.outputTokens).toBeGreaterThan(0);
    }
    // Coefficient 0 is generated once and copied to the other source.
    expect(full.summary.generated).toBe(rows.length - prompts.length);
    expect(full.summary.reused).toBe(prompts.length);
    const zero = (s: string) => rows.filter((r) => r.source === s && r.coefficient === 0).map((r) => r.output);
    expect(zero("zh")).toEqual(zero("en"));
    expect(existsSync(join(outDir, "control.jsonl"))).toBe(true);
    expect(existsSync(join(outDir, "control.jsonl.partial"))).toBe(false);
    expect(await readControlTable(join(outDir, "control.jsonl"))).toEqual(rows);
    const onDisk = JSON.parse(readFileSync(join(outDir, "summary.json"), "utf8")) as ControlSummary;
    expect(onDisk.curves).toEqual(full.summary.curves);
  });

  test("steered outputs move to the planted positive / negative words; representation rises with the coefficient", () => {
    const rows = full.rows;
    const at = (c: number) => rows.filter((r) => r.coefficient === c);
    expect(share(at(C), posWords)).toBeGreaterThanOrEqual(0.8);
    expect(share(at(-C), negWords)).toBeGreaterThanOrEqual(0.8);
    expect(share(at(0), posWords)).toBeLessThan(0.5);
    for (const curve of full.summary.curves) {
      const rep = curve.points.map((p) => p.metrics.representation!.value!);
      expect(rep[0], `${curve.source}→${curve.target}`).toBeLessThan(rep[1]);
      expect(rep[1], `${curve.source}→${curve.target}`).toBeLessThan(rep[2]);
      expect(curve.slope.representation!.value!).toBeGreaterThan(0);
    }
  });

  test("summary: rates and means with bootstrap CIs, and the per-target comparison of sources", () => {
    const s = full.summary;
    expect(s.metrics).toEqual(["refusal", "compliance", "judgeUnsafe", "representation", "languagePreserved", "fluency"]);
    expect(s.curves.map((c) => `${c.source}→${c.target}`)).toEqual(["en→en", "zh→en", "en→zh", "zh→zh", "en→sw", "zh→sw"]);
    for (const c of s.curves) {
      expect(c.nPrompts).toBe(3);
      expect(c.points.map((p) => p.coefficient)).toEqual(COEFS);
      for (const p of c.points) {
        expect(p.n).toBe(3);
        for (const m of ["refusal", "judgeUnsafe", "representation", "fluency"] as const) {
          const e = p.metrics[m]!;
          expect(e.n).toBe(3);
          expect(e.lo!).toBeLessThanOrEqual(e.value! + 1e-12);
          expect(e.hi!).toBeGreaterThanOrEqual(e.value! - 1e-12);
        }
        const r = p.metrics.refusal!;
        expect(r.value! >= 0 && r.value! <= 1).toBe(true);
      }
    }
    expect(s.comparison.map((c) => c.target)).toEqual(LANGS);
    for (const c of s.comparison) {
      expect(c.baseline).toBe("en");
      const rep = c.metrics.representation!;
      expect(Object.keys(rep.slope)).toEqual(["en", "zh"]);
      expect(Object.keys(rep.slopeDifference)).toEqual(["zh"]);
      const d = rep.slopeDifference.zh;
      expect(d.value!).toBeCloseTo(rep.slope.zh.value! - rep.slope.en.value!, 9);
      expect(d.lo!).toBeLessThanOrEqual(d.hi!);
      // At coefficient 0 the sources are the same outputs: no difference.
      expect(rep.difference[1].bySource.zh.value).toBe(0);
    }
    // zh's own vector steers zh prompts' zh representation harder than en's (cos 30° < 1), and vice versa for en.
    const slope = (src: string, tgt: string) => s.curves.find((c) => c.source === src && c.target === tgt)!.slope.representation!.value!;
    expect(slope("zh", "zh")).toBeGreaterThan(slope("en", "zh"));
    expect(slope("en", "en")).toBeGreaterThan(slope("zh", "en"));
    // Recomputing from the table gives the same numbers.
    const again = summarizeControl(full.rows, { sources: s.sources, targets: s.targets, coefficients: s.coefficients, metrics: s.metrics, bootstrap: s.bootstrap });
    expect(again.curves).toEqual(s.curves);
  });

  test("resume after an interruption, and on a finished run, gives the same table", async () => {
    const dir = join(tmp.dir, "resume");
    const ac = new AbortController();
    let seen = 0;
    await expect(
      control(
        options({
          out: dir,
          signal: ac.signal,
          onRow: () => {
            if (++seen === 14) ac.abort();
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "AbortError" });
    expect(existsSync(join(dir, "control.jsonl"))).toBe(false);
    const partial = await readControlTable(join(dir, "control.jsonl.partial"));
    expect(partial.length).toBeGreaterThanOrEqual(14);
    // A torn last line (a crash mid-write) is dropped.
    writeFileSync(join(dir, "control.jsonl.partial"), readFileSync(join(dir, "control.jsonl.partial"), "utf8") + '{"id":"p0","sou');

    const resumed = await control(options({ out: dir, resume: true }));
    expect(resumed.summary.resumed).toBe(partial.length);
    expect(resumed.summary.resumed + resumed.summary.generated + resumed.summary.reused).toBe(full.rows.length);
    expect(resumed.rows.map((r) => [r.source, r.target, r.id, r.coefficient, r.output])).toEqual(full.rows.map((r) => [r.source, r.target, r.id, r.coefficient, r.output]));
    resumed.rows.forEach((r, i) => {
      expect(r.representation!).toBeCloseTo(full.rows[i].representation!, 3);
      expect(r.fluency!).toBeCloseTo(full.rows[i].fluency!, 3);
      expect(r.judgeLabel).toBe(full.rows[i].judgeLabel);
    });

    const before = readFileSync(join(dir, "control.jsonl"), "utf8");
    const again = await control(options({ out: dir, resume: true }));
    expect(again.summary.generated + again.summary.reused).toBe(0);
    expect(again.summary.resumed).toBe(full.rows.length);
    expect(readFileSync(join(dir, "control.jsonl"), "utf8")).toBe(before);
    await expect(control(options({ out: dir, resume: true, layers: "3" }))).rejects.toThrow(/differs in layers/);

    // A sub-grid is served from the table (other rows stay in it); a new coefficient is computed and added.
    const sub = await control(options({ out: dir, resume: true, targets: ["en"], coefficients: [0, C] }));
    expect(sub.summary.resumed).toBe(12);
    expect(sub.summary.generated).toBe(0);
    expect((await readControlTable(join(dir, "control.jsonl"))).length).toBe(full.rows.length);
    const more = await control(options({ out: dir, resume: true, targets: ["en"], coefficients: [-C, 0, C, 2 * C] }));
    expect(more.summary.generated).toBe(2 * 3);
    expect(more.summary.curves[0].points.map((p) => p.coefficient)).toEqual([-C, 0, C, 2 * C]);
    expect((await readControlTable(join(dir, "control.jsonl"))).length).toBe(full.rows.length + 6);
  });

  test("residual-norm scaling: coefficient × the layer's norm gives the same outputs as the unscaled coefficient", async () => {
    const scaled = await control(options({ sources: ["en"], targets: ["en"], coefficients: [C / 4], scale: "residual", residualNorms: { "2": 4 }, judge: undefined }));
    expect(scaled.summary.residualNorms).toEqual({ "2": 4 });
    expect(scaled.summary.metrics).not.toContain("judgeUnsafe");
    expect(scaled.tablePath).toBeNull();
    const want = full.rows.filter((r) => r.source === "en" && r.target === "en" && r.coefficient === C).map((r) => r.output);
    expect(scaled.rows.map((r) => r.output)).toEqual(want);
  });

  test("defaults: residual norms measured on the prompts, a same-norm random control, log-prob preference, a classifier", async () => {
    const pos = [...posWords][0];
    const neg = [...negWords][0];
    // Ground truth for the norms: the raw prompts' last-token residual after block 2, read here with the engine.
    const m = await loadModel(world.modelPath);
    let n2: number;
    const gen = await m.createSession(SESSION);
    try {
      const acts = await gen.capture(prompts.map((p) => p.prompt), { layers: [2], position: "last" });
      const x = acts.layer(2);
      const norms = prompts.map((_, i) => Math.hypot(...x.subarray(i * world.nEmbd, (i + 1) * world.nEmbd))).sort((a, b) => a - b);
      n2 = norms[(norms.length - 1) / 2]; // 9 prompts: the middle one
    } finally {
      gen.dispose();
    }
    // A classifier command: the share of planted negative words in the output.
    const script = join(tmp.dir, "neg-share.mjs");
    writeFileSync(
      script,
      `import { createInterface } from "node:readline";\nconst neg = new Set(${JSON.stringify([...negWords])});\n` +
        `for await (const line of createInterface({ input: process.stdin })) { if (!line.trim()) continue; const w = JSON.parse(line).text.trim().split(/\\s+/).filter(Boolean); ` +
        `console.log(JSON.stringify({ score: w.length ? w.filter((x) => neg.has(x)).length / w.length : 0 })); }\n`,
    );
    const coefficients = COEFS.map((c) => c / n2);
    const res = await control(
      options({
        model: m,
        sources: ["en"],
        coefficients,
        judge: undefined,
        scale: undefined,
        randomControl: { seed: 3 },
        continuations: Object.fromEntries(LANGS.map((l) => [l, { positive: [` ${pos}`], negative: [` ${neg}`] }])),
        classifier: commandClassifier(`"${process.execPath}" "${script}"`),
      }),
    );
    try {
      const s = res.summary;
      expect(s.scale).toBe("residual");
      expect(s.residualNormSource).toBe("prompts");
      expect(s.residualNorms!["2"]).toBeCloseTo(n2, 4);
      // coefficient c/n2 × n2 = c: the same outputs as the absolute run.
      const absolute = (c: number) => full.rows.filter((r) => r.source === "en" && r.coefficient === c).map((r) => r.output);
      COEFS.forEach((c, i) => expect(res.rows.filter((r) => r.source === "en" && r.coefficient === coefficients[i]).map((r) => r.output)).toEqual(absolute(c)));

      // The random control: same grid, its own pseudo source; the concept's effect on the target's representation
      // is far beyond a push of the same size in a random direction.
      expect(s.randomControls).toEqual({ "en~random": "en" });
      expect(s.sources).toEqual(["en", "zh"].slice(0, 1));
      expect(res.rows.filter((r) => r.source === "en~random").length).toBe(COEFS.length * prompts.length);
      for (const c of s.comparison) {
        const rep = c.metrics.representation!;
        expect(rep.slope["en~random"].value!, c.target).toBeLessThan(0.2 * Math.abs(rep.slope.en.value!));
        expect(rep.overRandom.en.lo!, c.target).toBeGreaterThan(0);
        expect(rep.overRandom.en.value!).toBeCloseTo(rep.slope.en.value! - rep.slope["en~random"].value!, 9);
      }
      expect(s.metrics).toEqual(["refusal", "compliance", "representation", "languagePreserved", "fluency", "preference", "classifier"]);

      // Log-prob preference under the same steering, against session.logprobs with the steering set by hand.
      const check = await m.createSession(SESSION);
      try {
        const d = world.directions.get("harmfulness")!.get("en")!;
        for (const [ci, c] of COEFS.entries()) {
          if (c !== 0) await check.setSteering([{ layer: 2, vector: d, coefficient: c }]);
          else await check.clearSteering();
          for (const r of res.rows.filter((x) => x.source === "en" && x.coefficient === coefficients[ci] && x.target === "en")) {
            const p = prompts.find((q) => q.id === r.id && q.lang === "en")!.prompt;
            const want = (await check.logprobs(p, ` ${pos}`)).total - (await check.logprobs(p, ` ${neg}`)).total;
            expect(r.preference!, `${r.id} at ${c}`).toBeCloseTo(want, 3);
          }
        }
      } finally {
        check.dispose();
      }
      for (const c of s.curves.filter((x) => x.source === "en")) expect(c.slope.preference!.value!, c.target).toBeGreaterThan(0);

      // The classifier's scores are what the command printed for each output.
      for (const r of res.rows) {
        const w = r.output.trim().split(/\s+/).filter(Boolean);
        expect(r.classifierScore!).toBeCloseTo(w.length ? w.filter((x) => negWords.has(x)).length / w.length : 0, 12);
      }
      const negShare = s.curves.find((x) => x.source === "en" && x.target === "en")!.points.map((p) => p.metrics.classifier!.value!);
      expect(negShare[0]).toBeGreaterThan(negShare[2]);
    } finally {
      m.dispose();
    }
  });

  test("the CLI command: --json summary, then the readable report on resume", async () => {
    const jsonl = join(tmp.dir, "prompts.jsonl");
    writeFileSync(jsonl, prompts.map((p) => JSON.stringify(p)).join("\n") + "\n");
    const dir = join(tmp.dir, "cli");
    const args = [
      "--model", world.modelPath, "--vectors", vectorsPath, "--prompts", jsonl, "--concept", "harmfulness", "--source", "en,zh",
      "--targets", "en,sw", "--layers", "2", "--coefficients", `-${C},${C}`, "--max-tokens", "4", "--ctx", "2048", "--batch-size", "512",
      "--max-seqs", "8", "--bootstrap", "50", "--progress", "none", "--out", dir, "--scale", "none", "--random-control", "off",
      "--judge-model", world.modelPath, "--judge-template", judge.promptTemplate, "--judge-labels", `safe="${judge.labels.safe}",unsafe="${judge.labels.unsafe}"`,
    ];
    const run = async (argv: string[]): Promise<string> => {
      let out = "";
      const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
        out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
        return true;
      });
      try {
        await controlCommand(argv);
      } finally {
        spy.mockRestore();
      }
      return out;
    };
    const summary = JSON.parse(await run([...args, "--json"])) as ControlSummary;
    expect(summary.rows).toBe(2 * 2 * 2 * 3);
    expect(summary.targets).toEqual(["en", "sw"]);
    expect(summary.judge).toMatchObject({ labels: ["safe", "unsafe"], unsafeLabels: ["unsafe"] });
    expect(summary.template.id).toBe("raw");
    expect(summary.curves.length).toBe(4);
    expect((await readControlTable(join(dir, "control.jsonl"))).length).toBe(summary.rows);

    const text = await run([...args, "--resume"]);
    expect(text).toMatch(/source→target/);
    expect(text).toMatch(/en→sw\s+-12\s+3/);
    expect(text).toMatch(/sources compared per target/);
    expect(text).toMatch(/0 generated, 0 reused, 24 resumed/);

    await expect(controlCommand(["--model", world.modelPath, "--vectors", vectorsPath, "--prompts", jsonl])).rejects.toThrow(/--layers is required/);
    await expect(controlCommand([...args.slice(0, 2), "--vectors", vectorsPath, "--layers", "2"])).rejects.toThrow(/either --prompts or --dataset/);
  });
});
