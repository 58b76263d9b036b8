// Provenance (de)serialisation in Arrow schema metadata, and the compatibility check used on resume.
import type { Schema } from "apache-arrow";
import { PROVENANCE_KEY, type Provenance } from "./schema.js";
import { canonicalJson } from "../util/canonical-json.js";
import { ValuelensError } from "../util/errors.js";

export function provenanceMetadata(provenance: Provenance): Map<string, string> {
  return new Map([[PROVENANCE_KEY, JSON.stringify(provenance)]]);
}

export function provenanceFromSchema(schema: Schema, path: string): Provenance {
  const json = schema.metadata.get(PROVENANCE_KEY);
  if (json === undefined) throw new Error(`${path}: no "${PROVENANCE_KEY}" provenance in the Arrow schema metadata (not a valuelens file?)`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new Error(`${path}: provenance metadata is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || !("model" in value) || !("kind" in value)) {
    throw new Error(`${path}: provenance metadata is malformed`);
  }
  return value as Provenance;
}

/**
 * Fields on which two provenance records disagree in a way that makes their rows incomparable (model identity,
 * width, layer convention, pooling position, template texts, split). Version, time and `extra` may differ.
 */
export function provenanceDifferences(existing: Provenance, wanted: Provenance): string[] {
  const checks: [string, unknown, unknown][] = [
    ["kind", existing.kind, wanted.kind],
    ["model.sha256", existing.model?.sha256, wanted.model?.sha256],
    ["model.nEmbd", existing.model?.nEmbd, wanted.model?.nEmbd],
    ["model.nLayer", existing.model?.nLayer, wanted.model?.nLayer],
    ["layerConvention", existing.layerConvention, wanted.layerConvention],
    ["position", existing.position, wanted.position],
    ["templates", existing.templates ?? {}, wanted.templates ?? {}],
    ["split", existing.split ?? null, wanted.split ?? null],
  ];
  return checks
    .filter(([, a, b]) => canonicalJson(a) !== canonicalJson(b))
    .map(([name, a, b]) => `${name}: file has ${canonicalJson(a)}, wanted ${canonicalJson(b)}`);
}

export class ProvenanceMismatchError extends ValuelensError {
  constructor(
    readonly path: string,
    readonly differences: string[],
    message = `${path}: cannot resume, the existing file was written with a different provenance:\n  ${differences.join("\n  ")}`,
  ) {
    super("VALUELENS_PROVENANCE_MISMATCH", message);
  }
}
