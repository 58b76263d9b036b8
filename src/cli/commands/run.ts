// `valuelens run MANIFEST` and `valuelens merge DIR…`: scripted experiment grids, sharded over a cluster.
import { choiceFlag, intFlag, parseCommand, UsageError, type CommandSpec } from "../args.js";
import { interruptSignal } from "../engine-flags.js";
import { fixed, percent } from "../table.js";
import type { ProgressMode } from "../../progress/progress.js";
import type { RunSummary } from "../../run/finalize.js";
import { loadManifest, ManifestError } from "../../run/manifest.js";
import { mergeRuns } from "../../run/merge.js";
import { runManifest } from "../../run/runner.js";
import { parseShard, shardFromEnv, type Shard } from "../../run/shard.js";
import { AbortError } from "../../util/errors.js";

export const runSpec = {
  name: "run",
  synopsis: "MANIFEST.yaml --out DIR [options]",
  about:
    "Runs the grid of a manifest (models × concepts × languages × methods): capture, vectors, recognition per\ncell; then similarity, transfer and correlation across cells. Re-running with the same --out resumes.",
  flags: {
    out: { type: "string", arg: "DIR", help: "output folder (one per shard); locked while the run writes it" },
    shard: {
      type: "string",
      arg: "i/N",
      help:
        "run shard i of N (0-based: 0/N … N-1/N). Default from the environment: VALUELENS_SHARD,\na SLURM array (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a\nKubernetes indexed Job (JOB_COMPLETION_INDEX; count from --shards or VALUELENS_SHARDS).\n--shard 0/1 runs everything whatever the environment says",
    },
    shards: { type: "string", arg: "N", help: "the shard count when only the index comes from the environment" },
    progress: { type: "string", arg: "MODE", help: "auto (bar on a TTY) | bar | json (JSON lines on stderr) | none" },
    json: { type: "boolean", help: "print the JSON summary on stdout (every result table; timings under \"timings\")" },
  },
} as const satisfies CommandSpec;

export const mergeSpec = {
  name: "merge",
  synopsis: "DIR... --out DIR [options]",
  about:
    "Combines the folders of the shards of one run (checks: same manifest, data and models; every cell finished\nexactly once), then computes the cross-cell analyses. Its summary has the shape of an unsharded run's.",
  flags: {
    out: { type: "string", arg: "DIR", help: "merged run folder (new or empty)" },
    progress: { type: "string", arg: "MODE", help: "auto | bar | json | none" },
    json: { type: "boolean", help: "print the JSON summary on stdout" },
  },
} as const satisfies CommandSpec;

function progressMode(v: string | undefined): ProgressMode {
  return choiceFlag("progress", v, ["auto", "bar", "json", "none"] as const, "auto");
}

function fmt(x: number | null | undefined): string {
  return typeof x === "number" ? fixed(x, 3) : "—";
}

/** A short human-readable account of a summary. */
export function describeSummary(s: RunSummary): string {
  const lines: string[] = [];
  const cells = Object.values(s.run.cells);
  const done = cells.filter((c) => c.status === "done").length;
  lines.push(`${s.run.kind === "merge" ? "merged" : "ran"} ${done}/${cells.length} cells${s.run.shard.count > 1 && s.run.kind === "run" ? ` (shard ${s.run.shard.index}/${s.run.shard.count})` : ""} → ${s.run.out}${s.timings.total !== undefined ? ` in ${s.timings.total.toFixed(1)} s` : ""}`);
  for (const [id, m] of Object.entries(s.results)) {
    for (const [method, r] of Object.entries(m.methods)) {
      const parts: string[] = [];
      if (r.recognition) {
        const accs = Object.values(r.recognition).flatMap((byLang) => Object.values(byLang).map((x) => x.oracle.accuracy));
        parts.push(`recognition (best layer) mean ${fmt(accs.reduce((a, b) => a + b, 0) / Math.max(1, accs.length))} over ${accs.length} cells`);
      }
      if (r.similarity) {
        const v = r.similarity.aggregate.values;
        const off = v.flatMap((row, i) => row.filter((_, j) => j !== i));
        if (off.length) parts.push(`similarity mean ${fmt(off.reduce((a, b) => a + b, 0) / off.length)}`);
      }
      if (r.transfer) parts.push(`transfer rate ${percent(r.transfer.rate.mean)}`);
      if (r.correlation) parts.push(`correlation (genetic) ${fmt(r.correlation.table.genetic?.direct)}`);
      lines.push(`  ${id} ${method}: ${parts.join("; ") || "no tables"}`);
    }
  }
  for (const n of s.notes) lines.push(`  note: ${n}`);
  if (!s.complete) lines.push(s.run.shard.count > 1 ? "  cross-cell analyses: run `valuelens merge` over all shard folders" : "  incomplete");
  return lines.join("\n") + "\n";
}

export async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(runSpec, argv);
  if (positionals.length !== 1) throw new UsageError(`give exactly one manifest file (got ${positionals.length ? positionals.join(" ") : "none"})`);
  if (!values.out) throw new UsageError("--out is required (the run folder)");
  const progress = progressMode(values.progress);
  let shard: Shard | null;
  try {
    const count = values.shards === undefined ? undefined : intFlag("shards", values.shards, undefined, 1);
    shard = values.shard !== undefined ? parseShard(values.shard) : shardFromEnv(process.env, count);
    if (shard && count !== undefined && values.shard !== undefined && shard.count !== count) throw new Error(`--shard ${values.shard} disagrees with --shards ${count}`);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  let loaded;
  try {
    loaded = await loadManifest(positionals[0]);
  } catch (e) {
    if (e instanceof ManifestError) throw new UsageError(`${positionals[0]}: ${e.message}`);
    throw e;
  }
  const interrupt = interruptSignal();
  try {
    const summary = await runManifest(loaded.manifest, { out: values.out, baseDir: loaded.baseDir, progress, signal: interrupt.signal, ...(shard ? { shard } : {}) });
    process.stdout.write(values.json ? JSON.stringify(summary) + "\n" : describeSummary(summary));
  } catch (e) {
    if (interrupt.signal.aborted) throw new AbortError(`interrupted; finished cells and the captured part are kept in ${values.out} — run the same command again to resume`);
    throw e;
  } finally {
    interrupt.dispose();
  }
}

export async function mergeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(mergeSpec, argv);
  if (positionals.length === 0) throw new UsageError("give the shard folders to merge");
  if (!values.out) throw new UsageError("--out is required (the merged run folder)");
  const interrupt = interruptSignal();
  try {
    const summary = await mergeRuns(positionals, { out: values.out, progress: progressMode(values.progress), signal: interrupt.signal });
    process.stdout.write(values.json ? JSON.stringify(summary) + "\n" : describeSummary(summary));
  } catch (e) {
    if (interrupt.signal.aborted) throw new AbortError(`interrupted; nothing of the merge in ${values.out} is final — run the same command again`);
    throw e;
  } finally {
    interrupt.dispose();
  }
}
