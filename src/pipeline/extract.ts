// Extraction stage: activation file (train split) → one vector per (concept, lang, layer, method) → vector file.
import { extract, randomCellSeed, type ExtractMethod, type ExtractOptionsMap } from "../extract/index.js";
import type { Progress } from "../progress/progress.js";
import { inspectActivations, readActivations, writeVectors, type Provenance, type VectorRow } from "../store/index.js";
import { VALUELENS_VERSION } from "../version.js";
import { collectPairs, layerGroups, storedLayers } from "./matrices.js";
import { missingData, MissingDataError } from "./sources.js";

/** Concepts and languages of an activation file (one pass over its rows). */
export async function storeLabels(path: string): Promise<{ concepts: string[]; langs: string[] }> {
  const concepts = new Set<string>();
  const langs = new Set<string>();
  for await (const b of readActivations(path)) {
    for (const c of b.concept) concepts.add(c);
    for (const l of b.lang) langs.add(l);
  }
  return { concepts: [...concepts].sort(), langs: [...langs].sort() };
}

export interface ExtractToStoreOptions {
  activations: string;
  out: string;
  methods: readonly ExtractMethod[];
  /** Layers to extract (default: every stored layer). */
  layers?: readonly string[];
  concepts?: readonly string[];
  langs?: readonly string[];
  /**
   * Seed of PCA pair ordering and logistic init (default 1). The random baseline combines it with the cell
   * (model sha256, concept, lang, layer; see randomCellSeed), so every cell gets its own draw.
   */
  seed?: number;
  methodOptions?: { [M in ExtractMethod]?: ExtractOptionsMap[M] };
  /** Bytes of activations held at once (default 1 GiB); layers are processed in groups that fit. */
  memoryBudget?: number;
  progress?: Progress;
}

export interface ExtractToStoreResult {
  path: string;
  vectors: number;
  layers: number;
  /** (concept, lang) cells with no training pairs, skipped. */
  empty: string[];
  seconds: number;
}

export async function extractVectors(opts: Omit<ExtractToStoreOptions, "out">): Promise<{ rows: VectorRow[]; provenance: Provenance; empty: string[]; layers: string[] }> {
  const info = await inspectActivations(opts.activations);
  const all = await storedLayers(opts.activations);
  const layers = opts.layers ? opts.layers.map(String) : all;
  for (const l of layers) if (!all.includes(l)) throw new Error(`layer ${l} is not in ${opts.activations} (stored: ${all.join(", ")})`);
  const groups = layerGroups(layers, info.rows / Math.max(1, all.length), info.nEmbd, opts.memoryBudget ?? 2 ** 30);
  const rows: VectorRow[] = [];
  const empty = new Set<string>();
  opts.progress?.start("extract", layers.length, "layers");
  for (const group of groups) {
    const tree = await collectPairs(opts.activations, { layers: group, splits: ["train"], concepts: opts.concepts, langs: opts.langs });
    for (const [concept, byLang] of tree) {
      for (const [lang, bySplit] of byLang) {
        const train = bySplit.get("train");
        for (const layer of group) {
          const pairs = train?.get(layer);
          if (!pairs || pairs.itemIds.length === 0) {
            empty.add(`${concept}/${lang}`);
            continue;
          }
          for (const method of opts.methods) {
            const base = opts.seed ?? 1;
            const seed = method === "random" ? randomCellSeed(base, { model: info.provenance.model.sha256, concept, lang, layer }) : base;
            const v = extract(method, pairs, { ...(opts.methodOptions?.[method] ?? {}), seed });
            rows.push({ concept, lang, layer, method, unit: v.unit, raw: v.raw, sign: v.sign, explainedVariance: v.explainedVariance ?? null, nTrain: v.nTrain });
          }
        }
      }
    }
    opts.progress?.tick(group.length);
  }
  opts.progress?.finish();
  const missing = missingData(rows.map((r) => ({ concept: r.concept, lang: r.lang })), opts);
  if (missing.concepts.length + missing.langs.length > 0) {
    // Only on this error path: one pass over the file's labels to say what it does have.
    const available = await storeLabels(opts.activations);
    throw new MissingDataError({ ...missing, cells: [] }, available);
  }
  const provenance: Provenance = {
    ...info.provenance,
    kind: "vectors",
    valuelensVersion: VALUELENS_VERSION,
    createdAt: new Date().toISOString(),
    extra: {
      ...(info.provenance.extra ?? {}),
      activations: opts.activations,
      methods: [...opts.methods],
      seed: opts.seed ?? 1,
      layers,
      ...(opts.methods.includes("random") ? { random: { variant: opts.methodOptions?.random?.variant ?? "gaussian", seeding: "per-cell" } } : {}),
    },
  };
  return { rows, provenance, empty: [...empty].sort(), layers };
}

export async function extractToStore(opts: ExtractToStoreOptions): Promise<ExtractToStoreResult> {
  const t0 = performance.now();
  const { rows, provenance, empty, layers } = await extractVectors(opts);
  if (rows.length === 0) throw new Error(`no training pairs found in ${opts.activations} for the requested concepts/languages`);
  await writeVectors(opts.out, provenance, rows);
  return { path: opts.out, vectors: rows.length, layers: layers.length, empty, seconds: (performance.now() - t0) / 1000 };
}
