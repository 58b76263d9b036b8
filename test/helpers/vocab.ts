/**
 * Locates llama.cpp's vocab-only GGUFs. They exist only after `npm install`
 * has materialised vendor/llama.cpp, so callers skip when this returns
 * undefined. VALUELENS_VOCAB_DIR can point at another copy of models/.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export function findVocab(file: string): string | undefined {
  const dirs = [join(repoRoot, "vendor", "llama.cpp", "models")];
  const extra = process.env.VALUELENS_VOCAB_DIR;
  if (extra) dirs.push(extra);
  for (const d of dirs) {
    const p = join(d, file);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export const LLAMA_SPM_VOCAB = "ggml-vocab-llama-spm.gguf";
export const QWEN2_VOCAB = "ggml-vocab-qwen2.gguf";
