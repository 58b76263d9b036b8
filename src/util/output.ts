// Every output valuelens writes goes through here: checked before any work, locked against a second writer,
// written to a temporary file, fsynced and renamed, so a reader never sees half a file and a crash never
// leaves a torn one.
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { access, constants, mkdir, open, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { ValuelensError, type ErrorCode } from "./errors.js";

/** An output cannot be used as asked: exists, wrong kind, not writable, locked. */
export class OutputError extends ValuelensError {
  constructor(message: string, code: ErrorCode = "VALUELENS_OUTPUT") {
    super(code, message);
  }
}

/** Who holds an output's lock: enough for a person to find the process. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Random per lock, so a release never removes a lock someone else took over. */
  token: string;
}

export class OutputLockedError extends OutputError {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${path} is being written by another valuelens process (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}: ${holder.command}); ` +
        `wait for it to finish or stop it — if it is gone, remove ${lockPath(path)}`,
      "VALUELENS_LOCKED",
    );
  }
}

/** fsync a directory so a rename in it survives a crash (a no-op where directories cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Windows cannot open directories; the rename is as durable as the platform allows.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export type FileContent = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Temp file in the same directory (same filesystem, so the rename is atomic), fsync, rename, fsync the directory. */
export async function writeFileAtomic(path: string, content: FileContent): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const chunks = typeof content === "string" ? [new TextEncoder().encode(content)] : content instanceof Uint8Array ? [content] : content;
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "w");
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + "\n");
}

// ---------------------------------------------------------------------------------------------------------
// Checks before any work

export type OutputKind = "file" | "dir";

async function kindOf(path: string): Promise<OutputKind | "other" | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch {
    return null;
  }
}

/**
 * Check an output path before any work: not the wrong kind of thing, its parent folders created, writable.
 * `flag` names the option it came from in errors (e.g. "--out").
 */
export async function prepareOutput(path: string, kind: OutputKind, flag = "--out"): Promise<void> {
  const what = await kindOf(path);
  if (what !== null && what !== kind) {
    throw new OutputError(`${flag} ${path} is ${what === "dir" ? "a directory" : what === "file" ? "a file" : "not a regular file"}; give ${kind === "file" ? "a file path" : "a folder"}`);
  }
  const parent = dirname(resolve(path));
  const parentKind = await kindOf(parent);
  if (parentKind !== null && parentKind !== "dir") throw new OutputError(`${flag} ${path}: ${parent} is not a folder`);
  try {
    await mkdir(kind === "dir" ? path : parent, { recursive: true });
  } catch (e) {
    throw new OutputError(`${flag} ${path}: cannot create ${kind === "dir" ? "the folder" : parent} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    await access(kind === "dir" ? path : parent, constants.W_OK);
  } catch {
    throw new OutputError(`${flag} ${path}: ${kind === "dir" ? path : parent} is not writable`);
  }
}

/**
 * A finished output is never replaced silently: throws unless `force` (replace) or `resume` (continue it).
 * `describe` says what is there, e.g. "a finished activation file".
 */
export async function refuseExisting(path: string, opts: { force?: boolean; resume?: boolean; flag?: string; what?: string; canResume?: boolean }): Promise<void> {
  if (opts.force || opts.resume) return;
  if ((await kindOf(path)) === null) return;
  const how = opts.canResume ? "--resume to continue it or --force to replace it" : "--force to replace it, or another " + (opts.flag ?? "--out");
  throw new OutputError(`${opts.flag ?? "--out"} ${path} already exists${opts.what ? ` (${opts.what})` : ""}; use ${how}`);
}

// ---------------------------------------------------------------------------------------------------------
// Exclusive locks: `<output>.lock`, created with O_EXCL, holding who wrote it

export function lockPath(output: string): string {
  return `${resolve(output)}.lock`;
}

/** Locks this process holds, by lock path: nested writers of one output (a command and the store it calls) share it. */
const held = new Map<string, { holder: LockHolder; count: number }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A second Ctrl-C calls process.exit: no finally blocks run, so drop our lock files here.
  process.on("exit", () => {
    for (const [p, h] of held) releaseSync(p, h.holder.token);
  });
}

function releaseSync(path: string, token: string): void {
  try {
    const cur = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    if (cur.token === token) unlinkSync(path);
  } catch {
    // Already gone or replaced: nothing of ours to remove.
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const h = JSON.parse(await readFile(path, "utf8")) as LockHolder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

export interface OutputLock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** The command line of this process, as a lock records it. */
export function currentCommand(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)));
  return ["valuelens", ...args].join(" ");
}

/**
 * Take the exclusive lock of an output (file or folder) for this process. A second process gets an
 * OutputLockedError naming the holder; a lock left by a dead process on this host is taken over.
 */
export async function lockOutput(output: string, command = currentCommand()): Promise<OutputLock> {
  const path = lockPath(output);
  const mine = held.get(path);
  if (mine) {
    mine.count++;
    return handle(path, mine.holder);
  }
  await mkdir(dirname(path), { recursive: true });
  const holder: LockHolder = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString(), token: randomBytes(8).toString("hex") };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, JSON.stringify(holder) + "\n");
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new OutputError(`cannot lock ${output}: ${(e as Error).message}`);
    }
    const other = await readHolder(path);
    if (other === null) {
      // Created but not yet written by its owner (or garbage): give the owner a moment, then treat it as stale.
      if (attempt < 20) {
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
    } else if (other.host !== holder.host || processAlive(other.pid)) {
      throw new OutputLockedError(output, other);
    }
    if (attempt > 40) throw new OutputError(`cannot lock ${output}: ${path} keeps reappearing`);
    await rm(path, { force: true }); // stale: its process is gone
  }
  installExitHook();
  held.set(path, { holder, count: 1 });
  return handle(path, holder);
}

function handle(path: string, holder: LockHolder): OutputLock {
  let released = false;
  return {
    path,
    holder,
    async release() {
      if (released) return;
      released = true;
      const h = held.get(path);
      if (!h || --h.count > 0) return;
      held.delete(path);
      releaseSync(path, holder.token);
    },
  };
}

/** Run `fn` holding the lock of `output`. */
export async function withOutputLock<T>(output: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockOutput(output);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
