// Flags shared by commands that run a model: loading, session shape, layers, progress, Ctrl-C.
import { loadModel, type Model } from "../engine/model.js";
import { withSessionDefaults, type Session } from "../engine/session.js";
import { createProgress, type ProgressMode } from "../progress/progress.js";
import { choiceFlag, intFlag, UsageError, type FlagTable } from "./args.js";
import { parseLayers, type LayerSite } from "../engine/layers.js";
import { LayerError, ModelError } from "../util/errors.js";
import { templateFor, type PromptTemplate, type TemplateModel } from "../data/templates.js";

export const engineFlags = {
  model: { type: "string", arg: "M.gguf", help: "the model (GGUF)" },
  "gpu-layers": { type: "string", arg: "N", help: "layers to offload to the GPU (-1 = all; GPU builds)" },
  ctx: { type: "string", arg: "N", help: "context size (default 4096)" },
  "batch-size": { type: "string", arg: "N", help: "tokens per decode (default 2048)" },
  "max-seqs": { type: "string", arg: "N", help: "texts per decode (default 64)" },
  threads: { type: "string", arg: "N", help: "CPU threads (default: all cores)" },
  progress: { type: "string", arg: "MODE", help: "auto (bar on a TTY) | bar | json (JSON lines on stderr) | none" },
} as const satisfies FlagTable;

type EngineValues = { [K in keyof typeof engineFlags]?: string };

export async function openEngine(v: EngineValues): Promise<{ model: Model; session: Session }> {
  if (!v.model) throw new UsageError("--model is required");
  const model = await loadModel(v.model, { gpuLayers: intFlag("gpu-layers", v["gpu-layers"], 0, -1) });
  const session = await model.createSession(
    withSessionDefaults({
      ...(v.ctx !== undefined ? { contextSize: intFlag("ctx", v.ctx, undefined, 1) } : {}),
      ...(v["batch-size"] !== undefined ? { batchSize: intFlag("batch-size", v["batch-size"], undefined, 1) } : {}),
      ...(v["max-seqs"] !== undefined ? { maxSequences: intFlag("max-seqs", v["max-seqs"], undefined, 1) } : {}),
      ...(v.threads ? { threads: intFlag("threads", v.threads, 0, 1) } : {}),
    }),
  );
  return { model, session };
}

/** --layers: the engine's one layer-list syntax; a bad list is a usage error (exit 2). */
export function layersFlag(spec: string | undefined, nLayer: number): LayerSite[] {
  try {
    return parseLayers(spec, nLayer);
  } catch (e) {
    if (e instanceof LayerError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

/** --template: templateFor, with a model that has no chat template for "gguf" as a usage error (exit 2). */
export function templateFlag(spec: string, model: TemplateModel): PromptTemplate {
  try {
    return templateFor(spec, model);
  } catch (e) {
    if (e instanceof ModelError) throw new UsageError(`--${e.message}`, { cause: e });
    throw e;
  }
}

/** The progress reporter a command's --progress flag asks for (auto: a bar on a TTY, nothing otherwise). */
export function progressFor(v: { progress?: string }) {
  return createProgress(choiceFlag("progress", v.progress, ["auto", "bar", "json", "none"] as const, "auto") as ProgressMode);
}

/** An AbortSignal that fires on the first Ctrl-C (the second one exits at once). */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const c = new AbortController();
  const onInt = () => {
    if (c.signal.aborted) process.exit(130);
    process.stderr.write("\ninterrupted: finishing the current step (Ctrl-C again to quit now)\n");
    c.abort();
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onInt);
  return {
    signal: c.signal,
    dispose: () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onInt);
    },
  };
}
