// Atomic file writes: a reader never sees a half-written report or figure (one durable writer for all outputs).
export { writeFileAtomic } from "../util/output.js";
