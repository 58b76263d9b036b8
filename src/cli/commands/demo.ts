// `valuelens demo`: synthetic planted models + built-in multilingual data → the full pipeline → report.html.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { intFlag, parseCommand, UsageError, type CommandSpec } from "../args.js";
import { claimOutput } from "../outputs.js";
import { DEMO_FAMILIES, runDemo } from "../../demo/demo.js";

export const demoSpec = {
  name: "demo",
  synopsis: "[--out DIR] [options]",
  about:
    "Runs the whole method with nothing downloaded: two synthetic model families (qwen2 tokenizer, planted value\nconcepts with different cross-lingual structure) and a small built-in data set in 5 languages (en, fr, es, zh, sw)\n→ capture → extract → recognition → similarity → transfer → correlation → control → DIR/report.html.",
  flags: {
    out: { type: "string", arg: "DIR", help: "output folder (default valuelens-demo)" },
    small: { type: "boolean", help: "faster settings (fewer pairs, bootstrap resamples and control outputs), for CI" },
    items: { type: "string", arg: "N", help: "pairs per concept and language (default 60; --small 36)" },
    bootstrap: { type: "string", arg: "N", help: "bootstrap resamples for the recognition CIs (default 1000; --small 200)" },
    "no-control": { type: "boolean", help: "skip the steering experiment" },
    force: { type: "boolean", help: "replace the results of an earlier demo in --out (default: refuse)" },
    json: { type: "boolean", help: "print a JSON summary (paths, timings, recovered vs planted structure)" },
  },
} as const satisfies CommandSpec;

export async function demoCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(demoSpec, argv);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (the output folder is --out DIR)`);
  const out = resolve(values.out ?? "valuelens-demo");
  const json = values.json ?? false;
  const items = values.items !== undefined ? intFlag("items", values.items, undefined, 12) : undefined;
  const bootstrap = values.bootstrap !== undefined ? intFlag("bootstrap", values.bootstrap, undefined, 10) : undefined;
  const lock = await claimOutput(out, { kind: "dir", force: values.force, what: "an earlier demo", marker: (d) => existsSync(join(d, "results.json")) || existsSync(join(d, "report.html")) });
  let r;
  try {
    r = await runDemo({
      out,
      small: values.small ?? false,
      ...(items !== undefined ? { items } : {}),
      ...(bootstrap !== undefined ? { bootstrap } : {}),
      control: !values["no-control"],
      log: json ? undefined : (line) => process.stderr.write(`demo: ${line}\n`),
    });
  } finally {
    await lock.release();
  }
  if (json) {
    process.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  const lines = [`valuelens demo finished in ${r.seconds.toFixed(1)} s (${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`];
  for (const f of r.families) {
    const fam = DEMO_FAMILIES.find((x) => x.name === f.name);
    lines.push(
      `  ${f.name}: cross-lingual similarity ${f.recoveredSimilarity.toFixed(3)} (planted ${f.plantedSimilarity.toFixed(3)}), held-out recognition mean ${f.meanRecognition.toFixed(3)} / min ${f.minRecognition.toFixed(3)} (test-picked, optimistic: ${f.meanRecognitionTestPicked.toFixed(3)})` +
        `${f.transferRate !== null ? `, transfer rate ${f.transferRate.toFixed(0)}%` : ""}${fam ? ` — ${fam.description}` : ""}`,
    );
  }
  lines.push(`report: ${r.report}`, `results: ${r.results} (re-render with: valuelens report ${r.out} --force)`);
  process.stdout.write(lines.join("\n") + "\n");
}
