// Opens a report in Debian's chromium (playwright-core, fresh profile, every non-file request blocked) and
// reports what a reader would see: console errors, attempted network requests, each figure's size and marks.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** Debian's chromium (CI installs it); VALUELENS_CHROMIUM points elsewhere for local runs. */
export const CHROMIUM = process.env.VALUELENS_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
/** Test title that says why the browser check did not run when chromium is missing. */
export function browserTitle(title: string): string {
  return hasChromium ? title : `${title} — SKIPPED: no ${CHROMIUM} (apt-get install -y chromium fonts-dejavu-core)`;
}

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export interface PageFigureInfo {
  id: string | null;
  width: number;
  height: number;
  /** Children of Vega mark groups with a non-empty bounding box. */
  marks: number;
  /** Width of the box the figure sits in (its card's content box). */
  containerWidth: number;
}

export interface PageCheck {
  problems: string[];
  offline: string[];
  figures: PageFigureInfo[];
  tables: number;
  /** Heatmap cells of the similarity-aggregate figure. */
  aggregateCells: number;
  /** Pixels the page is wider than the window (> 0: a horizontal scrollbar). */
  horizontalOverflow: number;
}

export async function checkReportInBrowser(html: string, screenshot: string): Promise<PageCheck> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "valuelens-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  try {
    const problems: string[] = [];
    const offline: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      offline.push(url);
      return route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()}`));
    await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    const figures = await page.$$eval("figure[data-figure]", (els) =>
      els.map((el) => {
        const svg = el.querySelector("svg");
        const box = svg?.getBoundingClientRect();
        // Vega draws marks as children of <g class="mark-… role-mark …">; count those with an area or a length.
        const marks = svg
          ? [...svg.querySelectorAll("g.role-mark > *")].filter((m) => {
              const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
              return b.width > 0 || b.height > 0;
            }).length
          : 0;
        const wrap = el.querySelector(".svgwrap") ?? el;
        return { id: el.getAttribute("data-figure"), width: box?.width ?? 0, height: box?.height ?? 0, marks, containerWidth: wrap.getBoundingClientRect().width };
      }),
    );
    const aggregateCells = await page.$$eval('figure[data-figure="similarity-aggregate"] g.mark-rect.role-mark path', (els) => els.length);
    const tables = await page.$$eval("table", (els) => els.length);
    // A string, evaluated in the page: this file is compiled without DOM types.
    const horizontalOverflow = (await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")) as number;
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { problems, offline, figures, tables, aggregateCells, horizontalOverflow };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
