#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for N seconds
# (default 10; seven targets, a little over a minute), starting from the saved
# corpus. Prints executions and crashes per target and in total; a crash
# fails the run and its input is left in build-fuzz/crashes/<target>/ —
# copy it into tests/fuzz/corpus/<target>/ so the regression test keeps it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
CLANG=$(command -v clang++-14 || command -v clang++)
CC=${CLANG%++} CXX=$CLANG cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_FUZZ=ON >/dev/null
cmake --build build-fuzz
total=0
crashes=0
for dir in tests/fuzz/corpus/*/; do
  t=$(basename "$dir")
  work=build-fuzz/corpus/$t
  mkdir -p "$work" build-fuzz/crashes/$t
  set +e
  out=$(build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix=build-fuzz/crashes/$t/ -close_fd_mask=3 "$work" "$dir" 2>&1)
  rc=$?
  set -e
  execs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ $rc -ne 0 ]; then
    crashes=$((crashes + 1))
    echo "$out" | tail -n 40
  fi
  echo "fuzz $t: $execs executions, $([ $rc -eq 0 ] && echo 0 || echo 1) crashes"
done
echo "fuzz total: $total executions, crashes = $crashes"
[ $crashes -eq 0 ]
