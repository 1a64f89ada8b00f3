#!/usr/bin/env bash
# The floor of a run on this machine (issue 17: "a target the machine cannot
# reach is recorded with the measured bound"): what reading the day's two
# files and writing its results cost alone, beside the whole run. Medians of
# RUNS runs (GNU /usr/bin/time -v):
#   recon check on the ledger and on the statement: read + SHA-256 + decode
#     + split + type every row (what a run's reading does, no matching)
#   writing the run's result files: cat into fresh files, then sync (a run
#     syncs what it publishes), as one shell command
#   recon run itself
# The floor is the two checks plus the write; what a run takes beyond it is
# matching, rendering and bookkeeping.
#
# usage: benches/floor.sh [WORKDIR]   (default /tmp/recon-bench)
# env:   RUNS=5  ORDERS=1000000  SEED=42
# needs: cargo, GNU time at /usr/bin/time, about 2.5 GB of disk per 1M orders.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/recon-bench}
runs=${RUNS:-5}
orders=${ORDERS:-1000000}
seed=${SEED:-42}
mkdir -p "$work"
. benches/timing.sh

cargo build --release --quiet --bin recon --example gen_day
recon=target/release/recon
day="$work/day$orders"
if [ ! -f "$day/bank.csv" ]; then
    target/release/examples/gen_day --orders "$orders" --seed "$seed" --out "$day" >/dev/null
fi
out="$work/floor-out$orders"
copy="$work/floor-copy$orders"

machine
echo "day: $orders orders ($(du -ch "$day/ledger.csv" "$day/bank.csv" | awk 'END {print $1}') of input)"
echo "runs per figure: $runs (median by wall clock)"
row "what" "wall (s)" "CPU u+s (s)" "peak RSS (MB)"
read -r wr cr rr < <(median "$recon" run --ledger "$day/ledger.csv" --bank "$day/bank.csv" \
    --rules rules/default.toml --date 2026-11-24 --out "$out")
row "recon run" "$wr" "$cr" "$rr"
read -r wl cl rl < <(median "$recon" check "$day/ledger.csv")
row "recon check ledger.csv" "$wl" "$cl" "$rl"
read -r wb cb rb < <(median "$recon" check "$day/bank.csv")
row "recon check bank.csv" "$wb" "$cb" "$rb"
# shellcheck disable=SC2016 # expanded by the inner shell
write='rm -rf "$2" && mkdir "$2" && for f in "$1"/*; do cat "$f" > "$2/${f##*/}"; done && sync -f "$2"'
read -r ww cw rw < <(median bash -c "$write" write "$out" "$copy")
row "write the results ($(du -sh "$out" | cut -f1))" "$ww" "$cw" "$rw"
rm -rf "$copy"
awk -v r="$wr" -v a="$wl" -v b="$wb" -v c="$ww" -v cr="$cr" -v ca="$cl" -v cb="$cb" -v cc="$cw" 'BEGIN {
    printf "%-46s %9.2f %12.2f\n", "floor: the two checks + the write", a + b + c, ca + cb + cc
    printf "%-46s %8.2fx %11.2fx\n", "run / floor", r / (a + b + c), cr / (ca + cb + cc) }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
