// A session is one llama.cpp context over a shared model: capture, steering, generation, log-probs.
// Operations run one at a time (a context is single-threaded); callers may issue them freely and
// they are queued in order. A generate() iterator holds the session from its first next() until it
// finishes or is return()ed: other calls made meanwhile are rejected (code VALUELENS_BUSY)
// instead of waiting on it forever, and an iterator dropped unfinished releases the session when
// it is garbage-collected.
import type { Model } from "./model.js";
import type { NativeSamplingOptions, NativeSession, NativeSessionOptions, NativeStep } from "./native.js";
import { layerName, nativeSite, steeringBlock, type LayerSite } from "./layers.js";
import { AbortError, BusyError, DisposedError } from "../util/errors.js";

export type SessionOptions = NativeSessionOptions;

/**
 * The session shape commands and manifests use unless told otherwise (larger than createSession's own
 * defaults, which are llama.cpp's): batches of 2048 tokens and 64 texts, a context of at least 4096.
 */
export function withSessionDefaults(o: SessionOptions = {}): SessionOptions {
  const batchSize = o.batchSize ?? 2048;
  const { contextSize, maxSequences, ...rest } = o;
  return { ...rest, batchSize, contextSize: contextSize ?? Math.max(4096, batchSize), maxSequences: maxSequences ?? 64 };
}

/** Which token rows of each text are kept: the last token (the science's default), the mean over tokens, or all. */
export type Position = "last" | "mean" | "all";
const POSITION_CODE: Record<Position, number> = { last: 0, mean: 1, all: 2 };

export interface CaptureOptions {
  /** Layers to read (default: all, 1..nLayer). See the layer-site vocabulary in the README. */
  layers?: readonly LayerSite[];
  position?: Position;
  addSpecial?: boolean;
  parseSpecial?: boolean;
  signal?: AbortSignal;
}

/** Captured residual-stream rows: per layer a row-major [rows × nEmbd] Float32Array. */
export class Activations {
  constructor(
    readonly layers: readonly LayerSite[],
    readonly position: Position,
    readonly nEmbd: number,
    /** Tokens per text. */
    readonly tokenCounts: Int32Array,
    /** For position "all": text i owns rows rowOffsets[i] .. rowOffsets[i+1]-1. */
    readonly rowOffsets: Int32Array,
    private readonly data: readonly Float32Array[],
    /** Tokens that went through llama_decode. */
    readonly decodedTokens: number,
  ) {}

  get nTexts(): number {
    return this.tokenCounts.length;
  }

  /** The whole matrix of a layer (a view, not a copy). */
  layer(layer: LayerSite): Float32Array {
    const i = this.layers.findIndex((l) => layerName(l) === layerName(layer));
    if (i < 0) throw new RangeError(`layer ${layerName(layer)} was not captured (captured: ${this.layers.map(layerName).join(", ")})`);
    return this.data[i];
  }

  /** One row: text `text` (and for position "all" its token `token`). A view, not a copy. */
  row(layer: LayerSite, text: number, token = 0): Float32Array {
    if (!Number.isInteger(text) || text < 0 || text >= this.nTexts) throw new RangeError(`text index ${text} out of range`);
    let r = text;
    if (this.position === "all") {
      if (!Number.isInteger(token) || token < 0 || token >= this.tokenCounts[text]) throw new RangeError(`token index ${token} out of range`);
      r = this.rowOffsets[text] + token;
    }
    return this.layer(layer).subarray(r * this.nEmbd, (r + 1) * this.nEmbd);
  }
}

export interface SteeringEntry {
  /** Numeric k or "resid_post:k": the vector is added to the residual stream after block k, at every token. */
  layer: LayerSite;
  vector: Float32Array | readonly number[];
  /** Multiplier (default 1). Entries on the same layer are summed. */
  coefficient?: number;
}

export interface GenerateOptions {
  maxTokens?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  /** Sampling seed (default 42); sequence i of a batch uses seed + i. */
  seed?: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop?: readonly string[];
  /** GBNF grammar constraining the output. */
  grammar?: string;
  /** Tokenize the prompt with special tokens parsed (default true, so chat markup works). */
  parseSpecial?: boolean;
  addSpecial?: boolean;
  signal?: AbortSignal;
}

export type StopReason = "eog" | "maxTokens" | "stop";

export interface GenerationChunk {
  token: number;
  /** Text this token completed (may be empty while a multi-byte character or possible stop string is pending). */
  text: string;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  stopReason: StopReason;
}

export interface LogprobsResult {
  tokens: Int32Array;
  logprobs: Float32Array;
  /** Sum of the continuation's log-probabilities. */
  total: number;
}

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}


/** What an open generate() iterator holds; released by the iterator itself or, if dropped, by the registry. */
interface GenerationHold {
  /** Ends the iterator's hold on the session (idempotent). */
  release?: () => void;
  /** Releases the session lock, once the generation has taken it. */
  endLease?: () => void;
}
const droppedIterators = new FinalizationRegistry<GenerationHold>((hold) => hold.release?.());

/** The addon's cancellation (a cancelled decode fails with the text "aborted") as the one AbortError. */
function fromNative(e: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || (e instanceof Error && e.message === "aborted")) return e instanceof AbortError ? e : new AbortError(undefined, { cause: e });
  return e;
}

export class Session {
  readonly model: Model;
  readonly contextSize: number;
  readonly batchSize: number;
  readonly maxSequences: number;
  #native: NativeSession | undefined;
  #mutex = new Mutex();
  #steering: SteeringEntry[] = [];
  /** generate() iterators started (first next()) and not yet finished, returned or collected. */
  #openIterators = 0;
  #onDispose: (() => void) | undefined;

  /** @internal use model.createSession() */
  constructor(model: Model, handle: NativeSession, onDispose?: () => void) {
    this.model = model;
    this.#native = handle;
    this.#onDispose = onDispose;
    const info = handle.info();
    this.contextSize = info.contextSize;
    this.batchSize = info.batchSize;
    this.maxSequences = info.maxSequences;
    this.threads = info.threads;
    this.captureMethod = info.captureMethod;
  }

  /** How capture reads the residual stream here: "graph" outputs or the eval "callback" (see SessionOptions). */
  readonly captureMethod: "graph" | "callback";

  /** Threads llama.cpp uses: the requested count clamped to the CPUs available (affinity and cgroup quota). */
  readonly threads: number;

  get #handle(): NativeSession {
    if (!this.#native) throw new DisposedError("session has been disposed");
    return this.#native;
  }

  #rejectWhileGenerating(): void {
    if (this.#openIterators > 0) {
      throw new BusyError(
        "session is busy: a generate() iterator is open; read it to the end or call its return() before other calls",
      );
    }
  }

  /**
   * Takes the session for one operation: waits for earlier operations, and lets `signal` cancel a running
   * native call (also mid-decode on CPU). `fail` maps a cancelled call's error to an AbortError.
   */
  async #lease(signal: AbortSignal | undefined, forIterator = false): Promise<{ h: NativeSession; fail: (e: unknown) => unknown; end: () => void }> {
    if (signal?.aborted) throw new AbortError();
    if (!forIterator) this.#rejectWhileGenerating();
    const release = await this.#mutex.lock();
    let h: NativeSession;
    try {
      h = this.#handle;
    } catch (e) {
      release();
      throw e;
    }
    const onAbort = () => h.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    return {
      h,
      fail: (e) => fromNative(e, signal),
      end: () => {
        signal?.removeEventListener("abort", onAbort);
        release();
      },
    };
  }

  /** Runs one native operation exclusively (see #lease). */
  async #exclusive<T>(signal: AbortSignal | undefined, fn: (h: NativeSession) => Promise<T>): Promise<T> {
    const lease = await this.#lease(signal);
    try {
      if (signal?.aborted) throw new AbortError();
      return await fn(lease.h);
    } catch (e) {
      throw lease.fail(e);
    } finally {
      lease.end();
    }
  }

  /**
   * Runs the texts through the model (packed as parallel sequences, several per llama_decode) and
   * returns the residual stream at the requested layers and positions.
   */
  async capture(texts: readonly string[] | readonly Int32Array[], opts: CaptureOptions = {}): Promise<Activations> {
    const nLayer = this.model.nLayer;
    const layers = opts.layers ?? Array.from({ length: nLayer }, (_, i) => i + 1);
    if (layers.length === 0) throw new RangeError("capture: no layers requested");
    // Aliases (e.g. nLayer and "final_norm") share one native site and one buffer.
    const sites = layers.map((l) => nativeSite(l, nLayer));
    const unique = [...new Set(sites)];
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(layerName(l))) throw new RangeError(`capture: layer ${layerName(l)} requested twice`);
      names.add(layerName(l));
    }
    const position = opts.position ?? "last";
    if (!(position in POSITION_CODE)) throw new RangeError(`capture: position must be last, mean or all (got '${String(position)}')`);
    if (!Array.isArray(texts)) throw new TypeError("capture: texts must be an array");
    const input = texts as string[] | Int32Array[];
    const r = await this.#exclusive(opts.signal, (h) =>
      h.capture(input, { sites: unique, mode: POSITION_CODE[position], addSpecial: opts.addSpecial ?? true, parseSpecial: opts.parseSpecial ?? false }),
    );
    const data = sites.map((s) => r.data[unique.indexOf(s)]);
    return new Activations([...layers], position, this.model.nEmbd, r.tokenCounts, r.rowOffsets, data, r.decodedTokens);
  }

  /**
   * Runs the texts through the model with exactly the batching of capture() but reads nothing:
   * the baseline that capture overhead is measured against. Returns the number of decoded tokens.
   */
  async decode(texts: readonly string[] | readonly Int32Array[], opts: { addSpecial?: boolean; parseSpecial?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    if (!Array.isArray(texts)) throw new TypeError("decode: texts must be an array");
    const input = texts as string[] | Int32Array[];
    const r = await this.#exclusive(opts.signal, (h) => h.capture(input, { sites: [], mode: 0, addSpecial: opts.addSpecial ?? true, parseSpecial: opts.parseSpecial ?? false }));
    return r.decodedTokens;
  }

  /** Replaces the steering vectors. They apply to every decode (capture, generate, logprobs) until cleared. */
  async setSteering(entries: readonly SteeringEntry[]): Promise<void> {
    const { nLayer, nEmbd } = this.model;
    const perBlock = new Map<number, Float32Array>();
    for (const e of entries) {
      const block = steeringBlock(e.layer, nLayer);
      if (e.vector.length !== nEmbd) throw new RangeError(`steering vector for layer ${layerName(e.layer)} has length ${e.vector.length}, the model's nEmbd is ${nEmbd}`);
      const c = e.coefficient ?? 1;
      if (!Number.isFinite(c)) throw new RangeError("steering coefficient must be finite");
      const acc = perBlock.get(block) ?? new Float32Array(nEmbd);
      for (let j = 0; j < nEmbd; j++) {
        const v = e.vector[j];
        if (!Number.isFinite(v)) throw new RangeError(`steering vector for layer ${layerName(e.layer)} has a non-finite value at ${j}`);
        acc[j] += c * v;
      }
      perBlock.set(block, acc);
    }
    await this.#exclusive(undefined, async (h) => h.setSteering([...perBlock].map(([block, vector]) => ({ block, vector }))));
    this.#steering = entries.map((e) => ({ ...e }));
  }

  async clearSteering(): Promise<void> {
    await this.#exclusive(undefined, async (h) => h.setSteering([]));
    this.#steering = [];
  }

  /** The steering entries currently applied. */
  get steering(): readonly SteeringEntry[] {
    return this.#steering;
  }

  #tokens(x: string | Int32Array, addSpecial: boolean, parseSpecial: boolean): Int32Array {
    return typeof x === "string" ? this.model.tokenize(x, { addSpecial, parseSpecial }) : x;
  }

  /** Log-probability of each continuation token given the prompt (and everything before it). */
  async logprobs(prompt: string | Int32Array, continuation: string | Int32Array, opts: { signal?: AbortSignal; parseSpecial?: boolean } = {}): Promise<LogprobsResult> {
    const p = this.#tokens(prompt, true, opts.parseSpecial ?? true);
    const c = this.#tokens(continuation, false, false);
    const lp = await this.#exclusive(opts.signal, (h) => h.logprobs(p, c));
    let total = 0;
    for (const v of lp) total += v;
    return { tokens: c, logprobs: lp, total };
  }

  /**
   * Streams the continuation of one prompt, token by token. The iterator holds the session from its first
   * next() until it ends: read it to the end or call return() (a `for await` loop that breaks does). Other calls
   * meanwhile are rejected with code VALUELENS_BUSY; an iterator dropped unfinished releases the session
   * once it is garbage-collected.
   */
  generate(prompt: string | Int32Array, opts: GenerateOptions = {}): AsyncGenerator<GenerationChunk, GenerationResult, void> {
    const hold: GenerationHold = {};
    const it = this.#generateOne(prompt, opts, hold);
    droppedIterators.register(it, hold, hold);
    return it;
  }

  async *#generateOne(prompt: string | Int32Array, opts: GenerateOptions, hold: GenerationHold): AsyncGenerator<GenerationChunk, GenerationResult, void> {
    this.#rejectWhileGenerating();
    // Counted as open from the first next(), before the lock is taken: a call made while this iterator
    // waits for the lock would otherwise queue behind it.
    this.#openIterators++;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.#openIterators--;
      droppedIterators.unregister(hold);
      hold.release = undefined;
      hold.endLease?.();
    };
    hold.release = close;
    try {
      let result: GenerationResult | undefined;
      for await (const ev of this.#generate([prompt], opts, hold)) {
        if (ev.kind === "token") yield { token: ev.token, text: ev.text };
        else result = ev.result;
      }
      if (!result) throw new Error("generation ended without a result");
      return result;
    } finally {
      close();
    }
  }

  /** Generates to completion and returns the text. */
  async complete(prompt: string | Int32Array, opts: GenerateOptions = {}): Promise<GenerationResult> {
    const [r] = await this.generateBatch([prompt], opts);
    return r;
  }

  /** Generates for many prompts at once, as parallel sequences in this context (same steering for all). */
  async generateBatch(prompts: ReadonlyArray<string | Int32Array>, opts: GenerateOptions = {}): Promise<GenerationResult[]> {
    const out: GenerationResult[] = new Array(prompts.length);
    for await (const ev of this.#generate(prompts, opts)) if (ev.kind === "done") out[ev.seq] = ev.result;
    return out;
  }

  async *#generate(
    prompts: ReadonlyArray<string | Int32Array>,
    opts: GenerateOptions,
    iterator?: GenerationHold,
  ): AsyncGenerator<{ kind: "token"; seq: number; token: number; text: string } | { kind: "done"; seq: number; result: GenerationResult }> {
    const maxTokens = opts.maxTokens ?? 128;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError("maxTokens must be a positive integer");
    if (prompts.length === 0) return;
    if (prompts.length > this.maxSequences) throw new RangeError(`${prompts.length} prompts exceed this session's maxSequences (${this.maxSequences})`);
    const stops = (opts.stop ?? []).filter((s) => s.length > 0);
    const hold = stops.reduce((m, s) => Math.max(m, s.length - 1), 0);
    const sampling: NativeSamplingOptions = {
      temperature: opts.temperature ?? 0,
      topP: opts.topP ?? 1,
      topK: opts.topK ?? 0,
      minP: opts.minP ?? 0,
      seed: opts.seed ?? 42,
      ...(opts.grammar ? { grammar: opts.grammar } : {}),
    };
    const tokenized = prompts.map((p) => this.#tokens(p, opts.addSpecial ?? true, opts.parseSpecial ?? true));
    const signal = opts.signal;
    const lease = await this.#lease(signal, iterator !== undefined);
    const h = lease.h;
    const seqs = tokenized.map(() => ({ tokens: [] as number[], text: "", emitted: 0, done: false }));
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (iterator) iterator.endLease = undefined;
      lease.end();
    };
    if (iterator) iterator.endLease = end;
    try {
      let step: NativeStep = await h.genStart(tokenized, sampling);
      for (;;) {
        for (let i = 0; i < seqs.length; i++) {
          const s = seqs[i];
          const tok = step.tokens[i];
          if (s.done || tok < 0) continue;
          let reason: StopReason | undefined;
          if (step.eog[i]) reason = "eog";
          else {
            s.tokens.push(tok);
            s.text = this.model.detokenize(s.tokens);
            for (const stop of stops) {
              const at = s.text.indexOf(stop, Math.max(0, s.emitted - stop.length));
              if (at >= 0) {
                s.text = s.text.slice(0, at);
                reason = "stop";
              }
            }
            if (!reason && s.tokens.length >= maxTokens) reason = "maxTokens";
          }
          let safe = reason ? s.text.length : s.text.length - hold;
          if (!reason && s.text.endsWith("\uFFFD")) safe = Math.min(safe, s.text.length - 1);
          const delta = safe > s.emitted ? s.text.slice(s.emitted, safe) : "";
          if (safe > s.emitted) s.emitted = safe;
          if (!step.eog[i]) yield { kind: "token", seq: i, token: tok, text: delta };
          if (reason) {
            s.done = true;
            if (reason !== "eog") h.genStop(i);
            yield { kind: "done", seq: i, result: { text: s.text, tokens: s.tokens, stopReason: reason } };
          }
        }
        if (seqs.every((s) => s.done)) break;
        if (signal?.aborted) throw new AbortError();
        step = await h.genStep();
      }
    } catch (e) {
      throw lease.fail(e);
    } finally {
      end();
    }
  }

  /** Frees the context (after any running operation finishes). */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
    this.#onDispose?.();
    this.#onDispose = undefined;
  }

  /** `using session = await model.createSession()` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using` works too; disposal itself is synchronous (the context is freed off the JS thread). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

}
