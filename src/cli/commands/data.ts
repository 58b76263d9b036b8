// `valuelens data list | fetch | stats`: the dataset adapters, canonical downloads, and per-language statistics.
import { homedir } from "node:os";
import { join } from "node:path";
import { ADAPTERS } from "../../data/adapters.js";
import { fetchDataset, DEFAULT_MIRROR } from "../../data/fetch.js";
import { datasetStats, type LanguageStats } from "../../data/stats.js";
import { loadModel } from "../../engine/model.js";
import { loadDatasets } from "../../pipeline/datasets.js";
import { checkChoices, didYouMean, listFlag, parseCommand, UsageError, type CommandSpec } from "../args.js";
import { formatTable } from "../table.js";

const listSpec = {
  name: "data list",
  synopsis: "[--json]",
  about: "the dataset adapters: concepts, languages, how pairs are formed",
  flags: { json: { type: "boolean", help: "print JSON" } },
} as const satisfies CommandSpec;

const fetchSpec = {
  name: "data fetch",
  synopsis: "NAME[,NAME] [options]",
  about: "download canonical copies of datasets (each file pinned and sha256-verified)",
  flags: {
    cache: { type: "string", arg: "DIR", help: "where to put them (default: $VALUELENS_DATA_DIR or ~/.cache/valuelens/data)" },
    mirror: { type: "string", arg: "URL", help: "a raw-file host with the same <repo>/<commit>/<path> layout (or $VALUELENS_DATA_MIRROR)" },
    force: { type: "boolean", help: "download again even when a verified copy exists" },
    json: { type: "boolean", help: "print JSON" },
  },
} as const satisfies CommandSpec;

const statsSpec = {
  name: "data stats",
  synopsis: "--dataset NAME[,NAME] [--data-root DIR] [options]",
  about: "pairs, items aligned across languages, tokens per text under the model's tokenizer (fertility)",
  flags: {
    dataset: { type: "string", arg: "NAME[,NAME]", help: "datasets (valuelens data list)" },
    "data-root": { type: "string", arg: "DIR", help: "where the datasets are (default: the fetch cache)" },
    langs: { type: "string", arg: "en,fr", help: "restrict to these languages" },
    model: { type: "string", arg: "M.gguf", help: "count tokens with this model's tokenizer" },
    json: { type: "boolean", help: "print JSON" },
  },
} as const satisfies CommandSpec;

export const dataSpecs: readonly CommandSpec[] = [listSpec, fetchSpec, statsSpec];
const SUBCOMMANDS = ["list", "fetch", "stats"];

export function defaultDataDir(): string {
  return process.env.VALUELENS_DATA_DIR ?? join(homedir(), ".cache", "valuelens", "data");
}

export async function dataCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === "list") {
    const { values } = parseCommand(listSpec, rest);
    const list = Object.values(ADAPTERS).map((a) => ({ name: a.name, concepts: a.concepts, languages: a.languages, dirs: a.dirs, description: a.description }));
    if (values.json) process.stdout.write(JSON.stringify(list) + "\n");
    else process.stdout.write(formatTable(["dataset", "concepts", "languages"], list.map((a) => [a.name, a.concepts.join(","), a.languages.join(" ")])));
    return;
  }
  if (sub === "fetch") {
    const { values, positionals } = parseCommand(fetchSpec, rest);
    const names = positionals.flatMap((p) => p.split(",")).filter(Boolean);
    if (names.length === 0) throw new UsageError(`data fetch: name at least one dataset (valuelens data list shows them)`);
    const cacheDir = values.cache ?? defaultDataDir();
    const results = [];
    for (const name of names) {
      const r = await fetchDataset(name, {
        cacheDir,
        mirror: values.mirror ?? process.env.VALUELENS_DATA_MIRROR ?? DEFAULT_MIRROR,
        force: values.force ?? false,
        onFile: values.json ? undefined : (f, status) => process.stderr.write(`  ${status === "cached" ? "ok (cached)" : "downloaded"}  ${f.dir}/${f.file}\n`),
      });
      results.push(r);
    }
    if (values.json) process.stdout.write(JSON.stringify({ cacheDir, results }) + "\n");
    else process.stdout.write(`${results.map((r) => `${r.dataset}: ${r.files} files (${r.downloaded} downloaded, ${r.cached} cached)`).join("\n")}\ndata root: ${cacheDir}\n`);
    return;
  }
  if (sub === "stats") {
    const { values } = parseCommand(statsSpec, rest);
    const names = listFlag(values.dataset);
    if (!names?.length) throw new UsageError(`data stats: --dataset is required (valuelens data list shows them)`);
    checkChoices("--dataset", names, Object.keys(ADAPTERS), "dataset");
    const root = values["data-root"] ?? defaultDataDir();
    const vocab = values.model ? await loadModel(values.model, { vocabOnly: true }) : undefined;
    const count = vocab ? (t: string) => vocab.tokenize(t).length : undefined;
    const stats: LanguageStats[] = [];
    for (const name of names) {
      const [loaded] = await loadDatasets([name], root, { langs: listFlag(values.langs) });
      if (loaded) stats.push(...datasetStats(name, loaded.pairs, count));
    }
    vocab?.dispose();
    if (values.json) process.stdout.write(JSON.stringify({ root, model: values.model ?? null, stats }) + "\n");
    else
      process.stdout.write(
        formatTable(
          ["dataset", "concept", "lang", "pairs", "items", "aligned (all)", "aligned (en)", ...(count ? ["tokens/text", "tokens/100 chars"] : [])],
          stats.map((s) => [s.dataset, s.concept, s.lang, String(s.pairs), String(s.items), String(s.alignedAll), s.alignedEn === null ? "—" : String(s.alignedEn), ...(count ? [s.meanTokens!, s.tokensPer100Chars!] : [])]),
          1,
        ),
      );
    return;
  }
  throw new UsageError(sub ? `unknown subcommand '${sub}'${didYouMean(sub, SUBCOMMANDS)} (have: ${SUBCOMMANDS.join(", ")})` : `give a subcommand: ${SUBCOMMANDS.join(", ")} (valuelens help data)`);
}
