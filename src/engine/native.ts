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
  /**
   * How capture reads the residual stream. "graph": the sites become graph outputs, gathered on the device and
   * copied once per micro-batch (no graph cut or sync per site; needs the patched llama.cpp). "callback": the eval
   * callback reads each site as it is computed and stops the graph after the highest one. "auto" (default): graph
   * where layers run on a GPU, callback on the CPU.
   */
  captureMethod?: "auto" | "graph" | "callback";
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
    /** The capture method in use ("auto" resolved). */
    captureMethod: "graph" | "callback";
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
  /** GPU backend compiled in: "cpu", "cuda", "metal", "vulkan", or "installed" (binding.gyp build). */
  build: string;
  /** CPU code generation: "portable" (runtime CPU dispatch), "native" (this build host only) or "installed". */
  cpuBuild: string;
  /** The CPU variant in use, e.g. "haswell", "zen4" (portable builds); "native" for a native build. */
  cpuVariant: string | null;
  /** What the CPU backend was compiled with and detected (ggml's feature list, e.g. AVX2: "1"). */
  cpuFeatures: Record<string, string>;
  /** The CPU variants the portable build ships, and whether this processor can run each. */
  cpuVariants: Array<{ name: string; supported: boolean }>;
  /** The folder the backend libraries were loaded from (portable builds), else null. */
  backendDir: string | null;
  /** Why no backend could be loaded (then loadModel() fails with this message), else null. */
  loadError: string | null;
  /** Registered ggml backends, e.g. ["RPC", "Vulkan", "CPU"]. */
  backends: string[];
  devices: Array<{ name: string; description: string; type: "cpu" | "gpu" | "igpu" | "accel" }>;
  systemInfo: string;
  gpuOffload: boolean;
  mmap: boolean;
  rpc: boolean;
  maxSequences: number;
}

export interface NativeQuantizeOptions {
  type: string;
  threads?: number;
  allowRequantize?: boolean;
  pure?: boolean;
}

export interface NativeBinding {
  loadModel(path: string, opts: { gpuLayers?: number; mmap?: boolean; vocabOnly?: boolean; checkTensors?: boolean; rpc?: string[] }): Promise<NativeModel>;
  backendInfo(): NativeBackendInfo;
  quantize(input: string, output: string, opts: NativeQuantizeOptions): Promise<void>;
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

/** Where a prebuilt addon for this platform lives inside the package (made by `npm pack`, see scripts/prebuild.mjs). */
export function prebuildDir(root: string = packageRoot()): string {
  return join(root, "prebuilds", `${process.platform}-${process.arch}`);
}

/**
 * The addon, loaded on first use: VALUELENS_BINARY if set (e.g. a node-gyp build), else a build from source
 * (build/Release), else the prebuilt addon shipped in the package.
 */
export function native(): NativeBinding {
  if (binding) return binding;
  const root = packageRoot();
  const candidates = process.env.VALUELENS_BINARY
    ? [process.env.VALUELENS_BINARY]
    : [join(root, "build", "Release", "valuelens.node"), join(root, "build", "Debug", "valuelens.node"), join(prebuildDir(root), "valuelens.node")];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `valuelens: no native addon (looked for ${candidates.join(", ")}). There is no prebuilt addon for ${process.platform}-${process.arch}: ` +
        "allow valuelens's install script (package.json allowScripts, or `npm approve-scripts valuelens`) and run `npm rebuild valuelens`, or `npm run build:native` in a checkout",
    );
  }
  binding = createRequire(import.meta.url)(path) as NativeBinding;
  return binding;
}
