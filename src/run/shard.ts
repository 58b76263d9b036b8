// Shards of a run: which (model, concept, language) capture units a shard does. Indices are 0-based
// ("--shard 0/4" … "--shard 3/4"), like a Kubernetes indexed Job's JOB_COMPLETION_INDEX and a SLURM array
// declared as --array=0-3 (a SLURM array starting elsewhere is shifted by SLURM_ARRAY_TASK_MIN).

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export const NO_SHARD: Shard = Object.freeze({ index: 0, count: 1 });

function intOf(s: string | undefined, what: string): number | undefined {
  if (s === undefined || s.trim() === "") return undefined;
  const n = Number(s.trim());
  if (!Number.isInteger(n)) throw new Error(`${what} must be an integer (got '${s}')`);
  return n;
}

export function checkShard(s: Shard, what = "shard"): Shard {
  if (!Number.isInteger(s.count) || s.count < 1) throw new Error(`${what}: the shard count must be an integer ≥ 1 (got ${s.count})`);
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
    throw new Error(`${what}: index ${s.index} is outside 0..${s.count - 1} (shard indices are 0-based: --shard 0/${s.count} … ${s.count - 1}/${s.count})`);
  }
  return s;
}

/** "i/N" with 0 ≤ i < N. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new Error(`--shard must look like i/N with 0 ≤ i < N (0-based), got '${spec}'`);
  return checkShard({ index: Number(m[1]), count: Number(m[2]) }, `--shard ${spec}`);
}

/**
 * The shard from the environment, or null when none is set. Order: VALUELENS_SHARD ("i/N"); a SLURM array task
 * (index = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, count = SLURM_ARRAY_TASK_COUNT, else MAX − MIN + 1); a
 * Kubernetes indexed Job (index = JOB_COMPLETION_INDEX, count = `countHint` (--shards) or VALUELENS_SHARDS,
 * since Kubernetes does not expose the completion count).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env, countHint?: number): Shard | null {
  if (env.VALUELENS_SHARD) return parseShard(env.VALUELENS_SHARD);
  const count = countHint ?? intOf(env.VALUELENS_SHARDS, "VALUELENS_SHARDS");
  const task = intOf(env.SLURM_ARRAY_TASK_ID, "SLURM_ARRAY_TASK_ID");
  if (task !== undefined) {
    const min = intOf(env.SLURM_ARRAY_TASK_MIN, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const max = intOf(env.SLURM_ARRAY_TASK_MAX, "SLURM_ARRAY_TASK_MAX");
    const step = intOf(env.SLURM_ARRAY_TASK_STEP, "SLURM_ARRAY_TASK_STEP") ?? 1;
    if (step !== 1) throw new Error(`SLURM array with step ${step}: use a contiguous array (--array=0-N) or pass --shard i/N`);
    const n = count ?? intOf(env.SLURM_ARRAY_TASK_COUNT, "SLURM_ARRAY_TASK_COUNT") ?? (max !== undefined ? max - min + 1 : undefined);
    if (n === undefined) throw new Error("SLURM_ARRAY_TASK_ID is set but the array size is unknown (no SLURM_ARRAY_TASK_COUNT/MAX): pass --shards N");
    return checkShard({ index: task - min, count: n }, `SLURM array task ${task} (min ${min})`);
  }
  const k8s = intOf(env.JOB_COMPLETION_INDEX, "JOB_COMPLETION_INDEX");
  if (k8s !== undefined) {
    if (count === undefined) throw new Error("JOB_COMPLETION_INDEX is set but the shard count is not: pass --shards N or set VALUELENS_SHARDS (= the Job's completions)");
    return checkShard({ index: k8s, count }, `JOB_COMPLETION_INDEX ${k8s}`);
  }
  if (count !== undefined && count !== 1) throw new Error(`a shard count (${count}) without a shard index: pass --shard i/${count}`);
  return null;
}

/**
 * Assigns each unit to a shard: the units, in their fixed order (models in manifest order, then concepts, then
 * languages), are cut into N contiguous runs of about equal cost, unit i going to the shard that holds the
 * midpoint of its cost interval. Contiguous runs keep a shard on few models (each model is loaded once per
 * shard); equal cost keeps the shards equally long. Deterministic: every shard computes the same answer.
 */
export function assignShards(costs: readonly number[], count: number): number[] {
  const total = costs.reduce((a, b) => a + b, 0);
  let before = 0;
  return costs.map((c, i) => {
    const mid = total > 0 ? (before + c / 2) / total : (i + 0.5) / costs.length;
    before += c;
    return Math.min(count - 1, Math.max(0, Math.floor(mid * count)));
  });
}
