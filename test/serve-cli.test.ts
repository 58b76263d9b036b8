// `valuelens serve` as a command (the built CLI in a child process): prints its URL, serves, stops on Ctrl-C.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cliPath, runCli } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { serveWorld, type ServeWorld } from "./helpers/serve-world.js";

const tmp = tempDir("valuelens-serve-cli-");
afterAll(() => tmp.cleanup());

describe.skipIf(!hasVocabs)("valuelens serve (CLI)", () => {
  let world: ServeWorld;
  beforeAll(async () => {
    world = await serveWorld(tmp.dir);
  }, 60_000);

  test("usage errors exit 2 and name the flag", async () => {
    const r = await runCli(["serve"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model is required/);
    const bad = await runCli(["serve", "--model", world.planted.path, "--portt", "1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean --port/);
  });

  test("prints the URL, reports the model ready, answers, and stops cleanly on SIGINT", async () => {
    const child = spawn(process.execPath, [cliPath, "serve", "--model", world.planted.path, "--vectors", world.vectorsPath, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      const t0 = Date.now();
      while (!/planted: ready/.test(out) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      expect(url, `${out}\n${err}`).toBeDefined();
      const info = (await (await fetch(`${url}api/info`)).json()) as { models: Array<{ name: string; state: string; vectors: string }> };
      expect(info.models).toEqual([expect.objectContaining({ name: "planted", state: "ready", vectors: expect.any(String) })]);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
