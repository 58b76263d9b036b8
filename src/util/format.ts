// One number style for everything valuelens prints (CLI tables and the HTML report).

/** `x` with `digits` decimals; never "-0.000" (a value that rounds to zero has no sign); "—" when not finite. */
export function fixed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return "—";
  const s = x.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** A percentage (0..100): one decimal, everywhere. */
export function percent(x: number): string {
  return Number.isFinite(x) ? `${fixed(x, 1)}%` : "—";
}

/** Language pairs below which a correlation over pairs is too noisy to read (5 languages = 10 pairs). */
export const MIN_CORRELATION_PAIRS = 10;

/** A warning when a correlation over the language pairs of `nLangs` languages rests on too few pairs. */
export function fewPairsWarning(nLangs: number): string | null {
  const pairs = (nLangs * (nLangs - 1)) / 2;
  if (pairs >= MIN_CORRELATION_PAIRS) return null;
  return `the correlation rests on ${pairs} language pair${pairs === 1 ? "" : "s"} (${nLangs} languages): with fewer than ${MIN_CORRELATION_PAIRS} pairs r says little (|r| = 1 is likely by chance)`;
}
