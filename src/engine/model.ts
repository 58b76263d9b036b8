// A loaded GGUF model: metadata, tokenizer, and the factory for sessions.
import { access } from "node:fs/promises";
import { native, type NativeModel, type NativeModelInfo } from "./native.js";
import { Session, type SessionOptions } from "./session.js";
import { DisposedError, ModelError } from "../util/errors.js";

export interface LoadModelOptions {
  /** Layers to offload to the GPU (CUDA/Metal/Vulkan builds); -1 = all. Default 0. */
  gpuLayers?: number;
  /** Memory-map the file (default true). */
  mmap?: boolean;
  /** Load only the tokenizer (no weights): tokenize/detokenize work, sessions do not. */
  vocabOnly?: boolean;
  /** Validate tensor data while loading (slower). */
  checkTensors?: boolean;
  /** llama.cpp rpc-server endpoints ("host:port"); layers go to them (all layers unless gpuLayers is given). */
  rpc?: string[];
}

export interface TokenizeOptions {
  /** Add BOS/EOS as the model's tokenizer config says (default true). */
  addSpecial?: boolean;
  /** Parse special-token text such as "<|im_start|>" into its id (default false). */
  parseSpecial?: boolean;
}

export class Model {
  readonly path: string;
  readonly arch: string;
  readonly name: string;
  readonly nLayer: number;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nVocab: number;
  readonly contextLength: number;
  readonly nParams: number;
  readonly sizeBytes: number;
  readonly vocabOnly: boolean;
  readonly bos: number;
  readonly eos: number;
  readonly addBos: boolean;
  /** Jinja chat template from the GGUF (tokenizer.chat_template), or null. */
  readonly chatTemplate: string | null;
  /** Every GGUF metadata key with its value rendered as a string (as llama.cpp reports it). */
  readonly metadata: Readonly<Record<string, string>>;
  #native: NativeModel | undefined;
  #sessions = new Set<Session>();

  /** @internal use loadModel() */
  constructor(path: string, handle: NativeModel) {
    const info: NativeModelInfo = handle.info();
    this.path = path;
    this.arch = info.arch;
    this.name = info.name;
    this.nLayer = info.nLayer;
    this.nEmbd = info.nEmbd;
    this.nHead = info.nHead;
    this.nHeadKv = info.nHeadKv;
    this.nVocab = info.nVocab;
    this.contextLength = info.contextLength;
    this.nParams = info.nParams;
    this.sizeBytes = info.sizeBytes;
    this.vocabOnly = info.vocabOnly;
    this.bos = info.bos;
    this.eos = info.eos;
    this.addBos = info.addBos;
    this.chatTemplate = info.chatTemplate;
    this.metadata = Object.freeze({ ...info.metadata });
    this.#native = handle;
  }

  /** @internal */
  get handle(): NativeModel {
    if (!this.#native) throw new DisposedError("model has been disposed");
    return this.#native;
  }

  tokenize(text: string, opts: TokenizeOptions = {}): Int32Array {
    if (typeof text !== "string") throw new TypeError("tokenize: text must be a string");
    return this.handle.tokenize(text, opts.addSpecial ?? true, opts.parseSpecial ?? false);
  }

  detokenize(tokens: ArrayLike<number>, opts: { removeSpecial?: boolean; unparseSpecial?: boolean } = {}): string {
    const arr = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    return this.handle.detokenize(arr, opts.removeSpecial ?? false, opts.unparseSpecial ?? false);
  }

  /** True for end-of-generation tokens (EOS, EOT, ...). */
  isEog(token: number): boolean {
    return this.handle.isEog(token);
  }

  async createSession(opts: SessionOptions = {}): Promise<Session> {
    const handle = await this.handle.createSession(opts);
    if (!this.#native) {
      handle.dispose(); // the model was disposed while the context was being created
      throw new DisposedError("model has been disposed");
    }
    const session: Session = new Session(this, handle, () => this.#sessions.delete(session));
    this.#sessions.add(session);
    return session;
  }

  /**
   * One rule: disposing a model disposes every session made from it (each finishes its running operation
   * first; later calls fail with "session has been disposed"), and tokenize/detokenize fail from then on.
   * The weights are freed, off the JS thread, when the last running operation ends.
   */
  dispose(): void {
    for (const s of [...this.#sessions]) s.dispose();
    this.#native?.dispose();
    this.#native = undefined;
  }

  /** `using model = await loadModel(path)` disposes it (and its sessions) at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using` works too; disposal itself is synchronous (the weights are freed off the JS thread). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}

export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<Model> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError("loadModel: path must be a non-empty string");
  try {
    await access(path);
  } catch {
    throw new ModelError(`cannot open model file '${path}': no such file or not readable`);
  }
  let handle: NativeModel;
  try {
    handle = await native().loadModel(path, opts);
  } catch (e) {
    // The addon's message says what is wrong with the file; the code says that it is the model.
    throw new ModelError((e as Error).message, { cause: e });
  }
  return new Model(path, handle);
}
