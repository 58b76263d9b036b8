// `valuelens data fetch` against a loopback HTTP server (no test reaches the internet) and `data stats`.
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DATASET_FILES } from "../src/data/fetch-registry.js";
import { datasetFiles, fetchDataset } from "../src/data/fetch.js";
import { packageRoot } from "../src/engine/native.js";
import { runCli } from "./helpers/cli.js";
import { hasVocabs, qwenVocab, tempDir } from "./helpers/fixtures.js";

const SHARED = join(packageRoot(), "..", "shared", "data");
const FIXTURES = join(packageRoot(), "test", "fixtures", "data");
const tmp = tempDir();
let server: Server;
let mirror: string;
let requests: string[] = [];
// What the loopback mirror serves instead of the real file for these paths.
const tampered = new Map<string, string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? "");
    requests.push(url);
    const f = DATASET_FILES.find((x) => url === `/${x.repo}/${x.commit}/${x.path}`);
    if (!f) {
      res.writeHead(404).end("not found");
      return;
    }
    if (tampered.has(url)) {
      res.writeHead(200).end(tampered.get(url));
      return;
    }
    const local = join(SHARED, f.dir, f.file);
    if (!existsSync(local)) {
      res.writeHead(404).end("not in this mirror");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(local));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  tmp.cleanup();
});

describe("data fetch", () => {
  test("the registry pins every adapter's files with a commit and a sha256", () => {
    for (const name of ["ethics-deontology", "stereoset", "truthfulqa-multi", "m-truthfulqa", "rtp-lx", "multijail", "xsafety", "harm-requests"]) {
      const files = datasetFiles(name);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        expect(f.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    expect(() => datasetFiles("nope")).toThrow(/unknown dataset 'nope'/);
  });

  test("a payload with the wrong checksum is rejected and leaves no file behind", async () => {
    const f = datasetFiles("advbench")[0];
    tampered.set(`/${f.repo}/${f.commit}/${f.path}`, "Goal,Target\nnot the real file\n");
    const dir = join(tmp.dir, "bad");
    await expect(fetchDataset("advbench", { cacheDir: dir, mirror })).rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(dir, f.dir))).toBe(true);
    expect(readdirSync(join(dir, f.dir))).toEqual([]);
    tampered.clear();
  });

  test("HTTP errors name the URL", async () => {
    await expect(fetchDataset("advbench", { cacheDir: join(tmp.dir, "x"), mirror: `${mirror}/missing-prefix` })).rejects.toThrow(/127\.0\.0\.1.*HTTP 404/);
  });

  test.skipIf(!existsSync(SHARED))("downloads, verifies, then reuses the verified copies (CLI)", async () => {
    const dir = join(tmp.dir, "cache");
    requests = [];
    const r = await runCli(["data", "fetch", "truthfulqa-multi,multijail", "--cache", dir, "--mirror", mirror, "--json"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { results: Array<{ dataset: string; files: number; downloaded: number; cached: number }> };
    expect(out.results.map((x) => [x.dataset, x.files, x.downloaded])).toEqual([["truthfulqa-multi", 3, 3], ["multijail", 1, 1]]);
    for (const f of [...datasetFiles("truthfulqa-multi"), ...datasetFiles("multijail")]) {
      expect(readFileSync(join(dir, f.dir, f.file)).equals(readFileSync(join(SHARED, f.dir, f.file)))).toBe(true);
    }
    requests = [];
    const again = await runCli(["data", "fetch", "multijail", "--cache", dir, "--mirror", mirror, "--json"]);
    expect((JSON.parse(again.stdout) as { results: Array<{ cached: number }> }).results[0].cached).toBe(1);
    expect(requests).toEqual([]);
    // The fetched copy is a working data root.
    const stats = await runCli(["data", "stats", "--data-root", dir, "--dataset", "multijail", "--json"]);
    expect((JSON.parse(stats.stdout) as { stats: Array<{ lang: string; pairs: number }> }).stats.map((s) => [s.lang, s.pairs])).toEqual([["en", 315], ["ko", 315], ["sw", 315], ["vi", 315], ["zh", 315]]);
  });
});

describe("data stats and list", () => {
  test.skipIf(!hasVocabs)("pairs, alignment and tokenizer fertility per language (fixtures)", async () => {
    const r = await runCli(["data", "stats", "--data-root", FIXTURES, "--dataset", "truthfulqa-multi", "--model", qwenVocab, "--json"]);
    expect(r.stderr).toBe("");
    const { stats } = JSON.parse(r.stdout) as { stats: Array<{ lang: string; pairs: number; items: number; alignedAll: number; alignedEn: number; meanTokens: number; tokensPer100Chars: number }> };
    expect(stats.map((s) => s.lang).sort()).toEqual(["ca", "en", "es"]);
    for (const s of stats) {
      expect(s.pairs).toBeGreaterThan(0);
      expect(s.alignedAll).toBeLessThanOrEqual(s.items);
      expect(s.alignedEn).toBeLessThanOrEqual(s.items);
      expect(s.meanTokens).toBeGreaterThan(3);
      expect(s.tokensPer100Chars).toBeGreaterThan(5);
    }
    const table = await runCli(["data", "stats", "--data-root", FIXTURES, "--dataset", "truthfulqa-multi", "--model", qwenVocab]);
    expect(table.stdout).toMatch(/tokens\/100 chars/);
  });

  test("list names every adapter; bad subcommands are usage errors", async () => {
    const r = await runCli(["data", "list", "--json"]);
    const names = (JSON.parse(r.stdout) as Array<{ name: string }>).map((a) => a.name);
    expect(names).toContain("rtp-lx");
    expect(names.length).toBe(16);
    expect(names).toContain("harm-requests");
    const bad = await runCli(["data", "frob"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown subcommand 'frob'/);
  });
});
