// Named dataset adapters (src/data/adapters) behind the PairSource interface.
import { getAdapter, loadAdapters, type AdapterOptions } from "../data/adapters.js";
import type { LoadedPairs } from "../data/types.js";

/**
 * Loads the named datasets; for each (concept, lang) the first dataset that has it wins, so
 * ["truthfulqa-multi", "m-truthfulqa"] takes es/ca from the professional translation.
 */
export async function loadDatasets(
  names: readonly string[],
  root: string,
  opts: { concepts?: readonly string[]; langs?: readonly string[]; adapterOptions?: Record<string, unknown> },
): Promise<LoadedPairs[]> {
  const wanted = names.filter((n) => !opts.concepts || getAdapter(n).concepts.some((c) => opts.concepts!.includes(c)));
  if (wanted.length === 0) return [];
  const adapterOptions = { ...(opts.adapterOptions ?? {}), ...(opts.langs ? { languages: opts.langs } : {}) } as AdapterOptions;
  return [await loadAdapters(root, wanted, adapterOptions)];
}
