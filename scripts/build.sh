#!/usr/bin/env bash
# build.sh — configures and builds CFM into a build folder.
#   scripts/build.sh [release|asan|tsan]  (default: release, into build/; asan into build-asan/;
#   tsan into build-tsan/: ThreadSanitizer, the runtime and its cross-thread tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
targets=()
case "$kind" in
  release) dir=build; flags=() ;;
  asan) dir=build-asan; flags=(-DCFM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
  tsan) dir=build-tsan; flags=(-DCFM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo); targets=(--target cfm-tsan-tests) ;;
  *) echo "usage: scripts/build.sh [release|asan|tsan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
