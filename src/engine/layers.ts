// The layer-site vocabulary shared by the API, the CLI, the activation store and the docs.
//   k (1..nLayer)    Hugging Face hidden_states[k]: output of block k for k < nLayer,
//                    the final-norm output for k = nLayer (HF's top entry is post-norm).
//   "resid_post:k"   the residual stream after block k (1-based), also for k = nLayer.
//   "final_norm"     output of the final RMSNorm (same as k = nLayer).
// Native sites: 0..nLayer-1 = llama.cpp `l_out-i` (block i, 0-based), nLayer = `result_norm`.
import { LayerError } from "../util/errors.js";

export type LayerSite = number | "final_norm" | `resid_post:${number}`;

export function parseLayerSite(spec: string): LayerSite {
  const s = spec.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (s === "final_norm") return "final_norm";
  const m = /^resid_post:(\d+)$/.exec(s);
  if (m) return `resid_post:${Number(m[1])}`;
  throw new LayerError(`unknown layer '${spec}': use an integer k, "resid_post:k" or "final_norm"`);
}

/**
 * The one layer-list syntax (CLI flags, manifests, the steering API): "all" (or nothing) for every layer, else
 * comma-separated sites and ranges, e.g. "1-12, resid_post:24, final_norm". With `nLayer`, every site is
 * checked against the model's depth. Throws LayerError.
 */
export function parseLayers(spec: string | undefined, nLayer?: number): LayerSite[] {
  const all = !spec || spec.trim() === "all";
  if (all && nLayer === undefined) throw new LayerError(`layers '${spec ?? ""}': "all" needs the model's depth`);
  if (all) return allLayers(nLayer!);
  const out: LayerSite[] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > b) throw new LayerError(`bad layer range '${part}'`);
      for (let k = a; k <= b; k++) out.push(k);
    } else out.push(parseLayerSite(part));
  }
  if (out.length === 0) throw new LayerError(`no layers in '${spec}'`);
  if (nLayer !== undefined) for (const l of out) nativeSite(l, nLayer);
  return out;
}

/** Native capture site for a layer, validated against the model's depth. */
export function nativeSite(layer: LayerSite, nLayer: number): number {
  if (typeof layer === "number") {
    if (!Number.isInteger(layer) || layer < 1 || layer > nLayer) {
      throw new LayerError(`unknown layer ${layer}: this model has layers 1..${nLayer}`);
    }
    return layer === nLayer ? nLayer : layer - 1;
  }
  if (layer === "final_norm") return nLayer;
  const k = residPostIndex(layer);
  if (k < 1 || k > nLayer) throw new LayerError(`unknown layer '${layer}': resid_post takes 1..${nLayer}`);
  return k - 1;
}

/** The block (0-based) whose output a steering vector at this layer is added to. */
export function steeringBlock(layer: LayerSite, nLayer: number): number {
  if (layer === "final_norm") throw new LayerError("cannot steer final_norm: steering adds to the residual stream (use layer nLayer or resid_post:k)");
  const k = typeof layer === "number" ? layer : residPostIndex(layer);
  if (!Number.isInteger(k) || k < 1 || k > nLayer) throw new LayerError(`unknown layer ${String(layer)}: this model has layers 1..${nLayer}`);
  // Numeric layer L is read after the final norm, but steering adds before it: a vector taken there
  // would be applied at a different site. The top block is steered as resid_post:L, with a vector read there.
  if (typeof layer === "number" && k === nLayer) {
    throw new LayerError(
      `cannot steer layer ${nLayer} (the top): it is read after the final norm, steering adds before it; use "resid_post:${nLayer}" with a vector read at resid_post:${nLayer}`,
    );
  }
  return k - 1;
}

function residPostIndex(layer: string): number {
  const m = /^resid_post:(\d+)$/.exec(layer);
  if (!m) throw new LayerError(`unknown layer '${layer}': use an integer k, "resid_post:k" or "final_norm"`);
  return Number(m[1]);
}

/** Canonical string form, used as a key in stores and reports. */
export function layerName(layer: LayerSite): string {
  return String(layer);
}

/** All layers 1..nLayer (the science's default). */
export function allLayers(nLayer: number): number[] {
  return Array.from({ length: nLayer }, (_, i) => i + 1);
}
