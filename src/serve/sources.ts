// What the command line names: model files (loaded in the background, progress visible in the page) and vector
// sources (a vectors.arrow file, or a run folder with vectors.arrow files and, for residual scaling, activations).
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { loadModel, type Model } from "../engine/model.js";
import type { Session, SessionOptions } from "../engine/session.js";
import { readVectors, type VectorFile } from "../store/index.js";
import { residualNorms } from "../steer/steer.js";
import { EngineQueue } from "./queue.js";

export interface ModelSlot {
  name: string;
  path: string;
  state: "loading" | "ready" | "error";
  error?: string;
  model?: Model;
  session?: Session;
  queue: EngineQueue;
}

export interface VectorSource {
  name: string;
  path: string;
  vectors: VectorFile;
  /** activations.arrow next to the vectors, for scale "residual" (norms measured on first use). */
  activations?: string;
  /** Residual norms, measured once (the first measurement of a large activation file takes seconds). */
  norms?: Promise<Map<string, number>>;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** vectors.arrow files named directly, or found in a run folder and its immediate subfolders. */
export async function findVectorFiles(path: string): Promise<string[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw Object.assign(new Error(`'${path}' does not exist`), { code: "NO_SUCH_FILE" });
  if (st.isFile()) return [path];
  const out: string[] = [];
  if (await isFile(join(path, "vectors.arrow"))) out.push(join(path, "vectors.arrow"));
  for (const e of (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, e.name, "vectors.arrow");
    if (await isFile(p)) out.push(p);
  }
  return out;
}

export async function loadVectorSources(paths: readonly string[]): Promise<VectorSource[]> {
  const out: VectorSource[] = [];
  for (const p of paths) {
    for (const f of await findVectorFiles(p)) {
      const acts = join(dirname(f), "activations.arrow");
      const name = basename(f) === "vectors.arrow" ? basename(dirname(f)) : basename(f, ".arrow");
      out.push({ name, path: f, vectors: await readVectors(f), ...((await isFile(acts)) ? { activations: acts } : {}) });
    }
  }
  return out;
}

export async function normsOf(src: VectorSource): Promise<Map<string, number> | undefined> {
  if (!src.activations) return undefined;
  src.norms ??= residualNorms(src.activations);
  return src.norms;
}

export function modelSlots(paths: readonly string[], maxWaiting: number): ModelSlot[] {
  const taken = new Set<string>();
  return paths.map((path) => {
    let name = basename(path, ".gguf");
    for (let i = 2; taken.has(name); i++) name = `${basename(path, ".gguf")}-${i}`;
    taken.add(name);
    return { name, path, state: "loading", queue: new EngineQueue(maxWaiting) };
  });
}

/** Loads each model and opens its one session; a failure is kept on the slot and shown in the page. */
export async function loadSlots(slots: readonly ModelSlot[], session: SessionOptions): Promise<void> {
  for (const s of slots) {
    try {
      s.model = await loadModel(s.path);
      s.session = await s.model.createSession(session);
      s.state = "ready";
    } catch (e) {
      s.state = "error";
      s.error = e instanceof Error ? e.message : String(e);
    }
  }
}

/** The vector source for a model: the one named, else the first whose provenance names the model file, else the first of its width. */
export function vectorSourceFor(sources: readonly VectorSource[], slot: ModelSlot, wanted?: string): VectorSource | undefined {
  if (wanted) return sources.find((s) => s.name === wanted);
  const nEmbd = slot.model?.nEmbd;
  const fits = sources.filter((s) => nEmbd === undefined || s.vectors.nEmbd === nEmbd);
  return fits.find((s) => s.vectors.provenance.model?.file !== undefined && basename(s.vectors.provenance.model.file) === basename(slot.path)) ?? fits[0];
}
