// Runs the store in child processes: transpiles src/store (and the modules it imports) to plain ESM under
// node_modules/.cache, so node resolves apache-arrow & co. from the repo and no stale dist/ build is involved.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const childScript = join(repo, "test", "fixtures", "store-writer-child.mjs");

let built: string | undefined;

/** file: URL of the transpiled src/store/index.js. */
export function buildStoreForChild(): string {
  if (built !== undefined) return built;
  const sources = [
    ...readdirSync(join(repo, "src", "store"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join("src", "store", f)),
    ...readdirSync(join(repo, "src", "util"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join("src", "util", f)),
    join("src", "data", "types.ts"),
  ];
  const hash = createHash("sha256");
  for (const s of sources) hash.update(s).update(readFileSync(join(repo, s)));
  const outRoot = join(repo, "node_modules", ".cache", "valuelens-store-test", hash.digest("hex").slice(0, 16));
  for (const s of sources) {
    const out = ts.transpileModule(readFileSync(join(repo, s), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: s,
    });
    const dest = join(outRoot, s.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  built = pathToFileURL(join(outRoot, "src", "store", "index.js")).href;
  return built;
}

export function spawnStoreChild(mode: "crash" | "memory" | "read", out: string, opts: Record<string, unknown>): ChildProcess {
  return spawn(process.execPath, ["--expose-gc", childScript, buildStoreForChild(), mode, out, JSON.stringify(opts)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Run a child to completion; resolves with its stdout (rejects on a non-zero exit). */
export function runStoreChild(mode: "crash" | "memory" | "read", out: string, opts: Record<string, unknown>): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawnStoreChild(mode, out, opts);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code) => (code === 0 ? res(stdout) : rej(new Error(`child exited ${code}: ${stderr}`))));
  });
}
