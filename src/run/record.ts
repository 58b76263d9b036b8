// The run folder: its layout and run.json, the record of what a run (or a merge of shards) did.
//
//   <out>/run.json                              this record (versions, hashes, plan, per-cell status, timings)
//   <out>/summary.json                          the JSON summary (results tables; timings under their own key)
//   <out>/models/<model>.gguf                   synthetic models the run wrote
//   <out>/data/pairs.jsonl                      the synthetic dataset the run wrote
//   <out>/cells/<model>/<concept>/<lang>/       one folder per capture unit:
//       activations.arrow  vectors.arrow  recognition.json  cell.json (written last: the cell is finished)
//   <out>/results/<model>.json                  cross-cell tables of a model (similarity, transfer, ...)
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest } from "./manifest.js";
import type { Shard } from "./shard.js";

export const RUN_FORMAT = "valuelens-run";
export const RUN_FORMAT_VERSION = 1;

export type CellStatus = "pending" | "captured" | "done" | "failed" | "interrupted" | "empty";

/** One capture unit of the plan (every shard records the whole plan, so a merge can check coverage). */
export interface PlanEntry {
  cell: string;
  model: string;
  concept: string;
  lang: string;
  pairs: number;
  shard: number;
}

export interface CellRecord {
  status: CellStatus;
  shard: number;
  pairs: number;
  texts: number;
  capture?: { tokens: number; skippedTexts: number; rowsWritten: number };
  timings: { capture?: number; extract?: number; recognize?: number };
  error?: string;
}

export interface ModelRecord {
  /** As the run resolved it (absolute). */
  path: string;
  sha256: string;
  size: number;
  mtimeMs: number;
  arch: string;
  name: string;
  nLayer: number;
  nEmbd: number;
  template: { id: string; text: string };
  layers: string[];
  synth: boolean;
}

export interface RunRecord {
  format: typeof RUN_FORMAT;
  formatVersion: number;
  kind: "run" | "merge";
  versions: { valuelens: string; node: string; llamaCpp: string | null };
  manifestHash: string;
  manifest: Manifest;
  baseDir: string;
  dataHash: string;
  shard: Shard;
  /** Merge only: the shard folders merged. */
  merged?: Array<{ dir: string; shard: Shard }>;
  plan: PlanEntry[];
  models: Record<string, ModelRecord>;
  cells: Record<string, CellRecord>;
  status: "running" | "interrupted" | "failed" | "done";
  error?: string;
  /** Things a reader should know (empty cells, skipped analyses, ...). */
  notes: string[];
  startedAt: string;
  updatedAt: string;
  timings: Record<string, number>;
}

export function cellKey(model: string, concept: string, lang: string): string {
  return `${model}/${concept}/${lang}`;
}

export function cellDir(out: string, model: string, concept: string, lang: string): string {
  return join(out, "cells", model, concept, lang);
}

export const CELL_FILES = { activations: "activations.arrow", vectors: "vectors.arrow", recognition: "recognition.json", done: "cell.json" } as const;

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

export async function readRunRecord(dir: string): Promise<RunRecord> {
  const p = join(dir, "run.json");
  if (!existsSync(p)) throw new Error(`${dir}: no run.json (not a valuelens run folder)`);
  const r = await readJson<RunRecord>(p);
  if (r.format !== RUN_FORMAT) throw new Error(`${p}: not a valuelens run record`);
  if (r.formatVersion !== RUN_FORMAT_VERSION) throw new Error(`${p}: run format ${r.formatVersion}, this valuelens reads ${RUN_FORMAT_VERSION}`);
  return r;
}
