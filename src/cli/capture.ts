// `valuelens capture`: contrastive pairs → templated texts → residual stream → Arrow activation file.
import { captureTexts, pairGroups } from "../data/pairs.js";
import { splitByItem } from "../data/splits.js";
import { resolveTemplate, chatTemplate, templateForModel, type PromptTemplate } from "../data/templates.js";
import type { Split } from "../data/types.js";
import { captureToStore } from "../pipeline/capture.js";
import { limitUnits, loadPairs } from "../pipeline/sources.js";
import { choiceFlag, intFlag, listFlag, numFlag, parseFlags, UsageError } from "./args.js";
import { engineFlagSpec, engineFlagUsage, interruptSignal, openEngine, parseLayers, progressFor } from "./engine-flags.js";

export const captureUsage = `usage: valuelens capture --model M.gguf (--data DIR|FILE.jsonl | --dataset NAME[,NAME] --data-root DIR) --out acts.arrow [options]
  --concepts a,b     concepts to capture (default: all in the data)
  --langs en,fr      languages (default: all in the data)
  --template T       llama2-chat | qwen-chat | bloomz | raw | gguf (the model's own chat template) | auto
                     (suggested from the model's name) | a custom text containing {input}  (default auto)
  --layers L         all (default) | 1,2,final_norm | 1-12,resid_post:24
  --position P       last (default; what the paper uses) | mean
  --seed N           split seed (default 1, as the paper)
  --train-fraction X train+val share of items, rest = test (default 0.8, as the paper)
  --val X            share of the train block held out for choosing the layer (default 0.1; 0 = paper setting)
  --splits S         which splits to capture (default train,val,test)
  --limit N          at most N items (pair groups) per concept, the same items in every language
  --f16              store vectors as float16 (half the disk)
  --resume           continue an interrupted (or finished) file: finished rows are skipped
  --chunk N          texts per engine call (default 256)
${engineFlagUsage}
  --json             print a JSON summary on stdout`;

export async function captureCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(
    argv,
    {
      ...engineFlagSpec,
      data: { type: "string" },
      dataset: { type: "string" },
      "data-root": { type: "string" },
      concepts: { type: "string" },
      langs: { type: "string" },
      template: { type: "string" },
      layers: { type: "string" },
      position: { type: "string" },
      seed: { type: "string" },
      "train-fraction": { type: "string" },
      val: { type: "string" },
      splits: { type: "string" },
      f16: { type: "boolean" },
      resume: { type: "boolean" },
      chunk: { type: "string" },
      limit: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    },
    captureUsage,
  );
  if (!values.out) throw new UsageError(`--out is required\n\n${captureUsage}`);
  if (!values.data && !values.dataset) throw new UsageError(`--data or --dataset is required\n\n${captureUsage}`);
  const position = choiceFlag("position", values.position, ["last", "mean"] as const, "last");
  const seed = intFlag("seed", values.seed, 1, 0);
  const trainFraction = numFlag("train-fraction", values["train-fraction"], 0.8);
  const valFraction = numFlag("val", values.val, 0.1);
  if (!(trainFraction > 0 && trainFraction < 1)) throw new UsageError("--train-fraction must be in (0, 1)");
  if (!(valFraction >= 0 && valFraction < 1)) throw new UsageError("--val must be in [0, 1)");
  const splits = (listFlag(values.splits) ?? ["train", "val", "test"]) as Split[];
  for (const s of splits) if (!["train", "val", "test"].includes(s)) throw new UsageError(`--splits: unknown split '${s}'`);

  const loaded = await loadPairs({ data: values.data, datasets: listFlag(values.dataset), dataRoot: values["data-root"], concepts: listFlag(values.concepts), langs: listFlag(values.langs) });
  const pairs = values.limit ? limitUnits(loaded.pairs, intFlag("limit", values.limit, 1, 1), seed) : loaded.pairs;
  const split = splitByItem(pairs, { seed, trainFraction, valFraction });
  const { model, session } = await openEngine(values);
  const interrupt = interruptSignal();
  try {
    let template: PromptTemplate;
    const spec = values.template ?? "auto";
    if (spec === "auto") template = templateForModel({ arch: model.arch, name: model.name });
    else if (spec === "gguf") {
      if (!model.chatTemplate) throw new UsageError("--template gguf: this model has no chat template in its metadata");
      template = chatTemplate(model.chatTemplate);
    } else template = resolveTemplate(spec);
    const layers = parseLayers(values.layers, model.nLayer);
    const texts = captureTexts(split.pairs, template, { splits });
    const counts = Object.values(split.counts).reduce((a, c) => ({ train: a.train + c.train, val: a.val + c.val, test: a.test + c.test }), { train: 0, val: 0, test: 0 });
    const result = await captureToStore({
      model,
      session,
      texts,
      templates: [template],
      layers,
      position,
      out: values.out,
      vectorType: values.f16 ? "float16" : "float32",
      resume: values.resume ?? false,
      chunkTexts: intFlag("chunk", values.chunk, 256, 1),
      split: { seed, train: counts.train, val: counts.val, test: counts.test, by: "item" },
      extra: { data: values.data ?? null, datasets: listFlag(values.dataset) ?? null, trainFraction, valFraction, groups: pairGroups(split.pairs) },
      signal: interrupt.signal,
      progress: progressFor(values),
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
    if (values.json) process.stdout.write(JSON.stringify(summary) + "\n");
    else {
      process.stdout.write(
        `captured ${result.texts - result.skippedTexts} texts (${result.skippedTexts} already stored) × ${layers.length} layers → ${result.path}\n` +
          `  ${pairs.length} pairs, template ${template.id}, position ${position}, ${result.tokens} tokens in ${result.seconds.toFixed(1)} s (${summary.tokensPerSecond.toFixed(0)} tok/s)\n`,
      );
      const dropped = Object.entries(loaded.report.droppedIdentical).filter(([, n]) => n > 0);
      if (dropped.length) process.stdout.write(`  dropped pos == neg: ${dropped.map(([l, n]) => `${l} ${n}`).join(", ")}\n`);
    }
  } catch (e) {
    if (interrupt.signal.aborted) throw new Error(`interrupted; the finished part is kept in ${values.out}.partial — re-run with --resume to continue`);
    throw e;
  } finally {
    interrupt.dispose();
    session.dispose();
    model.dispose();
  }
}
