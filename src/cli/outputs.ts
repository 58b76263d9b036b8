// Claiming a command's outputs before any work: right kind of path, parents created, locked, and a finished
// output kept unless --force (or continued with --resume where the command can).
import { existsSync } from "node:fs";
import { lockOutput, OutputError, prepareOutput, refuseExisting, type OutputKind, type OutputLock } from "../util/output.js";

export interface ClaimOptions {
  kind: OutputKind;
  /** The flag the path came from, for errors. */
  flag?: string;
  force?: boolean;
  resume?: boolean;
  /** The command can continue an existing output with --resume. */
  canResume?: boolean;
  /** What an existing output is, for the error ("a finished activation file"). */
  what?: string;
  /** Other paths whose existence also means "there is an output here" (e.g. FILE.partial). */
  also?: readonly string[];
  /** A folder output counts as existing only when one of these files is in it (default: any entry). */
  marker?: (path: string) => boolean;
}

export async function claimOutput(path: string, opts: ClaimOptions): Promise<OutputLock> {
  const flag = opts.flag ?? "--out";
  await prepareOutput(path, opts.kind, flag);
  const lock = await lockOutput(path);
  try {
    const present = opts.kind === "dir" ? (opts.marker ? opts.marker(path) : false) : existsSync(path);
    if (present) await refuseExisting(path, { force: opts.force, resume: opts.resume, flag, what: opts.what, canResume: opts.canResume });
    for (const p of opts.also ?? []) {
      if (existsSync(p) && !opts.force && !opts.resume) {
        const how = opts.canResume ? "--resume to continue it or --force to start over" : "--force to start over";
        throw new OutputError(`${flag} ${path}: ${p} is left from an interrupted run; use ${how}`);
      }
    }
  } catch (e) {
    await lock.release();
    throw e;
  }
  return lock;
}
