#!/usr/bin/env bash
# run-main.sh — the main job: installs what is missing, builds CFM, and checks and runs the
# sample procedure file (the Web 3-tier deployment plan) with the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
sample=samples/web3/deploy.cfp
echo "== cfmc check $sample"
build/bin/cfmc check "$sample"
echo "$sample: no errors"
echo "== cfmc run $sample"
build/bin/cfmc run --engine interp "$sample"
