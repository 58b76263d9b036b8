// Capture stage: templated texts → engine → Arrow activation store, in chunks (memory stays flat),
// skipping rows already stored (resume) and keeping the partial file when interrupted.
import { basename } from "node:path";
import type { CaptureText } from "../data/pairs.js";
import { templateRecord, type PromptTemplate } from "../data/templates.js";
import type { Model } from "../engine/model.js";
import type { Session } from "../engine/session.js";
import { layerName, type LayerSite } from "../engine/layers.js";
import type { Progress } from "../progress/progress.js";
import { openActivationWriter, sha256File, type Provenance, type VectorType } from "../store/index.js";
import { VALUELENS_VERSION } from "../version.js";

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
}

export interface CaptureToStoreResult {
  path: string;
  texts: number;
  /** Texts that were already stored and not captured again. */
  skippedTexts: number;
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
  const writer = await openActivationWriter(opts.out, { provenance, nEmbd: opts.model.nEmbd, vectorType: opts.vectorType ?? "float32", resume: opts.resume ?? false });
  // Fixed chunks of the whole text list: a text's activations depend (at float rounding) on the texts sharing
  // its decode, so a resumed run recaptures an incomplete chunk whole and stays identical to an uninterrupted one.
  const chunk = opts.chunkTexts ?? 256;
  const stored = opts.texts.map((t) => writer.hasAll(t, names));
  const skipped = stored.filter(Boolean).length;
  opts.progress?.start("capture", opts.texts.length, "texts", skipped);
  let rows = 0;
  let tokens = 0;
  try {
    for (let i = 0; i < opts.texts.length; i += chunk) {
      if (stored.slice(i, i + chunk).every(Boolean)) continue;
      const part = opts.texts.slice(i, i + chunk);
      const acts = await opts.session.capture(
        part.map((t) => t.text),
        { layers: opts.layers, position, signal: opts.signal },
      );
      tokens += acts.decodedTokens;
      for (const [li, layer] of opts.layers.entries()) {
        // Rows of this chunk already stored (before an interruption) are kept, not written twice.
        const keep = part.map((t, j) => ({ t, j })).filter(({ t }) => !writer.has({ ...t, layer: names[li] }));
        if (keep.length === 0) continue;
        const d = opts.model.nEmbd;
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
      // Every finished chunk reaches the disk, so a killed run loses at most the chunk in flight.
      await writer.flush();
      opts.progress?.tick(part.filter((_, j) => !stored[i + j]).length);
    }
  } catch (e) {
    await writer.abort(); // keeps the .partial file: the next run with resume continues from it
    throw e;
  }
  await writer.close();
  opts.progress?.finish();
  return { path: opts.out, texts: opts.texts.length, skippedTexts: skipped, rowsWritten: rows, tokens, seconds: (performance.now() - t0) / 1000 };
}
