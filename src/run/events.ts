// What a run reports while it works: per-stage progress (a bar with counts, rate and ETA on a TTY; JSON lines
// with `--progress json`) and, in JSON mode, one line per cell step and per captured chunk, unthrottled, so
// schedulers and tests can follow (and interrupt) a run precisely.
import type { Writable } from "node:stream";
import { createProgress, type Progress, type ProgressMode } from "../progress/progress.js";

export type CellPhase = "capture" | "extract" | "recognize";

export type RunEvent =
  | { type: "cell"; cell: string; phase: CellPhase; status: "start" | "done" | "skipped"; seconds?: number }
  | { type: "chunk"; cell: string; done: number; total: number }
  | { type: "model"; model: string; status: "synth" | "hash" | "load" | "unload" }
  | { type: "note"; message: string };

export interface RunReporter {
  readonly progress: Progress;
  event(e: RunEvent): void;
}

export function createReporter(mode: ProgressMode = "auto", stream: Writable & { isTTY?: boolean; columns?: number } = process.stderr, onEvent?: (e: RunEvent) => void): RunReporter {
  const resolved = mode === "auto" ? (stream.isTTY ? "bar" : "none") : mode;
  const progress = createProgress(resolved, stream);
  return {
    progress,
    event(e: RunEvent): void {
      onEvent?.(e);
      if (resolved === "json") stream.write(JSON.stringify(e) + "\n");
      else if (resolved === "bar" && e.type === "note") stream.write(`${e.message}\n`);
    },
  };
}
