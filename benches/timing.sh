# Shared by the whole-run benchmarks (sourced, not run): time one command with
# GNU /usr/bin/time -v and take medians. The caller sets `work` (a scratch
# directory) and `runs` (runs per figure).

if [ ! -x /usr/bin/time ]; then
    echo "${0##*/}: GNU time is needed at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

# Prints "WALL_S CPU_S PEAK_RSS_KB" for one timed command; stops on exit status >= 2.
timed() {
    local log="$work/time.log"
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
    local status
    status=$(awk -F': ' '/Exit status/ {print $2}' "$log")
    if [ "${status:-2}" -ge 2 ]; then
        echo "${0##*/}: '$*' failed (exit ${status:-?}):" >&2
        cat "$log" >&2
        exit 2
    fi
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /User time/ { cpu += $2 }
        /System time/ { cpu += $2 }
        /Maximum resident set size/ { rss = $2 }
        END { print wall, cpu, rss }' "$log"
}

# Median (by wall clock) of lines "WALL_S CPU_S PEAK_RSS_KB" on stdin: "WALL_S CPU_S PEAK_RSS_MB".
median_of() {
    sort -n -k1 | awk -v n="$runs" '
        NR == int((n + 1) / 2) { printf "%.2f %.2f %.0f\n", $1, $2, $3 / 1024 }'
}

# Median (by wall clock) of RUNS runs of one command.
median() {
    local results=()
    for _ in $(seq "$runs"); do
        results+=("$(timed "$@")")
    done
    printf '%s\n' "${results[@]}" | median_of
}

row() {
    printf '%-46s %9s %12s %14s\n' "$1" "$2" "$3" "$4"
}

machine() {
    echo "machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GB"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}
