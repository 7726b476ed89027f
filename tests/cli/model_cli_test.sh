#!/usr/bin/env bash
# model_cli_test.sh — model objects in procedures, end to end: the samples' OVF imported into a
# real SQLite store, then `cfmc run --state DB --arg sys=NAME` on the samples' model.cfp (the
# system read by name and by id, its templates rendered), and the errors a user meets (no
# --state, no such store, no such system).
#   model_cli_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"

DB=$TMP/state.db
run import-web3 0 -- ovf import "$SRC/samples/web3/web3.ovf" --state "$DB" && pass import-web3
run import-hadoop 0 -- ovf import "$SRC/samples/hadoop/hadoop.ovf" --state "$DB" && pass import-hadoop

run web3-by-name 0 -- run "$SRC/samples/web3/model.cfp" --state "$DB" --arg sys=web3 &&
  has out "BusinessSystem(web3)" && has out "  web: 3 x web (2 cpu, 2048 MB), after [\"app\"]" &&
  has out "    server 10.0.1.3:8080 max_fails=3 fail_timeout=10s;" &&
  has out "db.primary=jdbc:postgresql://10.0.3.1:5432/app" && has out "app.mode=production" &&
  has out "synchronous_commit = remote_apply" && pass web3-by-name || fail web3-by-name

ID=$("$CFMC" ovf show web3 --state "$DB" | sed -n 's/^system web3 (id \(.*\))$/\1/p')
run web3-by-id 0 -- run "$SRC/samples/web3/model.cfp" --state "$DB" --arg "sys=$ID" &&
  has out "BusinessSystem(web3)" && pass web3-by-id || fail web3-by-id

run hadoop 0 -- run "$SRC/samples/hadoop/model.cfp" --state "$DB" --arg sys=hadoop --arg workers=3 &&
  has out "BusinessSystem(hadoop): 1 master + 3 workers" && has out "<value>hdfs://10.1.0.10:8020</value>" &&
  has out "10.1.0.13" && has out "<name>dfs.datanode.data.dir</name>" && pass hadoop || fail hadoop

run no-state 1 -- run "$SRC/samples/web3/model.cfp" --arg sys=web3 &&
  has err "--arg sys: a \`BusinessSystem\` is read from a store: give --state DB" && pass no-state || fail no-state
run no-store 1 -- run "$SRC/samples/web3/model.cfp" --state "$TMP/none.db" --arg sys=web3 &&
  has err "no store at \`$TMP/none.db\`" && [ ! -e "$TMP/none.db" ] && pass no-store || fail no-store
run no-system 1 -- run "$SRC/samples/web3/model.cfp" --state "$DB" --arg sys=web4 &&
  has err "no business system named \`web4\`" && pass no-system || fail no-system
run state-needs-value 2 -- run "$SRC/samples/web3/model.cfp" --state && pass state-needs-value

finish
