// The step-by-step CLI path as a new user meets it (issue 13): outputs locked, checked before any work and
// never replaced silently; errors that name the flag, the bad value and the valid ones; help per command;
// consistent numbers and exit codes; `analyze` and `report` over every kind of output.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inspectActivations, readActivations } from "../src/store/index.js";
import { fewPairsWarning, fixed, formatTable, percent } from "../src/cli/table.js";
import { closest } from "../src/cli/args.js";
import { lockOutput, lockPath, OutputLockedError } from "../src/util/output.js";
import { cliPath, runCli, type CliResult } from "./helpers/cli.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { buildWorld, type World } from "./helpers/planted-world.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const FIXTURES = join(import.meta.dirname, "fixtures", "data");

/**
 * Start the CLI and resolve once its first chunk is on disk: the child then holds there (the CLI's test hold)
 * until it is interrupted, so the test acts mid-run however fast the machine.
 */
function startCli(args: string[]): { child: ChildProcess; started: Promise<void>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VALUELENS_TEST_HOLD_AFTER_CHUNK: "1" } });
  let stdout = "";
  let stderr = "";
  let resolveStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (resolveStarted = r));
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (/^\{"type":"hold"/m.test(stderr)) resolveStarted();
  });
  const done = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => (resolveStarted(), resolve({ code, signal, stdout, stderr }))));
  return { child, started, done };
}

async function labels(path: string): Promise<{ langs: Set<string>; layers: Set<string>; rows: number }> {
  const langs = new Set<string>();
  const layers = new Set<string>();
  let rows = 0;
  for await (const b of readActivations(path)) {
    for (let i = 0; i < b.nRows; i++) {
      langs.add(b.lang[i]);
      layers.add(String(b.layer[i]));
    }
    rows += b.nRows;
  }
  return { langs, layers, rows };
}

describe("numbers and suggestions (no model needed)", () => {
  test("one number style: no -0.000, percentages with one decimal, integers stay integers", () => {
    expect(fixed(-0.0004, 3)).toBe("0.000");
    expect(fixed(-0.004, 2)).toBe("0.00");
    expect(fixed(-0.0051, 2)).toBe("-0.01");
    expect(fixed(Number.NaN)).toBe("—");
    expect(percent(100 / 3)).toBe("33.3%");
    expect(formatTable(["a", "n", "x"], [["r", "675", -0.0001]])).toMatch(/r\s+675\s+0\.000\n$/);
  });

  test("a correlation over fewer than 10 language pairs is flagged; 5 languages are not", () => {
    expect(fewPairsWarning(3)).toMatch(/rests on 3 language pairs \(3 languages\)/);
    expect(fewPairsWarning(5)).toBeNull();
  });

  test("did-you-mean finds typos and prefixes, not unrelated words", () => {
    expect(closest("harmfullness", ["harmfulness", "toxicity"])).toBe("harmfulness");
    expect(closest("langz", ["langs", "layers", "limit"])).toBe("langs");
    expect(closest("captur", ["capture", "extract"])).toBe("capture");
    expect(closest("xyz", ["capture", "extract"])).toBeUndefined();
  });

  test("a lock names its holder; a second lock of the same output in another process is refused; a dead holder's lock is taken over", async () => {
    const out = join(tmp.dir, "locked.arrow");
    // Another "process": a lock file with a live pid that is not ours (our parent), then a dead one.
    writeFileSync(lockPath(out), JSON.stringify({ pid: process.ppid, host: (await import("node:os")).hostname(), command: "valuelens capture --out locked.arrow", startedAt: "2026-01-01T00:00:00Z", token: "x" }));
    const err = await lockOutput(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputLockedError);
    expect((err as Error).message).toMatch(new RegExp(`pid ${process.ppid} on .*valuelens capture --out locked\\.arrow`));
    writeFileSync(lockPath(out), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), command: "gone", startedAt: "x", token: "y" }));
    const lock = await lockOutput(out);
    expect(JSON.parse(readFileSync(lockPath(out), "utf8")).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(lockPath(out))).toBe(false);
  });

  test("help per command from its option table; did you mean for commands and flags; help CMD", async () => {
    const cap = await runCli(["help", "capture"]);
    expect(cap.code).toBe(0);
    expect(cap.stdout).toMatch(/^usage: valuelens capture /);
    expect(cap.stdout).toMatch(/--allow-missing/);
    expect(cap.stdout).not.toMatch(/--cross-lingual/);
    const rec = await runCli(["recognize", "--help"]);
    expect(rec.stdout).toMatch(/--cross-lingual/);
    expect(rec.stdout).not.toMatch(/--family|--layer /);
    const sim = await runCli(["help", "similarity"]);
    expect(sim.stdout).not.toMatch(/--bootstrap|--ties/);
    // --activations only for the similarity intervals, which resample its training pairs.
    expect(sim.stdout).toMatch(/--intervals N/);
    expect(sim.stdout).toMatch(/--layer K/);
    const typo = await runCli(["captur"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'captur'; did you mean capture\?/);
    const flag = await runCli(["capture", "--langz", "en", "--out", "x.arrow"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option --langz; did you mean --langs\?/);
    expect(flag.stderr.split("\n").filter(Boolean).length).toBe(1); // one line, not the whole usage
    const val = await runCli(["extract", "--activations"]);
    expect(val.stderr).toMatch(/--activations needs a value \(FILE\)/);
    expect((await runCli(["help", "nope"])).code).toBe(2);
  });

  test("data fetch offline names the URL and the cause", async () => {
    // A port nobody listens on: connection refused, like a machine without network.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runCli(["data", "fetch", "advbench", "--cache", join(tmp.dir, "cache"), "--mirror", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot download http://127\\.0\\.0\\.1:${port}/\\S+: (connect )?ECONNREFUSED`));
  });
});

describe.skipIf(!hasVocabs)("outputs, errors and reports on a planted model", () => {
  let world: World;
  const base = (out: string) => ["capture", "--model", world.modelPath, "--data", world.pairsPath, "--template", "raw", "--out", out, "--chunk", "32", "--max-seqs", "16"];

  beforeAll(async () => {
    world = await buildWorld({ dir: tmp.dir, concepts: { morality: { en: 0, fr: 30, es: 10 } }, itemsPerLang: 300 });
  }, 120_000);

  test("two captures to one --out: the second fails at once naming the first; the first finishes intact", async () => {
    const out = join(tmp.dir, "mix.arrow");
    const first = startCli([...base(out), "--langs", "en", "--progress", "json"]);
    await first.started; // held after its first chunk (as a slow capture would be), holding the lock
    let second: CliResult;
    try {
      second = await runCli([...base(out), "--langs", "es,fr", "--progress", "none"]);
    } finally {
      first.child.kill("SIGUSR2"); // lets the first go on
    }
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`mix\\.arrow is being written by another valuelens process \\(pid ${first.child.pid} on .*capture .*--langs en`));
    const a = await first.done;
    expect(a.code, a.stderr).toBe(0);
    const got = await labels(out);
    expect([...got.langs]).toEqual(["en"]);
    expect(existsSync(lockPath(out))).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  }, 120_000);

  test("a finished output is kept without --force; --force replaces it; --resume says what was already there", async () => {
    const out = join(tmp.dir, "layers.arrow");
    const one = await runCli([...base(out), "--langs", "en", "--layers", "1,2", "--progress", "none"]);
    expect(one.code, one.stderr).toBe(0);
    const rows2 = (await labels(out)).rows;
    const again = await runCli([...base(out), "--langs", "en", "--layers", "1", "--progress", "none"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out .*layers\.arrow already exists \(a finished activation file\); use --resume to continue it or --force to replace it/);
    expect((await labels(out)).rows).toBe(rows2); // untouched
    const more = await runCli([...base(out), "--langs", "en", "--layers", "1,2,3", "--resume", "--progress", "none"]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(new RegExp(`resumed: ${rows2} rows were already stored; 0 of \\d+ texts had every requested layer`));
    expect([...(await labels(out)).layers].sort()).toEqual(["1", "2", "3"]);
    const forced = await runCli([...base(out), "--langs", "en", "--layers", "4", "--force", "--progress", "none"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect([...(await labels(out)).layers]).toEqual(["4"]);
  }, 120_000);

  test("outputs are checked before any work: a directory, a missing parent, --resume with --force", async () => {
    const dir = join(tmp.dir, "adir");
    mkdirSync(dir);
    const t0 = Date.now();
    const r = await runCli([...base(dir), "--progress", "none"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .*adir is a directory; give a file path/);
    expect(readdirSync(tmp.dir).some((f) => f.startsWith("adir.partial"))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const nested = join(tmp.dir, "new", "deeper", "acts.arrow");
    const n = await runCli([...base(nested), "--langs", "en", "--limit", "20", "--progress", "none"]);
    expect(n.code, n.stderr).toBe(0);
    expect((await inspectActivations(nested)).rows).toBeGreaterThan(0);
    const both = await runCli([...base(nested), "--resume", "--force"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--resume and --force contradict/);
  }, 120_000);

  test("Ctrl-C exits 130 and keeps the finished part for --resume", async () => {
    const out = join(tmp.dir, "int.arrow");
    const run = startCli([...base(out), "--progress", "json"]);
    await run.started;
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted; the finished part is kept in .*int\.arrow\.partial — re-run with --resume/);
    expect(existsSync(`${out}.partial`)).toBe(true);
    expect(existsSync(lockPath(out))).toBe(false);
    const again = await runCli([...base(out), "--progress", "none"]);
    expect(again.stderr).toMatch(/int\.arrow\.partial is left from an interrupted run; use --resume to continue it or --force to start over/);
  }, 120_000);

  test("a missing language or concept is an error naming the flag and the valid values; --allow-missing warns", async () => {
    const out = join(tmp.dir, "missing.arrow");
    const lang = await runCli([...base(out), "--langs", "en,de"]);
    expect(lang.code).toBe(2);
    expect(lang.stderr).toMatch(/--langs: no pairs for 'de' \(the data has: en, es, fr\)/);
    expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false);
    const concept = await runCli([...base(out), "--concepts", "moralty"]);
    expect(concept.stderr).toMatch(/--concepts: no pairs for 'moralty'; did you mean morality\? \(the data has: morality\)/);
    const allowed = await runCli([...base(out), "--langs", "en,de", "--limit", "10", "--allow-missing", "--progress", "none"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/warning: no pairs for language 'de'; going on without them/);
    const mv = await runCli(["capture", "--model", world.modelPath, "--data", join(FIXTURES, "mvalue"), "--concepts", "moralty", "--out", join(tmp.dir, "mv.arrow")]);
    expect(mv.code).toBe(2);
    expect(mv.stderr).toMatch(/--concepts: no pairs for 'moralty'; did you mean morality\? \(the data has: deontology, morality, truthfulness\)/);
    const ds = await runCli(["capture", "--model", world.modelPath, "--dataset", "multijial", "--data-root", FIXTURES, "--out", join(tmp.dir, "mj.arrow")]);
    expect(ds.code).toBe(2);
    expect(ds.stderr).toMatch(/--dataset: unknown dataset 'multijial'; did you mean multijail\?/);
    const mj = await runCli(["capture", "--model", world.modelPath, "--dataset", "multijail", "--data-root", FIXTURES, "--concepts", "harmfullness", "--out", join(tmp.dir, "mj.arrow")]);
    expect(mj.code).toBe(2);
    expect(mj.stderr).toMatch(/--concepts: no pairs for 'harmfullness'; did you mean harmfulness\?/);
  }, 120_000);

  describe("the step-by-step path to a report", () => {
    const acts = join(tmp.dir, "steps", "acts.arrow");
    const vecs = join(tmp.dir, "steps", "vectors.arrow");
    beforeAll(async () => {
      const c = await runCli([...base(acts), "--limit", "60", "--progress", "none"]);
      expect(c.code, c.stderr).toBe(0);
      const e = await runCli(["extract", "--activations", acts, "--out", vecs, "--progress", "none"]);
      expect(e.code, e.stderr).toBe(0);
    }, 120_000);

    test("layer, concept and method errors use the model's numbering and list the valid values", async () => {
      const s = await runCli(["similarity", "--vectors", vecs, "--layer", "16"]);
      expect(s.code).toBe(2);
      expect(s.stderr).toMatch(/--layer 16: no vectors at that layer \(the model has layers 1\.\.4; .*vectors\.arrow has 1, 2, 3, 4\)/);
      const c = await runCli(["recognize", "--activations", acts, "--vectors", vecs, "--concepts", "fairness"]);
      expect(c.stderr).toMatch(/--concepts: unknown concept \(not in .*vectors\.arrow\) 'fairness' \(valid: morality\)/);
      const m = await runCli(["recognize", "--activations", acts, "--vectors", vecs, "--method", "pca"]);
      expect(m.stderr).toMatch(/--method: unknown method \(not in .*\) 'pca' \(valid: mean_diff\)/);
      const x = await runCli(["extract", "--activations", acts, "--out", join(tmp.dir, "steps", "v2.arrow"), "--langs", "de"]);
      expect(x.code).toBe(2);
      expect(x.stderr).toMatch(/--langs: no pairs for 'de' \(the data has: en, es, fr\)/);
      const again = await runCli(["extract", "--activations", acts, "--out", vecs]);
      expect(again.stderr).toMatch(/already exists \(a vector file\); use --force/);
    });

    test("recognize prints n test as an integer; correlate warns on three languages", async () => {
      const r = await runCli(["recognize", "--activations", acts, "--vectors", vecs, "--bootstrap", "50", "--progress", "none"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/morality\s+en\s+\d+\s+\d/);
      expect(r.stdout).not.toMatch(/\d+\.000\s+\d+\s+0\.|-0\.000/);
      const c = await runCli(["correlate", "--activations", acts, "--vectors", vecs, "--high", "en", "--progress", "none"]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toMatch(/warning: the correlation rests on 3 language pairs/);
      expect(c.stdout).toMatch(/genetic\s+-?\d\.\d{3}\s/);
    });

    test("analyze writes what report renders; report takes recognize --json output too", async () => {
      const out = join(tmp.dir, "steps", "analysis.json");
      const a = await runCli(["analyze", "--activations", acts, "--vectors", vecs, "--out", out, "--bootstrap", "50", "--progress", "none"]);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toMatch(/render it: valuelens report .*analysis\.json/);
      const results = JSON.parse(readFileSync(out, "utf8")) as { models: Record<string, { langs: string[]; transfer?: unknown; similarity: { aggregate: { langs: string[] } } }> };
      const [name] = Object.keys(results.models);
      expect(results.models[name].langs.sort()).toEqual(["en", "es", "fr"]);
      expect(results.models[name].similarity.aggregate.langs.length).toBe(3);
      expect(results.models[name].transfer).toBeDefined();
      const rep = await runCli(["report", out, "--out", join(tmp.dir, "steps", "analysis.html"), "--no-png", "--json"]);
      expect(rep.code, rep.stderr).toBe(0);
      const html = readFileSync(join(tmp.dir, "steps", "analysis.html"), "utf8");
      expect(html).toMatch(/id="fig-similarity-aggregate"/);
      expect(html).toMatch(/id="fig-transfer/);
      expect(html).toMatch(/class="warn"><b>[^<]+<\/b>: the correlation rests on 3 language pairs/);

      const rec = await runCli(["recognize", "--activations", acts, "--vectors", vecs, "--bootstrap", "50", "--progress", "none", "--json"]);
      const recFile = join(tmp.dir, "steps", "recognition.json");
      writeFileSync(recFile, rec.stdout);
      const r2 = await runCli(["report", recFile, "--out", join(tmp.dir, "steps", "recognition.html"), "--no-png"]);
      expect(r2.code, r2.stderr).toBe(0);
      const html2 = readFileSync(join(tmp.dir, "steps", "recognition.html"), "utf8");
      expect(html2).toMatch(/id="fig-recognition-accuracy"/);
      expect(html2).toMatch(/No similarity results in the input/);
      const r3 = await runCli(["report", recFile, "--out", join(tmp.dir, "steps", "recognition.html"), "--no-png"]);
      expect(r3.code).toBe(1);
      expect(r3.stderr).toMatch(/already exists \(a report\); use --force/);
    }, 120_000);

    test("report renders a control folder", async () => {
      const prompts = join(tmp.dir, "steps", "prompts.jsonl");
      writeFileSync(prompts, ["en", "fr"].flatMap((lang) => [0, 1, 2].map((i) => JSON.stringify({ id: `p${i}`, lang, prompt: `Tell me about item ${i}.` }))).join("\n") + "\n");
      const dir = join(tmp.dir, "steps", "control");
      const c = await runCli([
        "control",
        "--model",
        world.modelPath,
        "--vectors",
        vecs,
        "--concept",
        "morality",
        "--prompts",
        prompts,
        "--layers",
        "2",
        "--coefficients",
        "-4,0,4",
        "--max-tokens",
        "3",
        "--bootstrap",
        "20",
        "--template",
        "raw",
        "--out",
        dir,
        "--progress",
        "none",
      ]);
      expect(c.code, c.stderr).toBe(0);
      const again = await runCli(["control", "--model", world.modelPath, "--vectors", vecs, "--concept", "morality", "--prompts", prompts, "--layers", "2", "--out", dir]);
      expect(again.stderr).toMatch(/already exists \(control results\); use --resume to continue it or --force to replace it/);
      const rep = await runCli(["report", dir, "--no-png"]);
      expect(rep.code, rep.stderr).toBe(0);
      const html = readFileSync(join(dir, "report.html"), "utf8");
      expect(html).toMatch(/<section id="control">/);
      expect(html).not.toMatch(/<section id="recognition">/);
    }, 180_000);
  });
});
