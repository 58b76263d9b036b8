// valuelens serve in a real browser (Debian chromium via playwright-core, every non-loopback request blocked):
// the page loads without console errors; settings from a shared URL drive a steered generation that streams and
// moves toward the planted positive words as the coefficient grows; closing the tab frees the engine within 1 s;
// the runs view draws every report figure; the quantization view compares F32 with Q8_0.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { quantize } from "../src/engine/quantize.js";
import { browserFigures } from "../src/serve/runs.js";
import type { Explorer } from "../src/serve/server.js";
import type { ReportInput } from "../src/report/index.js";
import { CHROMIUM, CHROMIUM_ARGS, browserTitle, hasChromium } from "./helpers/browser.js";
import { hasVocabs, tempDir, PLANTED_POS_WORDS } from "./helpers/fixtures.js";
import { fixtureControl, fixtureResults } from "./helpers/report-fixture.js";
import { serveWorld, startWorldExplorer } from "./helpers/serve-world.js";

const tmp = tempDir("valuelens-serve-browser-");
afterAll(() => tmp.cleanup());
const artifacts = join(import.meta.dirname, ".artifacts");

function runsInput(): ReportInput {
  const langs = ["en", "fr", "sw"];
  const concepts = ["morality", "fairness"];
  return {
    models: { "family A": fixtureResults({ name: "family-a", langs, concepts, nLayer: 6, share: 0.9, seed: 1 }), "family B": fixtureResults({ name: "family-b", langs, concepts, nLayer: 4, share: 0.4, seed: 2 }) },
    control: fixtureControl(["family A", "family B"], ["en"], ["en", "sw"]),
  };
}

function share(text: string): number {
  const pos = new Set(PLANTED_POS_WORDS);
  const words = text.split(/\s+/).filter(Boolean);
  return words.length ? words.filter((w) => pos.has(w.replace(/[^a-z]/g, ""))).length / words.length : 0;
}

describe.skipIf(!hasVocabs || !hasChromium)(browserTitle("serve in chromium"), () => {
  let ex: Explorer;
  let context: BrowserContext;
  let profile: string;
  const problems: string[] = [];
  const offline: string[] = [];
  const input = runsInput();

  let worldOnce: Awaited<ReturnType<typeof serveWorld>> | undefined;
  const serveWorldOnce = async () => (worldOnce ??= await serveWorld(tmp.dir));

  beforeAll(async () => {
    const world = await serveWorldOnce();
    const q8 = join(tmp.dir, "planted-Q8_0.gguf");
    await quantize(world.planted.path, q8, { type: "Q8_0", threads: 1 });
    ex = await startWorldExplorer(world, { tokenDelayMs: 15, runs: input, quantPairs: 8, models: [world.planted.path, q8] });
    const { chromium } = await import("playwright-core");
    profile = mkdtempSync(join(tmpdir(), "valuelens-chromium-"));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) return route.continue();
      offline.push(url);
      return route.abort();
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await ex?.close();
  });

  async function open(query: string): Promise<Page> {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${ex.port}/?${query}`, { waitUntil: "load" });
    await page.waitForFunction("document.querySelector('#models-state').textContent.includes('ready')", undefined, { timeout: 20_000 });
    return page;
  }

  async function generateAt(coef: number, random = false): Promise<{ base: string; steer: string; streamed: number }> {
    const page = await open(`view=play&concept=morality&source=en&layers=2-3&coef=${coef}&max=12${random ? "&random=1" : ""}&t=${encodeURIComponent("en:The story of the day is")}`);
    try {
      expect(await page.inputValue("input[name=coef]")).toBe(String(coef));
      // Count the steered column's updates while it streams.
      await page.evaluate(`window.__updates = 0; new MutationObserver(() => window.__updates++).observe(document.querySelector('#outputs'), { subtree: true, childList: true, characterData: true });`);
      await page.click("#run");
      await page.waitForFunction("document.body.dataset.generation === 'done'", undefined, { timeout: 60_000 });
      const base = await page.textContent('pre[data-arm="base"]');
      const steer = await page.textContent('pre[data-arm="steer"]');
      const streamed = (await page.evaluate("window.__updates")) as number;
      expect(await page.$$eval("tr[data-score-arm]", (els) => els.length)).toBe(random ? 3 : 2);
      if (coef === 16) {
        // The README's screenshot (docs/serve-playground.png) is a copy of this one.
        mkdirSync(artifacts, { recursive: true });
        await page.screenshot({ path: join(artifacts, "serve-playground.png") });
      }
      return { base: base ?? "", steer: steer ?? "", streamed };
    } finally {
      await page.close();
    }
  }

  test("the page loads with no console errors and no requests beyond the app", async () => {
    const page = await open("view=play");
    expect(await page.$$eval("select[name=model] option", (els) => els.length)).toBe(2);
    await page.close();
    expect(problems).toEqual([]);
    expect(offline).toEqual([]);
  }, 60_000);

  test("a steered generation streams, differs from the unsteered one and rises toward the planted words with the coefficient", async () => {
    const zero = await generateAt(0);
    const strong = await generateAt(16, true);
    console.log(`browser: planted share unsteered ${share(strong.base).toFixed(2)}, coef 0 ${share(zero.steer).toFixed(2)}, coef 16 ${share(strong.steer).toFixed(2)}; ${strong.streamed} DOM updates while streaming`);
    expect(zero.steer).toBe(zero.base);
    expect(strong.steer).not.toBe(strong.base);
    expect(share(strong.steer)).toBeGreaterThan(share(strong.base) + 0.3);
    // Token by token: many more updates than the 4 final texts.
    expect(strong.streamed).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  }, 180_000);

  test("closing the tab aborts the generation: the engine is free again within 1 s", async () => {
    const page = await open(`view=play&concept=morality&source=en&layers=2-3&coef=4&max=200&t=${encodeURIComponent("en:The story of the day is")}`);
    await page.click("#run");
    await page.waitForFunction("document.querySelector('pre[data-arm=\"base\"]') && document.querySelector('pre[data-arm=\"base\"]').textContent.length > 0", undefined, { timeout: 20_000 });
    expect(ex.slots[0].queue.busy).toBe(true);
    const t0 = performance.now();
    await page.close();
    while (ex.slots[0].queue.busy && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    console.log(`browser: engine free ${ms.toFixed(0)} ms after the tab closed`);
    expect(ex.slots[0].queue.busy).toBe(false);
    expect(ms).toBeLessThan(1000);
    // Editing a control while it runs aborts it too.
    const edit = await open(`view=play&concept=morality&source=en&layers=2-3&coef=4&max=200&t=${encodeURIComponent("en:The story of the day is")}`);
    await edit.click("#run");
    await edit.waitForFunction("document.querySelector('pre[data-arm=\"base\"]') && document.querySelector('pre[data-arm=\"base\"]').textContent.length > 0", undefined, { timeout: 20_000 });
    const t1 = performance.now();
    await edit.fill("textarea[name=targets]", "en: Another prompt");
    while (ex.slots[0].queue.busy && performance.now() - t1 < 3000) await new Promise((r) => setTimeout(r, 5));
    expect(ex.slots[0].queue.busy).toBe(false);
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(await edit.textContent("#play-status")).toMatch(/stopped: settings changed/);
    await edit.close();
  }, 60_000);

  test("the page shows the queue position, and a clear busy message past the bound", async () => {
    const small = await startWorldExplorer(await serveWorldOnce(), { tokenDelayMs: 15, maxWaiting: 1 });
    const q = `view=play&concept=morality&source=en&layers=2-3&coef=4&max=200&t=${encodeURIComponent("en:The story of the day is")}`;
    const pages: Page[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage();
        page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
        await page.goto(`http://127.0.0.1:${small.port}/?${q}`, { waitUntil: "load" });
        await page.waitForFunction("document.querySelector('#models-state').textContent.includes('ready')", undefined, { timeout: 20_000 });
        await page.click("#run");
        pages.push(page);
        if (i === 0) await page.waitForFunction("document.querySelector('pre[data-arm=\"base\"]').textContent.length > 0", undefined, { timeout: 20_000 });
      }
      await pages[1].waitForFunction("document.querySelector('#play-status').textContent.includes('waiting in queue: position 1')", undefined, { timeout: 10_000 });
      await pages[2].waitForFunction("/busy/.test(document.querySelector('#play-status').textContent)", undefined, { timeout: 10_000 });
      // Stopping the first lets the waiting one run.
      await pages[0].click("#stop");
      await pages[1].waitForFunction("/running/.test(document.querySelector('#play-status').textContent)", undefined, { timeout: 10_000 });
    } finally {
      for (const p of pages) await p.close();
      await small.close();
    }
  }, 60_000);

  test("the runs view draws every report figure, and the filters redraw them", async () => {
    const want = browserFigures(input, {}).map((f) => f.id);
    expect(want.length).toBeGreaterThanOrEqual(8);
    const page = await open("view=runs");
    await page.waitForFunction(`document.body.dataset.figures === '${want.length}'`, undefined, { timeout: 30_000 });
    const drawn = await page.$$eval("figure[data-figure]", (els) =>
      els.map((el) => ({ id: el.getAttribute("data-figure"), marks: el.querySelectorAll("svg g.role-mark > *").length })),
    );
    expect(drawn.map((d) => d.id)).toEqual(want);
    for (const d of drawn) expect(d.marks, d.id ?? "").toBeGreaterThan(0);
    // Tooltips: hovering a bar names its data (Vega's default handler sets the title attribute).
    await page.hover('figure[data-figure="recognition-accuracy"] g.role-mark path');
    await page.waitForFunction(`[...document.querySelectorAll('figure[data-figure="recognition-accuracy"] [title]')].some((e) => /accuracy|lang/.test(e.getAttribute('title')))`, undefined, { timeout: 5000 });
    // Filter to one language: the figures are redrawn from the filtered rows.
    const before = await page.$$eval('figure[data-figure="similarity-aggregate"] g.mark-rect.role-mark path', (els) => els.length);
    await page.uncheck('#runs-filters input[name="langs"][value="sw"]');
    await page.waitForFunction(`document.querySelectorAll('figure[data-figure="similarity-aggregate"] g.mark-rect.role-mark path').length < ${before}`, undefined, { timeout: 20_000 });
    await page.close();
    expect(problems).toEqual([]);
  }, 90_000);

  test("the quantization view compares the vectors of F32 and Q8_0 per layer", async () => {
    const page = await open("view=quant");
    await page.waitForFunction("document.querySelectorAll('#quant-figures figure[data-figure]').length === 2 && document.querySelector('#quant-status').textContent.includes('models')", undefined, { timeout: 60_000 });
    const rows = await page.$$eval("#quant-table tr", (els) => els.slice(1).map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
    expect(rows.length).toBeGreaterThan(0);
    // Q8_0 keeps the planted model's directions: mean cosine with F32 near 1.
    for (const r of rows.filter((x) => x[2].includes("Q8_0"))) expect(Number(r[3])).toBeGreaterThan(0.9);
    await page.close();
    expect(problems).toEqual([]);
    expect(offline).toEqual([]);
  }, 120_000);
});
