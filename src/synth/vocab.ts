// Where a synthetic model's tokenizer comes from: a vocab name of llama.cpp's models/ folder, or a GGUF path.
import { join } from "node:path";
import { packageRoot } from "../engine/native.js";

/** "builtin" → none (the writer's own); "llama-spm", "qwen2", … → llama.cpp's ggml-vocab-NAME.gguf; else a path. */
export function vocabPath(v: string): string | undefined {
  if (v === "builtin") return undefined;
  if (/^[a-z0-9-]+$/.test(v) && !v.endsWith(".gguf")) return join(packageRoot(), "vendor", "llama.cpp", "models", `ggml-vocab-${v}.gguf`);
  return v;
}
