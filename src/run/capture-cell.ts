// Capture of one cell into its activation store, resumable and reproducible to the bit.
//
// The chunked loop (pipeline/capture.ts captureChunks) makes an interrupted and resumed cell bit-identical to an
// uninterrupted one; this adds the cell's provenance and its check of an already finished file.
import { existsSync } from "node:fs";
import type { CaptureText } from "../data/pairs.js";
import { templateRecord, type PromptTemplate } from "../data/templates.js";
import { layerName, type LayerSite } from "../engine/layers.js";
import type { Model } from "../engine/model.js";
import type { Session } from "../engine/session.js";
import { captureChunks, modelProvenance, type ChunkedCaptureResult } from "../pipeline/capture.js";
import { inspectActivations, openActivationWriter, provenanceDifferences, type Provenance, type VectorType } from "../store/index.js";
import { VALUELENS_VERSION } from "../version.js";

export interface CaptureCellOptions {
  model: Model;
  session: Session;
  texts: readonly CaptureText[];
  template: PromptTemplate;
  layers: readonly LayerSite[];
  position: "last" | "mean";
  out: string;
  vectorType: VectorType;
  chunkTexts: number;
  split: NonNullable<Provenance["split"]>;
  extra: Record<string, unknown>;
  signal?: AbortSignal;
  /** After every chunk (captured or found stored): texts done so far, of `texts.length`. */
  onChunk?: (done: number, total: number, captured: number) => void;
}

export interface CaptureCellResult {
  texts: number;
  /** Texts found stored (resume). */
  skippedTexts: number;
  rowsWritten: number;
  tokens: number;
  seconds: number;
}

export async function captureCell(opts: CaptureCellOptions): Promise<CaptureCellResult> {
  const t0 = performance.now();
  const names = opts.layers.map(layerName);
  const provenance: Provenance = {
    kind: "activations",
    valuelensVersion: VALUELENS_VERSION,
    createdAt: new Date().toISOString(),
    model: await modelProvenance(opts.model),
    layerConvention: "hf-hidden-states",
    position: opts.position,
    templates: templateRecord([opts.template]),
    split: opts.split,
    extra: { ...opts.extra, layers: names, chunkTexts: opts.chunkTexts },
  };
  // A finished file is final: check it belongs to this run instead of copying it to append nothing.
  if (existsSync(opts.out) && !existsSync(`${opts.out}.partial`)) {
    const info = await inspectActivations(opts.out);
    const diffs = provenanceDifferences(info.provenance, provenance);
    if (diffs.length > 0) throw new Error(`${opts.out} was captured with another setup:\n  ${diffs.join("\n  ")}\nuse a fresh --out`);
    opts.onChunk?.(opts.texts.length, opts.texts.length, 0);
    return { texts: opts.texts.length, skippedTexts: opts.texts.length, rowsWritten: 0, tokens: 0, seconds: (performance.now() - t0) / 1000 };
  }
  const writer = await openActivationWriter(opts.out, { provenance, nEmbd: opts.model.nEmbd, vectorType: opts.vectorType, resume: true });
  let r: ChunkedCaptureResult;
  try {
    r = await captureChunks(writer, opts.session, opts.texts, opts.layers, { position: opts.position, chunkTexts: opts.chunkTexts, signal: opts.signal, onChunk: opts.onChunk });
  } catch (e) {
    await writer.abort(); // keeps the .partial file for the next run
    throw e;
  }
  await writer.close();
  return { texts: opts.texts.length, skippedTexts: r.skippedTexts, rowsWritten: r.rowsWritten, tokens: r.tokens, seconds: (performance.now() - t0) / 1000 };
}
