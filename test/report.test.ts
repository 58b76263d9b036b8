// The HTML report: files written atomically, results loading, the CLI, and the page in a real headless
// browser (Debian chromium via playwright-core): no console errors, no network, every figure drawn.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { buildReport, loadRunResults, renderSvg, reportFigures, type ReportInput, type ReportOutput } from "../src/report/index.js";
import { FIGURE_WIDTH } from "../src/report/figures.js";
import { reportCommand } from "../src/cli/commands/report.js";
import { fixtureControl, fixtureResults } from "./helpers/report-fixture.js";
import { tempDir } from "./helpers/fixtures.js";
import { browserTitle, checkReportInBrowser, hasChromium } from "./helpers/browser.js";

const artifacts = join(import.meta.dirname, ".artifacts");
const tmp = tempDir("valuelens-report-");
afterAll(() => tmp.cleanup());

const LANGS = ["en", "zh", "fr", "es", "sw"];
const CONCEPTS = ["morality", "fairness", "truthfulness"];

function input(): ReportInput {
  const a = fixtureResults({ name: "family-a", langs: LANGS, concepts: CONCEPTS, nLayer: 8, share: 0.95, seed: 1 });
  const b = fixtureResults({ name: "family-b", langs: LANGS, concepts: CONCEPTS, nLayer: 6, share: 0.3, seed: 2 });
  return { title: "report test", notes: ["fixture <b>escaped</b>"], models: { "family A": a, "family B": b }, control: fixtureControl(["family A", "family B"], ["en", "sw"], ["en", "zh", "sw"]) };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" });
}

describe("report", () => {
  let out: ReportOutput;
  const html = join(tmp.dir, "site", "report.html");

  beforeAll(async () => {
    out = await buildReport(input(), { out: html, figuresDir: join(tmp.dir, "site", "figs") });
  });

  test("every figure is written as SVG and PNG; the HTML inlines them and needs nothing else", () => {
    const ids = out.figures.map((f) => f.id);
    for (const want of [
      "recognition-accuracy",
      "recognition-layers-family-a",
      "recognition-layers-family-b",
      "similarity-aggregate",
      "similarity-per-concept-family-a",
      "similarity-at-layer",
      "similarity-layerwise",
      "crosslingual-matrix",
      "transfer",
      "crosslingual-per-concept-family-b",
      "correlation",
      "control-rate",
      "control-fluency",
      "control-off-target",
    ]) {
      expect(ids).toContain(want);
    }
    expect(out.warnings).toEqual([]);
    for (const f of out.figures) {
      expect(readFileSync(f.svg, "utf8")).toMatch(/^<svg [^>]*width="\d/);
      expect(readFileSync(f.png!).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(f.width).toBeGreaterThan(50);
      expect(f.height).toBeGreaterThan(50);
    }
    const page = readFileSync(html, "utf8");
    expect(page).not.toMatch(/<script|<link|<img|<iframe|@import/i);
    // The only absolute URLs are SVG namespace names, which are never fetched.
    const urls = [...page.matchAll(/https?:\/\/[^\s"')<]+/g)].map((m) => m[0]).filter((u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u));
    expect(urls).toEqual([]);
    expect(page.match(/<figure class="fig"/g)?.length).toBe(out.figures.length);
    expect(page).toContain("fixture &lt;b&gt;escaped&lt;/b&gt;");
    // Ids are scoped per figure: none repeats in the page.
    const idList = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(idList).size).toBe(idList.length);
    expect(listFiles(join(tmp.dir, "site")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  test("tables: per-concept recognition, correlation per lang2vec type (direct, split, released code), provenance", () => {
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/<th>released-code r<\/th>/);
    for (const t of ["genetic", "syntactic", "geographic", "phonological"]) expect(page).toContain(`<td>${t}</td>`);
    expect(page).toContain("ab".repeat(32)); // model hash
    expect(page).toContain("<code>{input}</code>"); // template text
    expect(page).toMatch(/by item, seed 1: train 100, val 10, test 40/);
    expect(page).toMatch(/vega-lite/);
    // The held-out number is the headline; the test-picked one is labelled optimistic with its selection-aware interval.
    expect(page).toMatch(/<th>held-out accuracy<\/th><th>95% interval<\/th><th>test-picked layer<\/th><th>accuracy \(optimistic\)<\/th><th>selection-aware 95% interval<\/th>/);
    expect(page).toMatch(/Recognition accuracy \(held-out layer, 95% interval\)/);
  });

  test("NaN (null after JSON) values, a model without transfer/correlation and no control still render", async () => {
    const i = input();
    const r = JSON.parse(JSON.stringify(i.models["family A"])) as ReportInput["models"][string];
    r.recognition.morality.en.oracle.accuracy = NaN;
    r.similarity.aggregate.values[0][1] = NaN;
    delete r.transfer;
    delete r.correlation;
    delete r.crossLingual;
    const res = await buildReport({ models: { only: JSON.parse(JSON.stringify(r)) as typeof r } }, { out: join(tmp.dir, "nan", "r.html"), png: false });
    expect(res.warnings).toEqual([]);
    expect(res.figures.map((f) => f.id)).not.toContain("transfer");
    expect(res.figures.every((f) => f.png === undefined)).toBe(true);
    expect(readFileSync(res.html, "utf8")).toMatch(/No model had at least three languages/);
  });

  test("loadRunResults: results.json with models and control, *.results.json + control.json, clear errors", async () => {
    const i = input();
    const d1 = join(tmp.dir, "run1");
    mkdirSync(d1);
    writeFileSync(join(d1, "results.json"), JSON.stringify({ models: i.models, control: i.control, title: "from run" }));
    const l1 = await loadRunResults(d1);
    expect(Object.keys(l1.models)).toEqual(["family A", "family B"]);
    expect(l1.control!.curves.length).toBe(i.control!.curves.length);
    expect(l1.title).toBe("from run");
    expect(reportFigures(l1).length).toBe(reportFigures(i).length);

    const d2 = join(tmp.dir, "run2");
    mkdirSync(d2);
    writeFileSync(join(d2, "b.results.json"), JSON.stringify(i.models["family B"]));
    writeFileSync(join(d2, "a.results.json"), JSON.stringify(i.models["family A"]));
    writeFileSync(join(d2, "control.json"), JSON.stringify(i.control));
    const l2 = await loadRunResults(d2);
    expect(Object.keys(l2.models)).toEqual(["a", "b"]);
    expect(l2.control).toBeDefined();

    const d3 = join(tmp.dir, "run3");
    mkdirSync(d3);
    await expect(loadRunResults(d3)).rejects.toThrow(/no results\.json and no \*\.results\.json/);
    writeFileSync(join(d3, "results.json"), JSON.stringify({ models: { x: { langs: [] } } }));
    await expect(loadRunResults(d3)).rejects.toThrow(/models\.x: not valuelens analysis results \(missing or malformed: method, layers, concepts/);
    writeFileSync(join(d3, "results.json"), "{");
    await expect(loadRunResults(d3)).rejects.toThrow(/not valid JSON/);
    await expect(loadRunResults(join(tmp.dir, "nope"))).rejects.toThrow(/does not exist/);
  });

  test("valuelens report RUN_DIR --json", async () => {
    const d = join(tmp.dir, "run-cli");
    mkdirSync(d);
    const i = input();
    writeFileSync(join(d, "results.json"), JSON.stringify({ models: i.models }));
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    try {
      await reportCommand([d, "--json", "--no-png", "--figures", join(d, "f")]);
    } finally {
      spy.mockRestore();
    }
    const s = JSON.parse(chunks.join("")) as { html: string; figures: { id: string; svg: string }[]; models: string[] };
    expect(s.html).toBe(join(d, "report.html"));
    expect(existsSync(s.html)).toBe(true);
    expect(s.models).toEqual(["family A", "family B"]);
    expect(s.figures.every((f) => f.svg.startsWith(join(d, "f")))).toBe(true);
    await expect(reportCommand([])).rejects.toThrow(/give exactly one RUN_DIR/);
  });

  test.skipIf(!hasChromium)(browserTitle("the page in headless chromium: loads offline without console errors, every figure drawn with marks"), async () => {
    const page = await checkReportInBrowser(html, join(artifacts, "report.png"));
    expect(page.figures.map((f) => f.id)).toEqual(out.figures.map((f) => f.id));
    for (const f of page.figures) {
      expect(f.width, f.id!).toBeGreaterThan(100);
      expect(f.height, f.id!).toBeGreaterThan(100);
      expect(f.marks, f.id!).toBeGreaterThanOrEqual(10);
      expect(f.width, `${f.id} fits its card`).toBeLessThanOrEqual(f.containerWidth + 0.5);
    }
    expect(page.horizontalOverflow, "no horizontal scrollbar at 1,280 px").toBeLessThanOrEqual(0);
    // Heatmap cells are drawn: the aggregate has 2 models × 5 × 5 cells.
    expect(page.aggregateCells).toBe(2 * LANGS.length * LANGS.length);
    expect(page.tables).toBeGreaterThanOrEqual(5);
    expect(page.problems).toEqual([]);
    expect(page.offline).toEqual([]);
  });

  test("a wide grid (6 models × 16 languages × 4 concepts): every figure fits the report's column at 1,280 px", async () => {
    const langs = ["en", "zh", "fr", "es", "pt", "vi", "ca", "id", "ja", "ko", "fi", "hu", "ta", "te", "sw", "ny"];
    const concepts = ["morality", "fairness", "truthfulness", "toxicity"];
    const models: ReportInput["models"] = {};
    for (const [i, name] of ["qwen-7b/mean_diff", "qwen-7b/pca", "llama2-13b/mean_diff", "llama2-13b/pca", "bloomz-7b1/mean_diff", "bloomz-7b1/pca"].entries()) {
      models[name] = fixtureResults({ name, langs, concepts, nLayer: 32, share: 0.3 + 0.1 * i, seed: 10 + i });
    }
    for (const f of reportFigures({ models })) {
      const r = await renderSvg(f.spec, []);
      expect(r.width, f.id).toBeLessThanOrEqual(FIGURE_WIDTH);
      expect(r.width, f.id).toBeGreaterThan(200);
    }
  }, 120_000);
});
