// Capture stage: templated texts → engine → Arrow activation store, in chunks (memory stays flat),
// skipping rows already stored (resume) and keeping the partial file when interrupted.
import { basename } from "node:path";
import type { CaptureText } from "../data/pairs.js";
import { templateRecord, type PromptTemplate } from "../data/templates.js";
import type { Model } from "../engine/model.js";
import type { Session } from "../engine/session.js";
import { layerName, type LayerSite } from "../engine/layers.js";
import type { Progress } from "../progress/progress.js";
import { existsSync } from "node:fs";
import { inspectActivations, openActivationWriter, provenanceDifferences, ProvenanceMismatchError, sha256File, type ActivationWriter, type Provenance, type VectorType } from "../store/index.js";
import { VALUELENS_VERSION } from "../version.js";
import { throwIfAborted } from "../util/errors.js";

export interface CaptureToStoreOptions {
  model: Model;
  session: Session;
  texts: readonly CaptureText[];
  /** Every template the texts use (recorded by id and text in the provenance). */
  templates: readonly PromptTemplate[];
  layers: readonly LayerSite[];
  position?: "last" | "mean";
  out: string;
  vectorType?: VectorType;
  /** Continue an interrupted or finished file instead of starting over. */
  resume?: boolean;
  /** Texts per engine call (default 256): bounds memory, sets how often progress and the file advance. */
  chunkTexts?: number;
  split?: Provenance["split"];
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
  progress?: Progress;
  /** Awaited after each chunk is on disk (flushed): lets a caller pause between chunks. */
  afterChunk?: (done: number, total: number) => Promise<void> | void;
  /** After every chunk, captured or found stored: texts done so far, of `texts.length`, and how many were captured now. */
  onChunk?: (done: number, total: number, captured: number) => void;
  /**
   * A finished file (no .partial beside it) is final: it is checked against this capture's provenance and kept
   * as it is, instead of being copied to append nothing (run cells). Implies resume.
   */
  keepFinished?: boolean;
}

export interface CaptureToStoreResult {
  path: string;
  texts: number;
  /** Texts that were already stored (every requested layer) and not captured again. */
  skippedTexts: number;
  /** Rows (text × layer) the file held before this call (resume; 0 for a fresh file). */
  resumedRows: number;
  rowsWritten: number;
  tokens: number;
  seconds: number;
}

export async function modelProvenance(model: Model): Promise<Provenance["model"]> {
  return { file: basename(model.path), sha256: await sha256File(model.path), arch: model.arch, name: model.name, nLayer: model.nLayer, nEmbd: model.nEmbd };
}

export async function captureToStore(opts: CaptureToStoreOptions): Promise<CaptureToStoreResult> {
  const t0 = performance.now();
  const position = opts.position ?? "last";
  const names = opts.layers.map(layerName);
  const used = new Set(opts.texts.map((t) => t.template));
  for (const id of used) {
    if (!opts.templates.some((t) => t.id === id)) throw new Error(`capture: texts use template '${id}' that was not given`);
  }
  const provenance: Provenance = {
    kind: "activations",
    valuelensVersion: VALUELENS_VERSION,
    createdAt: new Date().toISOString(),
    model: await modelProvenance(opts.model),
    layerConvention: "hf-hidden-states",
    position,
    templates: templateRecord(opts.templates.filter((t) => used.has(t.id))),
    ...(opts.split ? { split: opts.split } : {}),
    // The layer list lets readers plan memory without a pass over the file.
    extra: { ...(opts.extra ?? {}), layers: names },
  };
  if (opts.keepFinished && existsSync(opts.out) && !existsSync(`${opts.out}.partial`)) {
    const info = await inspectActivations(opts.out);
    const diffs = provenanceDifferences(info.provenance, provenance);
    if (diffs.length > 0) throw new ProvenanceMismatchError(opts.out, diffs, `${opts.out} was captured with another setup:\n  ${diffs.join("\n  ")}\nuse a fresh --out`);
    const n = opts.texts.length;
    opts.onChunk?.(n, n, 0);
    return { path: opts.out, texts: n, skippedTexts: n, resumedRows: info.rows, rowsWritten: 0, tokens: 0, seconds: (performance.now() - t0) / 1000 };
  }
  const writer = await openActivationWriter(opts.out, { provenance, nEmbd: opts.model.nEmbd, vectorType: opts.vectorType ?? "float32", resume: (opts.resume ?? false) || opts.keepFinished === true });
  opts.progress?.start("capture", opts.texts.length, "texts", opts.texts.filter((t) => writer.hasAll(t, names)).length);
  let result: ChunkedCaptureResult;
  try {
    result = await captureChunks(writer, opts.session, opts.texts, opts.layers, {
      position,
      chunkTexts: opts.chunkTexts ?? 256,
      signal: opts.signal,
      onChunk: async (done, total, captured) => {
        opts.progress?.tick(captured);
        opts.onChunk?.(done, total, captured);
        if (captured > 0) await opts.afterChunk?.(done, total);
      },
    });
  } catch (e) {
    await writer.abort(); // keeps the .partial file: the next run with resume continues from it
    throw e;
  }
  await writer.close();
  opts.progress?.finish();
  return { path: opts.out, texts: opts.texts.length, skippedTexts: result.skippedTexts, resumedRows: writer.resumedRows, rowsWritten: result.rowsWritten, tokens: result.tokens, seconds: (performance.now() - t0) / 1000 };
}

export interface ChunkedCaptureResult {
  skippedTexts: number;
  rowsWritten: number;
  tokens: number;
}

/**
 * The capture loop of `captureToStore`. The texts are cut into fixed chunks of the whole
 * list: a text's activations depend (at float rounding, ~1e-5) on the texts sharing its decode, so a chunk with
 * any row missing is captured again whole (stored rows are kept, only missing rows written) and a resumed file is
 * bit-identical to an uninterrupted one. Each finished chunk is flushed, so a killed run loses at most one chunk.
 */
export async function captureChunks(
  writer: ActivationWriter,
  session: Session,
  texts: readonly CaptureText[],
  layers: readonly LayerSite[],
  opts: { position: "last" | "mean"; chunkTexts: number; signal?: AbortSignal; onChunk?: (done: number, total: number, captured: number) => Promise<void> | void },
): Promise<ChunkedCaptureResult> {
  const names = layers.map(layerName);
  const d = writer.nEmbd;
  let rows = 0;
  let tokens = 0;
  let skipped = 0;
  for (let i = 0; i < texts.length; i += opts.chunkTexts) {
    throwIfAborted(opts.signal);
    const part = texts.slice(i, i + opts.chunkTexts);
    const stored = part.filter((t) => writer.hasAll(t, names)).length;
    skipped += stored;
    if (stored === part.length) {
      await opts.onChunk?.(i + part.length, texts.length, 0);
      continue;
    }
    const acts = await session.capture(
      part.map((t) => t.text),
      { layers, position: opts.position, signal: opts.signal },
    );
    tokens += acts.decodedTokens;
    for (const [li, layer] of layers.entries()) {
      const keep = part.map((t, j) => ({ t, j })).filter(({ t }) => !writer.has({ ...t, layer: names[li] }));
      if (keep.length === 0) continue;
      const all = acts.layer(layer);
      const vectors = keep.length === part.length ? all : new Float32Array(keep.length * d);
      if (vectors !== all) keep.forEach(({ j }, r) => vectors.set(all.subarray(j * d, (j + 1) * d), r * d));
      await writer.append({
        itemId: keep.map(({ t }) => t.itemId),
        concept: keep.map(({ t }) => t.concept),
        lang: keep.map(({ t }) => t.lang),
        side: keep.map(({ t }) => t.side),
        split: keep.map(({ t }) => t.split),
        template: keep.map(({ t }) => t.template),
        layer: names[li],
        tokenCount: Int32Array.from(keep, ({ j }) => acts.tokenCounts[j]),
        vectors,
      });
      rows += keep.length;
    }
    await writer.flush();
    await opts.onChunk?.(i + part.length, texts.length, part.length - stored);
  }
  return { skippedTexts: skipped, rowsWritten: rows, tokens };
}
