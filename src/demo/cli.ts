// `valuelens demo`: synthetic planted models + built-in multilingual data → the full pipeline → report.html.
import { resolve } from "node:path";
import { intFlag, parseFlags, UsageError } from "../cli/args.js";
import { DEMO_FAMILIES, runDemo } from "./demo.js";

export const demoUsage = `usage: valuelens demo [--out DIR] [options]
  Runs the whole method with nothing downloaded: two synthetic model families (qwen2 tokenizer, planted value
  concepts with different cross-lingual structure) and a small built-in data set in 5 languages (en, fr, es, zh, sw)
  → capture → extract → recognition → similarity → transfer → correlation → control → DIR/report.html.
  --out DIR          output folder (default valuelens-demo)
  --small            faster settings (fewer pairs, bootstrap resamples and control outputs), for CI
  --items N          pairs per concept and language (default 60; --small 36)
  --bootstrap N      bootstrap resamples for the recognition CIs (default 1000; --small 200)
  --no-control       skip the steering experiment
  --json             print a JSON summary (paths, timings, recovered vs planted structure)`;

export async function demoCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(
    argv,
    { out: { type: "string" }, small: { type: "boolean" }, items: { type: "string" }, bootstrap: { type: "string" }, "no-control": { type: "boolean" }, json: { type: "boolean" } },
    demoUsage,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${demoUsage}`);
  const out = resolve(values.out ?? "valuelens-demo");
  const json = values.json ?? false;
  const r = await runDemo({
    out,
    small: values.small ?? false,
    ...(values.items !== undefined ? { items: intFlag("items", values.items, undefined, 12) } : {}),
    ...(values.bootstrap !== undefined ? { bootstrap: intFlag("bootstrap", values.bootstrap, undefined, 10) } : {}),
    control: !values["no-control"],
    log: json ? undefined : (line) => process.stderr.write(`demo: ${line}\n`),
  });
  if (json) {
    process.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  const lines = [`valuelens demo finished in ${r.seconds.toFixed(1)} s (${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`];
  for (const f of r.families) {
    const fam = DEMO_FAMILIES.find((x) => x.name === f.name);
    lines.push(
      `  ${f.name}: cross-lingual similarity ${f.recoveredSimilarity.toFixed(3)} (planted ${f.plantedSimilarity.toFixed(3)}), recognition mean ${f.meanRecognition.toFixed(3)} / min ${f.minRecognition.toFixed(3)}` +
        `${f.transferRate !== null ? `, transfer rate ${f.transferRate.toFixed(0)}%` : ""}${fam ? ` — ${fam.description}` : ""}`,
    );
  }
  lines.push(`report: ${r.report}`, `results: ${r.results} (re-render with: valuelens report ${r.out})`);
  process.stdout.write(lines.join("\n") + "\n");
}
