#!/usr/bin/env node
// valuelens command line: thin commands over the library.
import { createRequire } from "node:module";
import { commandHelp, didYouMean, UsageError, type CommandSpec } from "./args.js";
import { infoCommand, infoSpec } from "./commands/info.js";
import { captureCommand, captureSpec } from "./commands/capture.js";
import { dataCommand, dataSpecs } from "./commands/data.js";
import { controlCommand, controlSpec } from "./commands/control.js";
import { mergeCommand, mergeSpec, runCommand, runSpec } from "./commands/run.js";
import { reportCommand, reportSpec } from "./commands/report.js";
import { demoCommand, demoSpec } from "./commands/demo.js";
import { analyzeCommand, analyzeSpec } from "./commands/analyze.js";
import {
  correlateCommand,
  correlateSpec,
  extractCommand,
  extractSpec,
  recognizeCommand,
  recognizeSpec,
  similarityCommand,
  similaritySpec,
  transferCommand,
  transferSpec,
} from "./commands/analysis.js";
import { synthCommand, synthSpec } from "./commands/synth.js";
import { quantizeCommand, quantizeSpec } from "./commands/quantize.js";
import { isAbortError } from "../util/errors.js";
import { serveCommand, serveSpec } from "./commands/serve.js";

type Command = (argv: string[]) => Promise<void>;

interface Entry {
  run: Command;
  summary: string;
  /** The option tables of the command (several for commands with subcommands). */
  specs: readonly CommandSpec[];
}

const commands: Record<string, Entry> = {
  demo: { run: demoCommand, specs: [demoSpec], summary: "synthetic planted models + built-in data → full pipeline → report (no downloads)" },
  synth: { run: synthCommand, specs: [synthSpec], summary: "write a synthetic GGUF model (optionally with planted concepts)" },
  info: { run: infoCommand, specs: [infoSpec], summary: "show a model's shape and metadata, or this build's backend (--build)" },
  quantize: { run: quantizeCommand, specs: [quantizeSpec], summary: "quantize a GGUF model with llama.cpp (Q8_0, Q4_0, Q4_K_M, …)" },
  data: { run: dataCommand, specs: dataSpecs, summary: "dataset adapters: list, fetch canonical copies, per-language statistics" },
  capture: { run: captureCommand, specs: [captureSpec], summary: "contrastive pairs → residual-stream activations (Arrow file)" },
  extract: { run: extractCommand, specs: [extractSpec], summary: "activations → concept vectors per concept, language, layer" },
  analyze: { run: analyzeCommand, specs: [analyzeSpec], summary: "activations + vectors → every analysis table (what a run writes), for `report`" },
  recognize: { run: recognizeCommand, specs: [recognizeSpec], summary: "recognition accuracy per layer (and across languages)" },
  similarity: { run: similarityCommand, specs: [similaritySpec], summary: "cross-lingual cosine similarity of concept vectors" },
  transfer: { run: transferCommand, specs: [transferSpec], summary: "cross-lingual transfer matrix" },
  correlate: { run: correlateCommand, specs: [correlateSpec], summary: "correlation of similarity with linguistic (lang2vec) similarity" },
  run: { run: runCommand, specs: [runSpec], summary: "run an experiment manifest (models × concepts × languages), resumable and shardable" },
  merge: { run: mergeCommand, specs: [mergeSpec], summary: "merge the shard folders of a run and compute the cross-cell analyses" },
  report: { run: reportCommand, specs: [reportSpec], summary: "analysis results (run, demo, analyze, recognize --json, control) → HTML report + figures" },
  serve: { run: serveCommand, specs: [serveSpec], summary: "local web explorer: steering playground, interactive runs view, quantization view" },
  control: { run: controlCommand, specs: [controlSpec], summary: "cross-lingual control: steer with source-language vectors, score outputs in target languages" },
};

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: valuelens <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun \`valuelens help <command>\` (or \`valuelens <command> --help\`) for a command's options.`;
}

function unknownCommand(name: string): string {
  return `unknown command '${name}'${didYouMean(name, Object.keys(commands))} (valuelens help lists the commands)`;
}

function help(name: string): string {
  return commands[name].specs.map(commandHelp).join("\n\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 2;
  }
  if (name === "help") {
    const topic = rest[0];
    if (!topic) process.stdout.write(usage() + "\n");
    else if (commands[topic]) process.stdout.write(help(topic) + "\n");
    else {
      process.stderr.write(`valuelens help: ${unknownCommand(topic)}\n`);
      return 2;
    }
    return 0;
  }
  if (name === "--version" || name === "version") {
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`valuelens: ${unknownCommand(name)}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(help(name) + "\n");
    return 0;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`valuelens ${name}: ${message}\n`);
    if (e instanceof UsageError) return 2;
    // Ctrl-C: the one AbortError (or the platform's, from a stage it reached).
    if (isAbortError(e)) return 130;
    return 1;
  }
}

const isEntry = process.argv[1] && (await import("node:url")).pathToFileURL(process.argv[1]).href === import.meta.url;
if (isEntry || process.argv[1]?.endsWith("/valuelens")) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
