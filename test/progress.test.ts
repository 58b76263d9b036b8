import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createProgress, formatDuration } from "../src/progress/progress.js";

class Sink extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe("progress", () => {
  test("json mode emits parseable events with rate and ETA from a controllable clock", () => {
    const sink = new Sink();
    let t = 0;
    const p = createProgress("json", sink, () => t);
    p.start("capture", 100, "texts", 20); // 20 already done (resumed): not counted in the rate
    t = 2000;
    p.tick(40);
    p.finish();
    const events = sink.text.trim().split("\n").map((l) => JSON.parse(l) as { done: number; rate: number; etaSeconds: number | null; stage: string });
    expect(events[0]).toMatchObject({ stage: "capture", done: 20, total: 100 });
    const last = events.at(-1)!;
    expect(last.done).toBe(60);
    expect(last.rate).toBeCloseTo(20, 6); // 40 texts in 2 s
    expect(last.etaSeconds).toBeCloseTo(2, 6); // 40 left at 20/s
  });

  test("auto mode is silent on a non-TTY and draws a bar on a TTY", () => {
    const quiet = new Sink();
    const p = createProgress("auto", quiet);
    p.start("x", 10);
    p.tick(10);
    p.finish();
    expect(quiet.text).toBe("");
    const tty = new Sink();
    tty.isTTY = true;
    let t = 0;
    const b = createProgress("auto", tty, () => t);
    b.start("extract", 4, "layers");
    t = 1000;
    b.tick(2);
    t = 1050; // throttled
    b.tick(1);
    b.finish();
    expect(tty.text).toMatch(/extract .*2\/4 layers 2\.0\/s ETA 1s/);
    expect(tty.text).toMatch(/3\/4 layers/);
    expect(tty.text.endsWith("\n")).toBe(true);
  });

  test("durations", () => {
    expect(formatDuration(5)).toBe("5s");
    expect(formatDuration(125)).toBe("2m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(Infinity)).toBe("?");
  });
});
