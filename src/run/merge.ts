// `merge`: the shard folders of one run → one run folder with every cell, then the cross-cell analyses.
// Checks that the shards ran the same manifest on the same data and model files, that together they cover the
// plan, and that no cell was finished by two shards. Cell files are hard-linked (copied across filesystems).
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import type { ProgressMode } from "../progress/progress.js";
import { VALUELENS_VERSION } from "../version.js";
import { createReporter, type RunEvent } from "./events.js";
import { buildSummary, type RunSummary } from "./finalize.js";
import { prepareOutput, withOutputLock } from "../util/output.js";
import { CELL_FILES, cellDir, readJson, readRunRecord, type CellRecord, type ModelRecord, type RunRecord } from "./record.js";
import { throwIfAborted } from "../util/errors.js";
import { writeJsonAtomic } from "../util/output.js";

export interface MergeOptions {
  out: string;
  progress?: ProgressMode;
  progressStream?: Writable & { isTTY?: boolean; columns?: number };
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  memoryBudget?: number;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile() && !e.name.endsWith(".partial") && !e.name.includes(".tmp")) await linkOrCopy(join(from, e.name), join(to, e.name));
  }
}

function sameModel(a: ModelRecord, b: ModelRecord): boolean {
  return a.sha256 === b.sha256 && a.template.id === b.template.id && a.template.text === b.template.text && a.layers.join(",") === b.layers.join(",");
}

/** Merges shard folders (in any order) into `opts.out`; returns the summary (also written to summary.json). */
export async function mergeRuns(dirs: readonly string[], opts: MergeOptions): Promise<RunSummary> {
  await prepareOutput(opts.out, "dir");
  return withOutputLock(opts.out, () => mergeRunsLocked(dirs, opts));
}

async function mergeRunsLocked(dirs: readonly string[], opts: MergeOptions): Promise<RunSummary> {
  const t0 = performance.now();
  if (dirs.length === 0) throw new Error("no shard folders given");
  const out = resolve(opts.out);
  const inputs = dirs.map((d) => resolve(d));
  if (inputs.includes(out)) throw new Error(`--out ${out} is one of the inputs; merge into a new folder`);
  if (new Set(inputs).size !== inputs.length) throw new Error("a folder is given twice");
  const records: RunRecord[] = [];
  for (const d of inputs) records.push(await readRunRecord(d));

  const first = records[0];
  const problems: string[] = [];
  records.forEach((r, i) => {
    if (r.kind !== "run") problems.push(`${inputs[i]}: is a merge, not a shard run`);
    if (r.manifestHash !== first.manifestHash) problems.push(`${inputs[i]}: manifest hash ${r.manifestHash.slice(0, 12)} differs from ${inputs[0]}'s ${first.manifestHash.slice(0, 12)} (not shards of one run)`);
    if (r.dataHash !== first.dataHash) problems.push(`${inputs[i]}: ran on other data (pairs hash differs from ${inputs[0]}'s)`);
    if (r.shard.count !== first.shard.count) problems.push(`${inputs[i]}: shard ${r.shard.index}/${r.shard.count}, but ${inputs[0]} is one of ${first.shard.count}`);
    if (r.status !== "done") problems.push(`${inputs[i]}: shard ${r.shard.index}/${r.shard.count} is not finished (status ${r.status}); re-run it`);
  });
  const byIndex = new Map<number, string>();
  records.forEach((r, i) => {
    const seen = byIndex.get(r.shard.index);
    if (seen) problems.push(`${inputs[i]}: shard ${r.shard.index}/${r.shard.count} is also ${seen}`);
    else byIndex.set(r.shard.index, inputs[i]);
  });
  // Models: every shard that used a model must have used the same file.
  const models: Record<string, ModelRecord> = {};
  records.forEach((r, i) => {
    for (const [id, m] of Object.entries(r.models)) {
      const prev = models[id];
      if (!prev) models[id] = m;
      else if (!sameModel(prev, m)) problems.push(`model '${id}': ${inputs[i]} used sha256 ${m.sha256.slice(0, 12)} / template ${m.template.id} / layers ${m.layers.join(",")}, another shard ${prev.sha256.slice(0, 12)} / ${prev.template.id} / ${prev.layers.join(",")}`);
    }
  });

  // Coverage: each planned cell finished by exactly one shard.
  const owner = new Map<string, { dir: string; cell: CellRecord }>();
  records.forEach((r, i) => {
    for (const [cell, c] of Object.entries(r.cells)) {
      if (c.status !== "done" && c.status !== "empty") continue;
      const prev = owner.get(cell);
      if (prev) problems.push(`cell ${cell}: finished in both ${prev.dir} and ${inputs[i]} (duplicated)`);
      else owner.set(cell, { dir: inputs[i], cell: c });
    }
  });
  const missing = first.plan.filter((p) => !owner.has(p.cell));
  if (missing.length) {
    const shards = [...new Set(missing.map((p) => p.shard))].sort((a, b) => a - b);
    problems.push(`${missing.length} cell(s) missing (${missing.slice(0, 5).map((p) => p.cell).join(", ")}${missing.length > 5 ? ", …" : ""}) — of shard(s) ${shards.map((s) => `${s}/${first.shard.count}`).join(", ")}`);
  }
  if (problems.length) throw new Error(`cannot merge:\n  ${problems.join("\n  ")}`);

  if (existsSync(join(out, "run.json"))) {
    const prev = await readRunRecord(out);
    if (prev.kind !== "merge" || prev.manifestHash !== first.manifestHash) throw new Error(`${out} already holds another run; merge into a new folder`);
  } else if (existsSync(out) && (await stat(out)).isDirectory() && (await readdir(out)).length > 0) {
    throw new Error(`${out} exists and is not empty; merge into a new folder`);
  }
  await mkdir(out, { recursive: true });

  const rep = createReporter(opts.progress ?? "auto", opts.progressStream ?? process.stderr, opts.onEvent);
  rep.progress.start("merge", first.plan.length, "cells");
  const cells: Record<string, CellRecord> = {};
  for (const p of first.plan) {
    throwIfAborted(opts.signal);
    const o = owner.get(p.cell)!;
    cells[p.cell] = o.cell;
    if (o.cell.status === "done") {
      const from = cellDir(o.dir, p.model, p.concept, p.lang);
      const done = await readJson<{ manifestHash?: string }>(join(from, CELL_FILES.done)).catch(() => null);
      if (!done || done.manifestHash !== first.manifestHash) throw new Error(`${from} is not a finished cell of this run (cell.json missing or of another manifest)`);
      await copyTree(from, cellDir(out, p.model, p.concept, p.lang));
    }
    rep.progress.tick(1);
  }
  rep.progress.finish();

  const now = new Date().toISOString();
  const record: RunRecord = {
    ...first,
    kind: "merge",
    versions: { ...first.versions, valuelens: VALUELENS_VERSION, node: process.version },
    shard: { index: 0, count: first.shard.count },
    merged: records.map((r, i) => ({ dir: inputs[i], shard: r.shard })).sort((a, b) => a.shard.index - b.shard.index),
    models,
    cells,
    status: "done",
    notes: [],
    startedAt: now,
    updatedAt: now,
    timings: {},
  };
  await writeJsonAtomic(join(out, "run.json"), record);
  const tF = performance.now();
  const summary = await buildSummary(out, record, { crossCell: true, progress: rep.progress, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.memoryBudget ? { memoryBudget: opts.memoryBudget } : {}) });
  record.notes = summary.notes;
  record.timings.finalize = (performance.now() - tF) / 1000;
  record.timings.total = (performance.now() - t0) / 1000;
  record.updatedAt = new Date().toISOString();
  await writeJsonAtomic(join(out, "run.json"), record);
  summary.timings.total = record.timings.total;
  summary.timings.stages = { ...record.timings };
  await writeJsonAtomic(join(out, "summary.json"), summary);
  return summary;
}
