#!/bin/bash
# One business day reconciled as N partitions, one Slurm array task each.
#
#   recon split --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 \
#               --parts 8 --out /shared/recon/parts/2026-11-24
#   jobid=$(sbatch --parsable --array=1-8%4 deploy/slurm-array.sh /shared/recon/parts/2026-11-24)
#   sbatch --dependency=afterok:$jobid --wrap \
#       "recon merge /shared/recon/parts/2026-11-24 --out /shared/recon/2026-11-24"
#
# SLURM_ARRAY_TASK_ID (1-based here: --array=1-N) chooses part-0001 ... part-000N;
# %4 runs four at a time. recon exits 1 for a partition with exceptions: a result,
# so the task succeeds unless the exit code is 2 or more.
#SBATCH --job-name=recon-part
#SBATCH --cpus-per-task=2
#SBATCH --mem=6G
#SBATCH --time=01:00:00
#SBATCH --output=recon-part-%a.log

set -u
parts=${1:?usage: sbatch --array=1-N slurm-array.sh PARTS_DIR [RULES]}
rules=${2:-/shared/recon/rules}
dir=$parts/$(printf 'part-%04d' "$SLURM_ARRAY_TASK_ID")
recon run --part "$dir" --rules "$rules" --out "$dir/results" --quiet
code=$?
[ "$code" -le 1 ] && exit 0 || exit "$code"
