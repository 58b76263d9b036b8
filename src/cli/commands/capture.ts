// `valuelens capture`: contrastive pairs → templated texts → residual stream → Arrow activation file.
import { captureTexts, pairGroups } from "../../data/pairs.js";
import { splitByItem } from "../../data/splits.js";
import type { Split } from "../../data/types.js";
import { captureToStore } from "../../pipeline/capture.js";
import { ADAPTERS } from "../../data/adapters.js";
import { limitUnits } from "../../pipeline/sources.js";
import { checkChoices, choiceFlag, intFlag, listFlag, numFlag, parseCommand, required, UsageError, type CommandSpec, type FlagValues } from "../args.js";
import { engineFlags, interruptSignal, layersFlag, openEngine, progressFor, templateFlag } from "../engine-flags.js";
import { claimOutput } from "../outputs.js";
import { loadCliPairs, loadReportLines, writeLoadReport } from "../pairs.js";
import { AbortError } from "../../util/errors.js";

export const captureSpec = {
  name: "capture",
  synopsis: "--model M.gguf (--data DIR|FILE.jsonl | --dataset NAME[,NAME] --data-root DIR) --out acts.arrow [options]",
  about: "contrastive pairs → templated texts → residual-stream activations at every layer (Arrow file)",
  flags: {
    ...engineFlags,
    data: { type: "string", arg: "DIR|FILE", help: "MVALUE folder or a .jsonl file of pairs" },
    dataset: { type: "string", arg: "NAME[,NAME]", help: "dataset adapters (valuelens data list), read from --data-root" },
    "data-root": { type: "string", arg: "DIR", help: "where the datasets are (valuelens data fetch puts them there)" },
    concepts: { type: "string", arg: "a,b", help: "concepts to capture (default: all in the data)" },
    langs: { type: "string", arg: "en,fr", help: "languages (default: all in the data)" },
    "allow-missing": { type: "boolean", help: "a requested concept or language without pairs is a warning, not an error" },
    template: {
      type: "string",
      arg: "T",
      help: "llama2-chat | qwen-chat | bloomz | raw | gguf (the model's own chat template) | auto\n(suggested from the model's name) | a custom text containing {input}  (default auto)",
    },
    layers: { type: "string", arg: "L", help: "all (default) | 1,2,final_norm | 1-12,resid_post:24" },
    position: { type: "string", arg: "P", help: "last (default; what the paper uses) | mean" },
    seed: { type: "string", arg: "N", help: "split seed (default 1, as the paper)" },
    "train-fraction": { type: "string", arg: "X", help: "train+val share of items, rest = test (default 0.8, as the paper)" },
    val: { type: "string", arg: "X", help: "share of the train block held out for choosing the layer (default 0.1; 0 = paper setting)" },
    splits: { type: "string", arg: "S", help: "which splits to capture (default train,val,test)" },
    limit: { type: "string", arg: "N", help: "at most N items (pair groups) per concept, the same items in every language" },
    f16: { type: "boolean", help: "store vectors as float16 (half the disk)" },
    resume: { type: "boolean", help: "continue an interrupted (or finished) file: finished rows are kept, e.g. to add layers" },
    force: { type: "boolean", help: "replace an existing --out (default: refuse)" },
    chunk: { type: "string", arg: "N", help: "texts per engine call (default 256)" },
    out: { type: "string", arg: "FILE", help: "the activation file (Arrow IPC stream)" },
    json: { type: "boolean", help: "print a JSON summary on stdout" },
  },
} as const satisfies CommandSpec;

export async function captureCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(captureSpec, argv);
  const out = required(values.out, "--out", "the activation file to write");
  if (!values.data && !values.dataset) throw new UsageError("--data or --dataset is required (where the pairs come from)");
  if (values.dataset && !values.data && !values["data-root"]) throw new UsageError("--dataset needs --data-root DIR (where valuelens data fetch put the files)");
  if (values.resume && values.force) throw new UsageError("--resume and --force contradict each other: --resume keeps the stored rows, --force discards them");
  checkChoices("--dataset", listFlag(values.dataset), Object.keys(ADAPTERS), "dataset");
  const position = choiceFlag("position", values.position, ["last", "mean"] as const, "last");
  const seed = intFlag("seed", values.seed, 1, 0);
  const trainFraction = numFlag("train-fraction", values["train-fraction"], 0.8);
  const valFraction = numFlag("val", values.val, 0.1);
  if (!(trainFraction > 0 && trainFraction < 1)) throw new UsageError("--train-fraction must be in (0, 1)");
  if (!(valFraction >= 0 && valFraction < 1)) throw new UsageError("--val must be in [0, 1)");
  const splits = (listFlag(values.splits) ?? ["train", "val", "test"]) as Split[];
  checkChoices("--splits", splits, ["train", "val", "test"], "split");
  intFlag("chunk", values.chunk, 256, 1);

  // The output first: a wrong path, someone else writing it, or a finished file fail before any work.
  const lock = await claimOutput(out, {
    kind: "file",
    force: values.force,
    resume: values.resume,
    canResume: true,
    what: "a finished activation file",
    also: [`${out}.partial`],
  });
  try {
    await captureLocked(out, values, { position, seed, trainFraction, valFraction, splits });
  } finally {
    await lock.release();
  }
}

type CaptureValues = FlagValues<typeof captureSpec.flags>;

async function captureLocked(
  out: string,
  values: CaptureValues,
  o: { position: "last" | "mean"; seed: number; trainFraction: number; valFraction: number; splits: Split[] },
): Promise<void> {
  const { position, seed, trainFraction, valFraction, splits } = o;
  const loaded = await loadCliPairs(values);
  const pairs = values.limit ? limitUnits(loaded.pairs, intFlag("limit", values.limit, 1, 1), seed) : loaded.pairs;
  const reportFile = await writeLoadReport(out, loaded.report);
  const split = splitByItem(pairs, { seed, trainFraction, valFraction });
  const { model, session } = await openEngine(values);
  const interrupt = interruptSignal();
  try {
    const template = templateFlag(values.template ?? "auto", model);
    const layers = layersFlag(values.layers, model.nLayer);
    const texts = captureTexts(split.pairs, template, { splits });
    const counts = Object.values(split.counts).reduce((a, c) => ({ train: a.train + c.train, val: a.val + c.val, test: a.test + c.test }), { train: 0, val: 0, test: 0 });
    const result = await captureToStore({
      model,
      session,
      texts,
      templates: [template],
      layers,
      position,
      out,
      vectorType: values.f16 ? "float16" : "float32",
      resume: values.resume ?? false,
      chunkTexts: intFlag("chunk", values.chunk, 256, 1),
      split: { seed, train: counts.train, val: counts.val, test: counts.test, by: "item" },
      extra: { data: values.data ?? null, datasets: listFlag(values.dataset) ?? null, trainFraction, valFraction, groups: pairGroups(split.pairs) },
      signal: interrupt.signal,
      progress: progressFor(values),
      afterChunk: holdForTests(interrupt.signal),
    });
    const summary = {
      ...result,
      template: template.id,
      layers: layers.map(String),
      position,
      pairs: pairs.length,
      splitCounts: split.counts,
      report: loaded.report,
      tokensPerSecond: result.tokens / Math.max(result.seconds, 1e-9),
    };
    if (values.json) process.stdout.write(JSON.stringify({ ...summary, loadReportFile: reportFile }) + "\n");
    else {
      process.stdout.write(
        `captured ${result.texts - result.skippedTexts} texts × ${layers.length} layers (${result.rowsWritten} rows written) → ${result.path}\n` +
          (result.resumedRows > 0 ? `  resumed: ${result.resumedRows} rows were already stored; ${result.skippedTexts} of ${result.texts} texts had every requested layer and were not captured again\n` : "") +
          `  ${pairs.length} pairs, template ${template.id}, position ${position}, ${result.tokens} tokens in ${result.seconds.toFixed(1)} s (${summary.tokensPerSecond.toFixed(0)} tok/s)\n`,
      );
      for (const line of loadReportLines(loaded.report, reportFile)) process.stdout.write(`  ${line}\n`);
    }
  } catch (e) {
    if (interrupt.signal.aborted) throw new AbortError(`interrupted; the finished part is kept in ${out}.partial — re-run with --resume to continue`);
    throw e;
  } finally {
    interrupt.dispose();
    session.dispose();
    model.dispose();
  }
}

/**
 * VALUELENS_TEST_HOLD_AFTER_CHUNK=1: after the first chunk is on disk, say so on stderr (`{"type":"hold"}`) and
 * wait for Ctrl-C or a kill (or SIGUSR2, which lets the run go on). Interrupt tests need the run to be mid-way at a known point; on a fast machine a
 * whole capture ends between two progress events, so a timer or a progress line cannot give them that.
 */
function holdForTests(signal: AbortSignal): ((done: number, total: number) => Promise<void>) | undefined {
  if (process.env.VALUELENS_TEST_HOLD_AFTER_CHUNK !== "1") return undefined;
  let held = false;
  return async (done, total) => {
    if (held || done >= total) return;
    held = true;
    process.stderr.write(JSON.stringify({ type: "hold", done, total }) + "\n");
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const release = () => {
        clearInterval(keepAlive);
        process.off("SIGUSR2", release);
        resolve();
      };
      const keepAlive = setInterval(() => undefined, 1 << 30);
      signal.addEventListener("abort", release, { once: true });
      process.on("SIGUSR2", release);
    });
  };
}
