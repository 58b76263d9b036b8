// A bounded FIFO in front of one engine session: one job runs at a time, at most `maxWaiting` wait, the rest
// are told "busy" at once (never queued without bound, never a crash). Waiters learn their position.

export class QueueError extends Error {
  constructor(
    readonly code: "BUSY" | "ABORTED",
    message: string,
  ) {
    super(message);
    this.name = code === "ABORTED" ? "AbortError" : "QueueError";
  }
}

interface Waiter {
  start: () => void;
  fail: (e: Error) => void;
  onPosition?: (position: number) => void;
}

export class EngineQueue {
  #running = false;
  #waiting: Waiter[] = [];

  constructor(readonly maxWaiting: number) {}

  /** True while a job runs. */
  get busy(): boolean {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether a new job would be refused right now. */
  get full(): boolean {
    return this.#running && this.#waiting.length >= this.maxWaiting;
  }

  /**
   * Runs `job` when the session is free. Throws QueueError BUSY (at once) when the queue is full, ABORTED when
   * `signal` fires while waiting. `onPosition(n)` is told 1 = next, 2 = after that, … and 0 when it starts.
   */
  async run<T>(job: () => Promise<T>, opts: { signal?: AbortSignal; onPosition?: (position: number) => void } = {}): Promise<T> {
    if (opts.signal?.aborted) throw new QueueError("ABORTED", "request closed");
    if (this.full) throw new QueueError("BUSY", `the engine is busy (${this.#waiting.length} request(s) already waiting)`);
    if (this.#running) await this.#wait(opts.signal, opts.onPosition);
    else this.#running = true;
    opts.onPosition?.(0);
    try {
      return await job();
    } finally {
      this.#next();
    }
  }

  #wait(signal: AbortSignal | undefined, onPosition: ((n: number) => void) | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        fail: reject,
        ...(onPosition ? { onPosition } : {}),
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(w);
        if (i >= 0) this.#waiting.splice(i, 1);
        this.#announce();
        reject(new QueueError("ABORTED", "request closed while waiting"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(w);
      onPosition?.(this.#waiting.length);
    });
  }

  #announce(): void {
    this.#waiting.forEach((w, i) => w.onPosition?.(i + 1));
  }

  #next(): void {
    const w = this.#waiting.shift();
    if (!w) {
      this.#running = false;
      return;
    }
    // #running stays true: the slot passes straight to the next waiter.
    this.#announce();
    w.start();
  }
}
