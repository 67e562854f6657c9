#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer harness of tests/fuzz/ for SECONDS seconds, starting
# from its committed seeds (tests/fuzz/corpus/NAME, only read) and the inputs earlier runs
# found (BUILD/fuzz/corpus/NAME, kept between runs). Prints executions and findings per
# harness; exits 1 when one found a crash, leak, timeout or memory blow-up, whose input
# is saved as BUILD/fuzz/NAME-crash-* (replay: BUILD/fuzz/fuzz_NAME FILE).
#   tools/check/run_fuzzers.sh BUILD/fuzz SECONDS
set -uo pipefail
dir=${1:?usage: run_fuzzers.sh FUZZ_BIN_DIR SECONDS}
seconds=${2:-30}
src=$(cd "$(dirname "$0")/../.." && pwd)
status=0
printf '%-16s %12s %10s  %s\n' harness executions exec/s result
for seeds in "$src"/tests/fuzz/corpus/*/; do
  name=$(basename "$seeds")
  bin="$dir/fuzz_$name"
  [ -x "$bin" ] || { echo "run_fuzzers.sh: $bin missing (make fuzz builds it)" >&2; exit 2; }
  mkdir -p "$dir/corpus/$name"
  log="$dir/$name.log"
  # -timeout: one input taking 10 s is a finding; -rss_limit_mb: so is 2 GB of memory.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/$name-" "$dir/corpus/$name" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then result="no finding"; else
    result="FINDING (exit $rc), see $log"; status=1; fi
  printf '%-16s %12s %10s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$result"
done
exit $status
