#!/usr/bin/env bash
# test.sh — the whole test suite: installs what is missing, builds CFM twice (release, and
# ASan+UBSan) and runs every test under both builds; then the ThreadSanitizer build of the
# runtime runs the cross-thread tests. Tests labelled `slow` (long end-to-end runs with real
# processes, ctest LABELS) or `nosan` (what instrumentation adds nothing to; tests/CMakeLists.txt
# says why for each) run in the release pass only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
t0=$SECONDS
# phase NAME: prints the time NAME starts and the seconds spent so far (the CI log shows where its time goes)
phase() { echo "[test.sh] $(date -u +%H:%M:%S) ${1} (+$((SECONDS - t0)) s so far)"; }
phase bootstrap
scripts/bootstrap.sh
jobs=$(nproc)
phase "release build"
scripts/build.sh release
phase "release tests"
(cd build && ctest --output-on-failure -j "$jobs")
if [ "${CFM_SKIP_ASAN:-0}" != 1 ]; then
  phase "asan build"
  scripts/build.sh asan
  phase "asan tests"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     LSAN_OPTIONS=suppressions=$root/tests/lsan.supp \
     ctest --output-on-failure -j "$jobs" -LE "slow|nosan")
fi
if [ "${CFM_SKIP_TSAN:-0}" != 1 ]; then
  phase "tsan build"
  scripts/build.sh tsan
  phase "tsan tests"
  (cd build-tsan && ctest --output-on-failure -j "$jobs")
fi
phase done
echo "all tests passed"
