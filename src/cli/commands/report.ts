// `valuelens report INPUT`: analysis results → self-contained HTML report + figures (SVG, PNG).
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseCommand, UsageError, type CommandSpec } from "../args.js";
import { claimOutput } from "../outputs.js";
import { buildReport, loadRunResults } from "../../report/index.js";

export const reportSpec = {
  name: "report",
  synopsis: "INPUT [--out report.html] [options]",
  about:
    "INPUT: a run or merge folder (summary.json), a demo folder (results.json), a control --out folder\n(summary.json of the control experiment), or a JSON file: valuelens analyze output, recognize --json output,\n{ models: { name: results }, control? }, or *.results.json files in a folder (control.json is read too)",
  flags: {
    out: { type: "string", arg: "FILE", help: "the HTML report (default: report.html in INPUT's folder); self-contained, figures inlined as SVG" },
    figures: { type: "string", arg: "DIR", help: "where each figure is written as SVG and PNG (default: figures/ next to the report)" },
    title: { type: "string", arg: "T", help: "page title" },
    "no-png": { type: "boolean", help: "write SVG figure files only" },
    force: { type: "boolean", help: "replace an existing report (default: refuse)" },
    json: { type: "boolean", help: "print a JSON summary (paths, figures) instead of text" },
  },
} as const satisfies CommandSpec;

export async function reportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(reportSpec, argv);
  if (positionals.length !== 1) throw new UsageError(`give exactly one RUN_DIR or results file${positionals.length ? ` (got ${positionals.length})` : ""}`);
  const src = positionals[0];
  const input = await loadRunResults(src);
  if (values.title) input.title = values.title;
  let out = values.out;
  if (!out) out = (await stat(src)).isDirectory() ? join(src, "report.html") : join(dirname(src), "report.html");
  const lock = await claimOutput(out, { kind: "file", force: values.force, what: "a report" });
  let r;
  try {
    r = await buildReport(input, { out, ...(values.figures ? { figuresDir: values.figures } : {}), png: !values["no-png"] });
  } finally {
    await lock.release();
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ html: r.html, figuresDir: r.figuresDir, bytes: r.bytes, seconds: r.seconds, models: Object.keys(input.models), figures: r.figures, warnings: r.warnings }) + "\n");
    return;
  }
  const what = [Object.keys(input.models).length ? `${Object.keys(input.models).length} model(s)` : "", input.control ? "control" : ""].filter(Boolean).join(", ");
  process.stdout.write(`wrote ${r.html} (${(r.bytes / 1024).toFixed(0)} KiB, ${what}, ${r.figures.length} figures) in ${r.seconds.toFixed(1)} s\n` + `  figures (SVG${values["no-png"] ? "" : ", PNG"}): ${r.figuresDir}\n`);
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
}
