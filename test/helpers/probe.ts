// Runs test/fixtures/engine-probe.mjs in a child process (optionally under qemu or against an installed package).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../../src/engine/native.js";

export interface ProbeResult {
  cpuBuild: string;
  cpuVariant: string | null;
  cpuFeatures: Record<string, string>;
  models: Record<string, { rows: Record<string, number[][]>; generated: number[]; tokens: number[][] }>;
}

export const probeScript = join(packageRoot(), "test", "fixtures", "engine-probe.mjs");
export const distIndex = join(packageRoot(), "dist", "index.js");

export interface ProbeRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  result: ProbeResult | undefined;
}

/** `prefix` runs node through another program (e.g. ["qemu-x86_64", "-cpu", "Haswell"]). */
export function runProbe(models: string[], opts: { env?: NodeJS.ProcessEnv; prefix?: string[]; module?: string; cwd?: string; timeoutMs?: number } = {}): ProbeRun {
  const argv = [process.execPath, probeScript, opts.module ?? distIndex, ...models];
  const [cmd, ...args] = opts.prefix ? [...opts.prefix, ...argv] : argv;
  const r = spawnSync(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, encoding: "utf8", timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 });
  const line = r.stdout?.trim().split("\n").pop();
  let result: ProbeResult | undefined;
  try {
    result = line ? (JSON.parse(line) as ProbeResult) : undefined;
  } catch {
    result = undefined;
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr ?? "", result };
}
