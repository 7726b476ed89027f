#!/usr/bin/env bash
# run.sh — the procedure API against a real local cloud: starts one with `cfmc local up` in a
# temp folder (cfm-cloud on a free loopback port, its manager's configuration and store), imports
# the web3 sample into the manager's store, runs every .cfp here under ENGINE with
# `--manager a --arg sys=web3` through the conformance driver, and stops the cloud (and every
# instance) on the way out, whatever happened.
#   usage: run.sh CFMC CFP_CONFORMANCE ENGINE
set -u
CFMC=$1 DRIVER=$2 ENGINE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
DIR=$TMP/cfm
cleanup() {
  "$CFMC" local down --dir "$DIR" >/dev/null 2>&1 || echo "run.sh: cfmc local down failed" >&2
  rm -rf "$TMP"
}
trap cleanup EXIT
if ! "$CFMC" local up --clouds 1 --dir "$DIR" --boot-delay 50ms >"$TMP/up.log" 2>&1; then
  echo "run.sh: cfmc local up failed:"; cat "$TMP/up.log"; exit 1
fi
export CFM_CONTEXT=$DIR/context.json
if ! "$CFMC" ovf import "$HERE/../../samples/web3/web3.ovf" --manager a >"$TMP/import.log" 2>&1; then
  echo "run.sh: import failed:"; cat "$TMP/import.log"; exit 1
fi
"$DRIVER" --run "$CFMC" --engine "$ENGINE" --cfmc-arg --manager --cfmc-arg a --cfmc-arg --arg \
  --cfmc-arg sys=web3 "$HERE"
status=$?
# `cfmc events` prints the history the programs above left in manager a's store.
"$CFMC" events web3 --manager a >"$TMP/events.txt" 2>&1 || { echo "run.sh: cfmc events failed:"; cat "$TMP/events.txt"; exit 1; }
grep -Eq '^20[0-9-]+T[0-9:.]+Z  a#2  deploy\.done  \{"step":1,"who":"web"\}$' "$TMP/events.txt" ||
  { echo "run.sh: cfmc events lacks a#2 deploy.done:"; cat "$TMP/events.txt"; exit 1; }
"$CFMC" events web3 --manager a --json --name prior >"$TMP/events.json" 2>&1 &&
  grep -q '"name":"prior"' "$TMP/events.json" && ! grep -q '"name":"deploy.done"' "$TMP/events.json" ||
  { echo "run.sh: cfmc events --json --name prior:"; cat "$TMP/events.json"; exit 1; }
"$CFMC" events --manager a >/dev/null 2>&1; [ $? -eq 2 ] || { echo "run.sh: cfmc events without SYS is not a usage error"; exit 1; }
exit $status
