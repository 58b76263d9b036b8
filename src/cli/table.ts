// Plain-text tables for the CLI's human-readable output, in the one number style of util/format.ts.
import { fixed } from "../util/format.js";

export { fixed, percent } from "../util/format.js";

/** Language pairs below which a correlation over pairs is too noisy to read (5 languages = 10 pairs). */
export const MIN_CORRELATION_PAIRS = 10;

/** A warning when a correlation over the language pairs of `nLangs` languages rests on too few pairs. */
export function fewPairsWarning(nLangs: number): string | null {
  const pairs = (nLangs * (nLangs - 1)) / 2;
  if (pairs >= MIN_CORRELATION_PAIRS) return null;
  return `the correlation rests on ${pairs} language pair${pairs === 1 ? "" : "s"} (${nLangs} languages): with fewer than ${MIN_CORRELATION_PAIRS} pairs r says little (|r| = 1 is likely by chance)`;
}

export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>, digits = 3): string {
  const cells = [header.map(String), ...rows.map((r) => r.map((c) => (typeof c === "number" ? fixed(c, digits) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

export function formatMatrix(title: string, labels: readonly string[], values: readonly (readonly number[])[], digits = 3, rowLabels: readonly string[] = labels): string {
  return `${title}\n` + formatTable(["", ...labels], values.map((row, i) => [rowLabels[i], ...row]), digits);
}
