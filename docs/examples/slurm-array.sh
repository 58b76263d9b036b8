#!/usr/bin/env bash
# A valuelens grid on a SLURM cluster: an array job runs the shards, a dependent job merges them.
#
#   bash docs/examples/slurm-array.sh              # submits the array and the merge after it
#   MANIFEST=grid.yaml RUNS=runs/grid bash docs/examples/slurm-array.sh
#
# Each array task is one shard. valuelens reads its shard from SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN and
# SLURM_ARRAY_TASK_COUNT, so the array may be declared 0-7 or 1-8 (not with a step). A shard that dies (time
# limit, preemption, node failure) resumes where it stopped when the task is re-run: `sbatch --array=3 ...`.
# The shard folders must be on a filesystem the merge job can read.
#SBATCH --job-name=valuelens-grid
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --output=logs/%x-%A_%a.out
#SBATCH --requeue
set -euo pipefail

MANIFEST=${MANIFEST:-docs/examples/synthetic-grid.yaml}
RUNS=${RUNS:-runs/$(basename "$MANIFEST" .yaml)}
VALUELENS=${VALUELENS:-npx valuelens}
mkdir -p logs "$RUNS"

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  # Started by hand (bash slurm-array.sh), not as an array task: submit the array, then the merge, which runs
  # once every task succeeded (afterok), checks that the shards cover every cell once and computes the
  # cross-cell tables.
  array=$(sbatch --parsable --export=ALL,MANIFEST="$MANIFEST",RUNS="$RUNS" "$0")
  sbatch --dependency=afterok:"$array" --job-name=valuelens-merge --cpus-per-task=4 --mem=16G --time=01:00:00 \
    --output=logs/%x-%j.out --wrap "$VALUELENS merge $RUNS/shard-* --out $RUNS/merged --json > $RUNS/merged.json"
  echo "submitted array $array and its merge"
  exit 0
fi

shard=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
# --progress json: one JSON line per step in the task's log; SIGTERM (scancel, time limit) stops cleanly.
exec $VALUELENS run "$MANIFEST" --out "$RUNS/shard-$shard" --progress json --json > "$RUNS/shard-$shard.json"
