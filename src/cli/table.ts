// Plain-text tables for the CLI's human-readable output, in the one number style of util/format.ts.
import { fixed } from "../util/format.js";

export { fewPairsWarning, fixed, MIN_CORRELATION_PAIRS, percent } from "../util/format.js";

export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>, digits = 3): string {
  const cells = [header.map(String), ...rows.map((r) => r.map((c) => (typeof c === "number" ? fixed(c, digits) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

export function formatMatrix(title: string, labels: readonly string[], values: readonly (readonly number[])[], digits = 3, rowLabels: readonly string[] = labels): string {
  return `${title}\n` + formatTable(["", ...labels], values.map((row, i) => [rowLabels[i], ...row]), digits);
}
