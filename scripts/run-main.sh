#!/usr/bin/env bash
# run-main.sh — the main job: installs what is missing, builds CFM and runs the sample
# procedure file through cfmc as far as the language goes today (it is checked).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
sample=samples/web3/deploy.cfp
echo "== cfmc check $sample"
build/bin/cfmc check "$sample"
echo "$sample: no errors"
