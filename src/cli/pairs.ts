// Loading pairs for a command: errors that name the flag, the bad value and the valid ones; the loader's
// report summarised in a few lines with the full list in a file next to the output.
import type { LoadReport } from "../data/types.js";
import { loadPairs, MissingDataError, type LoadedPairSource } from "../pipeline/sources.js";
import { writeJsonAtomic } from "../util/output.js";
import { didYouMean, listFlag, UsageError } from "./args.js";

export interface PairFlags {
  data?: string;
  dataset?: string;
  "data-root"?: string;
  concepts?: string;
  langs?: string;
  "allow-missing"?: boolean;
}

export async function loadCliPairs(v: PairFlags): Promise<LoadedPairSource> {
  const concepts = listFlag(v.concepts);
  const langs = listFlag(v.langs);
  let loaded: LoadedPairSource;
  try {
    loaded = await loadPairs({ data: v.data, datasets: listFlag(v.dataset), dataRoot: v["data-root"], concepts, langs, allowMissing: v["allow-missing"] ?? false });
  } catch (e) {
    if (!(e instanceof MissingDataError)) throw e;
    const { missing, available } = e;
    const hint = missing.concepts.length + missing.langs.length + missing.cells.length > 0 && available.concepts.length > 0 ? "\n(--allow-missing goes on with what there is)" : "";
    throw new UsageError(missingMessage(e) + hint);
  }
  const m = loaded.missing;
  const warn = [...m.concepts.map((c) => `concept '${c}'`), ...m.langs.map((l) => `language '${l}'`), ...m.cells];
  if (warn.length) process.stderr.write(`warning: no pairs for ${warn.join(", ")}; going on without them (--allow-missing)\n`);
  return loaded;
}

/** A MissingDataError in the CLI's words: the flag, the bad value, a likely typo, the valid values. */
export function missingMessage(e: MissingDataError): string {
  const { missing, available } = e;
  const parts: string[] = [];
  for (const c of missing.concepts) parts.push(`--concepts: no pairs for '${c}'${didYouMean(c, available.concepts)} (the data has: ${available.concepts.join(", ") || "none"})`);
  for (const l of missing.langs) parts.push(`--langs: no pairs for '${l}'${didYouMean(l, available.langs)} (the data has: ${available.langs.join(", ") || "none"})`);
  if (missing.cells.length) parts.push(`--langs: no pairs for ${missing.cells.join(", ")}`);
  if (parts.length === 0) parts.push("no pairs for the requested concepts and languages");
  return parts.join("\n");
}

function total(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function perLang(r: Record<string, number>): string {
  return Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${l} ${n.toLocaleString("en-US")}`)
    .join(", ");
}

/** Whether the report has anything a reader should look at in full. */
function hasDetails(r: LoadReport): boolean {
  return total(r.skipped) + total(r.droppedIdentical) + Object.values(r.missingIds).reduce((a, ids) => a + ids.length, 0) > 0;
}

/** Write the full load report next to the output (`OUT.load-report.json`) when it has anything in it. */
export async function writeLoadReport(out: string, report: LoadReport): Promise<string | null> {
  if (!hasDetails(report)) return null;
  const file = `${out}.load-report.json`;
  await writeJsonAtomic(file, report);
  return file;
}

/** A few lines for the text summary: totals per language and reason, and where the full list is. */
export function loadReportLines(r: LoadReport, file: string | null): string[] {
  const lines: string[] = [];
  const skipped = total(r.skipped);
  if (skipped > 0) {
    const reasons = new Map<string, number>();
    for (const byReason of Object.values(r.skippedReasons ?? {})) for (const [why, n] of Object.entries(byReason)) reasons.set(why, (reasons.get(why) ?? 0) + n);
    const why = [...reasons].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${n.toLocaleString("en-US")}`);
    lines.push(`skipped ${skipped.toLocaleString("en-US")} rows (${perLang(r.skipped)})${why.length ? `; reasons: ${why.join(", ")}` : ""}`);
  }
  const dropped = total(r.droppedIdentical);
  if (dropped > 0) lines.push(`dropped ${dropped.toLocaleString("en-US")} pairs with pos == neg (${perLang(r.droppedIdentical)})`);
  const missing = Object.fromEntries(Object.entries(r.missingIds).map(([l, ids]) => [l, ids.length]));
  if (total(missing) > 0) lines.push(`items missing relative to other languages: ${perLang(missing)}`);
  if (file && lines.length) lines.push(`full list: ${file}`);
  for (const n of r.notes ?? []) lines.push(`note: ${n}`);
  return lines;
}
