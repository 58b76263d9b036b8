// An outcome from a classifier the user provides (e.g. a toxicity model in Python): any command that reads JSON
// lines {"id","lang","text"} on stdin and writes one line per input, a number in [0, 1] or {"score": x}, in order.
// The refusal judge cannot measure toxicity; a separate judge that is not the steered model can.
import { spawn } from "node:child_process";
import { AbortError, ValuelensError } from "../../util/errors.js";

export interface TextClassifier {
  /** Name recorded with the results (e.g. the command). */
  readonly name: string;
  /** One score in [0, 1] per text, in order. */
  score(items: ReadonlyArray<{ id: string; lang: string; text: string }>, opts?: { signal?: AbortSignal }): Promise<number[]>;
}

/** A user classifier that failed: non-zero exit, wrong number of lines, or a score outside [0, 1]. */
export class ClassifierError extends ValuelensError {
  constructor(message: string) {
    super("VALUELENS_CLASSIFIER", message);
  }
}

function parseScore(line: string, i: number, name: string): number {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ClassifierError(`classifier '${name}': output line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
  }
  const x = typeof v === "number" ? v : typeof v === "object" && v !== null && typeof (v as { score?: unknown }).score === "number" ? (v as { score: number }).score : NaN;
  if (!(x >= 0 && x <= 1)) throw new ClassifierError(`classifier '${name}': output line ${i + 1} is not a score in [0, 1]: ${line.slice(0, 80)}`);
  return x;
}

/**
 * A classifier run as a shell command, once per call (a batch of texts). Its stderr is passed through in errors;
 * a non-zero exit, a wrong number of lines or a bad score is an error naming the command.
 */
export function commandClassifier(command: string): TextClassifier {
  if (command.trim() === "") throw new ClassifierError("classifier: empty command");
  return {
    name: command,
    score: (items, opts = {}) =>
      new Promise<number[]>((resolve, reject) => {
        if (items.length === 0) return resolve([]);
        const child = spawn(command, { shell: true, stdio: ["pipe", "pipe", "pipe"], signal: opts.signal });
        let out = "";
        let err = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
        child.on("error", (e) => reject(e.name === "AbortError" ? new AbortError(undefined, { cause: e }) : new ClassifierError(`classifier '${command}': ${e.message}`)));
        // The command may exit before reading everything; its exit status says what went wrong.
        child.stdin.on("error", () => undefined);
        child.on("close", (code) => {
          if (code !== 0) return reject(new ClassifierError(`classifier '${command}' exited with ${code}${err.trim() ? `: ${err.trim().slice(-500)}` : ""}`));
          const lines = out.split("\n").filter((l) => l.trim() !== "");
          if (lines.length !== items.length) return reject(new ClassifierError(`classifier '${command}': ${lines.length} output lines for ${items.length} texts`));
          try {
            resolve(lines.map((l, i) => parseScore(l, i, command)));
          } catch (e) {
            reject(e);
          }
        });
        child.stdin.end(items.map((it) => JSON.stringify({ id: it.id, lang: it.lang, text: it.text })).join("\n") + "\n");
      }),
  };
}
