#!/usr/bin/env bash
# Whole-run benchmark for BENCHMARKS.md (issue 5): builds recon and gen_day,
# generates the 1M- and 10M-order days, then times with /usr/bin/time -v
# (wall clock and peak RSS, median of RUNS runs):
#   recon run  on the 1M day (2 threads and RAYON_NUM_THREADS=1) and the 10M day
#   recon check on the 1M day's GBK bank file (MB/s)
#
# usage: benches/whole_run.sh [WORKDIR]   (default /tmp/recon-bench)
# env:   RUNS=5 (runs per figure)  SIZES="1000000 10000000"  SEED=42
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/recon-bench}
runs=${RUNS:-5}
sizes=${SIZES:-"1000000 10000000"}
seed=${SEED:-42}
mkdir -p "$work"

cargo build --release --quiet --bin recon --example gen_day
recon=target/release/recon
gen=target/release/examples/gen_day

# Prints "WALL_SECONDS PEAK_RSS_KB" for one timed command.
timed() {
    local log="$work/time.log"
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss"
}

# Median of RUNS runs: "MEDIAN_WALL MEDIAN_RSS_MB".
median() {
    local results=()
    for _ in $(seq "$runs"); do
        results+=("$(timed "$@")")
    done
    printf '%s\n' "${results[@]}" | sort -n -k1 | awk -v n="$runs" '
        { wall[NR] = $1; rss[NR] = $2 }
        END { m = int((n + 1) / 2); printf "%.2f %.0f\n", wall[m], rss[m] / 1024 }'
}

echo "machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GB"
echo "runs per figure: $runs (median)"
printf '%-44s %10s %12s\n' "what" "wall (s)" "peak RSS (MB)"
for n in $sizes; do
    day="$work/day$n"
    if [ ! -f "$day/bank.csv" ]; then
        "$gen" --orders "$n" --seed "$seed" --out "$day"
    fi
    run=("$recon" run --ledger "$day/ledger.csv" --bank "$day/bank.csv" --rules rules/default.toml --date 2026-11-24 --out "$work/out$n")
    read -r wall rss < <(median "${run[@]}")
    printf '%-44s %10s %12s\n' "recon run, $n orders" "$wall" "$rss"
    if [ "$n" = 1000000 ]; then
        read -r wall1 rss1 < <(RAYON_NUM_THREADS=1 median "${run[@]}")
        printf '%-44s %10s %12s\n' "recon run, $n orders, RAYON_NUM_THREADS=1" "$wall1" "$rss1"
        awk -v a="$wall1" -v b="$wall" 'BEGIN { printf "%-44s %10.2fx\n", "speed-up 2 threads vs 1", a / b }'
        bytes=$(stat -c %s "$day/bank.csv")
        read -r wall rss < <(median "$recon" check "$day/bank.csv")
        printf '%-44s %10s %12s\n' "recon check bank.csv ($((bytes / 1000000)) MB)" "$wall" "$rss"
        awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%-44s %10.0f MB/s\n", "check throughput", b / 1e6 / w }'
    fi
done
