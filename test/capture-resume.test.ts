// A capture killed mid-run (SIGKILL) leaves only complete batches; `--resume` completes it, and the result
// equals an uninterrupted capture row for row.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inspectActivations, readActivations } from "../src/store/index.js";
import { cliPath, runCli } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { buildWorld, type World } from "./helpers/planted-world.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function rows(path: string): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for await (const b of readActivations(path)) {
    for (let i = 0; i < b.nRows; i++) out.set(`${b.concept[i]}|${b.lang[i]}|${b.itemId[i]}|${b.side[i]}|${b.split[i]}|${b.layer[i]}`, b.vectors.slice(i * b.nEmbd, (i + 1) * b.nEmbd));
  }
  return out;
}

describe.skipIf(!hasVocabs)("interrupted capture", () => {
  let world: World;
  beforeAll(async () => {
    world = await buildWorld({ dir: tmp.dir, concepts: { morality: { en: 0, fr: 30 } }, itemsPerLang: 400 });
  }, 120_000);

  test("SIGKILL mid-capture, then --resume, equals an uninterrupted run", async () => {
    const args = (out: string) => ["capture", "--model", world.modelPath, "--data", world.pairsPath, "--template", "raw", "--out", out, "--chunk", "32", "--max-seqs", "16", "--progress", "json"];
    const full = join(tmp.dir, "full.arrow");
    const done = await runCli(args(full));
    expect(done.code, done.stderr).toBe(0);

    const cut = join(tmp.dir, "cut.arrow");
    // The CLI's test hold stops the child right after its first chunk is on disk: the kill lands mid-run on any
    // machine (a kill on a progress event or a timer raced the faster engine).
    const child = spawn(process.execPath, [cliPath, ...args(cut)], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VALUELENS_TEST_HOLD_AFTER_CHUNK: "1" } });
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      child.stderr.on("data", (d: Buffer) => {
        buf += d.toString();
        if (/^\{"type":"hold"/m.test(buf)) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => resolve());
      child.on("error", reject);
    });
    await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on("exit", () => r())));
    expect(child.signalCode).toBe("SIGKILL");
    expect(existsSync(cut)).toBe(false); // never a half-written final file
    const partial = await inspectActivations(`${cut}.partial`);
    expect(partial.rows).toBeGreaterThan(0);
    const fullRows = await rows(full);
    expect(partial.rows).toBeLessThan(fullRows.size);

    const resumed = await runCli([...args(cut), "--resume", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { skippedTexts: number; texts: number };
    expect(summary.skippedTexts).toBeGreaterThan(0);
    expect(summary.skippedTexts).toBeLessThan(summary.texts);
    const got = await rows(cut);
    expect(got.size).toBe(fullRows.size);
    for (const [k, v] of fullRows) expect(Array.from(got.get(k) ?? []), k).toEqual(Array.from(v));
    expect(existsSync(`${cut}.partial`)).toBe(false);
  }, 300_000);
});
