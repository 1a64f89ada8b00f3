#!/usr/bin/env bash
# Are two builds' results byte-identical? Runs `recon run` with OLD_BIN and
# NEW_BIN on the same inputs and compares every output file with `cmp`.
# summary.json and report.html are compared after dropping what differs from
# run to run by design (run id, start and finish times, the rules' path).
#
# usage: benches/compare_outputs.sh OLD_BIN NEW_BIN [CASE...]
#   CASE is a directory holding ledger.csv and bank.csv (rules: its
#   rules.toml, else rules/default.toml; business date: its case.toml's
#   `date`, else 2026-11-24 when the rules are rules/default.toml and the
#   directory is a generated day), or one of the words
#     examples     every examples/*/ with a rules.toml, plus examples/basic
#     settlement   a gen_day --mode settlement day (4000 orders, made here)
#     day          a gen_day day of 20000 orders (made here)
#   Default: examples settlement day.
# env:   WORK=/tmp/recon-compare (scratch; removed and remade)
# Prints one line per case ("identical" or the differing files) and exits 1
# when any case differs, 2 when a run fails (exit status >= 2).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
shift 2
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(examples settlement day)
work=${WORK:-/tmp/recon-compare}
rm -rf "$work"
mkdir -p "$work"

# Drops the fields of summary.json and report.html that differ by design.
normalise() {
    sed -E -e 's/"run_id": "[^"]*"/"run_id": ""/' \
        -e 's/"(started|finished)_at": "[^"]*"/"\1_at": ""/' \
        -e 's/"(path|audit_log|audit_started_sha256)": "[^"]*"/"\1": ""/' \
        -e 's/Run: [0-9TZ:-]+ → [0-9TZ:-]+/Run: -/' \
        -e 's/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}/RUNID/g' "$1"
}

# run BIN OUT LEDGER BANK RULES [DATE]
run() {
    local bin=$1 out=$2 ledger=$3 bank=$4 rules=$5 date=${6:-}
    local args=(run --ledger "$ledger" --bank "$bank" --rules "$rules" --out "$out" --quiet)
    [ -z "$date" ] || args+=(--date "$date")
    local status=0
    "$bin" "${args[@]}" >"$out.stdout" 2>"$out.stderr" || status=$?
    if [ "$status" -ge 2 ]; then
        echo "compare_outputs.sh: $bin ${args[*]} exited $status:" >&2
        cat "$out.stderr" >&2
        exit 2
    fi
    echo "$status" >"$out.status"
}

differ=0
# compare NAME LEDGER BANK RULES [DATE]
compare() {
    local name=$1
    local dir="$work/${name//\//_}"
    mkdir -p "$dir"
    mkdir -p "$dir/o" "$dir/n"
    run "$old" "$dir/o/out" "${@:2}"
    run "$new" "$dir/n/out" "${@:2}"
    local bad=()
    cmp -s "$dir/o/out.status" "$dir/n/out.status" || bad+=("exit status")
    local files
    files=$( (cd "$dir/o/out" && ls) ; (cd "$dir/n/out" && ls) )
    for f in $(echo "$files" | sort -u); do
        if [ ! -f "$dir/o/out/$f" ] || [ ! -f "$dir/n/out/$f" ]; then
            bad+=("$f (only one side)")
        elif [ "$f" = summary.json ] || [ "$f" = report.html ]; then
            cmp -s <(normalise "$dir/o/out/$f") <(normalise "$dir/n/out/$f") || bad+=("$f")
        else
            cmp -s "$dir/o/out/$f" "$dir/n/out/$f" || bad+=("$f")
        fi
    done
    local n
    n=$(echo "$files" | sort -u | wc -l)
    if [ ${#bad[@]} -eq 0 ]; then
        printf '%-40s identical (%d files, exit %s)\n' "$name" "$n" "$(cat "$dir/o/out.status")"
        rm -rf "$dir"
    else
        printf '%-40s DIFFERS: %s (kept in %s)\n' "$name" "${bad[*]}" "$dir"
        differ=1
    fi
}

gen_day() {
    local bin=target/release/examples/gen_day
    [ -x "$bin" ] || nice cargo build --release --quiet --example gen_day
    "$bin" "$@" >/dev/null
}

for c in "${cases[@]}"; do
    case "$c" in
    examples)
        for d in examples/*/; do
            d=${d%/}
            if [ -f "$d/rules.toml" ]; then
                date=$(sed -nE 's/^date *= *([0-9-]+).*/\1/p' "$d/case.toml" 2>/dev/null || true)
                compare "$d" "$d/ledger.csv" "$d/bank.csv" "$d/rules.toml" "$date"
            elif [ -f "$d/orders.toml" ]; then
                compare "$d (orders)" "$d/ledger.csv" "$d/wechat_bill.csv" "$d/orders.toml"
                compare "$d (settlement)" "$d/wechat_bill.csv" "$d/bank.csv" "$d/settlement.toml"
            else
                compare "$d" "$d/ledger.csv" "$d/bank.csv" rules/default.toml
            fi
        done
        ;;
    settlement)
        gen_day --mode settlement --orders 4000 --seed 7 --out "$work/settle-day"
        compare "gen_day settlement 4000" "$work/settle-day/bill.csv" "$work/settle-day/bank.csv" \
            tests/data/settlement/rules.toml
        ;;
    day)
        gen_day --orders 20000 --seed 7 --out "$work/gen-day"
        compare "gen_day 20000" "$work/gen-day/ledger.csv" "$work/gen-day/bank.csv" \
            rules/default.toml 2026-11-24
        ;;
    *)
        rules=rules/default.toml
        [ ! -f "$c/rules.toml" ] || rules=$c/rules.toml
        date=$(sed -nE 's/^date *= *([0-9-]+).*/\1/p' "$c/case.toml" 2>/dev/null || true)
        compare "$c" "$c/ledger.csv" "$c/bank.csv" "$rules" "${date:-2026-11-24}"
        ;;
    esac
done
if [ "$differ" -eq 0 ]; then
    echo "all identical"
else
    echo "some outputs differ"
fi
exit "$differ"
