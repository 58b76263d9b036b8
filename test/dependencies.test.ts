// The layering of docs/architecture.md, checked by dependency-cruiser with the rules in .dependency-cruiser.cjs
// (a devDependency, so `npm ci` installs it in CI): no import into src/cli, the one-way data flow, no cycles.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "./helpers/fixtures.js";

const root = join(import.meta.dirname, "..");
const depcruise = join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

function cruise(cwd: string): { status: number | null; out: string } {
  expect(existsSync(depcruise), "dependency-cruiser is a devDependency: run `npm ci`").toBe(true);
  const r = spawnSync(process.execPath, [depcruise, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], { cwd, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("dependency rules", () => {
  test("src/ keeps the layering: no violations", () => {
    const r = cruise(root);
    expect(r.out).toMatch(/no dependency violations found/);
    expect(r.status, r.out).toBe(0);
  });

  test("an import into src/cli from a library folder is reported", () => {
    const tmp = tempDir("valuelens-depcruise-");
    try {
      mkdirSync(join(tmp.dir, "src", "cli"), { recursive: true });
      mkdirSync(join(tmp.dir, "src", "store"), { recursive: true });
      copyFileSync(join(root, ".dependency-cruiser.cjs"), join(tmp.dir, ".dependency-cruiser.cjs"));
      writeFileSync(join(tmp.dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" }, include: ["src"] }));
      writeFileSync(join(tmp.dir, "src", "cli", "main.ts"), "export const main = 1;\n");
      writeFileSync(join(tmp.dir, "src", "store", "bad.ts"), 'import { main } from "../cli/main.js";\nexport const x = main;\n');
      const r = cruise(tmp.dir);
      expect(r.out).toMatch(/nothing-imports-the-cli: src\/store\/bad\.ts → src\/cli\/main\.ts/);
      expect(r.status).not.toBe(0);
    } finally {
      tmp.cleanup();
    }
  });

  test("the package bin is the CLI's entry point", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ valuelens: "./dist/cli/main.js" });
  });
});
