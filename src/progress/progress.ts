// Progress reporting for long work: a bar with rate and ETA on a TTY, JSON-lines events when asked
// (`--progress json`), silence otherwise, so scripted runs stay machine-readable.
import type { Writable } from "node:stream";

export type ProgressMode = "auto" | "bar" | "json" | "none";

export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
  unit: string;
  rate: number; // units per second since the stage started
  etaSeconds: number | null;
  elapsedSeconds: number;
}

export interface Progress {
  /** Starts (or restarts) a stage with a known total. `done` counts work already finished (e.g. resumed). */
  start(stage: string, total: number, unit?: string, done?: number): void;
  tick(n?: number): void;
  finish(): void;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

class Reporter implements Progress {
  #stage = "";
  #total = 0;
  #done = 0;
  #resumed = 0;
  #unit = "";
  #t0 = 0;
  #lastDraw = 0;
  constructor(
    private readonly mode: "bar" | "json" | "none",
    private readonly out: Writable & { columns?: number },
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(stage: string, total: number, unit = "items", done = 0): void {
    this.#stage = stage;
    this.#total = total;
    this.#done = done;
    this.#resumed = done;
    this.#unit = unit;
    this.#t0 = this.now();
    this.#lastDraw = 0;
    this.#emit(true);
  }

  tick(n = 1): void {
    this.#done += n;
    this.#emit(false);
  }

  finish(): void {
    this.#emit(true);
    if (this.mode === "bar") this.out.write("\n");
  }

  event(): ProgressEvent {
    const elapsed = (this.now() - this.#t0) / 1000;
    const fresh = this.#done - this.#resumed;
    const rate = elapsed > 0 ? fresh / elapsed : 0;
    const left = this.#total - this.#done;
    return { stage: this.#stage, done: this.#done, total: this.#total, unit: this.#unit, rate, etaSeconds: rate > 0 ? left / rate : null, elapsedSeconds: elapsed };
  }

  #emit(force: boolean): void {
    if (this.mode === "none") return;
    const t = this.now();
    // Throttle: at most ~10 redraws (or 1 JSON event) per second, plus start and end.
    const minGap = this.mode === "bar" ? 100 : 1000;
    if (!force && t - this.#lastDraw < minGap && this.#done < this.#total) return;
    this.#lastDraw = t;
    const e = this.event();
    if (this.mode === "json") {
      this.out.write(JSON.stringify({ type: "progress", ...e }) + "\n");
      return;
    }
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 60));
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 1;
    const fill = Math.round(frac * width);
    const bar = "█".repeat(fill) + "░".repeat(width - fill);
    const eta = e.etaSeconds === null ? "?" : formatDuration(e.etaSeconds);
    this.out.write(`\r${e.stage} ${bar} ${e.done}/${e.total} ${e.unit} ${e.rate.toFixed(1)}/s ETA ${eta}   `);
  }
}

/** auto: a bar when `stream` is a TTY, nothing otherwise. Progress goes to stderr so stdout stays data. */
export function createProgress(mode: ProgressMode = "auto", stream: Writable & { isTTY?: boolean; columns?: number } = process.stderr, now?: () => number): Progress & { event(): ProgressEvent } {
  const resolved = mode === "auto" ? (stream.isTTY ? "bar" : "none") : mode;
  return new Reporter(resolved, stream, now);
}
