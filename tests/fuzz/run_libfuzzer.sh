#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in tests/fuzz with clang 14's libFuzzer, ASan and
# UBSan (the fuzz preset). Usage, from anywhere in the source tree:
#   tests/fuzz/run_libfuzzer.sh [SECONDS_PER_TARGET]     (default 60)
#   FUZZ_TARGETS="imap_response_fuzz smtp_cc_fuzz" tests/fuzz/run_libfuzzer.sh 300
# Configures and builds build-fuzz/, then runs each target for the given time with its
# dictionary and a scratch copy of its seed corpus and kept regressions (the checked-in
# corpus is never modified). Prints one row per target: executions, seconds, corpus size at
# the end, crashes. Logs and any crash/leak/timeout/oom input land in build-fuzz/fuzz-runs/;
# the script exits 1 when any target found one, after printing the file's path. To keep a
# crasher: fix the parser, then copy the file to tests/fuzz/<area>/regressions/<target>/ so
# the default build's ctest replays it.
set -uo pipefail
seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS_PER_TARGET]  (a whole number of seconds, e.g. 60)" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
build=$src/build-fuzz
if ! command -v clang++-14 >/dev/null; then
  echo "clang++-14 is missing: install clang-14 and libclang-rt-14-dev (.ci/install-deps.sh)" >&2
  exit 2
fi
cmake --preset fuzz >"$build.configure.log" 2>&1 || {
  cat "$build.configure.log" >&2; echo "configuring the fuzz preset failed (log above)" >&2; exit 2; }
rm -f "$build.configure.log"
all_targets=()
for f in "$build"/fuzz/*.target; do all_targets+=("$(basename "$f" .target)"); done
targets=(${FUZZ_TARGETS:-${all_targets[@]}})
nice cmake --build --preset fuzz --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
  tail -40 "$build/fuzz-build.log" >&2
  echo "building the fuzz targets failed; full log: $build/fuzz-build.log" >&2; exit 2; }

run_dir=$build/fuzz-runs/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run_dir"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzzing ${#targets[@]} targets for ${seconds} s each; logs in $run_dir"
printf '%-24s %12s %8s %8s %8s\n' target executions seconds corpus crashes
failed=0
for t in "${targets[@]}"; do
  manifest=$build/fuzz/$t.target
  if [ ! -f "$manifest" ]; then
    echo "$t: no $manifest; is it a rapport_add_fuzz target? (known: ${all_targets[*]})" >&2
    failed=1; continue
  fi
  corpus=$(sed -n 's/^corpus=//p' "$manifest")
  regressions=$(sed -n 's/^regressions=//p' "$manifest")
  dict=$(sed -n 's/^dict=//p' "$manifest")
  max_len=$(sed -n 's/^max_len=//p' "$manifest")
  work=$run_dir/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$corpus"/. "$work/corpus/"
  [ -d "$regressions" ] && cp -r "$regressions"/. "$work/corpus/"
  dict_arg=()
  if [ -f "$dict" ]; then dict_arg=(-dict="$dict"); else echo "$t: no dictionary at $dict" >&2; fi
  started=$(date +%s)
  nice "$build/fuzz/$t" "$work/corpus" "${dict_arg[@]}" -max_total_time="$seconds" \
    -print_final_stats=1 -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/artifacts/" >"$work/log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  took=$(( $(date +%s) - started ))
  size=$(find "$work/corpus" -type f | wc -l)
  crashes=$(find "$work/artifacts" -type f | wc -l)
  printf '%-24s %12s %8s %8s %8s\n' "$t" "${execs:-?}" "${took:-?}" "$size" "$crashes"
  if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
    failed=1
    find "$work/artifacts" -type f -printf '  found: %p\n'
    echo "  $t exited with status $status; log: $work/log"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "FAILED: reproduce with build-fuzz/fuzz/<target> <file>; fix, then keep the file in tests/fuzz/<area>/regressions/<target>/" >&2
  exit 1
fi
echo "no crashes"
