// Small helpers shared by CLI commands: strict flag parsing with clear errors, number parsing.
import { parseArgs, type ParseArgsConfig } from "node:util";

// The one UsageError (code VALUELENS_USAGE), re-exported for the commands.
export { UsageError } from "../util/errors.js";
import { UsageError } from "../util/errors.js";

export function intFlag(name: string, value: string | undefined, dflt?: number, min = Number.MIN_SAFE_INTEGER): number {
  if (value === undefined) {
    if (dflt === undefined) throw new UsageError(`--${name} is required`);
    return dflt;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ""} (got '${value}')`);
  return n;
}

export function numFlag(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got '${value}')`);
  return n;
}

export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(", ")} (got '${value}'${didYouMean(value, choices)})`);
  return value as T;
}

export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

// ---------------------------------------------------------------------------------------------------------
// Commands described by one table: the parser and the help text are both generated from it.

export interface FlagSpec {
  type: "string" | "boolean";
  /** Placeholder of the value in help ("N", "FILE"); string flags only. */
  arg?: string;
  /** Help text; "\n" starts a continuation line. */
  help: string;
  multiple?: boolean;
}

export type FlagTable = Record<string, FlagSpec>;

export interface CommandSpec<F extends FlagTable = FlagTable> {
  name: string;
  /** Everything after `valuelens NAME` on the usage line. */
  synopsis: string;
  /** Paragraph under the usage line. */
  about?: string;
  flags: F;
  /** Extra lines after the flag list (examples, notes). */
  notes?: string;
}

export type FlagValues<F extends FlagTable> = {
  [K in keyof F]?: F[K]["type"] extends "boolean" ? boolean : F[K]["multiple"] extends true ? string[] : string;
};

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest of `choices` to `value`, if close enough to be a likely typo. */
export function closest(value: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = editDistance(value.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  // A third of the word (at least 1, at most 3 edits), or one a prefix of the other.
  const limit = Math.min(3, Math.max(1, Math.floor(value.length / 3)));
  if (best !== undefined && (bestD <= limit || (value.length >= 3 && best.startsWith(value)))) return best;
  return undefined;
}

export function didYouMean(value: string, choices: readonly string[], prefix = ""): string {
  const c = closest(value, choices);
  return c === undefined ? "" : `; did you mean ${prefix}${c}?`;
}

/** The help of one command, generated from its flag table. */
export function commandHelp(spec: CommandSpec): string {
  const left = Object.entries(spec.flags).map(([name, f]) => `--${name}${f.type === "string" ? ` ${f.arg ?? "X"}` : ""}`);
  const width = Math.min(26, Math.max(...left.map((l) => l.length), 8)) + 2;
  const lines = [`usage: valuelens ${spec.name} ${spec.synopsis}`];
  if (spec.about) lines.push(...spec.about.split("\n").map((l) => `  ${l}`));
  lines.push("", "options:");
  Object.values(spec.flags).forEach((f, i) => {
    const [first, ...more] = f.help.split("\n");
    const l = left[i];
    if (l.length + 2 > width) lines.push(`  ${l}`, `  ${" ".repeat(width)}${first}`);
    else lines.push(`  ${l.padEnd(width)}${first}`);
    for (const m of more) lines.push(`  ${" ".repeat(width)}${m}`);
  });
  lines.push(`  ${"--help".padEnd(width)}this help`);
  if (spec.notes) lines.push("", ...spec.notes.split("\n"));
  return lines.join("\n");
}

/**
 * Parse argv against a command's table. Unknown flags get a "did you mean"; a missing value names the flag
 * and the value it wants. Errors are UsageErrors that point at `valuelens help NAME` instead of repeating it.
 */
export function parseCommand<F extends FlagTable>(spec: CommandSpec<F>, rawArgv: string[]): { values: FlagValues<F>; positionals: string[] } {
  const names = Object.keys(spec.flags);
  const see = `(valuelens help ${spec.name} lists the options)`;
  // node:util parseArgs refuses "--gpu-layers -1" as ambiguous: a negative number after a string flag is its value.
  const argv: string[] = [];
  for (let i = 0; i < rawArgv.length; i++) {
    const a = rawArgv[i];
    const f = a.startsWith("--") && !a.includes("=") ? spec.flags[a.slice(2)] : undefined;
    if (f?.type === "string" && i + 1 < rawArgv.length && /^-[\d.]/.test(rawArgv[i + 1])) argv.push(`${a}=${rawArgv[++i]}`);
    else argv.push(a);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    const name = a.replace(/^--?/, "").split("=")[0];
    if (!names.includes(name)) throw new UsageError(`unknown option ${a.split("=")[0]}${didYouMean(name, names, "--")} ${see}`);
    if (spec.flags[name].type === "string" && !a.includes("=")) i++; // its value, whatever it looks like
  }
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}) };
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: r.values as FlagValues<F>, positionals: r.positionals };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const m = /'(--[\w-]+)/.exec(err.message);
    const flag = m ? spec.flags[m[1].slice(2)] : undefined;
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && m && flag) {
      throw new UsageError(flag.type === "string" ? `${m[1]} needs a value (${flag.arg ?? "X"}) ${see}` : `${m[1]} takes no value ${see}`);
    }
    throw new UsageError(`${err.message} ${see}`);
  }
}

/** A required flag's value, or a usage error naming it. */
export function required<T>(value: T | undefined, flag: string, what?: string): T {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required${what ? ` (${what})` : ""}`);
  return value;
}

/** Check a list flag's values against the valid ones: names the bad value, the valid ones and the flag. */
export function checkChoices(flag: string, values: readonly string[] | undefined, valid: readonly string[], what = "value"): void {
  for (const v of values ?? []) {
    if (!valid.includes(v)) throw new UsageError(`${flag}: unknown ${what} '${v}'${didYouMean(v, valid)} (valid: ${valid.join(", ")})`);
  }
}
