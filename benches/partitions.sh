#!/usr/bin/env bash
# Partitioned-run benchmark for BENCHMARKS.md (issue 18): on one generated day,
# times with GNU /usr/bin/time -v (wall clock, CPU user+sys, peak RSS):
#   1. recon run                        the whole day in memory
#   2. recon run --memory-limit LIMIT   split, partitions one after the other, merge
#   3. recon split --parts PARTS, the PARTS `recon run --part` JOBS at a time
#      (GNU parallel when installed, else xargs -P), recon merge
# and checks that every CSV of 2. and of 3. is byte-identical to 1.'s (cmp).
# For the JOBS-at-a-time step, CPU is that of every partition run and peak
# RSS that of the largest one (JOBS of them run at once).
#
# usage: benches/partitions.sh [WORKDIR]   (default /tmp/recon-partitions)
# env:   ORDERS=10000000  SEED=42  PARTS=8  JOBS=2
#        LIMIT (default: the size of the two input files, half of what recon
#        estimates the day needs: about 4 partitions)
# needs: cargo, GNU time at /usr/bin/time, and about 2.5 GB of disk in WORKDIR
#        per 1M orders for the day and 3 sets of results (partitions included).
# Exits 1 when an output differs, 2 when a step fails (exit status >= 2).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/recon-partitions}
orders=${ORDERS:-10000000}
seed=${SEED:-42}
parts=${PARTS:-8}
jobs=${JOBS:-2}
runs=1
mkdir -p "$work"
work=$(realpath "$work")
. benches/timing.sh

cargo build --release --quiet --bin recon --example gen_day
recon=$PWD/target/release/recon
gen=$PWD/target/release/examples/gen_day
rules=$PWD/rules/default.toml
day="$work/day$orders"
if [ ! -f "$day/bank.csv" ]; then
    "$gen" --orders "$orders" --seed "$seed" --out "$day" >/dev/null
fi
inputs=(--ledger "$day/ledger.csv" --bank "$day/bank.csv" --rules "$rules" --date 2026-11-24)
rm -rf "$work/single" "$work/limited" "$work/parts" "$work/merged" "$work/spill"
mkdir -p "$work/spill"

machine
echo "day: $orders orders ($(du -shc "$day/ledger.csv" "$day/bank.csv" | awk 'END {print $1}') of input)"
row "what" "wall (s)" "CPU u+s (s)" "peak RSS (MB)"
mb() { awk '{ printf "%.2f %.2f %.0f\n", $1, $2, $3 / 1024 }'; }

read -r wall cpu rss < <(timed "$recon" run "${inputs[@]}" -q --out "$work/single" | mb)
row "recon run (in memory)" "$wall" "$cpu" "$rss"

input_mb=$(( ($(stat -c %s "$day/ledger.csv") + $(stat -c %s "$day/bank.csv")) >> 20 ))
limit=${LIMIT:-${input_mb}M}
read -r wall cpu rss < <(timed "$recon" run "${inputs[@]}" --out "$work/limited" \
    --memory-limit "$limit" --spill-dir "$work/spill" | mb)
how=$(grep -o 'reconciling it in [0-9]* partitions' "$work/time.log" | grep -o '[0-9]* partitions' || echo "in memory")
row "recon run --memory-limit $limit ($how)" "$wall" "$cpu" "$rss"

read -r w1 c1 r1 < <(timed "$recon" split --ledger "$day/ledger.csv" --bank "$day/bank.csv" \
    --rules "$rules" --date 2026-11-24 --parts "$parts" --out "$work/parts" | mb)
row "recon split --parts $parts" "$w1" "$c1" "$r1"

# Exit 1 (exceptions) is a result; 2 and above fail the step.
one_part="\"$recon\" run --part {} --rules \"$rules\" --out {}/results -q; [ \$? -le 1 ]"
if parallel --version 2>/dev/null | grep -q GNU; then
    runner="GNU parallel -j $jobs"
    read -r w2 c2 r2 < <(timed sh -c "ls -d '$work'/parts/part-* | parallel -j $jobs '$one_part'" | mb)
else
    runner="xargs -P $jobs"
    read -r w2 c2 r2 < <(timed sh -c "ls -d '$work'/parts/part-* | xargs -P $jobs -I{} sh -c '$one_part'" | mb)
fi
row "$parts x recon run --part ($runner)" "$w2" "$c2" "$r2"

read -r w3 c3 r3 < <(timed "$recon" merge "$work/parts" --out "$work/merged" -q | mb)
row "recon merge" "$w3" "$c3" "$r3"
awk -v w="$w1 $w2 $w3" -v c="$c1 $c2 $c3" -v r="$r1 $r2 $r3" 'BEGIN {
    split(w, a, " "); split(c, b, " "); split(r, m, " ")
    peak = m[1]; for (i = 2; i <= 3; i++) if (m[i] > peak) peak = m[i]
    printf "%-46s %9.2f %12.2f %14s\n", "split + runs + merge", a[1] + a[2] + a[3], b[1] + b[2] + b[3], peak }'

differ=0
for dir in limited merged; do
    for f in "$work"/single/*.csv; do
        if ! cmp -s "$f" "$work/$dir/${f##*/}"; then
            echo "DIFFERS: $dir/${f##*/}"
            differ=1
        fi
    done
done
[ "$differ" = 0 ] && echo "every CSV of the --memory-limit run and of the merge is byte-identical to the single run's"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$differ"
