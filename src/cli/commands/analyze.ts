// `valuelens analyze`: activations + vectors → every analysis table in the shape a run writes, for `report`.
import { basename } from "node:path";
import { analyze } from "../../pipeline/analyze.js";
import { writeJsonAtomic } from "../../util/output.js";
import { ANALYSIS_FLAGS as F, analysisOptions } from "./analysis.js";
import { parseCommand, required, UsageError, type CommandSpec } from "../args.js";
import { claimOutput } from "../outputs.js";
import { fewPairsWarning, fixed, percent } from "../table.js";

export const analyzeSpec = {
  name: "analyze",
  synopsis: "--activations acts.arrow --vectors vectors.arrow --out analysis.json [options]",
  about:
    "recognition (with CIs, best and held-out layer), cross-lingual recognition, similarity, transfer and correlation\nin one file ({ models: { NAME: results } }, what a run writes); render it with valuelens report analysis.json",
  flags: {
    activations: F.activations,
    vectors: F.vectors,
    out: { type: "string", arg: "FILE.json", help: "where to write the results" },
    name: { type: "string", arg: "NAME", help: "the model's name in the results and report (default: the model file's name)" },
    method: F.method,
    concepts: F.concepts,
    langs: F.langs,
    ties: F.ties,
    bootstrap: F.bootstrap,
    layer: F.layer,
    family: F.family,
    high: F.high,
    force: { type: "boolean", help: "replace an existing --out (default: refuse)" },
    progress: F.progress,
    json: { type: "boolean", help: "print the results on stdout too" },
  },
} as const satisfies CommandSpec;

export async function analyzeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(analyzeSpec, argv);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (give files with --activations and --vectors)`);
  const out = required(values.out, "--out", "the results file to write");
  const opts = await analysisOptions(values, true);
  const lock = await claimOutput(out, { kind: "file", force: values.force, what: "analysis results" });
  try {
    const r = await analyze(opts);
    const name = values.name ?? (basename(r.provenance.model?.file ?? "model").replace(/\.gguf$/i, "") || "model");
    const results = { models: { [name]: r } };
    await writeJsonAtomic(out, results);
    if (values.json) {
      process.stdout.write(JSON.stringify(results) + "\n");
      return;
    }
    const accs = Object.values(r.recognition).flatMap((byLang) => Object.values(byLang).map((s) => s.oracle.accuracy));
    const mean = accs.reduce((a, b) => a + b, 0) / Math.max(1, accs.length);
    const parts = [`recognition (best layer) mean ${fixed(mean)} over ${accs.length} cells`];
    if (r.transfer) parts.push(`transfer rate ${percent(r.transfer.rate.mean)}`);
    if (r.correlation) parts.push(`correlation over ${r.correlation.langs.length} languages`);
    process.stdout.write(
      `wrote ${out}: ${name}, ${r.method}, ${r.concepts.length} concept(s) × ${r.langs.length} language(s) × ${r.layers.length} layers\n` +
        `  ${parts.join("; ")}\n  render it: valuelens report ${out}\n`,
    );
    const warning = r.correlation ? fewPairsWarning(r.correlation.langs.length) : null;
    if (warning) process.stderr.write(`warning: ${warning}\n`);
  } finally {
    await lock.release();
  }
}
