#!/usr/bin/env node
// valuelens command line: thin commands over the library.
import { createRequire } from "node:module";
import { UsageError } from "./args.js";
import { infoCommand } from "./info.js";
import { captureCommand } from "./capture.js";
import { dataCommand } from "./data.js";
import { controlCommand } from "../steer/cli.js";
import { mergeCommand, runCommand } from "../run/cli.js";
import { reportCommand } from "../report/cli.js";
import { demoCommand } from "../demo/cli.js";
import { correlateCommand, extractCommand, recognizeCommand, similarityCommand, transferCommand } from "./analysis.js";
import { synthCommand } from "./synth.js";
import { quantizeCommand } from "./quantize.js";

type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, { run: Command; summary: string }> = {
  demo: { run: demoCommand, summary: "synthetic planted models + built-in data → full pipeline → report (no downloads)" },
  synth: { run: synthCommand, summary: "write a synthetic GGUF model (optionally with planted concepts)" },
  info: { run: infoCommand, summary: "show a model's shape and metadata, or this build's backend (--build)" },
  quantize: { run: quantizeCommand, summary: "quantize a GGUF model with llama.cpp (Q8_0, Q4_0, Q4_K_M, …)" },
  data: { run: dataCommand, summary: "dataset adapters: list, fetch canonical copies, per-language statistics" },
  capture: { run: captureCommand, summary: "contrastive pairs → residual-stream activations (Arrow file)" },
  extract: { run: extractCommand, summary: "activations → concept vectors per concept, language, layer" },
  recognize: { run: recognizeCommand, summary: "recognition accuracy per layer (and across languages)" },
  similarity: { run: similarityCommand, summary: "cross-lingual cosine similarity of concept vectors" },
  transfer: { run: transferCommand, summary: "cross-lingual transfer matrix" },
  run: { run: runCommand, summary: "run an experiment manifest (models × concepts × languages), resumable and shardable" },
  merge: { run: mergeCommand, summary: "merge the shard folders of a run and compute the cross-cell analyses" },
  report: { run: reportCommand, summary: "analysis results → self-contained HTML report + SVG/PNG figures" },
  control: { run: controlCommand, summary: "cross-lingual control: steer with source-language vectors, score outputs in target languages" },
  correlate: { run: correlateCommand, summary: "correlation of similarity with linguistic (lang2vec) similarity" },
};

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: valuelens <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun \`valuelens <command> --help\` for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "version") {
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`valuelens: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    try {
      await cmd.run(["--help"]);
    } catch (e) {
      process.stdout.write(((e as Error).message.split("\n\n")[1] ?? (e as Error).message) + "\n");
    }
    return 0;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`valuelens ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`valuelens ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] && (await import("node:url")).pathToFileURL(process.argv[1]).href === import.meta.url;
if (isEntry || process.argv[1]?.endsWith("/valuelens")) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
