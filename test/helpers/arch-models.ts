// Synthetic GGUFs of architectures other than llama, for the engine's exactness checks:
// a Mamba (recurrent memory: llama.cpp splits multi-sequence decodes by sequence) and a llama
// model relabelled as EuroBERT (same tensors, but its graph names no l_out-k and applies no
// control vector).
import { join } from "node:path";
import { GgmlType, Rng, kv, readGguf, readTensorF32, writeGguf, type GgufKv, type GgufTensorSpec } from "../../src/gguf/index.js";

/** Copies a llama GGUF as architecture `arch`: llama.* keys renamed, tensors unchanged. */
export async function relabelArch(src: string, out: string, arch: string): Promise<string> {
  const f = await readGguf(src);
  const metadata: GgufKv[] = [...f.metadata].map(([key, v]) => {
    const k = key === "general.architecture" ? key : key.replace(/^llama\./, `${arch}.`);
    return (key === "general.architecture" ? kv.str(key, arch) : { key: k, ...v }) as GgufKv;
  });
  const tensors: GgufTensorSpec[] = await Promise.all(
    f.tensors.map(async (t) => ({ name: t.name, shape: t.shape, type: GgmlType.F32, data: await readTensorF32(src, t) })),
  );
  await writeGguf(out, { metadata, tensors });
  return out;
}

/** A small random Mamba-1 model with the tokenizer of `tokenizerFrom` (any GGUF with tokenizer.* keys). */
export async function mambaModel(dir: string, tokenizerFrom: string, opts: { nEmbd?: number; nLayer?: number; seed?: number } = {}): Promise<string> {
  const nEmbd = opts.nEmbd ?? 32;
  const nLayer = opts.nLayer ?? 3;
  const dInner = 2 * nEmbd; // llama.cpp supports only an expansion factor of 2
  const dState = 8;
  const dConv = 4;
  const dtRank = 4;
  const rng = new Rng(opts.seed ?? 5, "mamba");
  const src = await readGguf(tokenizerFrom);
  const tokenizer = [...src.metadata].filter(([k]) => k.startsWith("tokenizer.")).map(([key, v]) => ({ key, ...v }) as GgufKv);
  const vocab = src.metadata.get("tokenizer.ggml.tokens");
  if (!vocab || !Array.isArray(vocab.value)) throw new Error(`${tokenizerFrom} has no tokenizer.ggml.tokens`);
  const nVocab = vocab.value.length;
  const metadata: GgufKv[] = [
    kv.str("general.architecture", "mamba"),
    kv.str("general.name", "valuelens-synth-mamba"),
    kv.u32("general.file_type", 0),
    kv.u32("mamba.context_length", 512),
    kv.u32("mamba.embedding_length", nEmbd),
    kv.u32("mamba.block_count", nLayer),
    kv.u32("mamba.feed_forward_length", 0),
    kv.u32("mamba.attention.head_count", 0),
    kv.f32("mamba.attention.layer_norm_rms_epsilon", 1e-5),
    kv.u32("mamba.ssm.conv_kernel", dConv),
    kv.u32("mamba.ssm.inner_size", dInner),
    kv.u32("mamba.ssm.state_size", dState),
    kv.u32("mamba.ssm.time_step_rank", dtRank),
    ...tokenizer,
  ];
  const tensors: GgufTensorSpec[] = [];
  const t = (name: string, shape: number[], mean: number, std: number): void => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    rng.fillNormal(data, mean, std);
    tensors.push({ name, shape, type: GgmlType.F32, data });
  };
  t("token_embd.weight", [nEmbd, nVocab], 0, 1);
  for (let i = 0; i < nLayer; i++) {
    t(`blk.${i}.attn_norm.weight`, [nEmbd], 1, 0.1);
    t(`blk.${i}.ssm_in.weight`, [nEmbd, 2 * dInner], 0, 1 / Math.sqrt(nEmbd));
    t(`blk.${i}.ssm_conv1d.weight`, [dConv, dInner], 0, 0.5);
    t(`blk.${i}.ssm_conv1d.bias`, [dInner], 0, 0.1);
    t(`blk.${i}.ssm_x.weight`, [dInner, dtRank + 2 * dState], 0, 1 / Math.sqrt(dInner));
    t(`blk.${i}.ssm_dt.weight`, [dtRank, dInner], 0, 1 / Math.sqrt(dtRank));
    t(`blk.${i}.ssm_dt.bias`, [dInner], -2, 0.5);
    t(`blk.${i}.ssm_a`, [dState, dInner], -1, 0.2); // A = -exp(A_log): negative, so the state decays
    t(`blk.${i}.ssm_d`, [dInner], 1, 0.1);
    t(`blk.${i}.ssm_out.weight`, [dInner, nEmbd], 0, 0.5 / Math.sqrt(dInner));
  }
  t("output_norm.weight", [nEmbd], 1, 0.1);
  const out = join(dir, `mamba-${nEmbd}x${nLayer}.gguf`);
  await writeGguf(out, { metadata, tensors });
  return out;
}
