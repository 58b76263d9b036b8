// The tables of a run, read from its cell folders: per-cell recognition (computed by the shard that captured
// the cell) and the cross-cell analyses, which need every language of a concept and so run once all cells are
// in one folder (at the end of an unsharded run, or in `valuelens merge`): cross-lingual similarity, recognition
// across languages and transfer, and the correlation with linguistic similarity. The same code builds the
// summary of an unsharded run and of a merge, so the two can be compared with a plain JSON diff.
import { join } from "node:path";
import {
  heldOutTransfer,
  hasLang2vec,
  presetForModel,
  transferAnalysis,
  type CrossLingualResult,
  type LangMatrix,
  type LayerSimilarity,
  type LayerwiseCurve,
  type TransferResult,
} from "../analysis/index.js";
import type { ExtractMethod } from "../extract/index.js";
import { correlationResults, groupsFromProvenance, similarityFromVectors, type CorrelationResults, type RecognitionSummary } from "../pipeline/analyze.js";
import { collectPairs, layerGroups, type AlignedPairs } from "../pipeline/matrices.js";
import { TransferCollector } from "../pipeline/transfer-outcomes.js";
import type { Progress } from "../progress/progress.js";
import { inspectActivations, readVectors } from "../store/index.js";
import type { Manifest } from "./manifest.js";
import { CELL_FILES, cellDir, cellKey, readJson, type RunRecord } from "./record.js";
import { analysisRunner, type CellFiles } from "./registry.js";
import { throwIfAborted } from "../util/errors.js";
import { writeJsonAtomic } from "../util/output.js";

export interface MethodResults {
  /** concept → lang → recognition curve with CIs, oracle and held-out layer. */
  recognition?: Record<string, Record<string, RecognitionSummary>>;
  similarity?: {
    perConcept: Record<string, LayerSimilarity>;
    aggregate: LangMatrix;
    atLayer?: { layer: string; matrix: LangMatrix };
    layerwise?: LayerwiseCurve;
    layerwiseShared?: LayerwiseCurve;
  };
  /** concept → every language's vector on every language's test pairs. */
  crossLingual?: Record<string, CrossLingualResult>;
  transfer?: TransferResult;
  correlation?: CorrelationResults;
}

export interface ModelResults {
  model: { sha256: string; arch: string; name: string; nLayer: number; nEmbd: number; template: string; layers: string[] };
  methods: Record<string, MethodResults>;
  /** Tables of registered analyses (e.g. control), by analysis name. */
  analyses?: Record<string, unknown>;
}

export interface RunSummary {
  format: "valuelens-run-summary";
  manifestHash: string;
  name?: string;
  /** Every cell finished and the cross-cell analyses computed. */
  complete: boolean;
  /** Deterministic tables: equal for an unsharded run and a merge of shards of it. */
  results: Record<string, ModelResults>;
  /** Deterministic remarks about the results (cells without data, analyses that could not run). */
  notes: string[];
  /** Where and how the run went (differs between an unsharded run and a merge). */
  run: { out: string; kind: "run" | "merge"; shard: { index: number; count: number }; status: string; cells: Record<string, { status: string; shard: number }> };
  /** Seconds; not deterministic. */
  timings: { total?: number; stages: Record<string, number>; cells: Record<string, Record<string, number>> };
}

export interface FinalizeOptions {
  /** Compute the cross-cell analyses (false for one shard of several). */
  crossCell: boolean;
  progress?: Progress;
  signal?: AbortSignal;
  memoryBudget?: number;
}

interface CellRef extends CellFiles {
  cell: string;
}

function doneCells(out: string, record: RunRecord, model: string): CellRef[] {
  const m = record.manifest;
  const refs: CellRef[] = [];
  for (const concept of m.concepts) {
    for (const lang of m.languages) {
      const cell = cellKey(model, concept, lang);
      if (record.cells[cell]?.status !== "done") continue;
      const dir = cellDir(out, model, concept, lang);
      refs.push({ cell, concept, lang, dir, activations: join(dir, CELL_FILES.activations), vectors: join(dir, CELL_FILES.vectors) });
    }
  }
  return refs;
}

/** concept → lang → layer → unit vector, per method. */
type VectorTree = Map<string, Map<string, Map<string, Map<string, Float32Array>>>>;

async function loadVectors(cells: readonly CellRef[]): Promise<VectorTree> {
  const tree: VectorTree = new Map();
  for (const c of cells) {
    const vf = await readVectors(c.vectors);
    for (const r of vf.rows) {
      let byConcept = tree.get(r.method);
      if (!byConcept) tree.set(r.method, (byConcept = new Map()));
      let byLang = byConcept.get(r.concept);
      if (!byLang) byConcept.set(r.concept, (byLang = new Map()));
      let byLayer = byLang.get(r.lang);
      if (!byLayer) byLang.set(r.lang, (byLayer = new Map()));
      byLayer.set(r.layer, r.unit);
    }
  }
  return tree;
}

async function crossLingual(
  cells: readonly CellRef[],
  concepts: readonly string[],
  langs: readonly string[],
  layers: readonly string[],
  vectors: VectorTree,
  methods: readonly ExtractMethod[],
  m: Manifest,
  opts: FinalizeOptions,
  label: string,
): Promise<{ cross: Map<string, Map<string, CrossLingualResult>>; collectors: Map<string, TransferCollector>; groups: Record<string, Record<string, string>> }> {
  const out = new Map<string, Map<string, CrossLingualResult>>(methods.map((x) => [x, new Map()]));
  const collectors = new Map(methods.map((x) => [x, new TransferCollector(layers, m.analysis.ties)]));
  const groups: Record<string, Record<string, string>> = {};
  const work: Array<{ concept: string; cells: CellRef[]; groups: string[][] }> = [];
  for (const concept of concepts) {
    const cc = cells.filter((c) => c.concept === concept);
    if (cc.length < 2) continue;
    let rowsPerLayer = 0;
    let dim = 0;
    for (const c of cc) {
      const info = await inspectActivations(c.activations);
      for (const [k, byId] of Object.entries(groupsFromProvenance(info.provenance) ?? {})) Object.assign((groups[k] ??= {}), byId);
      rowsPerLayer += info.rows / Math.max(1, layers.length);
      dim = info.nEmbd;
    }
    work.push({ concept, cells: cc, groups: layerGroups(layers, rowsPerLayer, dim, opts.memoryBudget ?? 2 ** 30) });
  }
  opts.progress?.start(`cross-lingual ${label}`, work.reduce((a, w) => a + w.groups.length, 0), "layer groups");
  for (const w of work) {
    for (const group of w.groups) {
      throwIfAborted(opts.signal);
      const test = new Map<string, Map<string, AlignedPairs>>();
      const val = new Map<string, Map<string, AlignedPairs>>();
      for (const c of w.cells) {
        const tree = await collectPairs(c.activations, { layers: group, splits: ["test", "val"], concepts: [w.concept], langs: [c.lang] });
        const t = tree.get(w.concept)?.get(c.lang)?.get("test");
        if (t) test.set(c.lang, t);
        const v = tree.get(w.concept)?.get(c.lang)?.get("val");
        if (v) val.set(c.lang, v);
      }
      const targets = langs.filter((l) => test.has(l));
      for (const method of methods) {
        const vec = vectors.get(method)?.get(w.concept);
        if (!vec) continue;
        const sources = langs.filter((l) => vec.has(l));
        if (sources.length === 0 || targets.length === 0) continue;
        const part = collectors.get(method)!.add(w.concept, group, vec, test, val, sources, targets);
        const prev = out.get(method)!.get(w.concept);
        if (!prev) out.get(method)!.set(w.concept, part);
        else {
          prev.layers.push(...part.layers);
          for (const s of part.sources) for (const t of part.targets) prev.acc[s][t].push(...part.acc[s][t]);
        }
      }
      opts.progress?.tick(1);
    }
  }
  opts.progress?.finish();
  // Best layer per (source, target), the max taken per cell as the paper does.
  for (const byConcept of out.values()) {
    for (const r of byConcept.values()) {
      for (const s of r.sources) {
        for (const t of r.targets) {
          const acc = r.acc[s][t];
          let b = 0;
          for (let i = 1; i < acc.length; i++) if (acc[i] > acc[b]) b = i;
          r.best[s][t] = { layer: r.layers[b], index: b, accuracy: acc[b] };
        }
      }
    }
  }
  return { cross: out, collectors, groups };
}

/** Every table of the run in `out`, plus deterministic notes. */
export async function computeResults(out: string, record: RunRecord, opts: FinalizeOptions): Promise<{ results: Record<string, ModelResults>; notes: string[] }> {
  const m = record.manifest;
  const results: Record<string, ModelResults> = {};
  const notes: string[] = [];
  const want = new Set(m.analyses);
  for (const spec of m.models) {
    const mr = record.models[spec.id];
    const cells = doneCells(out, record, spec.id);
    if (!mr || cells.length === 0) continue;
    const entry: ModelResults = {
      model: { sha256: mr.sha256, arch: mr.arch, name: mr.name, nLayer: mr.nLayer, nEmbd: mr.nEmbd, template: mr.template.id, layers: mr.layers },
      methods: {},
    };
    for (const method of m.methods) entry.methods[method] = {};
    if (want.has("recognition")) {
      for (const c of cells) {
        const rec = await readJson<Record<string, RecognitionSummary>>(join(c.dir, CELL_FILES.recognition));
        for (const method of m.methods) {
          const r = rec[method];
          if (!r) continue;
          ((entry.methods[method].recognition ??= {})[c.concept] ??= {})[c.lang] = r;
        }
      }
    }
    if (opts.crossCell) {
      const concepts = m.concepts.filter((c) => cells.some((x) => x.concept === c));
      const langs = m.languages.filter((l) => cells.some((x) => x.lang === l));
      const layers = mr.layers;
      const vectors = await loadVectors(cells);
      for (const method of m.methods) {
        const vec = vectors.get(method);
        if (!vec) continue;
        const mres = entry.methods[method];
        const at = m.analysis.similarityLayer;
        const { similarity, fullConcepts } = similarityFromVectors(
          { method: method as ExtractMethod, vec, layers, concepts: concepts.filter((c) => vec.has(c)), langs },
          at !== undefined && layers.includes(at) ? at : undefined,
          mr.nLayer,
        );
        const full = fullConcepts.map((c) => similarity.perConcept[c]);
        if (want.has("similarity")) {
          if (at !== undefined && full.length && !layers.includes(at) && method === m.methods[0]) {
            notes.push(`${spec.id}: analysis.similarityLayer ${at} is not among its layers (${layers.join(", ")})`);
          }
          mres.similarity = similarity;
        }
        if (want.has("correlation")) {
          const l2v = langs.filter(hasLang2vec);
          // The model's family preset applies in full (exclusions, the authors' order, high-resource set).
          const preset = presetForModel(`${mr.name} ${mr.path.split(/[\\/]/).pop() ?? ""}`);
          const corr = correlationResults(full, langs, { ...(preset ? { family: preset.family } : {}), ...(m.analysis.highResource ? { highResource: m.analysis.highResource } : {}) });
          if (corr) mres.correlation = corr;
          else if (method === m.methods[0]) {
            notes.push(`${spec.id}: correlation needs ≥ 3 languages with lang2vec data and every language for some concept (have: ${l2v.join(", ") || "none"})`);
          }
        }
      }
      if (want.has("transfer")) {
        if (langs.length < 2) notes.push(`${spec.id}: transfer needs at least two languages`);
        else {
          const { cross, collectors, groups } = await crossLingual(cells, concepts, langs, layers, vectors, m.methods, m, opts, spec.id);
          for (const method of m.methods) {
            const byConcept = cross.get(method);
            if (!byConcept || byConcept.size === 0) continue;
            const mres = entry.methods[method];
            mres.crossLingual = Object.fromEntries(byConcept);
            const complete = [...byConcept.values()].filter((r) => r.sources.length === langs.length && r.targets.length === langs.length);
            if (complete.length) {
              mres.transfer = transferAnalysis(complete, { langs });
              const outcomes = collectors.get(method)!.outcomes(langs, groups);
              const B = m.analysis.bootstrap;
              if (outcomes.length && B > 0) mres.transfer.heldOut = heldOutTransfer(outcomes, { ties: m.analysis.ties, samples: B });
            }
            else if (method === m.methods[0]) notes.push(`${spec.id}: transfer needs a concept with vectors and test pairs in every language`);
          }
        }
      }
      for (const name of m.analyses) {
        if (name === "recognition" || name === "similarity" || name === "transfer" || name === "correlation") continue;
        const runner = analysisRunner(name);
        if (!runner) {
          if (spec === m.models[0]) notes.push(`analysis '${name}' skipped: no runner is registered for it in this valuelens`);
          continue;
        }
        const table = await runner.run({ manifest: m, modelId: spec.id, modelPath: mr.path, cells, outDir: join(out, "results", spec.id, name), signal: opts.signal });
        (entry.analyses ??= {})[name] = table;
      }
      await writeJsonAtomic(join(out, "results", `${spec.id}.json`), entry);
    }
    results[spec.id] = entry;
  }
  for (const [cell, c] of Object.entries(record.cells)) if (c.status === "empty") notes.push(`${cell}: no pairs in the data; left out`);
  return { results, notes };
}

export async function buildSummary(out: string, record: RunRecord, opts: FinalizeOptions): Promise<RunSummary> {
  const { results, notes } = await computeResults(out, record, opts);
  const cells: RunSummary["run"]["cells"] = {};
  const cellTimings: RunSummary["timings"]["cells"] = {};
  for (const p of record.plan) {
    const c = record.cells[p.cell];
    if (!c) continue;
    cells[p.cell] = { status: c.status, shard: c.shard };
    cellTimings[p.cell] = { ...c.timings };
  }
  return {
    format: "valuelens-run-summary",
    manifestHash: record.manifestHash,
    ...(record.manifest.name !== undefined ? { name: record.manifest.name } : {}),
    complete: opts.crossCell && record.plan.every((p) => record.cells[p.cell]?.status === "done" || record.cells[p.cell]?.status === "empty"),
    results,
    notes,
    run: { out, kind: record.kind, shard: record.shard, status: record.status, cells },
    timings: { ...(record.timings.total !== undefined ? { total: record.timings.total } : {}), stages: { ...record.timings }, cells: cellTimings },
  };
}
