// Column names and provenance record of the Arrow files valuelens writes. One vocabulary for
// the writer, the readers, the CLI and the docs.
//
// Activation files are Arrow IPC *streams* (written to `<path>.partial`, renamed on close); every record batch
// carries its own (non-delta) dictionaries, so any prefix of complete batches is a valid stream.
// Vector files are Arrow IPC *files*. Both carry the provenance as schema metadata under PROVENANCE_KEY.

/** One row per (text, layer) in an activation file. */
export const ACTIVATION_COLUMNS = {
  itemId: "item_id", // Utf8: ContrastPair.id
  concept: "concept", // Dictionary<Utf8>
  lang: "lang", // Dictionary<Utf8>
  side: "side", // Dictionary<Utf8>: "pos" | "neg"
  split: "split", // Dictionary<Utf8>: "train" | "val" | "test"
  template: "template", // Dictionary<Utf8>: template id
  layer: "layer", // Dictionary<Utf8>: canonical layer site, String(LayerSite) ("12", "resid_post:24", "final_norm")
  tokenCount: "token_count", // Int32: tokens of the templated text
  vector: "vector", // FixedSizeList<Float32 | Float16>[nEmbd]
} as const;

/** One row per (concept, lang, layer, method) in a vector file. */
export const VECTOR_COLUMNS = {
  concept: "concept", // Utf8
  lang: "lang", // Utf8
  layer: "layer", // Utf8 canonical layer site
  method: "method", // Utf8: "mean_diff" | "pca" | "random" | "logistic"
  unit: "unit", // FixedSizeList<Float32>[nEmbd], unit length, sign applied (positives project higher)
  raw: "raw", // FixedSizeList<Float32>[nEmbd], unnormalised, as the method produced it (before the sign)
  sign: "sign", // Int8: +1 | -1
  explainedVariance: "explained_variance", // Float64, nullable (PCA only)
  nTrain: "n_train", // Int32: training pairs used
} as const;

/** Schema-level metadata (Arrow custom metadata, key "valuelens" as JSON). */
export interface Provenance {
  kind: "activations" | "vectors";
  valuelensVersion: string;
  createdAt: string; // ISO 8601
  model: { file: string; sha256: string; arch: string; name: string; nLayer: number; nEmbd: number };
  /** Always "hf-hidden-states" for numeric layers: k = HF hidden_states[k], k = nLayer post final norm. */
  layerConvention: "hf-hidden-states";
  position: "last" | "mean";
  templates: Record<string, string>; // template id -> template text
  split?: { seed: number; train: number; val: number; test: number; by: "item" };
  /** Free-form extra provenance (dataset names, method options, ...). */
  extra?: Record<string, unknown>;
}

export const PROVENANCE_KEY = "valuelens";
