// The package version, recorded in every output's provenance.
import { createRequire } from "node:module";

export const VALUELENS_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
