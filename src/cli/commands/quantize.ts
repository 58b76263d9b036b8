// `valuelens quantize IN.gguf OUT.gguf --type Q4_K_M`: llama.cpp's quantizer, e.g. to ask whether a concept
// survives quantization (capture the same pairs from each file and compare the vectors).
import { QUANT_TYPES, quantize, type QuantType } from "../../engine/quantize.js";
import { choiceFlag, intFlag, parseCommand, UsageError, type CommandSpec } from "../args.js";

export const quantizeSpec = {
  name: "quantize",
  synopsis: "IN.gguf OUT.gguf --type TYPE [options]",
  about: "llama.cpp's quantizer (llama_model_quantize); the output is written to a temporary file and renamed",
  flags: {
    type: { type: "string", arg: "TYPE", help: `target weight type: ${QUANT_TYPES.join(", ")}` },
    threads: { type: "string", arg: "N", help: "worker threads (default: all cores)" },
    pure: { type: "boolean", help: "every weight tensor in TYPE (no llama.cpp per-tensor mixture)" },
    "allow-requantize": { type: "boolean", help: "accept an already quantized input" },
    force: { type: "boolean", help: "replace an existing OUT.gguf" },
    json: { type: "boolean", help: "print JSON" },
  },
} as const satisfies CommandSpec;

export async function quantizeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(quantizeSpec, argv);
  if (positionals.length !== 2) throw new UsageError(`expected IN.gguf and OUT.gguf (got ${positionals.length} file names)`);
  if (values.type === undefined) throw new UsageError(`--type is required (one of ${QUANT_TYPES.join(", ")})`);
  const type: QuantType = choiceFlag("type", values.type, QUANT_TYPES, "Q8_0");
  const t0 = performance.now();
  const r = await quantize(positionals[0], positionals[1], {
    type,
    ...(values.threads !== undefined ? { threads: intFlag("threads", values.threads, undefined, 1) } : {}),
    pure: values.pure ?? false,
    allowRequantize: values["allow-requantize"] ?? false,
    force: values.force ?? false,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (values.json) process.stdout.write(JSON.stringify({ ...r, seconds }) + "\n");
  else {
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    process.stdout.write(`${r.path}: ${r.type}, ${mib(r.inputBytes)} MiB → ${mib(r.outputBytes)} MiB in ${seconds.toFixed(1)} s\n`);
  }
}
