// Shared by the engine benchmarks: the synthetic model shape flags and the cached model file.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { synthModel } from "../dist/gguf/index.js";
import { packageRoot } from "../dist/engine/native.js";

/** Flags describing a synthetic model (defaults: a Qwen2-0.5B-like shape). */
export const modelFlags = {
  dim: { type: "string", default: "896" },
  layers: { type: "string", default: "24" },
  heads: { type: "string", default: "14" },
  "kv-heads": { type: "string", default: "2" },
  ff: { type: "string", default: "4864" },
  type: { type: "string", default: "q8_0" },
  vocab: { type: "string", default: "qwen2" },
  "gpu-layers": { type: "string", default: "0" },
};

/** Writes the synthetic model once under bench/out and returns its path and shape. */
export async function benchModel(a, log = () => {}) {
  const root = packageRoot();
  const outDir = join(root, "bench", "out");
  mkdirSync(outDir, { recursive: true });
  const shape = { nEmbd: +a.dim, nLayer: +a.layers, nHead: +a.heads, nHeadKv: +a["kv-heads"], nFf: +a.ff };
  const path = join(outDir, `synth-${a.vocab}-${shape.nEmbd}x${shape.nLayer}-${a.type}.gguf`);
  if (!existsSync(path)) {
    log(`writing synthetic model ${path} ...`);
    await synthModel({ out: path, vocabGguf: join(root, "vendor", "llama.cpp", "models", `ggml-vocab-${a.vocab}.gguf`), ...shape, seed: 1, weightType: a.type, contextLength: 4096 });
  }
  return { path, shape };
}
