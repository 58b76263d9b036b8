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
