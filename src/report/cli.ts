// `valuelens report RUN_DIR`: a run's results → self-contained HTML report + figures (SVG, PNG).
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseFlags, UsageError } from "../cli/args.js";
import { buildReport, loadRunResults } from "./index.js";

export const reportUsage = `usage: valuelens report RUN_DIR|RESULTS.json [--out report.html] [options]
  RUN_DIR            a folder with results.json ({ models: { name: results }, control? }) or *.results.json
                     files (one model each; control.json is read too), or one such JSON file
  --out FILE         the HTML report (default: RUN_DIR/report.html); self-contained, figures inlined as SVG
  --figures DIR      where each figure is written as SVG and PNG (default: figures/ next to the report)
  --title T          page title
  --no-png           write SVG figure files only
  --json             print a JSON summary (paths, figures) instead of text`;

export async function reportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(
    argv,
    { out: { type: "string" }, figures: { type: "string" }, title: { type: "string" }, "no-png": { type: "boolean" }, json: { type: "boolean" } },
    reportUsage,
  );
  if (positionals.length !== 1) throw new UsageError(`give exactly one RUN_DIR or results file${positionals.length ? ` (got ${positionals.length})` : ""}\n\n${reportUsage}`);
  const src = positionals[0];
  const input = await loadRunResults(src);
  if (values.title) input.title = values.title;
  let out = values.out;
  if (!out) out = (await stat(src)).isDirectory() ? join(src, "report.html") : join(dirname(src), "report.html");
  const r = await buildReport(input, { out, ...(values.figures ? { figuresDir: values.figures } : {}), png: !values["no-png"] });
  if (values.json) {
    process.stdout.write(JSON.stringify({ html: r.html, figuresDir: r.figuresDir, bytes: r.bytes, seconds: r.seconds, models: Object.keys(input.models), figures: r.figures, warnings: r.warnings }) + "\n");
    return;
  }
  process.stdout.write(
    `wrote ${r.html} (${(r.bytes / 1024).toFixed(0)} KiB, ${Object.keys(input.models).length} model(s), ${r.figures.length} figures) in ${r.seconds.toFixed(1)} s\n` +
      `  figures (SVG${values["no-png"] ? "" : ", PNG"}): ${r.figuresDir}\n`,
  );
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
}
