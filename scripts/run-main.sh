#!/usr/bin/env bash
# run-main.sh — the main job: installs what is missing, builds CFM, and checks and runs the
# sample procedure file (the Web 3-tier deployment plan) with the interpreter; then imports the
# web3 OVF into a store and runs the procedure that reads the model and renders its templates.
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
# The web3 business system from its OVF into a fresh store, then the procedure that reads it
# and renders its config templates.
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
echo "== cfmc ovf import samples/web3/web3.ovf --state $state/web3.db"
build/bin/cfmc ovf import samples/web3/web3.ovf --state "$state/web3.db"
echo "== cfmc run samples/web3/model.cfp --state $state/web3.db --arg sys=web3"
build/bin/cfmc run samples/web3/model.cfp --state "$state/web3.db" --arg sys=web3
