// `valuelens quantize IN.gguf OUT.gguf --type Q4_K_M`: llama.cpp's quantizer, e.g. to ask whether a concept
// survives quantization (capture the same pairs from each file and compare the vectors).
import { QUANT_TYPES, quantize, type QuantType } from "../engine/quantize.js";
import { choiceFlag, intFlag, parseFlags, UsageError } from "./args.js";

export const quantizeUsage = `usage: valuelens quantize IN.gguf OUT.gguf --type TYPE [--threads N] [--pure] [--allow-requantize] [--force] [--json]
  TYPE: ${QUANT_TYPES.join(", ")}
  --pure              every weight tensor in TYPE (no llama.cpp per-tensor mixture)
  --allow-requantize  accept an already quantized input
  --force             replace an existing OUT.gguf`;

export async function quantizeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(
    argv,
    {
      type: { type: "string" },
      threads: { type: "string" },
      pure: { type: "boolean" },
      "allow-requantize": { type: "boolean" },
      force: { type: "boolean" },
      json: { type: "boolean" },
    },
    quantizeUsage,
  );
  if (positionals.length !== 2) throw new UsageError(`expected IN.gguf and OUT.gguf\n\n${quantizeUsage}`);
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
