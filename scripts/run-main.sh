#!/usr/bin/env bash
# run-main.sh — the main job: installs what is missing (scripts/bootstrap.sh), builds CFM, and runs
# `cfmc demo`: the web3 sample (nginx, a Python app server, PostgreSQL with a synchronous standby)
# started on a local federation of two clouds, scaled out into the peer cloud when cloud a is
# full, and recovered in cloud b after cloud a is killed, with RTO and RPO measured (docs/demo.md).
# Arguments go to `cfmc demo` (--json, --keep, --dir DIR). Exit status: the demo's (0 only when the
# system recovered with RPO 0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh release
exec build/bin/cfmc demo "$@"
