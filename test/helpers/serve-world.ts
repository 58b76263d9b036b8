// The web explorer's test world: the shared planted tiny model (planted positive/negative words along one
// direction) and a vector file whose morality vector at every steerable layer is that direction.
import { join } from "node:path";
import { writeVectors, type Provenance, type VectorRow } from "../../src/store/index.js";
import { startExplorer, type Explorer, type ExplorerOptions } from "../../src/serve/server.js";
import { loadVectorSources } from "../../src/serve/sources.js";
import { plantedTinyModel, type PlantedTiny } from "./fixtures.js";

export interface ServeWorld {
  planted: PlantedTiny;
  vectorsPath: string;
}

export async function serveWorld(dir: string): Promise<ServeWorld> {
  const planted = await plantedTinyModel(dir);
  const provenance: Provenance = {
    kind: "vectors",
    valuelensVersion: "test",
    createdAt: "2024-01-01T00:00:00.000Z",
    model: { file: planted.path, sha256: "0".repeat(64), arch: "llama", name: "planted", nLayer: 4, nEmbd: 64 },
    layerConvention: "hf-hidden-states",
    position: "last",
    templates: { raw: "{input}" },
  };
  const rows: VectorRow[] = [];
  for (const lang of ["en", "fr"]) {
    for (const layer of ["1", "2", "3", "resid_post:4"]) {
      rows.push({ concept: "morality", lang, layer, method: "mean_diff", unit: planted.direction, raw: planted.direction.map((x) => 2 * x), sign: 1, explainedVariance: null, nTrain: 10 });
    }
  }
  const vectorsPath = join(dir, "vectors.arrow");
  await writeVectors(vectorsPath, provenance, rows);
  return { planted, vectorsPath };
}

export async function startWorldExplorer(world: ServeWorld, opts: Partial<ExplorerOptions> = {}): Promise<Explorer> {
  const explorer = await startExplorer({ models: [world.planted.path], vectors: await loadVectorSources([world.vectorsPath]), session: { contextSize: 2048, batchSize: 256, maxSequences: 4 }, ...opts });
  await explorer.ready;
  return explorer;
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((b) => {
      let event = "message";
      let data = "";
      for (const l of b.split("\n")) {
        if (l.startsWith("event: ")) event = l.slice(7);
        else if (l.startsWith("data: ")) data += l.slice(6);
      }
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

/** The playground query for `coef` on the planted concept. */
export function playQuery(coef: number, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ concept: "morality", source: "en", layers: "2-3", coef: String(coef), max: "16", ...extra });
  if (!("t" in extra)) q.append("t", "en:The story of the day is");
  return q.toString();
}
