// Where pairs come from: an MVALUE folder, a JSONL file of pairs, or named dataset adapters over a data
// root. One entry point so the CLI and experiment manifests load data the same way.
import { readdir, stat } from "node:fs/promises";
import { loadMvalue } from "../data/mvalue.js";
import { readPairsJsonl } from "../data/jsonl.js";
import { loadDatasets } from "./datasets.js";
import { Rng } from "../util/rng.js";
import type { ContrastPair, LoadedPairs, LoadReport } from "../data/types.js";
import { ValuelensError } from "../util/errors.js";

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
  /** Keep going when a requested concept, language or (concept, language) has no pairs (default: an error). */
  allowMissing?: boolean;
}

/** What was asked for and has no pairs. `cells` are "concept/lang" of concepts and languages that exist apart. */
export interface MissingData {
  concepts: string[];
  langs: string[];
  cells: string[];
}

export interface LoadedPairSource extends LoadedPairs {
  /** Empty unless `allowMissing` let the load go on without them. */
  missing: MissingData;
}

/** A requested concept or language has no pairs: says which, and what the data does have. */
export class MissingDataError extends ValuelensError {
  constructor(
    readonly missing: MissingData,
    readonly available: { concepts: string[]; langs: string[] },
  ) {
    const parts: string[] = [];
    if (missing.concepts.length) parts.push(`no pairs for concept ${missing.concepts.map((c) => `'${c}'`).join(", ")} (the data has: ${available.concepts.join(", ") || "none"})`);
    if (missing.langs.length) parts.push(`no pairs for language ${missing.langs.map((l) => `'${l}'`).join(", ")} (the data has: ${available.langs.join(", ") || "none"})`);
    if (missing.cells.length) parts.push(`no pairs for ${missing.cells.join(", ")}`);
    super("VALUELENS_MISSING_DATA", parts.join("; ") || "no pairs");
  }
}

/** Requested concepts, languages and their combinations that have no pairs. */
export function missingData(pairs: ReadonlyArray<Pick<ContrastPair, "concept" | "lang">>, src: Pick<PairSource, "concepts" | "langs">): MissingData {
  const concepts = new Set(pairs.map((p) => p.concept));
  const langs = new Set(pairs.map((p) => p.lang));
  const cells = new Set(pairs.map((p) => `${p.concept}/${p.lang}`));
  const missing: MissingData = {
    concepts: (src.concepts ?? []).filter((c) => !concepts.has(c)),
    langs: (src.langs ?? []).filter((l) => !langs.has(l)),
    cells: [],
  };
  if (src.langs) {
    for (const c of [...concepts].sort()) for (const l of src.langs) if (langs.has(l) && !cells.has(`${c}/${l}`)) missing.cells.push(`${c}/${l}`);
  }
  return missing;
}

function isEmpty(m: MissingData): boolean {
  return m.concepts.length + m.langs.length + m.cells.length === 0;
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

export async function loadPairs(src: PairSource): Promise<LoadedPairSource> {
  if (!src.data && !src.datasets?.length) throw new Error("no data given: use --data DIR|FILE.jsonl or --dataset NAME --data-root DIR");
  const loaded: LoadedPairs[] = [];
  if (src.data) {
    let isDir: boolean;
    try {
      isDir = (await stat(src.data)).isDirectory();
    } catch {
      throw new Error(`data '${src.data}' does not exist`);
    }
    if (isDir) {
      // Concepts without a folder are left to the missing-data check, which names them and the ones present.
      const folders = new Set((await readdir(src.data, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name));
      const byConcept = await loadMvalue(src.data, { concepts: src.concepts?.filter((c) => folders.has(c)), languages: src.langs });
      loaded.push(...Object.values(byConcept));
    } else {
      loaded.push({ pairs: await readPairsJsonl(src.data), report: emptyReport() });
    }
  }
  if (src.datasets?.length) {
    if (!src.dataRoot) throw new Error("datasets need a data root (--data-root DIR)");
    loaded.push(...(await loadDatasets(src.datasets, src.dataRoot, { concepts: src.concepts, langs: src.langs, adapterOptions: src.adapterOptions })));
  }
  const pairs = keep(loaded.flatMap((l) => l.pairs), src);
  const missing = missingData(pairs, src);
  if (pairs.length === 0 || (!isEmpty(missing) && !src.allowMissing)) {
    // Only on this error path: load everything once more to say what the data does have.
    const all = src.concepts || src.langs ? await loadPairs({ ...src, concepts: undefined, langs: undefined, allowMissing: true }).catch(() => null) : null;
    const available = { concepts: [...new Set(all?.pairs.map((p) => p.concept))].sort(), langs: [...new Set(all?.pairs.map((p) => p.lang))].sort() };
    if (pairs.length === 0 && isEmpty(missing)) throw new MissingDataError({ concepts: [], langs: [], cells: [] }, available);
    throw new MissingDataError(missing, available);
  }
  const seen = new Set<string>();
  for (const p of pairs) {
    const k = `${p.concept}\u0000${p.lang}\u0000${p.id}`;
    if (seen.has(k)) throw new Error(`duplicate pair id '${p.id}' for ${p.concept}/${p.lang} (ids must be unique per concept and language)`);
    seen.add(k);
  }
  return { pairs, report: mergeReports(loaded.map((l) => l.report)), missing };
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
