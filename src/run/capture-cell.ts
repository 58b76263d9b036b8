// Capture of one cell into its activation store, resumable and reproducible to the bit.
//
// llama.cpp's results for a text depend (at ~1e-5) on which other texts share its decode, so a resumed capture
// must re-form the same decodes. captureToStore re-batches only the missing texts; here the texts are cut into
// fixed chunks once, and a chunk with any row missing is captured again whole (its stored rows are kept, only
// missing rows are written). An interrupted and resumed cell is then bit-identical to an uninterrupted one.
import { existsSync } from "node:fs";
import type { CaptureText } from "../data/pairs.js";
import { templateRecord, type PromptTemplate } from "../data/templates.js";
import { layerName, type LayerSite } from "../engine/layers.js";
import type { Model } from "../engine/model.js";
import type { Session } from "../engine/session.js";
import { modelProvenance } from "../pipeline/capture.js";
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
  const d = opts.model.nEmbd;
  let rows = 0;
  let tokens = 0;
  let skipped = 0;
  try {
    for (let i = 0; i < opts.texts.length; i += opts.chunkTexts) {
      opts.signal?.throwIfAborted();
      const part = opts.texts.slice(i, i + opts.chunkTexts);
      const missing = part.filter((t) => !writer.hasAll(t, names)).length;
      if (missing === 0) {
        skipped += part.length;
        opts.onChunk?.(i + part.length, opts.texts.length, 0);
        continue;
      }
      const acts = await opts.session.capture(
        part.map((t) => t.text),
        { layers: opts.layers, position: opts.position, signal: opts.signal },
      );
      tokens += acts.decodedTokens;
      for (const [li, layer] of opts.layers.entries()) {
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
      // Flush per chunk, so an interrupted file ends on a chunk boundary more often (less to redo).
      await writer.flush();
      opts.onChunk?.(i + part.length, opts.texts.length, part.length);
    }
  } catch (e) {
    await writer.abort(); // keeps the .partial file for the next run
    throw e;
  }
  await writer.close();
  return { texts: opts.texts.length, skippedTexts: skipped, rowsWritten: rows, tokens, seconds: (performance.now() - t0) / 1000 };
}
