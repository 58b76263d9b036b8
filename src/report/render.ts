// Vega-Lite spec → SVG with Vega's headless view (no DOM, no canvas), → PNG with resvg. No drawing code here.
import { createRequire } from "node:module";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, version as vegaLiteVersion, type TopLevelSpec } from "vega-lite";

export interface RenderedFigure {
  svg: string;
  width: number;
  height: number;
}

/**
 * Collects Vega/Vega-Lite warnings instead of printing them, so callers can report or test them. A closure,
 * not a class: Vega calls the methods detached from the object.
 */
function collectingLogger(messages: string[]): vega.LoggerInterface {
  let level = vega.Warn;
  const logger: vega.LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      if (level >= vega.Error) messages.push(`error: ${args.map(String).join(" ")}`);
      return logger;
    },
    warn(...args: unknown[]) {
      if (level >= vega.Warn) messages.push(`warn: ${args.map(String).join(" ")}`);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** Renders a Vega-Lite spec to an SVG string. Warnings are appended to `warnings`. */
export async function renderSvg(spec: TopLevelSpec, warnings: string[] = []): Promise<RenderedFigure> {
  const logger = collectingLogger(warnings);
  const compiled = compile(spec, { logger }).spec;
  // No loader access is needed (data are inline); a loader that refuses everything keeps it offline.
  const loader = vega.loader({ mode: "file" });
  loader.load = () => Promise.reject(new Error("figures use inline data only"));
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger, loader });
  try {
    const svg = await view.toSVG();
    const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
    return { svg, width: m ? Number(m[1]) : 0, height: m ? Number(m[2]) : 0 };
  } finally {
    view.finalize();
  }
}

/** PNG of an SVG at `scale` × its size, text in DejaVu Sans when installed (else any system sans-serif). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    background: "white",
  });
  return r.render().asPng();
}

/**
 * Several SVGs inlined in one HTML page share one id namespace: Vega's clip paths and gradients would
 * resolve to another figure's definitions. Prefixing every id (and its references) keeps them apart.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_m, a: string, id: string) => `${a}${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (m, id: string) => (ids.has(id) ? `url(#${prefix}${id})` : m))
    .replace(/(href=")#([^"]+)"/g, (m, a: string, id: string) => (ids.has(id) ? `${a}#${prefix}${id}"` : m));
}

export function rendererVersions(): Record<string, string> {
  const req = createRequire(import.meta.url);
  let resvg = "unknown";
  try {
    resvg = (req("@resvg/resvg-js/package.json") as { version: string }).version;
  } catch {
    // version only shown in the provenance section
  }
  return { vega: vega.version, "vega-lite": vegaLiteVersion, "resvg-js": resvg };
}
