// Registry of the dataset adapters: name → { concepts, languages, load(rootDir, opts) }.

import { advbenchAdapter } from "./adapters/advbench.js";
import type { AdapterOptions, DatasetAdapter } from "./adapters/common.js";
import { crowsFrAdapter, crowsSjsdAdapter } from "./adapters/crows-pairs.js";
import { harmRequestsAdapter } from "./adapters/harm-requests.js";
import { ethicsCommonsenseAdapter, ethicsDeontologyAdapter, ethicsUtilitarianismAdapter } from "./adapters/ethics.js";
import { jtruthfulqaAdapter } from "./adapters/jtruthfulqa.js";
import { mTruthfulqaAdapter } from "./adapters/m-truthfulqa.js";
import { multijailAdapter } from "./adapters/multijail.js";
import { rtplxAdapter } from "./adapters/rtp-lx.js";
import { rtpAdapter } from "./adapters/rtp.js";
import { stereosetAdapter } from "./adapters/stereoset.js";
import { truthfulqaAdapter, truthfulqaMultiAdapter } from "./adapters/truthfulqa.js";
import { xsafetyAdapter } from "./adapters/xsafety.js";
import { mergeLoadedPairs } from "./report.js";
import type { LoadedPairs } from "./types.js";

export const ADAPTERS: Readonly<Record<string, DatasetAdapter>> = Object.freeze(
  Object.fromEntries(
    [
      ethicsCommonsenseAdapter,
      ethicsDeontologyAdapter,
      ethicsUtilitarianismAdapter,
      stereosetAdapter,
      crowsSjsdAdapter,
      crowsFrAdapter,
      truthfulqaAdapter,
      truthfulqaMultiAdapter,
      mTruthfulqaAdapter,
      jtruthfulqaAdapter,
      rtpAdapter,
      rtplxAdapter,
      harmRequestsAdapter,
      advbenchAdapter,
      multijailAdapter,
      xsafetyAdapter,
    ].map((a) => [a.name, a]),
  ),
);

export function getAdapter(name: string): DatasetAdapter {
  const a = ADAPTERS[name];
  if (!a) throw new Error(`unknown dataset adapter "${name}" (known: ${Object.keys(ADAPTERS).join(", ")})`);
  return a;
}

/** Adapters that produce a concept, in registry order. */
export function adaptersForConcept(concept: string): DatasetAdapter[] {
  return Object.values(ADAPTERS).filter((a) => (a.concepts as readonly string[]).includes(concept));
}

/**
 * Loads several adapters and merges them; for each (concept, lang) the first adapter in `names` that yields it
 * wins (e.g. ["truthfulqa-multi", "m-truthfulqa"] takes es/ca from the human translation). Options apply to
 * every adapter, except that `languages` is narrowed to what each adapter offers.
 */
export async function loadAdapters(rootDir: string, names: readonly string[], opts: AdapterOptions = {}): Promise<LoadedPairs> {
  const parts: LoadedPairs[] = [];
  for (const n of names) {
    const a = getAdapter(n);
    const o: AdapterOptions = opts.languages ? { ...opts, languages: opts.languages.filter((l) => a.languages.includes(l)) } : opts;
    if (o.languages && o.languages.length === 0) continue;
    parts.push(await a.load(rootDir, o));
  }
  return mergeLoadedPairs(parts);
}

export type { AdapterOptions, DatasetAdapter, EthicsFile, ResponsePhrases } from "./adapters/common.js";
