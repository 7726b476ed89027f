#!/usr/bin/env bash
# fuzz.sh — builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs the
# front-end fuzzer for SECONDS (default 60), seeded with the conformance suite and samples.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "ok installed"; then
  echo "fuzz: installing clang (libFuzzer)" >&2
  ${SUDO:-} apt-get install -y -q --no-install-recommends clang libclang-rt-dev >/dev/null
fi
secs=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCFM_FUZZ=ON -DCFM_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_frontend
corpus=build-fuzz/corpus/frontend
mkdir -p "$corpus"
find tests/conformance samples -name '*.cfp' -exec cp {} "$corpus"/ \;
mkdir -p build-fuzz/artifacts
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
build-fuzz/bin/fuzz_frontend -artifact_prefix=build-fuzz/artifacts/ -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus"
