// Runs a manifest: the grid models × concepts × languages × methods.
//
// Unit of work (and of sharding): the capture of one (model, concept, language) — the expensive step. Each
// unit gets a folder with its activation store; its vectors (every method) and its recognition tables (every
// method) are computed from that store by the same shard, right after the model's captures. A model is loaded
// once per shard and captures all of that shard's units of it. The cross-cell analyses (similarity, transfer,
// correlation; they need all languages of a concept) run at the end of an unsharded run, or in `merge`.
//
// Restartable: run.json records every unit's status, cell.json marks a finished cell; a re-run with the same
// manifest and --out skips finished cells, continues an interrupted capture from its .partial store (chunk-
// aligned, so bit-identical to an uninterrupted capture) and redoes only what is missing.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { createHash } from "node:crypto";
import { captureTexts, pairGroups } from "../data/pairs.js";
import { splitByItem, type SplitPair } from "../data/splits.js";
import { templateFor, type PromptTemplate } from "../data/templates.js";
import type { ContrastPair } from "../data/types.js";
import { writePairsJsonl } from "../data/jsonl.js";
import { layerName, parseLayers, type LayerSite } from "../engine/layers.js";
import { loadModel, type LoadModelOptions, type Model } from "../engine/model.js";
import { native, packageRoot } from "../engine/native.js";
import { analyze } from "../pipeline/analyze.js";
import { extractVectors } from "../pipeline/extract.js";
import { loadPairs } from "../pipeline/sources.js";
import { prepareOutput, withOutputLock, writeJsonAtomic } from "../util/output.js";
import type { ProgressMode } from "../progress/progress.js";
import { readVectors, sha256File, writeVectors } from "../store/index.js";
import { VALUELENS_VERSION } from "../version.js";
import { captureToStore } from "../pipeline/capture.js";
import { createReporter, type RunEvent } from "./events.js";
import { buildSummary, type RunSummary } from "./finalize.js";
import { manifestHash, type Manifest, type ModelSpec } from "./manifest.js";
import {
  CELL_FILES,
  RUN_FORMAT,
  RUN_FORMAT_VERSION,
  cellDir,
  cellKey,
  readRunRecord,
  type CellRecord,
  type ModelRecord,
  type PlanEntry,
  type RunRecord,
} from "./record.js";
import { assignShards, checkShard, NO_SHARD, type Shard } from "./shard.js";
import { ensureSynthModel, synthWorld, type SynthWorld } from "./synth-world.js";
import { canonicalJson } from "../util/canonical-json.js";
import { LayerError, ModelError, throwIfAborted } from "../util/errors.js";
import { withSessionDefaults } from "../engine/session.js";

export interface RunOptions {
  /** Output folder (one per shard; a re-run with the same folder resumes). */
  out: string;
  /** This process's share of the units (0-based index); default the whole run. */
  shard?: Shard;
  /** Folder that relative paths of the manifest are resolved against (default: the working directory). */
  baseDir?: string;
  /** auto (a bar on a TTY), bar, json (JSON lines), none; written to `progressStream` (default stderr). */
  progress?: ProgressMode;
  progressStream?: Writable & { isTTY?: boolean; columns?: number };
  /** Every event (also in modes other than json). */
  onEvent?: (e: RunEvent) => void;
  /** Stops the run at the next chunk (the running decode is cancelled); the next run resumes. */
  signal?: AbortSignal;
  /** Bytes of activations held at once by extraction and analysis (default 1 GiB). */
  memoryBudget?: number;
}

/** The model options loadModel receives; `rpc` is passed through to the addon. */
type LoadOptions = LoadModelOptions & { rpc?: string[] };

function llamaCppPin(): string | null {
  try {
    const lock = JSON.parse(readFileSync(join(packageRoot(), "vendor", "llama.cpp.lock.json"), "utf8")) as { release?: string; commit?: string };
    return lock.commit ? `${lock.release ?? "?"} (${lock.commit.slice(0, 12)})` : null;
  } catch {
    return null;
  }
}

/** sha256 of the pairs in load order (order decides capture batches, so it is part of the identity). */
export function pairsHash(pairs: readonly ContrastPair[]): string {
  const h = createHash("sha256");
  for (const p of pairs) h.update(canonicalJson([p.concept, p.lang, p.id, p.pos, p.neg, p.group ?? null]) + "\n");
  return h.digest("hex");
}

async function loadData(m: Manifest, baseDir: string, out: string): Promise<{ pairs: ContrastPair[]; world: SynthWorld | null }> {
  if (m.data.synth) {
    const world = await synthWorld(m.data.synth, m.concepts, m.languages, baseDir);
    await mkdir(join(out, "data"), { recursive: true });
    await writePairsJsonl(join(out, "data", "pairs.jsonl"), world.pairs);
    return { pairs: world.pairs, world };
  }
  const loaded = await loadPairs({
    ...(m.data.path ? { data: resolve(baseDir, m.data.path) } : {}),
    ...(m.data.datasets ? { datasets: m.data.datasets } : {}),
    ...(m.data.dataRoot ? { dataRoot: resolve(baseDir, m.data.dataRoot) } : {}),
    ...(m.data.adapterOptions ? { adapterOptions: m.data.adapterOptions } : {}),
    concepts: m.concepts,
    langs: m.languages,
    // A grid records a (concept, language) without pairs as an empty cell and says so in its notes.
    allowMissing: true,
  });
  return { pairs: loaded.pairs, world: null };
}

export function modelFile(spec: ModelSpec, out: string, baseDir: string): string {
  return spec.synth ? join(out, "models", `${spec.id}.gguf`) : resolve(baseDir, spec.path!);
}

function resolveTemplate(spec: ModelSpec, model: Model): PromptTemplate {
  try {
    return templateFor(spec.template, model);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`model '${spec.id}': ${e.message}`, { cause: e });
    throw e;
  }
}

async function openModel(spec: ModelSpec, path: string): Promise<Model> {
  if (spec.rpc && !native().backendInfo().rpc) {
    throw new Error(`model '${spec.id}': rpc needs the addon built with the RPC backend (backendInfo().rpc is false); rebuild without VALUELENS_RPC=0 (npm run build:native)`);
  }
  const opts: LoadOptions = { ...(spec.gpuLayers !== undefined ? { gpuLayers: spec.gpuLayers } : {}), ...(spec.rpc ? { rpc: spec.rpc } : {}) };
  return loadModel(path, opts);
}

function emptyRecord(m: Manifest, hash: string, baseDir: string, shard: Shard, dataHash: string): RunRecord {
  const now = new Date().toISOString();
  return {
    format: RUN_FORMAT,
    formatVersion: RUN_FORMAT_VERSION,
    kind: "run",
    versions: { valuelens: VALUELENS_VERSION, node: process.version, llamaCpp: llamaCppPin() },
    manifestHash: hash,
    manifest: m,
    baseDir,
    dataHash,
    shard,
    plan: [],
    models: {},
    cells: {},
    status: "running",
    notes: [],
    startedAt: now,
    updatedAt: now,
    timings: {},
  };
}

/**
 * Runs (this shard of) the manifest into `opts.out` and returns the summary (also written to summary.json).
 * The folder is locked for the whole run: a second run into it fails at once, naming this one.
 */
export async function runManifest(manifest: Manifest, opts: RunOptions): Promise<RunSummary> {
  await prepareOutput(opts.out, "dir");
  return withOutputLock(opts.out, () => runManifestLocked(manifest, opts));
}

async function runManifestLocked(manifest: Manifest, opts: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const shard = checkShard(opts.shard ?? NO_SHARD);
  const out = resolve(opts.out);
  const baseDir = resolve(opts.baseDir ?? process.cwd());
  const hash = manifestHash(manifest);
  const rep = createReporter(opts.progress ?? "auto", opts.progressStream ?? process.stderr, opts.onEvent);
  const signal = opts.signal;
  await mkdir(out, { recursive: true });

  let previous: RunRecord | null = null;
  if (existsSync(join(out, "run.json"))) {
    previous = await readRunRecord(out);
    if (previous.kind !== "run") throw new Error(`${out} holds a merge, not a run: use another --out`);
    if (previous.manifestHash !== hash) throw new Error(`${out} holds a run of another manifest (hash ${previous.manifestHash.slice(0, 12)}, this one ${hash.slice(0, 12)}): use another --out`);
    if (previous.shard.index !== shard.index || previous.shard.count !== shard.count) {
      throw new Error(`${out} holds shard ${previous.shard.index}/${previous.shard.count} of this run, not ${shard.index}/${shard.count}: give each shard its own --out`);
    }
  }

  const tData = performance.now();
  const { pairs, world } = await loadData(manifest, baseDir, out);
  const dataHash = pairsHash(pairs);
  if (previous && previous.dataHash !== dataHash) throw new Error(`the data changed since ${out} was started (pairs hash differs): use another --out`);
  const split = splitByItem(pairs, manifest.split);
  const record: RunRecord = previous ?? emptyRecord(manifest, hash, baseDir, shard, dataHash);
  record.status = "running";
  record.error = undefined;
  record.timings.data = (performance.now() - tData) / 1000;
  const save = async () => {
    record.updatedAt = new Date().toISOString();
    await writeJsonAtomic(join(out, "run.json"), record);
  };

  // The plan: every unit of the grid, with its shard (all shards compute the same plan).
  const byCell = new Map<string, SplitPair[]>();
  for (const p of split.pairs) {
    const k = `${p.concept}\u0000${p.lang}`;
    (byCell.get(k) ?? byCell.set(k, []).get(k)!).push(p);
  }
  const plan: PlanEntry[] = [];
  const weights: number[] = [];
  for (const spec of manifest.models) {
    for (const concept of manifest.concepts) {
      for (const lang of manifest.languages) {
        const n = byCell.get(`${concept}\u0000${lang}`)?.length ?? 0;
        plan.push({ cell: cellKey(spec.id, concept, lang), model: spec.id, concept, lang, pairs: n, shard: 0 });
        weights.push(2 * n * spec.weight);
      }
    }
  }
  assignShards(weights, shard.count).forEach((s, i) => (plan[i].shard = s));
  record.plan = plan;
  for (const p of plan) {
    if (p.shard !== shard.index) continue;
    const prev = record.cells[p.cell];
    const dir = cellDir(out, p.model, p.concept, p.lang);
    let status: CellRecord["status"] = p.pairs === 0 ? "empty" : "pending";
    if (prev?.status === "done" && existsSync(join(dir, CELL_FILES.done))) status = "done";
    else if (prev?.status === "captured" && existsSync(join(dir, CELL_FILES.activations))) status = "captured";
    record.cells[p.cell] = { status, shard: p.shard, pairs: p.pairs, texts: 2 * p.pairs, timings: prev?.timings ?? {}, ...(prev?.capture ? { capture: prev.capture } : {}) };
  }
  await save();

  const run: RunContext = { manifest, opts, out, baseDir, hash, dataHash, shard, rep, signal, record, split, byCell, world, save, current: null };
  try {
    for (const spec of manifest.models) {
      const mine = plan.filter((p) => p.model === spec.id && p.shard === shard.index && record.cells[p.cell].status !== "empty");
      if (mine.every((p) => record.cells[p.cell].status === "done")) {
        for (const p of mine) rep.event({ type: "cell", cell: p.cell, phase: "capture", status: "skipped" });
        continue;
      }
      await captureCells(run, spec, mine);
      await finishCells(run, spec, mine);
    }
  } catch (e) {
    const aborted = signal?.aborted === true;
    record.status = aborted ? "interrupted" : "failed";
    record.error = aborted ? "interrupted" : (e as Error).message;
    const current = run.current;
    if (current && record.cells[current]) {
      record.cells[current].status = aborted ? "interrupted" : "failed";
      if (!aborted) record.cells[current].error = (e as Error).message;
    }
    await save();
    throw e;
  }

  const crossCell = shard.count === 1;
  const tF = performance.now();
  record.status = "done";
  const summary = await buildSummary(out, record, { crossCell, progress: rep.progress, ...(signal ? { signal } : {}), ...(opts.memoryBudget ? { memoryBudget: opts.memoryBudget } : {}) });
  record.notes = summary.notes;
  record.timings.finalize = (performance.now() - tF) / 1000;
  record.timings.total = (performance.now() - t0) / 1000;
  await save();
  summary.timings.total = record.timings.total;
  summary.timings.stages = { ...record.timings };
  await writeJsonAtomic(join(out, "summary.json"), summary);
  return summary;
}

/** What the stages of one run share. `current` is the cell being worked on, marked failed or interrupted on an error. */
interface RunContext {
  manifest: Manifest;
  opts: RunOptions;
  out: string;
  baseDir: string;
  hash: string;
  dataHash: string;
  shard: Shard;
  rep: ReturnType<typeof createReporter>;
  signal: AbortSignal | undefined;
  record: RunRecord;
  split: ReturnType<typeof splitByItem>;
  byCell: Map<string, SplitPair[]>;
  world: SynthWorld | null;
  save: () => Promise<void>;
  current: string | null;
}

/** The model file of `spec`, written if synthetic; a file that changed since the run captured with it is refused. */
async function modelReady(run: RunContext, spec: ModelSpec): Promise<{ path: string; size: number; mtimeMs: number }> {
  const { rep, record } = run;
  const path = modelFile(spec, run.out, run.baseDir);
  if (spec.synth) {
    const tS = performance.now();
    rep.event({ type: "model", model: spec.id, status: "synth" });
    await ensureSynthModel(spec.synth, path, run.baseDir, run.world, run.manifest.data.synth);
    record.timings[`synth:${spec.id}`] = (performance.now() - tS) / 1000;
  } else if (!existsSync(path)) {
    throw new ModelError(`model '${spec.id}': file '${path}' does not exist`);
  }
  const st = await stat(path);
  const known = record.models[spec.id];
  if (known && (known.size !== st.size || known.mtimeMs !== st.mtimeMs)) {
    rep.event({ type: "model", model: spec.id, status: "hash" });
    const sha = await sha256File(path);
    if (sha !== known.sha256) throw new ModelError(`model '${spec.id}': ${path} changed since this run captured with it (sha256 differs): use another --out`);
    known.size = st.size;
    known.mtimeMs = st.mtimeMs;
  }
  return { path, size: st.size, mtimeMs: st.mtimeMs };
}

/** Capture the cells of one model that are not captured yet (the model is loaded once for all of them). */
async function captureCells(run: RunContext, spec: ModelSpec, mine: readonly PlanEntry[]): Promise<void> {
  const { manifest, rep, record, signal, split } = run;
  const toCapture = mine.filter((p) => ["pending", "failed", "interrupted"].includes(record.cells[p.cell].status));
  const file = await modelReady(run, spec);
  if (toCapture.length === 0 && record.models[spec.id]) return;
  throwIfAborted(signal);
  rep.event({ type: "model", model: spec.id, status: "load" });
  const tL = performance.now();
  // Disposed in reverse order: the session, the model, then the unload event.
  using _unloaded = { [Symbol.dispose]: () => rep.event({ type: "model", model: spec.id, status: "unload" }) };
  using model = await openModel(spec, file.path);
  using session = await model.createSession(withSessionDefaults(spec.session));
  const template = resolveTemplate(spec, model);
  let layers: LayerSite[];
  try {
    layers = parseLayers(manifest.layers, model.nLayer);
  } catch (e) {
    throw new LayerError(`model '${spec.id}' (${model.nLayer} layers): layers: ${(e as Error).message}`, { cause: e });
  }
  rep.event({ type: "model", model: spec.id, status: "hash" });
  record.models[spec.id] = {
    path: file.path,
    sha256: await sha256File(file.path),
    size: file.size,
    mtimeMs: file.mtimeMs,
    arch: model.arch,
    name: model.name,
    nLayer: model.nLayer,
    nEmbd: model.nEmbd,
    template: { id: template.id, text: template.text },
    layers: layers.map(layerName),
    synth: spec.synth !== undefined,
  } satisfies ModelRecord;
  record.timings[`load:${spec.id}`] = (performance.now() - tL) / 1000;
  await run.save();
  const tC = performance.now();
  const total = toCapture.reduce((a, p) => a + 2 * p.pairs, 0);
  rep.progress.start(`capture ${spec.id}`, total, "texts");
  for (const p of toCapture) {
    run.current = p.cell;
    const cell = record.cells[p.cell];
    const dir = cellDir(run.out, p.model, p.concept, p.lang);
    await mkdir(dir, { recursive: true });
    rep.event({ type: "cell", cell: p.cell, phase: "capture", status: "start" });
    const pairs = run.byCell.get(`${p.concept}\u0000${p.lang}`)!;
    const counts = split.counts[p.concept];
    let last = 0;
    const r = await captureToStore({
      model,
      session,
      texts: captureTexts(pairs, template),
      templates: [template],
      layers,
      position: manifest.position,
      out: join(dir, CELL_FILES.activations),
      vectorType: manifest.output.f16 ? "float16" : "float32",
      keepFinished: true,
      chunkTexts: manifest.capture.chunkTexts,
      split: { seed: split.seed, train: counts.train, val: counts.val, test: counts.test, by: "item" },
      extra: {
        manifestHash: run.hash,
        dataHash: run.dataHash,
        cell: p.cell,
        trainFraction: manifest.split.trainFraction,
        valFraction: manifest.split.valFraction,
        groups: pairGroups(pairs),
        chunkTexts: manifest.capture.chunkTexts,
      },
      signal,
      onChunk: (done, n) => {
        rep.progress.tick(done - last);
        last = done;
        rep.event({ type: "chunk", cell: p.cell, done, total: n });
      },
    });
    cell.status = "captured";
    cell.capture = { tokens: r.tokens, skippedTexts: r.skippedTexts, rowsWritten: r.rowsWritten };
    cell.timings.capture = r.seconds;
    rep.event({ type: "cell", cell: p.cell, phase: "capture", status: "done", seconds: r.seconds });
    await run.save();
  }
  run.current = null;
  rep.progress.finish();
  record.timings[`capture:${spec.id}`] = (performance.now() - tC) / 1000;
}

/** Vectors and recognition for each captured cell of one model, from its own store (no model needed). */
async function finishCells(run: RunContext, spec: ModelSpec, mine: readonly PlanEntry[]): Promise<void> {
  const { manifest, opts, rep, record, signal } = run;
  const toExtract = mine.filter((p) => record.cells[p.cell].status === "captured");
  if (toExtract.length === 0) return;
  const tE = performance.now();
  const budget = opts.memoryBudget ? { memoryBudget: opts.memoryBudget } : {};
  rep.progress.start(`extract ${spec.id}`, toExtract.length, "cells");
  for (const p of toExtract) {
    throwIfAborted(signal);
    run.current = p.cell;
    const cell = record.cells[p.cell];
    const dir = cellDir(run.out, p.model, p.concept, p.lang);
    const acts = join(dir, CELL_FILES.activations);
    rep.event({ type: "cell", cell: p.cell, phase: "extract", status: "start" });
    const t1 = performance.now();
    const ex = await extractVectors({ activations: acts, methods: manifest.methods, seed: manifest.extract.seed, ...budget });
    if (ex.rows.length === 0) throw new Error(`${p.cell}: no training pairs (${p.pairs} pairs in all; the split left none for training)`);
    await writeVectors(join(dir, CELL_FILES.vectors), ex.provenance, ex.rows);
    cell.timings.extract = (performance.now() - t1) / 1000;
    rep.event({ type: "cell", cell: p.cell, phase: "extract", status: "done", seconds: cell.timings.extract });
    if (manifest.analyses.includes("recognition")) {
      rep.event({ type: "cell", cell: p.cell, phase: "recognize", status: "start" });
      const t2 = performance.now();
      const vf = await readVectors(join(dir, CELL_FILES.vectors));
      const rec: Record<string, unknown> = {};
      for (const method of manifest.methods) {
        throwIfAborted(signal);
        const r = await analyze({
          activations: acts,
          vectors: vf,
          method,
          ties: manifest.analysis.ties,
          bootstrap: manifest.analysis.bootstrap === 0 ? false : { samples: manifest.analysis.bootstrap },
          crossLingual: false,
          ...budget,
        });
        rec[method] = r.recognition[p.concept][p.lang];
      }
      await writeJsonAtomic(join(dir, CELL_FILES.recognition), rec);
      cell.timings.recognize = (performance.now() - t2) / 1000;
      rep.event({ type: "cell", cell: p.cell, phase: "recognize", status: "done", seconds: cell.timings.recognize });
    }
    await writeJsonAtomic(join(dir, CELL_FILES.done), { cell: p.cell, manifestHash: run.hash, dataHash: run.dataHash, modelSha256: record.models[spec.id].sha256, methods: manifest.methods, finishedAt: new Date().toISOString() });
    cell.status = "done";
    await run.save();
    rep.progress.tick(1);
  }
  run.current = null;
  rep.progress.finish();
  record.timings[`extract:${spec.id}`] = (performance.now() - tE) / 1000;
}
