// `valuelens report` on the folder of a `valuelens run` (its summary.json), end to end through the CLI.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { packageRoot } from "../src/engine/native.js";
import { runCli } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

test.skipIf(!hasVocabs)("the shipped synthetic grid runs and its folder renders as a report", async () => {
  const out = join(tmp.dir, "grid");
  const run = await runCli(["run", join(packageRoot(), "docs", "examples", "synthetic-grid.yaml"), "--out", out, "--progress", "none", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout) as { complete: boolean; results: Record<string, { methods: Record<string, unknown> }> };
  expect(summary.complete).toBe(true);
  const rep = await runCli(["report", out, "--json"]);
  expect(rep.code, rep.stderr).toBe(0);
  const html = readFileSync(join(out, "report.html"), "utf8");
  // One report model per (model, method) of the run.
  const names = Object.entries(summary.results).flatMap(([id, r]) => Object.keys(r.methods).map((m) => `${id}/${m}`));
  for (const n of names) expect(html).toContain(n);
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  // Provenance from run.json: the model's file (not its id), the split's seed and shares, version and date.
  expect(html).toMatch(/model file<\/td><td><code>[^<]+\.gguf<\/code>/);
  expect(html).toMatch(/by item, seed \d+: train\+val share 0\.\d+/);
  expect(html).toMatch(/valuelens version \/ created<\/td><td>\d+\.\d+\.\d+ \/ \d{4}-\d\d-\d\dT/);
  const figs = readdirSync(join(out, "figures"));
  expect(figs.filter((f) => f.endsWith(".svg")).length).toBeGreaterThanOrEqual(8);
  expect(figs.filter((f) => f.endsWith(".png")).length).toBe(figs.filter((f) => f.endsWith(".svg")).length);
  expect(existsSync(join(out, "figures", "transfer.svg"))).toBe(true);
}, 180_000);
