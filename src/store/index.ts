/** Activation and vector stores: Arrow IPC files streamed to disk, readers, Parquet export. */
export { ACTIVATION_COLUMNS, VECTOR_COLUMNS, PROVENANCE_KEY, type Provenance } from "./schema.js";
export {
  openActivationWriter,
  activationSchema,
  type ActivationWriter,
  type ActivationWriterOptions,
  type ActivationRow,
  type ActivationColumns,
  type RowKey,
  type TextKey,
  type VectorType,
} from "./activations.js";
export {
  readActivations,
  readActivationBatches,
  loadActivationMatrix,
  readProvenance,
  inspectActivations,
  type ActivationFilter,
  type ActivationBlock,
  type ActivationFileInfo,
  type ActivationMatrix,
  type MatrixSelection,
} from "./read.js";
export { writeVectors, readVectors, vectorSchema, type VectorRow, type VectorFile, type VectorMethod } from "./vectors.js";
export { exportParquet, type ParquetExportOptions, type ParquetExportResult } from "./parquet.js";
export { sha256File, clearSha256Cache } from "./hash.js";
export { ProvenanceMismatchError, provenanceDifferences } from "./provenance.js";
