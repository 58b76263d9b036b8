// The report page: one HTML file with inline CSS and inline SVG figures; no scripts, no external resources.
import { fin, meanOf, offDiagonalMean, recognitionRows, union } from "./data.js";
import type { SectionId } from "./figures.js";
import type { ReportInput } from "./types.js";
import { fewPairsWarning, fixed } from "../util/format.js";

export interface PageFigure {
  id: string;
  section: SectionId;
  title: string;
  caption: string;
  /** SVG markup with ids already scoped to this figure. */
  svg: string;
  /** Links to the figure files, relative to the HTML file. */
  svgHref?: string;
  pngHref?: string;
}

export interface PageMeta {
  generatedAt: string;
  valuelensVersion: string;
  renderers: Record<string, string>;
}

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function fmt(x: unknown, digits = 3): string {
  const v = fin(x);
  return v === null ? "—" : fixed(v, digits);
}

function ci(lo: unknown, hi: unknown): string {
  const a = fin(lo);
  const b = fin(hi);
  return a === null || b === null ? "" : `[${fixed(a, 3)}, ${fixed(b, 3)}]`;
}

function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>, cls = ""): string {
  // Cells are pre-escaped HTML so callers can add markup (e.g. <code>).
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function figureHtml(f: PageFigure): string {
  const svg = f.svg.replace(/^<svg\b/, `<svg role="img" aria-label="${esc(f.title)}"`);
  const links = [f.svgHref ? `<a href="${esc(f.svgHref)}">SVG</a>` : "", f.pngHref ? `<a href="${esc(f.pngHref)}">PNG</a>` : ""].filter(Boolean).join(" · ");
  return `<figure class="fig" id="fig-${esc(f.id)}" data-figure="${esc(f.id)}"><div class="svgwrap">${svg}</div><figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)}${links ? ` <span class="files">${links}</span>` : ""}</figcaption></figure>`;
}

function summaryTable(input: ReportInput): string {
  const rows = Object.entries(input.models).map(([model, r]) => {
    const rec = recognitionRows({ models: { [model]: r } });
    return [
      esc(model),
      esc(r.method),
      String(r.concepts.length),
      String(r.langs.length),
      String(r.layers.length),
      fmt(meanOf(rec.map((x) => x.heldOut))),
      fmt(meanOf(rec.map((x) => x.accuracy))),
      fmt(offDiagonalMean(r.similarity.aggregate.values)),
      r.transfer ? `${fmt(r.transfer.rate.mean, 1)}%` : "—",
    ];
  });
  return table(["model", "method", "concepts", "languages", "layers", "mean recognition (held-out layer)", "mean recognition (test-picked layer, optimistic)", "mean cross-lingual similarity", "transfer rate"], rows);
}

function recognitionTable(input: ReportInput): string {
  const rows = recognitionRows(input).map((r) => [
    esc(r.model),
    esc(r.concept),
    esc(r.lang),
    String(r.nTest),
    esc(r.heldOutLayer ?? "—"),
    String(r.nVal),
    fmt(r.heldOut),
    ci(r.heldOutLo, r.heldOutHi),
    esc(r.layer),
    fmt(r.accuracy),
    ci(r.lo, r.hi),
  ]);
  return `<details open><summary>Recognition per concept and language (${rows.length} rows)</summary><p>Headline: the layer chosen on the validation pairs (n val), scored on the test pairs, with a 95% interval over source items. Test-picked: the paper's choice of the best layer on the test set itself; optimistic, so its interval allows for the pick among all layers.</p>${table(
    ["model", "concept", "lang", "n test", "held-out layer", "n val", "held-out accuracy", "95% interval", "test-picked layer", "accuracy (optimistic)", "selection-aware 95% interval"],
    rows,
    "num",
  )}</details>`;
}

function transferRateTable(input: ReportInput): string {
  const withT = Object.entries(input.models).filter(([, r]) => r.transfer);
  if (!withT.length) return "";
  const langs = union(withT.map(([, r]) => r.transfer!.langs));
  const rows = withT.map(([model, r]) => [esc(model), ...langs.map((l) => (l in r.transfer!.rate.perTarget ? `${fmt(r.transfer!.rate.perTarget[l], 1)}%` : "—")), `${fmt(r.transfer!.rate.mean, 1)}%`]);
  return `<p>Transfer rate of a target: the share of the other source languages whose vector recognises the target's pairs at least as well as the target's own (T ≥ 0).</p>${table(["model", ...langs, "mean"], rows, "num")}`;
}

function correlationTable(input: ReportInput): string {
  const rows: string[][] = [];
  for (const [model, r] of Object.entries(input.models)) {
    const c = r.correlation;
    if (!c) continue;
    for (const [type, v] of Object.entries(c.table)) {
      rows.push([esc(type), esc(model), String(c.langs.length), esc(c.highResource.join(", ")), fmt(v.direct), fmt(v.mantel?.p), fmt(v.split?.mean), fmt(v.split?.high), fmt(v.split?.low), fmt(v.directReleasedCode)]);
    }
  }
  if (!rows.length) return "<p>No model had at least three languages with lang2vec data: no correlation was computed.</p>";
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const few = Object.entries(input.models).flatMap(([model, r]) => {
    const w = r.correlation ? fewPairsWarning(r.correlation.langs.length) : null;
    return w ? [`<p class="warn"><b>${esc(model)}</b>: ${esc(w)}.</p>`] : [];
  });
  return `<p>Pearson r between cross-lingual concept similarity and linguistic similarity (1 − lang2vec distance), per lang2vec feature type. <em>Direct</em>: all language pairs; <em>Mantel p</em>: its permutation p-value (languages permuted; language pairs share languages, so they are not independent points). <em>Split</em>: mean of r over pairs involving a high-resource language and r over pairs of two low-resource languages. <em>Released code</em>: the value the authors' released script computes (pairs misaligned by one; shown for comparison only).</p>${table(
    ["lang2vec type", "model", "languages", "high-resource", "direct r", "Mantel p", "split r", "split: high", "split: low", "released-code r"],
    rows,
    "num",
  )}${few.join("")}`;
}

/** The split as counts (a capture) or as shares (a run, whose counts differ per cell). */
function splitText(p: ReportInput["models"][string]["provenance"]): string {
  if (p.split) return `by ${esc(p.split.by)}, seed ${esc(p.split.seed)}: train ${esc(p.split.train)}, val ${esc(p.split.val)}, test ${esc(p.split.test)}`;
  const s = p.extra && typeof p.extra === "object" ? (p.extra as { split?: { seed?: number; trainFraction?: number; valFraction?: number } }).split : undefined;
  if (s && typeof s.seed === "number") {
    return `by item, seed ${esc(s.seed)}: train+val share ${esc(s.trainFraction ?? "?")}, of it validation ${esc(s.valFraction ?? 0)}, rest test`;
  }
  return "—";
}

function provenanceSection(input: ReportInput, meta: PageMeta): string {
  const parts: string[] = [];
  for (const [model, r] of Object.entries(input.models)) {
    const p = r.provenance;
    const extra = p.extra ? JSON.stringify(p.extra) : "";
    const seed = p.extra && typeof p.extra === "object" && "seed" in p.extra ? String(p.extra.seed) : "—";
    const rows: [string, string][] = [
      ["model file", `<code>${esc(p.model?.file ?? "?")}</code>`],
      ["model name / arch", `${esc(p.model?.name ?? "?")} / ${esc(p.model?.arch ?? "?")}`],
      ["sha256", `<code>${esc(p.model?.sha256 ?? "?")}</code>`],
      ["shape", `${esc(p.model?.nLayer ?? "?")} layers × ${esc(p.model?.nEmbd ?? "?")} dims`],
      ["extraction method / ties", `${esc(r.method)} / ${esc(r.ties)}`],
      ["position / layer convention", `${esc(p.position)} / ${esc(p.layerConvention)}`],
      ["templates", Object.entries(p.templates ?? {}).map(([id, t]) => `<code>${esc(id)}</code>: <code>${esc(t)}</code>`).join("<br>") || "—"],
      ["split", splitText(p)],
      ["extraction seed", esc(seed)],
      ["layers", esc(r.layers.join(", "))],
      ["valuelens version / created", `${esc(p.valuelensVersion || "—")} / ${esc(p.createdAt || "—")}`],
      ["extra", extra ? `<code class="wrap">${esc(extra.length > 4000 ? `${extra.slice(0, 4000)}…` : extra)}</code>` : "—"],
    ];
    parts.push(`<h3>${esc(model)}</h3>${table(["", ""], rows.map(([k, v]) => [esc(k), v]), "kv")}`);
  }
  parts.push(
    `<h3>This report</h3>${table(
      ["", ""],
      [
        ["generated", esc(meta.generatedAt)],
        ["valuelens", esc(meta.valuelensVersion)],
        ...Object.entries(meta.renderers).map(([k, v]) => [esc(k), esc(v)]),
      ],
      "kv",
    )}`,
  );
  return parts.join("\n");
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:24px 28px 64px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}h3{margin-top:1.4em}
nav ul{columns:2;font-size:.95em}.meta{color:#555;font-size:.9em}.notes li{margin:.2em 0}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2}table.num td{font-variant-numeric:tabular-nums}table.kv td:first-child{color:#555;white-space:nowrap}
code{font-size:.92em}code.wrap{word-break:break-all}
figure.fig{margin:1.2em 0;padding:8px;border:1px solid #eee;border-radius:4px}
.svgwrap svg{display:block;max-width:100%;height:auto}
figcaption{font-size:.88em;color:#333;margin-top:6px}.files{color:#777;font-size:.9em}
details summary{cursor:pointer;margin:.5em 0}.warn{color:#8a4b00}
`;

const SECTION_TITLES: Record<SectionId, string> = {
  recognition: "Concept recognition",
  similarity: "Cross-lingual similarity",
  transfer: "Cross-lingual recognition and transfer",
  correlation: "Correlation with linguistic similarity",
  control: "Cross-lingual control",
};

export function renderPage(input: ReportInput, figures: readonly PageFigure[], meta: PageMeta): string {
  const title = input.title ?? "valuelens report";
  const models = Object.keys(input.models);
  const figs = (s: SectionId) => figures.filter((f) => f.section === s).map(figureHtml).join("\n");
  const sections: [string, string, string][] = [];
  // A control folder alone has no analysis results: only its own section and the provenance.
  if (models.length) {
    sections.push(["summary", "Summary", summaryTable(input)]);
    sections.push(["recognition", SECTION_TITLES.recognition, `${figs("recognition")}\n${recognitionTable(input)}`]);
    const hasSimilarity = Object.values(input.models).some((r) => r.similarity.aggregate.langs.length > 0);
    sections.push(["similarity", SECTION_TITLES.similarity, figs("similarity") || (hasSimilarity ? "" : "<p>No similarity results in the input (recognition output only; valuelens analyze writes every table).</p>")]);
    const transfer = `${figs("transfer")}\n${transferRateTable(input)}`;
    if (transfer.trim()) sections.push(["transfer", SECTION_TITLES.transfer, transfer]);
    if (hasSimilarity) sections.push(["correlation", SECTION_TITLES.correlation, `${correlationTable(input)}\n${figs("correlation")}`]);
  }
  if (input.control?.curves.length) {
    const notes = input.control.notes?.length ? `<ul class="notes">${input.control.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
    sections.push(["control", SECTION_TITLES.control, `${notes}${figs("control")}`]);
  }
  sections.push(["provenance", "Provenance", provenanceSection(input, meta)]);
  const notes = input.notes?.length ? `<ul class="notes">${input.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="valuelens ${esc(meta.valuelensVersion)}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
<p class="meta">${models.length} model${models.length === 1 ? "" : "s"}: ${models.map(esc).join(", ")} · generated ${esc(meta.generatedAt)} by valuelens ${esc(meta.valuelensVersion)}</p>
${notes}
<nav><ul>${sections.map(([id, t]) => `<li><a href="#${id}">${esc(t)}</a></li>`).join("")}</ul></nav>
${sections.map(([id, t, body]) => `<section id="${id}"><h2>${esc(t)}</h2>\n${body}\n</section>`).join("\n")}
</main>
</body>
</html>
`;
}
