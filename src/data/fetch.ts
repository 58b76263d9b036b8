// `valuelens data fetch`: downloads canonical copies of the datasets into a cache folder, verifying every
// file's sha256 before it is moved into place (a failed or interrupted download never leaves a bad file).
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ADAPTERS } from "./adapters.js";
import { DATASET_FILES, type DatasetFile } from "./fetch-registry.js";
import { isAbortError, toAbortError } from "../util/errors.js";

/** Raw-file host of the repositories; a mirror with the same `<repo>/<commit>/<path>` layout can replace it. */
export const DEFAULT_MIRROR = "https://raw.githubusercontent.com";

export interface FetchOptions {
  /** Data root to fill (the folder `--data-root` then points at). */
  cacheDir: string;
  mirror?: string;
  /** Download again even when a verified copy exists. */
  force?: boolean;
  signal?: AbortSignal;
  onFile?: (f: DatasetFile, status: "cached" | "downloaded") => void;
}

export interface FetchResult {
  dataset: string;
  files: number;
  downloaded: number;
  cached: number;
  bytes: number;
}

/** The files a dataset adapter (or a bare folder name) needs. */
export function datasetFiles(name: string): DatasetFile[] {
  const dirs = ADAPTERS[name]?.dirs ?? (DATASET_FILES.some((f) => f.dir === name) ? [name] : null);
  if (!dirs) throw new Error(`unknown dataset '${name}' (valid: ${[...Object.keys(ADAPTERS)].join(", ")})`);
  const files = DATASET_FILES.filter((f) => dirs.includes(f.dir));
  if (files.length === 0) throw new Error(`dataset '${name}' has no downloadable files (folders: ${dirs.join(", ")})`);
  return files;
}

async function sha256(path: string): Promise<string | null> {
  try {
    return createHash("sha256").update(await readFile(path)).digest("hex");
  } catch {
    return null;
  }
}

export function fileUrl(f: DatasetFile, mirror = DEFAULT_MIRROR): string {
  const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");
  return `${mirror.replace(/\/+$/, "")}/${f.repo}/${f.commit}/${enc(f.path)}`;
}

/** What went wrong under undici's bare "fetch failed": the cause's code and message (DNS, refused, TLS, ...). */
export function networkCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "AbortError") return "aborted";
  const cause = (e as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return e.message;
}

export async function fetchDataset(name: string, opts: FetchOptions): Promise<FetchResult> {
  const files = datasetFiles(name);
  let downloaded = 0;
  let cached = 0;
  let bytes = 0;
  for (const f of files) {
    const dest = join(opts.cacheDir, f.dir, f.file);
    if (!opts.force && (await sha256(dest)) === f.sha256) {
      cached++;
      opts.onFile?.(f, "cached");
      continue;
    }
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.download-${process.pid}`;
    const url = fileUrl(f, opts.mirror);
    try {
      const res = await fetch(url, { signal: opts.signal }).catch((e: unknown) => {
        if (isAbortError(e)) throw toAbortError(e);
        throw new Error(`cannot download ${url}: ${networkCause(e)} (offline or blocked? point --mirror / VALUELENS_DATA_MIRROR at a reachable copy)`);
      });
      if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
      const hash = createHash("sha256");
      let n = 0;
      const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
      body.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        n += chunk.length;
      });
      await pipeline(body, createWriteStream(tmp));
      const got = hash.digest("hex");
      if (got !== f.sha256) throw new Error(`${url}: checksum mismatch (expected sha256 ${f.sha256}, got ${got}, ${n} bytes)`);
      await rename(tmp, dest);
      downloaded++;
      bytes += n;
      opts.onFile?.(f, "downloaded");
    } catch (e) {
      await rm(tmp, { force: true });
      throw toAbortError(e); // the platform's AbortError (fetch, the body stream) as the one AbortError
    }
  }
  return { dataset: name, files: files.length, downloaded, cached, bytes };
}

/** True when every file of the dataset is present and verified under `root`. */
export async function datasetPresent(name: string, root: string): Promise<boolean> {
  for (const f of datasetFiles(name)) {
    try {
      if ((await stat(join(root, f.dir, f.file))).size !== f.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}
