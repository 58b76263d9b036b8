// Experiment grids end to end on synthetic models (2 models × 2 concepts × 3 languages, planted data written by
// the run): the tables match the planted ground truth; a re-run skips finished cells; a run killed mid-capture
// and resumed gives results identical to an uninterrupted run; 3 shards + merge equal one unsharded run.
import { spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { packageRoot } from "../src/engine/native.js";
import { parseManifest, type Manifest } from "../src/run/manifest.js";
import { runManifest } from "../src/run/runner.js";
import type { RunSummary } from "../src/run/finalize.js";
import type { RunEvent } from "../src/run/events.js";
import type { RunRecord } from "../src/run/record.js";
import { registerAnalysisRunner } from "../src/run/registry.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";

const tmp = tempDir("valuelens-run-");
afterAll(() => tmp.cleanup());
const fixture = join(packageRoot(), "test", "fixtures", "run-cli.mjs");
const exampleText = readFileSync(join(packageRoot(), "docs", "examples", "synthetic-grid.yaml"), "utf8");

// The shipped example with small capture chunks (many chunks per cell: room to interrupt one mid-way).
const manifestText = exampleText.replace("capture: { chunkTexts: 64 }", "capture: { chunkTexts: 8 }").replace("bootstrap: 200", "bootstrap: 100");
const manifestPath = join(tmp.dir, "grid.yaml");
const PLANTED = { morality: { en: 0, es: 0, fr: 30 }, fairness: { en: 0, es: 20, fr: 90 } } as const;

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture CLI; `kill(line)` is asked about every stderr line and SIGKILLs the child when true. */
function runChild(args: string[], kill?: (line: string) => boolean): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let pending = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      const s = d.toString();
      stderr += s;
      pending += s;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      if (kill && lines.some(kill)) child.kill("SIGKILL");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function cos(deg: number): number {
  return Math.cos((deg * Math.PI) / 180);
}

describe.skipIf(!hasVocabs)("experiment grids", () => {
  let manifest: Manifest;
  let reference: RunSummary;
  let referenceSeconds = 0;
  const refOut = join(tmp.dir, "reference");

  beforeAll(async () => {
    writeFileSync(manifestPath, manifestText);
    manifest = parseManifest(manifestText);
    const t0 = performance.now();
    reference = json(await runManifest(manifest, { out: refOut, baseDir: tmp.dir, progress: "none" }));
    referenceSeconds = (performance.now() - t0) / 1000;
  }, 300_000);

  test("the grid runs end to end and its tables match the planted ground truth", () => {
    // A runaway guard, not a benchmark: ~30 s on an idle 2-core machine, 75 s measured while builds shared it.
    expect(referenceSeconds).toBeLessThan(150);
    expect(reference.complete).toBe(true);
    expect(Object.keys(reference.run.cells)).toHaveLength(12);
    expect(Object.values(reference.run.cells).every((c) => c.status === "done")).toBe(true);
    expect(Object.keys(reference.results)).toEqual(["small", "deeper"]);
    for (const [id, m] of Object.entries(reference.results)) {
      expect(m.model.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.model.layers).toEqual(id === "small" ? ["1", "2", "3", "4"] : ["1", "2", "3", "4", "5", "6"]);
      for (const method of ["mean_diff", "pca"]) {
        const r = m.methods[method];
        for (const concept of ["morality", "fairness"]) {
          for (const lang of ["en", "es", "fr"]) {
            const rec = r.recognition![concept][lang];
            expect(rec.nTest).toBe(12);
            expect(rec.oracle.accuracy, `${id} ${method} ${concept}/${lang}`).toBeGreaterThanOrEqual(0.95);
            expect(rec.ci).toHaveLength(m.model.layers.length);
          }
          // Cosines between languages at their best layer approach cos θa · cos θb.
          const sim = r.similarity!.perConcept[concept];
          const angles = PLANTED[concept as keyof typeof PLANTED] as Record<string, number>;
          for (const [i, a] of sim.langs.entries()) {
            for (const [j, b] of sim.langs.entries()) {
              if (i === j) continue;
              const want = cos(angles[a]) * cos(angles[b]);
              expect(Math.abs(Math.max(...sim.cos[i][j]) - want), `${id} ${method} ${concept} ${a}-${b}`).toBeLessThan(0.05);
            }
          }
        }
        expect(r.transfer!.langs).toEqual(["en", "es", "fr"]);
        // en and es share morality's direction and fairness differs by 20°: both recognise the other's pairs;
        // fairness-fr is orthogonal to en: the en vector is at chance on French fairness pairs.
        const T = r.transfer!.T;
        expect(Math.abs(T.values[0][1])).toBeLessThanOrEqual(0.05);
        expect(T.values[0][2]).toBeLessThan(0);
        expect(r.crossLingual!.morality.acc.en.fr).toHaveLength(m.model.layers.length);
        expect(r.correlation!.langs).toEqual(["en", "es", "fr"]);
        expect(r.correlation!.highResource).toEqual(["en"]);
      }
    }
    // The run folder: one folder per cell, run.json with versions, hashes, per-cell status and timings.
    const run = JSON.parse(readFileSync(join(refOut, "run.json"), "utf8")) as RunRecord;
    expect(run.status).toBe("done");
    expect(run.manifestHash).toBe(reference.manifestHash);
    expect(run.versions.valuelens).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.models.small.sha256).toBe(reference.results.small.model.sha256);
    expect(run.plan).toHaveLength(12);
    expect(run.cells["deeper/fairness/fr"].timings.capture).toBeGreaterThan(0);
    expect(readdirSync(join(refOut, "cells", "small", "morality", "en")).sort()).toEqual(["activations.arrow", "cell.json", "recognition.json", "vectors.arrow"]);
    expect(existsSync(join(refOut, "data", "pairs.jsonl"))).toBe(true);
    expect(existsSync(join(refOut, "results", "deeper.json"))).toBe(true);
    expect(JSON.parse(readFileSync(join(refOut, "summary.json"), "utf8")).results).toEqual(reference.results);
  });

  test("a re-run skips every finished cell and gives the same tables", async () => {
    const events: RunEvent[] = [];
    const again = json(await runManifest(manifest, { out: refOut, baseDir: tmp.dir, progress: "none", onEvent: (e) => events.push(e) }));
    const cells = events.filter((e) => e.type === "cell");
    expect(cells).toHaveLength(12);
    expect(cells.every((e) => e.type === "cell" && e.status === "skipped")).toBe(true);
    expect(events.some((e) => e.type === "model" && e.status === "load")).toBe(false);
    expect(again.results).toEqual(reference.results);
  });

  test("a run killed mid-capture resumes to results identical to an uninterrupted run", async () => {
    const out = join(tmp.dir, "killed");
    const args = ["run", manifestPath, "--out", out, "--progress", "json", "--json"];
    // Kill once the second cell has stored a couple of chunks: one cell finished, one half-captured.
    const killed = await runChild(args, (line) => {
      if (!line.startsWith("{")) return false;
      const e = JSON.parse(line) as RunEvent;
      return e.type === "chunk" && e.cell === "small/morality/es" && e.done >= 16 && e.done < e.total;
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stderr).toContain('"type":"progress","stage":"capture small"');
    const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunRecord;
    expect(record.status).toBe("running");
    expect(record.cells["small/morality/en"].status).toBe("captured");
    expect(existsSync(join(out, "cells", "small", "morality", "es", "activations.arrow.partial"))).toBe(true);

    const resumed = await runChild(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as RunSummary;
    expect(summary.complete).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunRecord;
    expect(rec.cells["small/morality/es"].capture!.skippedTexts).toBeGreaterThanOrEqual(16);
    expect(summary.results).toEqual(reference.results);
  });

  test("an aborted run (AbortSignal, as Ctrl-C) stops cleanly and resumes to the same tables", async () => {
    const out = join(tmp.dir, "aborted");
    const ctl = new AbortController();
    const stop = (e: RunEvent) => {
      if (e.type === "chunk" && e.cell === "deeper/morality/en" && e.done >= 24) ctl.abort();
    };
    await expect(runManifest(manifest, { out, baseDir: tmp.dir, progress: "none", signal: ctl.signal, onEvent: stop })).rejects.toMatchObject({ name: "AbortError" });
    const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunRecord;
    expect(record.status).toBe("interrupted");
    expect(record.cells["deeper/morality/en"].status).toBe("interrupted");
    expect(record.cells["small/fairness/fr"].status).toBe("done");
    expect(existsSync(join(out, "cells", "deeper", "morality", "en", "activations.arrow.partial"))).toBe(true);
    const events: RunEvent[] = [];
    const resumed = json(await runManifest(manifest, { out, baseDir: tmp.dir, progress: "none", onEvent: (e) => events.push(e) }));
    expect(events.filter((e) => e.type === "cell" && e.status === "skipped").map((e) => (e.type === "cell" ? e.cell : ""))).toHaveLength(6);
    expect(resumed.results).toEqual(reference.results);
  });

  test("analyses without a registered runner are skipped with a note; a registered runner adds its table", async () => {
    const small = `
models: [{ id: m, synth: { dim: 32, layers: 2, heads: 2, seed: 4 }, template: raw }]
data: { synth: { items: 10, wordsPerSide: 4, fillerWords: 8, angles: { morality: { en: 0, fr: 45 } } } }
concepts: [morality]
languages: [en, fr]
analyses: [recognition, control]
analysis: { bootstrap: 0 }
`;
    const out = join(tmp.dir, "control");
    const first = await runManifest(parseManifest(small), { out, baseDir: tmp.dir, progress: "none" });
    expect(first.notes).toEqual(["analysis 'control' skipped: no runner is registered for it in this valuelens"]);
    expect(first.results.m.analyses).toBeUndefined();
    expect(first.results.m.methods.mean_diff.similarity).toBeUndefined();
    registerAnalysisRunner("control", { run: async (ctx) => ({ model: ctx.modelId, cells: ctx.cells.map((c) => `${c.concept}/${c.lang}`), modelExists: existsSync(ctx.modelPath) }) });
    const second = await runManifest(parseManifest(small), { out, baseDir: tmp.dir, progress: "none" });
    expect(second.notes).toEqual([]);
    expect(second.results.m.analyses).toEqual({ control: { model: "m", cells: ["morality/en", "morality/fr"], modelExists: true } });
  });

  test("3 shards + merge equal one unsharded run", async () => {
    const dirs = [0, 1, 2].map((i) => join(tmp.dir, `shard-${i}`));
    const shards: RunSummary[] = [];
    for (const [i, dir] of dirs.entries()) shards.push(json(await runManifest(manifest, { out: dir, baseDir: tmp.dir, shard: { index: i, count: 3 }, progress: "none" })));
    // Each shard did only its share: a contiguous run of 4 cells, captured by itself.
    const mine = shards.map((s) => Object.keys(s.run.cells));
    expect(mine.map((c) => c.length)).toEqual([4, 4, 4]);
    expect(new Set(mine.flat()).size).toBe(12);
    expect(shards.every((s) => !s.complete)).toBe(true);
    expect(existsSync(join(dirs[0], "cells", "deeper"))).toBe(false);
    expect(existsSync(join(dirs[2], "cells", "small"))).toBe(false);

    // Merge through the CLI (shard folders in any order).
    const merged = await runChild(["merge", dirs[2], dirs[0], dirs[1], "--out", join(tmp.dir, "merged"), "--json"]);
    expect(merged.code, merged.stderr).toBe(0);
    const summary = JSON.parse(merged.stdout) as RunSummary;
    expect(summary.complete).toBe(true);
    expect(summary.run.kind).toBe("merge");
    expect(summary.manifestHash).toBe(reference.manifestHash);
    expect(summary.results).toEqual(reference.results);
    expect(summary.notes).toEqual(reference.notes);
    expect(Object.keys(summary.run.cells).sort()).toEqual(Object.keys(reference.run.cells).sort());

    // What merge refuses: a missing shard, a shard given twice (as a copy), shards of another manifest.
    const missing = await runChild(["merge", dirs[0], dirs[1], "--out", join(tmp.dir, "m-missing")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/4 cell\(s\) missing \(deeper\/morality\/fr.*of shard\(s\) 2\/3/);
    cpSync(dirs[1], join(tmp.dir, "shard-1-copy"), { recursive: true });
    const dup = await runChild(["merge", dirs[0], dirs[1], join(tmp.dir, "shard-1-copy"), dirs[2], "--out", join(tmp.dir, "m-dup")]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/shard 1\/3 is also/);
    expect(dup.stderr).toMatch(/finished in both .* \(duplicated\)/);
    const alien = join(tmp.dir, "alien");
    cpSync(dirs[2], alien, { recursive: true });
    const rec = JSON.parse(readFileSync(join(alien, "run.json"), "utf8")) as RunRecord;
    writeFileSync(join(alien, "run.json"), JSON.stringify({ ...rec, manifestHash: "0".repeat(64) }));
    const mixed = await runChild(["merge", dirs[0], dirs[1], alien, "--out", join(tmp.dir, "m-mixed")]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/manifest hash .* differs/);
  });

  test("a run folder refuses another manifest or shard", async () => {
    const other = parseManifest(manifestText.replace("methods: [mean_diff, pca]", "methods: [mean_diff]"));
    await expect(runManifest(other, { out: refOut, baseDir: tmp.dir, progress: "none" })).rejects.toThrow(/holds a run of another manifest/);
    await expect(runManifest(manifest, { out: refOut, baseDir: tmp.dir, progress: "none", shard: { index: 0, count: 2 } })).rejects.toThrow(/holds shard 0\/1 of this run, not 0\/2/);
    const bad = await runChild(["run", manifestPath, "--out", join(tmp.dir, "x"), "--shard", "3/3"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/outside 0\.\.2 \(shard indices are 0-based/);
  });
});
