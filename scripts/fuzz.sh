#!/usr/bin/env bash
# fuzz.sh — builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs each
# for SECONDS (default 60): the front end seeded with the conformance suite and the samples, the hand-written lexer against the generated
# one (lexer: any difference aborts), the
# JSON decoder seeded with the EC2 JSON models of ../shared/testdata when they are there, the OVF
# reader seeded with the samples and the OVF corpus of ../shared/testdata, the EC2 Query decoder and
# SigV4 verifier (ec2_query), the source formatter (format: refused or a fixed point), cfm-cloud's request handling (cloud_request), the agent protocol's
# request decoder (agent_request), cfmd's HTTP request parser
# (unix_http) — and each with the inputs kept in tests/fuzz/corpus/<target>/
# (issue 12's hostile cases, issue 13's EC2 requests and later findings).
#   scripts/fuzz.sh [SECONDS]          (FUZZ_TARGETS="ovf json" builds and runs only those)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "ok installed"; then
  echo "fuzz: installing clang (libFuzzer)" >&2
  ${SUDO:-} apt-get install -y -q --no-install-recommends clang libclang-rt-dev >/dev/null
fi
secs=${1:-60}
targets=${FUZZ_TARGETS:-frontend lexer format json ovf ec2_query cloud_request agent_request unix_http}
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCFM_FUZZ=ON -DCFM_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target $(for t in $targets; do printf "fuzz_%s " "$t"; done)
mkdir -p build-fuzz/artifacts build-fuzz/corpus/frontend build-fuzz/corpus/lexer build-fuzz/corpus/format build-fuzz/corpus/json build-fuzz/corpus/ovf \
  build-fuzz/corpus/ec2_query build-fuzz/corpus/cloud_request build-fuzz/corpus/agent_request build-fuzz/corpus/unix_http
find tests/conformance samples -name '*.cfp' -exec cp {} build-fuzz/corpus/frontend/ \;
find tests/conformance samples -name '*.cfp' -exec cp {} build-fuzz/corpus/format/ \;
find tests/conformance samples -name '*.cfp' -exec cp {} build-fuzz/corpus/lexer/ \;
printf '{"a":[1,2.5,"x\\u00e9",true,null],"b":{}}' >build-fuzz/corpus/json/seed.json
if [ -d ../shared/testdata/ec2/botocore ]; then
  find ../shared/testdata/ec2/botocore -name '*.json' -size -64k -exec cp {} build-fuzz/corpus/json/ \;
fi
find samples -name '*.ovf' -exec cp {} build-fuzz/corpus/ovf/ \;
if [ -d ../shared/testdata/ovf ]; then
  find ../shared/testdata/ovf -maxdepth 1 -name '*.ovf' -size -64k -exec cp {} build-fuzz/corpus/ovf/ \;
fi
# Inputs that once broke something (issue 12's hostile cases and later findings), kept in git.
for t in frontend json ovf ec2_query cloud_request agent_request unix_http; do
  if [ -d tests/fuzz/corpus/$t ]; then
    find tests/fuzz/corpus/$t -type f ! -name README.md -exec cp {} build-fuzz/corpus/$t/ \;
  fi
done
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
for target in $targets; do
  echo "== fuzz_$target for ${secs}s"
  build-fuzz/bin/fuzz_$target -artifact_prefix=build-fuzz/artifacts/ -max_total_time="$secs" -max_len=4096 \
    -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 build-fuzz/corpus/$target
done
