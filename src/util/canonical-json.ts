// One canonical JSON text for hashing and comparing records: equal content gives equal text.

/**
 * JSON with sorted keys. The undefined rule is JSON.stringify's, so a record hashes the same before and after
 * a round trip through a file: an undefined member is left out, an undefined array element (or value) is null.
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
