#!/usr/bin/env bash
# Whole-run benchmark for BENCHMARKS.md (issue 5): builds recon and gen_day,
# generates the 1M- and 10M-order days, then times with GNU /usr/bin/time -v
# (median of RUNS runs of wall clock, CPU user+sys and peak RSS):
#   recon run   on each day (both cores), and on the 1M day with RAYON_NUM_THREADS=1
#   recon check on the 1M day's GBK bank file (MB/s)
#
# usage: benches/whole_run.sh [WORKDIR]   (default /tmp/recon-bench)
# env:   RUNS=5 (runs per figure)  SIZES="1000000 10000000"  SEED=42
# needs: cargo, GNU time at /usr/bin/time (Debian: apt-get install time), and
#        about 2.5 GB of disk in WORKDIR per 1M orders (inputs and results).
# A run that exits with 2 or more (trouble, not exceptions) stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/recon-bench}
runs=${RUNS:-5}
sizes=${SIZES:-"1000000 10000000"}
seed=${SEED:-42}
mkdir -p "$work"
. benches/timing.sh

cargo build --release --quiet --bin recon --example gen_day
recon=target/release/recon
gen=target/release/examples/gen_day

machine
echo "runs per figure: $runs (median by wall clock)"
row "what" "wall (s)" "CPU u+s (s)" "peak RSS (MB)"
for n in $sizes; do
    day="$work/day$n"
    if [ ! -f "$day/bank.csv" ]; then
        "$gen" --orders "$n" --seed "$seed" --out "$day" >/dev/null
    fi
    run=("$recon" run --ledger "$day/ledger.csv" --bank "$day/bank.csv" --rules rules/default.toml --date 2026-11-24 --out "$work/out$n")
    read -r wall cpu rss < <(median "${run[@]}")
    row "recon run, $n orders" "$wall" "$cpu" "$rss"
    if [ "$n" = 1000000 ]; then
        read -r wall1 cpu1 rss1 < <(RAYON_NUM_THREADS=1 median "${run[@]}")
        row "recon run, $n orders, RAYON_NUM_THREADS=1" "$wall1" "$cpu1" "$rss1"
        awk -v a="$wall1" -v b="$wall" 'BEGIN { printf "%-46s %8.2fx\n", "speed-up, 2 threads vs 1 (wall)", a / b }'
        bytes=$(stat -c %s "$day/bank.csv")
        read -r wall cpu rss < <(median "$recon" check "$day/bank.csv")
        row "recon check bank.csv ($((bytes / 1000000)) MB)" "$wall" "$cpu" "$rss"
        awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%-46s %9.0f MB/s\n", "check throughput (wall)", b / 1e6 / w }'
    fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
