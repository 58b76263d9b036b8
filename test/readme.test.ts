// The README's quick-start example runs as written, importing the package by its name.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { packageRoot } from "../src/engine/native.js";

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
