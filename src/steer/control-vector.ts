// llama.cpp control-vector GGUF files: export valuelens steering vectors for llama-cli / llama-server
// (`--control-vector`, `--control-vector-scaled`) and import files written by llama.cpp's
// cvector-generator, repeng or valuelens.
//
// Layer mapping: llama.cpp adds tensor `direction.N` (N ≥ 1) to the output of block N (0-based),
// which is valuelens `resid_post:(N+1)`. Block 0 (valuelens layer 1) has no slot in the format.
import { GgmlType, GgufValueType, kv, readGguf, readTensorF32, writeGguf, type GgufTensorSpec } from "../gguf/index.js";
import { steeringBlock, type LayerSite } from "../engine/layers.js";

export interface ControlVectorLayer {
  /** valuelens layer (numeric k or "resid_post:k"); exported as direction.(k-1). */
  layer: LayerSite;
  vector: Float32Array;
}

export interface ExportControlVectorOptions {
  /** Written to controlvector.model_hint (llama.cpp's tools write the model's architecture). */
  modelHint: string;
  /** The model's block count, written to controlvector.layer_count. */
  nLayer: number;
  /** Multiplies every vector (default 1). llama.cpp's --control-vector-scaled multiplies again at load. */
  scale?: number;
}

export async function exportControlVector(path: string, layers: readonly ControlVectorLayer[], opts: ExportControlVectorOptions): Promise<void> {
  if (layers.length === 0) throw new Error("control vector export: no layers given");
  const nEmbd = layers[0].vector.length;
  const scale = opts.scale ?? 1;
  const byBlock = new Map<number, Float32Array>();
  for (const l of layers) {
    const block = steeringBlock(l.layer, opts.nLayer);
    if (block === 0) throw new Error("control vector export: layer 1 (block 0) cannot be expressed in llama.cpp's format (it has no direction.0)");
    if (l.vector.length !== nEmbd) throw new Error(`control vector export: vectors have different lengths (${nEmbd} and ${l.vector.length})`);
    const acc = byBlock.get(block) ?? new Float32Array(nEmbd);
    for (let i = 0; i < nEmbd; i++) acc[i] += scale * l.vector[i];
    byBlock.set(block, acc);
  }
  const tensors: GgufTensorSpec[] = [...byBlock.keys()]
    .sort((a, b) => a - b)
    .map((block) => ({ name: `direction.${block}`, shape: [nEmbd], type: GgmlType.F32, data: byBlock.get(block)! }));
  await writeGguf(path, {
    metadata: [kv.str("general.architecture", "controlvector"), kv.str("controlvector.model_hint", opts.modelHint), kv.i32("controlvector.layer_count", opts.nLayer)],
    tensors,
  });
}

export interface ImportedControlVector {
  modelHint: string | null;
  layerCount: number | null;
  /** One entry per direction tensor, as valuelens layers `resid_post:(N+1)`. */
  layers: Array<{ layer: `resid_post:${number}`; block: number; vector: Float32Array }>;
}

export interface ImportControlVectorOptions {
  /** The model's nEmbd: every direction must have this length. */
  nEmbd: number;
  /** The model's block count: directions must address blocks 1..nLayer-1. */
  nLayer: number;
  /** valuelens layers that must be present (e.g. the ones an experiment steers). */
  requireLayers?: readonly LayerSite[];
}

export async function importControlVector(path: string, opts: ImportControlVectorOptions): Promise<ImportedControlVector> {
  const file = await readGguf(path);
  const arch = file.metadata.get("general.architecture");
  if (arch && !(arch.type === GgufValueType.STRING && arch.value === "controlvector")) {
    throw new Error(`${path}: not a control vector (general.architecture is ${JSON.stringify(arch.value)})`);
  }
  const hint = file.metadata.get("controlvector.model_hint");
  const count = file.metadata.get("controlvector.layer_count");
  const layers: ImportedControlVector["layers"] = [];
  for (const t of file.tensors) {
    const m = /^direction\.(\d+)$/.exec(t.name);
    if (!m) throw new Error(`${path}: unexpected tensor '${t.name}' (a control vector holds only direction.N tensors)`);
    const block = Number(m[1]);
    if (block === 0) throw new Error(`${path}: direction.0 is invalid (llama.cpp never applies block 0)`);
    if (block >= opts.nLayer) throw new Error(`${path}: direction.${block} addresses block ${block}, but the model has blocks 0..${opts.nLayer - 1}`);
    if (t.type !== GgmlType.F32 || t.shape.length !== 1) throw new Error(`${path}: direction.${block} must be a 1-D F32 tensor`);
    if (t.shape[0] !== opts.nEmbd) throw new Error(`${path}: direction.${block} has length ${t.shape[0]}, the model's nEmbd is ${opts.nEmbd}`);
    layers.push({ layer: `resid_post:${block + 1}`, block, vector: await readTensorF32(path, t) });
  }
  layers.sort((a, b) => a.block - b.block);
  for (const need of opts.requireLayers ?? []) {
    const block = steeringBlock(need, opts.nLayer);
    if (!layers.some((l) => l.block === block)) throw new Error(`${path}: no direction for layer ${String(need)} (direction.${block} missing)`);
  }
  return {
    modelHint: hint && hint.type === GgufValueType.STRING ? hint.value : null,
    layerCount: count && typeof count.value === "number" ? count.value : null,
    layers,
  };
}
