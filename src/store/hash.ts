// Streamed sha256 of model files for provenance, cached per (path, size, mtime) so repeated runs in one process
// do not re-hash multi-GB files.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";

const cache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** Lowercase hex sha256 of a file's contents. */
export async function sha256File(path: string): Promise<string> {
  const real = await realpath(path);
  const st = await stat(real);
  const hit = cache.get(real);
  if (hit !== undefined && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(real, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest("hex");
  cache.set(real, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** Forget cached hashes (tests, or files rewritten within the mtime granularity). */
export function clearSha256Cache(): void {
  cache.clear();
}
