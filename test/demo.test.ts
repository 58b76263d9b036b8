// `valuelens demo --small`: the full pipeline on the two planted model families; the recovered structure must
// match the planted one (family A consistent across languages, family B not), and the report must exist.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO_FAMILIES, demoPairs, runDemo, validateLexicon, type DemoResult } from "../src/demo/demo.js";
import { demoCommand } from "../src/cli/commands/demo.js";
import { DEMO_CONCEPTS, DEMO_LANGS } from "../src/demo/lexicon.js";
import { loadRunResults } from "../src/report/index.js";
import { hasVocabs, tempDir } from "./helpers/fixtures.js";
import { browserTitle, checkReportInBrowser, hasChromium } from "./helpers/browser.js";

const tmp = tempDir("valuelens-demo-");
afterAll(() => tmp.cleanup());

describe.skipIf(!hasVocabs)("valuelens demo (small)", () => {
  let r: DemoResult;

  beforeAll(async () => {
    r = await runDemo({ out: join(tmp.dir, "demo"), small: true });
  }, 240_000);

  test("the built-in data set: ≥ 4 languages incl. a non-Latin script, ≥ 3 concepts, aligned ids, texts end in planted tokens", async () => {
    expect(DEMO_LANGS.length).toBeGreaterThanOrEqual(4);
    expect(DEMO_CONCEPTS.length).toBeGreaterThanOrEqual(3);
    const pairs = demoPairs(12);
    expect(pairs.some((p) => /\p{Script=Han}/u.test(p.pos))).toBe(true);
    const ids = (lang: string) => pairs.filter((p) => p.lang === lang && p.concept === "morality").map((p) => p.id);
    for (const l of DEMO_LANGS) expect(ids(l)).toEqual(ids("en"));
    expect(pairs.every((p) => p.pos !== p.neg)).toBe(true);
    const tokens = await validateLexicon(); // throws on any tokenizer conflict
    expect(tokens.get("morality")!.get("zh")!.pos.length).toBeGreaterThanOrEqual(3);
  });

  test("recovered structure matches the planted one", () => {
    const [a, b] = r.families;
    expect(a.name).toBe(DEMO_FAMILIES[0].name);
    // Family A shares one direction per concept, family B does not.
    expect(a.recoveredSimilarity).toBeGreaterThan(0.85);
    expect(b.recoveredSimilarity).toBeLessThan(0.5);
    expect(a.recoveredSimilarity - b.recoveredSimilarity).toBeGreaterThan(0.4);
    for (const f of r.families) expect(Math.abs(f.recoveredSimilarity - f.plantedSimilarity), f.name).toBeLessThan(0.08);
    // In B the planted angles order the languages: fr (35°) closest to English, sw (88°) farthest.
    expect(b.similarityToEnglish.fr).toBeGreaterThan(b.similarityToEnglish.zh);
    expect(b.similarityToEnglish.zh).toBeGreaterThan(b.similarityToEnglish.sw);
    expect(b.similarityToEnglish.sw).toBeLessThan(0.2);
    for (const f of r.families) expect(f.minRecognition, f.name).toBeGreaterThanOrEqual(0.9);
    expect(a.transferRate).toBeGreaterThan(b.transferRate!);
  });

  test("control: steering with English moves every target language's representation in A, not Swahili's in B", () => {
    const [a, b] = r.families;
    expect(a.controlSlopeFromEnglish).not.toBeNull();
    const sa = a.controlSlopeFromEnglish!;
    const sb = b.controlSlopeFromEnglish!;
    expect(sa.en).toBeGreaterThan(0);
    expect(sa.sw).toBeGreaterThan(0.7 * sa.en);
    expect(sb.en).toBeGreaterThan(0);
    expect(sb.sw).toBeLessThan(0.3 * sb.en);
  });

  test("writes results.json and a report the report command can rebuild", async () => {
    expect(existsSync(r.report)).toBe(true);
    const html = readFileSync(r.report, "utf8");
    for (const f of DEMO_FAMILIES) expect(html).toContain(f.name);
    expect(html).toContain('data-figure="control-representation"');
    expect(r.figures).toBeGreaterThanOrEqual(12);
    const input = await loadRunResults(r.out);
    expect(Object.keys(input.models)).toEqual(DEMO_FAMILIES.map((f) => f.name));
    expect(input.control!.curves.some((p) => p.metric === "representation" && p.model === "lens-b")).toBe(true);
    expect(r.settings.small).toBe(true);
    expect(r.seconds).toBeLessThan(120);
  });

  test.skipIf(!hasChromium)(browserTitle("the demo report in headless chromium: no console errors, every figure drawn"), async () => {
    const page = await checkReportInBrowser(r.report, join(import.meta.dirname, ".artifacts", "demo-report.png"));
    expect(page.figures.length).toBe(r.figures);
    for (const f of page.figures) {
      expect(f.width, f.id!).toBeGreaterThan(100);
      expect(f.marks, f.id!).toBeGreaterThanOrEqual(5);
    }
    expect(page.problems).toEqual([]);
    expect(page.offline).toEqual([]);
  });

  test("demo command flags", async () => {
    await expect(demoCommand(["extra"])).rejects.toThrow(/unexpected argument/);
    await expect(demoCommand(["--items", "3"])).rejects.toThrow(/--items must be an integer ≥ 12/);
  });
});
