// Where pairs come from: an MVALUE folder, a JSONL file of pairs, or named dataset adapters over a data
// root. One entry point so the CLI and experiment manifests load data the same way.
import { stat } from "node:fs/promises";
import { loadMvalue } from "../data/mvalue.js";
import { readPairsJsonl } from "../data/jsonl.js";
import { loadDatasets } from "./datasets.js";
import { Rng } from "../gguf/rng.js";
import type { ContrastPair, LoadedPairs, LoadReport } from "../data/types.js";

export interface PairSource {
  /** MVALUE folder (`<root>/<concept>/<concept>_<lang>.json`) or a `.jsonl` file of pairs. */
  data?: string;
  /** Named dataset adapters (see `valuelens data list`), read from `dataRoot`. */
  datasets?: readonly string[];
  dataRoot?: string;
  concepts?: readonly string[];
  langs?: readonly string[];
  /** Passed to the adapters (see AdapterOptions). */
  adapterOptions?: Record<string, unknown>;
}

function emptyReport(): LoadReport {
  return { droppedIdentical: {}, skipped: {}, missingIds: {} };
}

/** Merges reports of several loads (counts add up, notes concatenate). */
export function mergeReports(parts: readonly LoadReport[]): LoadReport {
  const out = emptyReport();
  for (const r of parts) {
    for (const [lang, n] of Object.entries(r.droppedIdentical)) out.droppedIdentical[lang] = (out.droppedIdentical[lang] ?? 0) + n;
    for (const [lang, n] of Object.entries(r.skipped)) out.skipped[lang] = (out.skipped[lang] ?? 0) + n;
    for (const [lang, ids] of Object.entries(r.missingIds)) (out.missingIds[lang] ??= []).push(...ids);
    if (r.notes?.length) (out.notes ??= []).push(...r.notes);
  }
  return out;
}

function keep(pairs: readonly ContrastPair[], src: PairSource): ContrastPair[] {
  const concepts = src.concepts ? new Set(src.concepts) : null;
  const langs = src.langs ? new Set(src.langs) : null;
  return pairs.filter((p) => (!concepts || concepts.has(p.concept)) && (!langs || langs.has(p.lang)));
}

export async function loadPairs(src: PairSource): Promise<LoadedPairs> {
  const loaded: LoadedPairs[] = [];
  if (src.data) {
    let isDir: boolean;
    try {
      isDir = (await stat(src.data)).isDirectory();
    } catch {
      throw new Error(`data '${src.data}' does not exist`);
    }
    if (isDir) {
      const byConcept = await loadMvalue(src.data, { concepts: src.concepts, languages: src.langs });
      loaded.push(...Object.values(byConcept));
    } else {
      loaded.push({ pairs: await readPairsJsonl(src.data), report: emptyReport() });
    }
  }
  if (src.datasets?.length) {
    if (!src.dataRoot) throw new Error("datasets need a data root (--data-root DIR)");
    loaded.push(...(await loadDatasets(src.datasets, src.dataRoot, { concepts: src.concepts, langs: src.langs, adapterOptions: src.adapterOptions })));
  }
  if (loaded.length === 0) throw new Error("no data given: use --data DIR|FILE.jsonl or --dataset NAME --data-root DIR");
  const pairs = keep(loaded.flatMap((l) => l.pairs), src);
  if (pairs.length === 0) throw new Error(`no pairs left for concepts [${src.concepts?.join(", ") ?? "all"}] and languages [${src.langs?.join(", ") ?? "all"}]`);
  const seen = new Set<string>();
  for (const p of pairs) {
    const k = `${p.concept}\u0000${p.lang}\u0000${p.id}`;
    if (seen.has(k)) throw new Error(`duplicate pair id '${p.id}' for ${p.concept}/${p.lang} (ids must be unique per concept and language)`);
    seen.add(k);
  }
  return { pairs, report: mergeReports(loaded.map((l) => l.report)) };
}

/**
 * Keeps at most `n` split units (pair group, else id) per concept, the same units in every language, chosen
 * by a seeded shuffle — a quick subset that stays aligned across languages.
 */
export function limitUnits<T extends ContrastPair>(pairs: readonly T[], n: number, seed = 1): T[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`limit must be a positive integer (got ${n})`);
  const unit = (p: ContrastPair) => p.group ?? p.id;
  const keep = new Map<string, Set<string>>();
  const byConcept = new Map<string, Set<string>>();
  for (const p of pairs) {
    let s = byConcept.get(p.concept);
    if (!s) byConcept.set(p.concept, (s = new Set()));
    s.add(unit(p));
  }
  for (const [concept, units] of byConcept) {
    const ids = [...units].sort();
    const rng = new Rng(seed, "limit", concept);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    keep.set(concept, new Set(ids.slice(0, n)));
  }
  return pairs.filter((p) => keep.get(p.concept)!.has(unit(p)));
}
