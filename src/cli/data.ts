// `valuelens data list | fetch | stats`: the dataset adapters, canonical downloads, and per-language statistics.
import { homedir } from "node:os";
import { join } from "node:path";
import { ADAPTERS } from "../data/adapters.js";
import { fetchDataset, DEFAULT_MIRROR } from "../data/fetch.js";
import { datasetStats, type LanguageStats } from "../data/stats.js";
import { loadModel } from "../engine/model.js";
import { loadDatasets } from "../pipeline/datasets.js";
import { listFlag, parseFlags, UsageError } from "./args.js";
import { formatTable } from "./table.js";

export const dataUsage = `usage: valuelens data <list|fetch|stats> [options]
  data list [--json]                         the dataset adapters: concepts, languages, how pairs are formed
  data fetch NAME[,NAME] [--cache DIR]       download canonical copies (sha256-verified) into DIR
         [--mirror URL] [--force] [--json]   (default DIR: $VALUELENS_DATA_DIR or ~/.cache/valuelens/data)
  data stats --data-root DIR --dataset NAME[,NAME] [--langs en,fr] [--model M.gguf] [--json]
                                             pairs, items aligned across languages, tokens per text under
                                             the model's tokenizer (fertility)`;

export function defaultDataDir(): string {
  return process.env.VALUELENS_DATA_DIR ?? join(homedir(), ".cache", "valuelens", "data");
}

export async function dataCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === "list") {
    const { values } = parseFlags(rest, { json: { type: "boolean" } }, dataUsage);
    const list = Object.values(ADAPTERS).map((a) => ({ name: a.name, concepts: a.concepts, languages: a.languages, dirs: a.dirs, description: a.description }));
    if (values.json) process.stdout.write(JSON.stringify(list) + "\n");
    else process.stdout.write(formatTable(["dataset", "concepts", "languages"], list.map((a) => [a.name, a.concepts.join(","), a.languages.join(" ")])));
    return;
  }
  if (sub === "fetch") {
    const { values, positionals } = parseFlags(rest, { cache: { type: "string" }, mirror: { type: "string" }, force: { type: "boolean" }, json: { type: "boolean" } }, dataUsage);
    const names = positionals.flatMap((p) => p.split(",")).filter(Boolean);
    if (names.length === 0) throw new UsageError(`data fetch: name at least one dataset\n\n${dataUsage}`);
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
    const { values } = parseFlags(rest, { "data-root": { type: "string" }, dataset: { type: "string" }, langs: { type: "string" }, model: { type: "string" }, json: { type: "boolean" } }, dataUsage);
    const names = listFlag(values.dataset);
    if (!names?.length) throw new UsageError(`data stats: --dataset is required\n\n${dataUsage}`);
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
  throw new UsageError(sub ? `data: unknown subcommand '${sub}'\n\n${dataUsage}` : dataUsage);
}
