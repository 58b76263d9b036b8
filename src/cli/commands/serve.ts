// `valuelens serve --model M.gguf [--model M2.gguf …] [--vectors FILE | RUN_DIR …]`: the local web explorer
// (playground, runs view, quantization view). Runs until Ctrl-C.
import { startExplorer } from "../../serve/server.js";
import { loadVectorSources } from "../../serve/sources.js";
import { loadRuns } from "../../serve/runs.js";
import type { ReportInput } from "../../report/index.js";
import { intFlag, parseCommand, UsageError, type CommandSpec } from "../args.js";
import { stat } from "node:fs/promises";

export const serveSpec = {
  name: "serve",
  synopsis: "--model M.gguf [--model M2.gguf …] [--vectors vectors.arrow | RUN_DIR …] [options]",
  about: "a local web app: steering playground (side-by-side streamed generations), the report's figures interactive,\nand a quantization view (concept vectors across quantizations of one model)",
  flags: {
    model: { type: "string", arg: "M.gguf", multiple: true, help: "model file (repeat for several, e.g. F16, Q8_0 and Q4_K of one model)" },
    vectors: { type: "string", arg: "PATH", multiple: true, help: "vectors.arrow, or a run folder (valuelens run / demo output): vectors,\nactivations (residual-norm scaling) and results (runs view)" },
    port: { type: "string", arg: "N", help: "port (default 7860; 0 = any free port)" },
    host: { type: "string", arg: "H", help: "address to bind (default 127.0.0.1); beyond loopback an access token is required" },
    queue: { type: "string", arg: "N", help: "requests that may wait per model (default 4); more are answered 503 busy" },
    "max-tokens": { type: "string", arg: "N", help: "largest generation length a request may ask for (default 256)" },
  },
  notes: "Only the files named here are served; requests from other origins are refused. Ctrl-C stops the server.",
} as const satisfies CommandSpec;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(serveSpec, argv);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (models go after --model)`);
  const models = values.model ?? [];
  if (models.length === 0) throw new UsageError("--model is required (a GGUF file)");
  const vectorPaths = values.vectors ?? [];
  const vectors = await loadVectorSources(vectorPaths);
  const runDirs: string[] = [];
  for (const p of vectorPaths) if ((await stat(p)).isDirectory()) runDirs.push(p);
  let runs: ReportInput | undefined;
  if (runDirs.length) {
    try {
      runs = await loadRuns(runDirs);
    } catch (e) {
      process.stderr.write(`valuelens serve: runs view off: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const explorer = await startExplorer({
    models,
    vectors,
    ...(runs ? { runs } : {}),
    ...(values.host ? { host: values.host } : {}),
    port: intFlag("port", values.port, 7860, 0),
    maxWaiting: intFlag("queue", values.queue, 4, 0),
    maxTokensLimit: intFlag("max-tokens", values["max-tokens"], 256, 1),
  });
  process.stdout.write(`valuelens serve: ${explorer.url}\n`);
  explorer.ready.then(() => {
    for (const s of explorer.slots) process.stdout.write(`  ${s.name}: ${s.state === "ready" ? "ready" : `failed: ${s.error}`}\n`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await explorer.close();
}
