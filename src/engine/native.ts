// Loads the compiled addon and describes its surface. Only src/engine talks to it.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface NativeModelInfo {
  arch: string;
  name: string;
  description: string;
  vocabOnly: boolean;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  nVocab: number;
  contextLength: number;
  nParams: number;
  sizeBytes: number;
  bos: number;
  eos: number;
  addBos: boolean;
  chatTemplate: string | null;
  metadata: Record<string, string>;
}

export interface NativeCaptureResult {
  data: Float32Array[];
  tokenCounts: Int32Array;
  rowOffsets: Int32Array;
  decodedTokens: number;
}

export interface NativeStep {
  tokens: Int32Array;
  eog: Int32Array;
}

export interface NativeSamplingOptions {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed?: number;
  grammar?: string;
}

export interface NativeSessionOptions {
  contextSize?: number;
  batchSize?: number;
  maxSequences?: number;
  threads?: number;
  kvType?: "f16" | "f32" | "q8_0";
  flashAttention?: "auto" | "on" | "off";
  hooks?: boolean;
}

export interface NativeSession {
  info(): {
    contextSize: number;
    batchSize: number;
    maxSequences: number;
    hooks: boolean;
    nLayer: number;
    nEmbd: number;
    /** Threads used: the requested count clamped to the CPUs available (affinity, cgroup quota). */
    threads: number;
    /** Recurrent/hybrid memory: capture decodes one sequence per llama_decode. */
    splitBySequence: boolean;
  };
  capture(
    texts: string[] | Int32Array[],
    opts: { sites: number[]; mode: number; addSpecial?: boolean; parseSpecial?: boolean },
  ): Promise<NativeCaptureResult>;
  setSteering(entries: Array<{ block: number; vector: Float32Array }>): void;
  logprobs(prompt: Int32Array, continuation: Int32Array): Promise<Float32Array>;
  genStart(prompts: Int32Array[], sampling: NativeSamplingOptions): Promise<NativeStep>;
  genStep(): Promise<NativeStep>;
  genStop(sequence: number): void;
  cancel(): void;
  dispose(): void;
}

export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  isEog(token: number): boolean;
  createSession(opts: NativeSessionOptions): Promise<NativeSession>;
  dispose(): void;
}

export interface NativeBackendInfo {
  build: string;
  systemInfo: string;
  gpuOffload: boolean;
  mmap: boolean;
  rpc: boolean;
  maxSequences: number;
}

export interface NativeBinding {
  loadModel(path: string, opts: { gpuLayers?: number; mmap?: boolean; vocabOnly?: boolean; checkTensors?: boolean; rpc?: string[] }): Promise<NativeModel>;
  backendInfo(): NativeBackendInfo;
}

/** The package root (holds package.json), found from this file whether it runs from src/ or dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "valuelens") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("valuelens: cannot find the package root");
    dir = up;
  }
}

let binding: NativeBinding | undefined;

/** The addon, loaded on first use. VALUELENS_BINARY overrides its path (e.g. a node-gyp build). */
export function native(): NativeBinding {
  if (binding) return binding;
  const candidates = process.env.VALUELENS_BINARY
    ? [process.env.VALUELENS_BINARY]
    : [join(packageRoot(), "build", "Release", "valuelens.node"), join(packageRoot(), "build", "Debug", "valuelens.node")];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(`valuelens: the native addon is not built (looked for ${candidates.join(", ")}); run \`npm run build:native\``);
  }
  binding = createRequire(import.meta.url)(path) as NativeBinding;
  return binding;
}
