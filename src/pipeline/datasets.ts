// Named dataset adapters (src/data/adapters) behind the PairSource interface.
import { ADAPTERS } from "../data/adapters.js";
import type { LoadedPairs } from "../data/types.js";

export async function loadDatasets(
  names: readonly string[],
  root: string,
  opts: { concepts?: readonly string[]; langs?: readonly string[]; adapterOptions?: Record<string, unknown> },
): Promise<LoadedPairs[]> {
  const out: LoadedPairs[] = [];
  for (const name of names) {
    const a = ADAPTERS[name];
    if (!a) throw new Error(`unknown dataset '${name}' (have: ${Object.keys(ADAPTERS).join(", ")})`);
    if (opts.concepts && !a.concepts.some((c) => opts.concepts!.includes(c))) continue;
    const languages = opts.langs ? a.languages.filter((l) => opts.langs!.includes(l)) : undefined;
    if (languages && languages.length === 0) continue;
    out.push(await a.load(root, { ...(opts.adapterOptions ?? {}), ...(languages ? { languages } : {}) }));
  }
  return out;
}
