// quantize(): llama.cpp's own quantizer (llama_model_quantize) over a GGUF file, e.g. F16 → Q8_0 / Q4_0 / Q4_K_M,
// to ask whether a concept survives quantization. Written to a temporary file beside the output, then renamed.
import { access, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { native } from "./native.js";

/** Weight types, spelled as llama.cpp's llama-quantize spells them. */
export const QUANT_TYPES = ["F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_0", "Q4_1", "IQ4_NL", "Q3_K_M", "Q2_K"] as const;
export type QuantType = (typeof QUANT_TYPES)[number];

export interface QuantizeOptions {
  /** Target weight type. K-quants need rows that are multiples of 256; llama.cpp falls back per tensor otherwise. */
  type: QuantType;
  /** Worker threads (default: llama.cpp's choice, all cores). */
  threads?: number;
  /** Allow re-quantizing already quantized weights (quality suffers; default false). */
  allowRequantize?: boolean;
  /** Every tensor in `type`, without llama.cpp's per-tensor mixture (default false). */
  pure?: boolean;
  /** Replace an existing output file (default false: an existing output is an error). */
  force?: boolean;
}

export interface QuantizeResult {
  path: string;
  type: QuantType;
  inputBytes: number;
  outputBytes: number;
}

export async function quantize(input: string, output: string, opts: QuantizeOptions): Promise<QuantizeResult> {
  if (!(QUANT_TYPES as readonly string[]).includes(opts.type)) {
    throw new Error(`quantize: unknown type '${String(opts.type)}' (known: ${QUANT_TYPES.join(", ")})`);
  }
  const src = resolve(input);
  const dst = resolve(output);
  if (src === dst) throw new Error(`quantize: output '${output}' is the input file`);
  const inStat = await stat(src).catch(() => undefined);
  if (!inStat?.isFile()) throw new Error(`quantize: cannot read input model '${input}': no such file`);
  const outStat = await stat(dst).catch(() => undefined);
  if (outStat?.isDirectory()) throw new Error(`quantize: output '${output}' is a directory`);
  if (outStat && !opts.force) throw new Error(`quantize: output '${output}' exists (pass force: true / --force to replace it)`);
  await access(dirname(dst)).catch(() => {
    throw new Error(`quantize: output folder '${dirname(dst)}' does not exist`);
  });
  const tmp = join(dirname(dst), `.${basename(dst)}.partial-${process.pid}-${Date.now()}`);
  try {
    await native().quantize(src, tmp, {
      type: opts.type,
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      allowRequantize: opts.allowRequantize ?? false,
      pure: opts.pure ?? false,
    });
    await rename(tmp, dst);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { path: dst, type: opts.type, inputBytes: inStat.size, outputBytes: (await stat(dst)).size };
}
