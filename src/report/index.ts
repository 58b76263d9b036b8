/** Reports: analysis results → one self-contained HTML page plus every figure as SVG and PNG. */
import { dirname, join, relative, sep } from "node:path";
import { VALUELENS_VERSION } from "../version.js";
import { writeFileAtomic } from "../util/output.js";
import { lockOutput } from "../util/output.js";
import { reportFigures } from "./figures.js";
import { renderPage, type PageFigure } from "./html.js";
import { rendererVersions, renderSvg, scopeSvgIds, svgToPng } from "./render.js";
import type { BuildReportOptions, FigureOutput, ReportInput, ReportOutput } from "./types.js";

export type { BuildReportOptions, ControlCurvePoint, ControlCurves, FigureOutput, ReportInput, ReportOutput } from "./types.js";
export { loadRunResults, checkAnalysisResults, checkControlSummary } from "./load.js";
export { reportFigures, type FigureSpec, type SectionId } from "./figures.js";
export { renderSvg, svgToPng, scopeSvgIds } from "./render.js";
export { controlFromSummary, mergeControl, CONTROL_METRIC_LABELS } from "./control.js";

function href(fromDir: string, file: string): string {
  return relative(fromDir, file).split(sep).join("/");
}

export async function buildReport(input: ReportInput, opts: BuildReportOptions): Promise<ReportOutput> {
  const t0 = performance.now();
  if (Object.keys(input.models).length === 0 && !input.control?.curves.length) throw new Error("report: no analysis results and no control curves in the input");
  const htmlDir = dirname(opts.out);
  const figuresDir = opts.figuresDir ?? join(htmlDir, "figures");
  const png = opts.png ?? true;
  const warnings: string[] = [];
  const figures: FigureOutput[] = [];
  const page: PageFigure[] = [];
  for (const f of reportFigures(input)) {
    const w: string[] = [];
    const r = await renderSvg(f.spec, w);
    warnings.push(...w.map((m) => `${f.id}: ${m}`));
    const svgPath = join(figuresDir, `${f.id}.svg`);
    await writeFileAtomic(svgPath, r.svg);
    let pngPath: string | undefined;
    if (png) {
      pngPath = join(figuresDir, `${f.id}.png`);
      await writeFileAtomic(pngPath, svgToPng(r.svg, opts.pngScale ?? 2));
    }
    figures.push({ id: f.id, title: f.title, section: f.section, svg: svgPath, ...(pngPath ? { png: pngPath } : {}), width: r.width, height: r.height });
    page.push({ id: f.id, section: f.section, title: f.title, caption: f.caption, svg: scopeSvgIds(r.svg, `${f.id}-`), svgHref: href(htmlDir, svgPath), ...(pngPath ? { pngHref: href(htmlDir, pngPath) } : {}) });
  }
  const html = renderPage(input, page, { generatedAt: new Date().toISOString(), valuelensVersion: VALUELENS_VERSION, renderers: rendererVersions() });
  // Locked for the whole write (re-entrant: the CLI may already hold it), so two renders never interleave.
  const lock = await lockOutput(opts.out);
  try {
    await writeFileAtomic(opts.out, html);
  } finally {
    await lock.release();
  }
  return { html: opts.out, figuresDir, figures, bytes: Buffer.byteLength(html), seconds: (performance.now() - t0) / 1000, warnings };
}
