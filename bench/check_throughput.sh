#!/usr/bin/env bash
# check_throughput.sh — front-end throughput: generates a 50,000-line procedure file
# (gen_program.py) and a file of as many lines dense with templates and string interpolation
# (gen_program.py --dense), times `cfmc check` on each; prints for each the median of RUNS runs
# in lines per second, and the median time of each phase (`cfmc check --time`). Goal (issues 2
# and 18): ≥ 100,000 lines/s on both, on the 2-core reference machine.
#   bench/check_throughput.sh [LINES] [RUNS]     (defaults: 50000 lines, 7 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-50000}
RUNS=${2:-7}
CFMC=${CFMC:-build/bin/cfmc}
PY=/usr/bin/python3
[ -x "$CFMC" ] || { echo "build cfmc first (scripts/build.sh)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() { # NAME [gen_program.py flags]
  local name=$1
  shift
  $PY bench/gen_program.py "$@" "$LINES" >"$TMP/$name.cfp"
  local lines bytes t
  lines=$(wc -l <"$TMP/$name.cfp")
  bytes=$(wc -c <"$TMP/$name.cfp")
  "$CFMC" check "$TMP/$name.cfp" # must be clean: the benchmark measures correct programs
  : >"$TMP/times"
  : >"$TMP/phases"
  for i in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    "$CFMC" check --time "$TMP/$name.cfp" 2>>"$TMP/phases"
    end=$(date +%s.%N)
    echo "$start $end" | awk '{ printf "%.6f\n", $2 - $1 }' >>"$TMP/times"
  done
  t=$(median <"$TMP/times")
  echo "cfmc check ($name): $lines lines ($bytes bytes), median of $RUNS runs: ${t}s"
  awk -v l="$lines" -v t="$t" 'BEGIN { printf "throughput: %.0f lines/s (goal: 100000 lines/s, ratio %.2f)\n", l / t, (l / t) / 100000 }'
  for phase in lex parse build check; do
    m=$(grep -o "$phase [0-9.]*s" "$TMP/phases" | awk '{ sub("s", "", $2); print $2 }' | median)
    printf "  %-6s %ss\n" "$phase" "$m"
  done
}
measure procedures
measure dense --dense
