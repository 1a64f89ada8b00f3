#!/usr/bin/env bash
# The peer benchmark (issue 17): `recon run` side by side with the same
# reconciliation written in DuckDB SQL (benches/peer/reconcile.sql), on one
# generated day, in one paired run: the two alternate run by run, so both see
# the same machine. Prints each one's median wall clock, CPU and peak RSS, the
# ratio recon / DuckDB, and how many rows each matched.
#
# usage: benches/peer/paired.sh [WORKDIR]   (default /tmp/recon-peer)
# env:   RUNS=5  ORDERS=1000000  SEED=42
# needs: cargo, python3 with duckdb (pip install duckdb), iconv, GNU time at
#        /usr/bin/time; about 2.5 GB of disk per 1M orders. Not run by CI.
#
# DuckDB reads UTF-8 copies of the two files, made before timing (it cannot
# read GBK): recon decodes GBK, strips the preamble and trailer and converts
# UTC inside its timed run, so the comparison favours DuckDB slightly.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/recon-peer}
runs=${RUNS:-5}
orders=${ORDERS:-1000000}
seed=${SEED:-42}
mkdir -p "$work"
. benches/timing.sh
python3 -c 'import duckdb' 2>/dev/null || { echo "paired.sh: needs DuckDB for Python: pip install duckdb" >&2; exit 2; }

cargo build --release --quiet --bin recon --example gen_day
day="$work/day$orders"
if [ ! -f "$day/bank.csv" ]; then
    target/release/examples/gen_day --orders "$orders" --seed "$seed" --out "$day" >/dev/null
fi
if [ ! -f "$day/bank.utf8.csv" ]; then
    sed '1s/^\xEF\xBB\xBF//' "$day/ledger.csv" >"$day/ledger.utf8.csv"
    iconv -f GBK -t UTF-8 "$day/bank.csv" >"$day/bank.utf8.csv"
fi

recon_run=(target/release/recon run --ledger "$day/ledger.csv" --bank "$day/bank.csv"
    --rules rules/default.toml --date 2026-11-24 --out "$work/recon-out" --quiet)
duck_run=(python3 benches/peer/reconcile.py "$day/ledger.utf8.csv" "$day/bank.utf8.csv"
    2026-11-24 "$work/duckdb-out")

machine
echo "day: $orders orders (ledger $(($(stat -c %s "$day/ledger.csv") / 1000000)) MB UTF-8, bank $(($(stat -c %s "$day/bank.csv") / 1000000)) MB GBK); runs: $runs, alternating"
echo "duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)'), $(target/release/recon --version)"
recon_times=()
duck_times=()
for _ in $(seq "$runs"); do
    recon_times+=("$(timed "${recon_run[@]}")")
    duck_times+=("$(timed "${duck_run[@]}")")
done
read -r rw rc rr < <(printf '%s\n' "${recon_times[@]}" | median_of)
read -r dw dc dr < <(printf '%s\n' "${duck_times[@]}" | median_of)
row "what" "wall (s)" "CPU u+s (s)" "peak RSS (MB)"
row "recon run --date 2026-11-24" "$rw" "$rc" "$rr"
row "DuckDB reconcile.sql" "$dw" "$dc" "$dr"
awk -v a="$rw" -v b="$dw" 'BEGIN { printf "%-46s %8.2fx\n", "recon / DuckDB (wall)", a / b }'
matched=$(($(wc -l <"$work/recon-out/matched.csv") - 1))
peer=$(($(wc -l <"$work/duckdb-out/matched.csv") - 1))
echo "matched rows: recon $matched, DuckDB $peer"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
