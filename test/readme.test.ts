// The README's examples run as written: the quick start (importing the package by its name) and the
// step-by-step analysis through the CLI.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { packageRoot } from "../src/engine/native.js";
import { cliPath } from "./helpers/cli.js";
import { hasVocabs } from "./helpers/fixtures.js";

test("README quick-start example runs", () => {
  const root = packageRoot();
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /```js quickstart\n([\s\S]*?)```/.exec(readme);
  expect(m, "README has a ```js quickstart block").not.toBeNull();
  // Inside the package folder, so `import ... from "valuelens"` resolves through package.json "exports".
  const dir = join(root, "test", ".artifacts");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "readme-quickstart.mjs");
  writeFileSync(file, m![1]);
  const out = execFileSync(process.execPath, [file], { encoding: "utf8", cwd: dir });
  expect(out).toMatch(/^true 64$/m);
  expect(out).toMatch(/^true maxTokens$/m);
  expect(out.trim().split("\n").at(-1)).toMatch(/true$/);
});

test.skipIf(!hasVocabs)("README step-by-step analysis runs as written (synthetic model, shipped data fixtures)", () => {
  const root = packageRoot();
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /```sh steps\n([\s\S]*?)```/.exec(readme);
  expect(m, "README has a ```sh steps block").not.toBeNull();
  // As written, except: the CLI of this checkout for `npx valuelens`, and the shipped fixtures as the data root.
  const script = m![1].replaceAll("npx valuelens", `node ${JSON.stringify(cliPath)}`).replace(/DATA=\S+/, `DATA=${JSON.stringify(join(root, "test", "fixtures", "data"))}`);
  const dir = mkdtempSync(join(tmpdir(), "valuelens-readme-"));
  try {
    const out = execFileSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8", cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
    expect(out).toMatch(/recognition accuracy/);
    expect(out).toMatch(/at layer 2/);
    expect(out).toMatch(/transfer rate/);
    expect(out).toMatch(/Pearson r/);
    expect(existsSync(join(dir, "analysis.json"))).toBe(true);
    expect(readFileSync(join(dir, "analysis.html"), "utf8")).toMatch(/id="fig-recognition-accuracy"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
