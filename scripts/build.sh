#!/usr/bin/env bash
# build.sh — configures and builds CFM into a build folder.
#   scripts/build.sh [release|asan]     (default: release, into build/; asan into build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) dir=build; flags=() ;;
  asan) dir=build-asan; flags=(-DCFM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
