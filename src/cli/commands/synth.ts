// `valuelens synth`: write a synthetic llama-architecture GGUF (optionally with planted concepts).
import { readFile } from "node:fs/promises";
import { vocabPath } from "../../synth/vocab.js";
import { synthModel } from "../../gguf/index.js";
import { synthPlantedModel, type PlantSpec } from "../../synth/planted.js";
import { choiceFlag, intFlag, numFlag, parseCommand, required, UsageError, type CommandSpec } from "../args.js";
import { claimOutput } from "../outputs.js";

export const synthSpec = {
  name: "synth",
  synopsis: "--out FILE.gguf [options]",
  about: "write a synthetic llama-architecture GGUF (random weights, optionally planted value concepts)",
  flags: {
    out: { type: "string", arg: "FILE.gguf", help: "the model file to write" },
    dim: { type: "string", arg: "N", help: "embedding size (default 64)" },
    layers: { type: "string", arg: "N", help: "transformer blocks (default 4)" },
    heads: { type: "string", arg: "N", help: "attention heads (default 4)" },
    "kv-heads": { type: "string", arg: "N", help: "KV heads (default = heads)" },
    ff: { type: "string", arg: "N", help: "feed-forward size (default 4*dim)" },
    context: { type: "string", arg: "N", help: "context length (default 2048)" },
    type: { type: "string", arg: "T", help: "f32 | f16 | q8_0 (default f32)" },
    vocab: { type: "string", arg: "V", help: "llama-spm | qwen2 | builtin | PATH.gguf (tokenizer copied from it; default llama-spm)" },
    seed: { type: "string", arg: "N", help: "weight seed (default 0)" },
    "block-scale": { type: "string", arg: "X", help: "init scale of attn_output/ffn_down (default 0.5)" },
    plant: {
      type: "string",
      arg: "FILE.json",
      help: 'planted concepts: {"seed":1,"concepts":[{"concept":"morality","alpha":4,\n"langs":{"en":{"angleDeg":0,"pos":["good"],"neg":["bad"]}}}]}',
    },
    force: { type: "boolean", help: "replace an existing --out (default: refuse)" },
    json: { type: "boolean", help: "print the result as JSON" },
  },
} as const satisfies CommandSpec;


export async function synthCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(synthSpec, argv);
  const out = required(values.out, "--out", "the model file to write");
  const dim = intFlag("dim", values.dim, 64, 1);
  const heads = intFlag("heads", values.heads, 4, 1);
  if (dim % heads !== 0) throw new UsageError(`--dim (${dim}) must be divisible by --heads (${heads})`);
  const kvHeads = intFlag("kv-heads", values["kv-heads"], heads, 1);
  if (heads % kvHeads !== 0) throw new UsageError(`--heads (${heads}) must be divisible by --kv-heads (${kvHeads})`);
  const opts = {
    out,
    vocabGguf: vocabPath(values.vocab ?? "llama-spm"),
    nEmbd: dim,
    nLayer: intFlag("layers", values.layers, 4, 1),
    nHead: heads,
    nHeadKv: kvHeads,
    nFf: intFlag("ff", values.ff, 4 * dim, 1),
    contextLength: intFlag("context", values.context, 2048, 8),
    weightType: choiceFlag("type", values.type, ["f32", "f16", "q8_0"] as const, "f32"),
    seed: intFlag("seed", values.seed, 0, 0),
    blockScale: numFlag("block-scale", values["block-scale"], 0.5),
  };
  let spec: PlantSpec | undefined;
  if (values.plant) {
    try {
      spec = JSON.parse(await readFile(values.plant, "utf8")) as PlantSpec;
    } catch (e) {
      throw new UsageError(`cannot read plant spec '${values.plant}': ${(e as Error).message}`);
    }
    if (!spec || !Array.isArray(spec.concepts)) throw new UsageError(`plant spec '${values.plant}' needs a "concepts" array`);
  }
  const lock = await claimOutput(out, { kind: "file", force: values.force, what: "a file" });
  let r;
  try {
    r = spec ? await synthPlantedModel(opts, spec) : await synthModel(opts);
  } finally {
    await lock.release();
  }
  const summary = {
    path: r.path,
    bytes: r.bytes,
    nVocab: r.nVocab,
    nEmbd: r.nEmbd,
    nLayer: r.nLayer,
    nHead: r.nHead,
    nHeadKv: r.nHeadKv,
    nFf: r.nFf,
    weightType: r.weightType,
    vocab: r.vocab,
    planted: r.planted.map((p) => ({ concept: p.concept, lang: p.lang, alpha: p.alpha, posTokens: p.posTokens.length, negTokens: p.negTokens.length })),
  };
  if (values.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    process.stdout.write(`wrote ${r.path} (${(r.bytes / 1048576).toFixed(1)} MiB): llama ${r.nEmbd}d × ${r.nLayer} layers, ${r.nHead}/${r.nHeadKv} heads, ff ${r.nFf}, ${r.weightType}, vocab ${r.vocab} (${r.nVocab})\n`);
    for (const p of summary.planted) process.stdout.write(`  planted ${p.concept}/${p.lang}: alpha ${p.alpha}, ${p.posTokens} pos tokens, ${p.negTokens} neg tokens\n`);
  }
}
