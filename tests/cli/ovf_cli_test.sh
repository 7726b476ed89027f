#!/usr/bin/env bash
# ovf_cli_test.sh — tests of `cfmc ovf` as users run it: help and usage errors (exit 2), validate
# on the samples and on broken descriptors (exit 1 with FILE:LINE:COL), import into a real SQLite
# file, re-import (unchanged, then updated), show, list, export and re-import of the export, and a
# failed import that leaves the store as it was.
#   ovf_cli_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"

DB=$TMP/state.db
WEB3=$SRC/samples/web3/web3.ovf
HADOOP=$SRC/samples/hadoop/hadoop.ovf

# Help and usage.
run help 0 -- ovf --help && has out "usage: cfmc ovf <command>" && has out "import FILE --state DB" && pass "cfmc ovf --help" || fail "cfmc ovf --help"
run main-help 0 -- --help && has out "ovf       validate, import" && pass "cfmc --help lists ovf" || fail "cfmc --help lists ovf"
for c in validate import show export; do
  run "$c-help" 0 -- ovf $c --help && has out "usage: cfmc ovf $c" && pass "cfmc ovf $c --help" || fail "cfmc ovf $c --help"
done
run no-sub 2 -- ovf && has err "\`ovf\` needs a command" && pass "ovf without a command: exit 2" || fail "ovf without a command: exit 2"
run bad-sub 2 -- ovf frob && has err "unknown ovf command \`frob\`" && pass "unknown ovf command: exit 2" || fail "unknown ovf command: exit 2"
run no-files 2 -- ovf validate && has err "no input files" && pass "validate without files: exit 2" || fail "validate without files: exit 2"
run bad-opt 2 -- ovf validate --frob x && has err "unknown option \`--frob\`" && pass "unknown option: exit 2" || fail "unknown option: exit 2"
run no-state 2 -- ovf import "$WEB3" && has err "needs \`--state DB\`" && pass "import without --state: exit 2" || fail "import without --state: exit 2"
run state-no-value 2 -- ovf show --state && has err "\`--state\` needs a value" && pass "--state without a value: exit 2" || fail "--state without a value: exit 2"
run two-files 2 -- ovf import a b --state "$DB" && has err "takes one FILE" && pass "import with two files: exit 2" || fail "import with two files: exit 2"

# validate
run validate 0 -- ovf validate "$WEB3" "$HADOOP" && has out "web3.ovf: ok (OVF 1.x, system \`web3\`, 4 virtual system(s), 5 element(s), 4 template(s))" &&
  has out "hadoop.ovf: ok" && pass "validate the samples" || fail "validate the samples"
printf '<?xml version="1.0"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">\n  <References>\n    <File ovf:id="a" ovf:href="x"/>\n    <File ovf:id="a" ovf:href="y"/>\n  </References>\n  <VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection/></VirtualSystem>\n</Envelope>\n' >"$TMP/dup.ovf"
run validate-bad 1 -- ovf validate "$WEB3" "$TMP/dup.ovf" && has out "web3.ovf: ok" &&
  has err "$TMP/dup.ovf:5:5: error: duplicate file id \`a\` in \`References\` (first at line 4)" && pass "validate: error with file:line:col, exit 1" || fail "validate: error with file:line:col, exit 1"
run validate-missing 1 -- ovf validate "$TMP/none.ovf" && has err "cannot read" && pass "validate a missing file" || fail "validate a missing file"
head -c 3000 /dev/urandom >"$TMP/random.ovf"
run validate-random 1 -- ovf validate "$TMP/random.ovf" && has err "random.ovf:" && pass "validate random bytes: an error, no crash" || fail "validate random bytes: an error, no crash"
# A template file that is not there: the descriptor reads, the import does not.
sed 's|templates/app.properties.tpl|templates/missing.tpl|' "$WEB3" >"$TMP/web3-missing.ovf"
run validate-missing-template 1 -- ovf validate "$TMP/web3-missing.ovf" &&
  has err "template \`app-properties\`: cannot read" && pass "validate: a missing template file" || fail "validate: a missing template file"

# import, re-import, update
run import 0 -- ovf import "$WEB3" --state "$DB" && has out "imported system \`web3\`" && has out "version 1)" && pass "import web3" || fail "import web3"
[ -f "$DB" ] && pass "the store is a file" || fail "the store is a file"
id=$(sed -n 's/.*(id \([0-9a-f-]*\), .*/\1/p' "$TMP/out")
run reimport 0 -- ovf import "$WEB3" --state "$DB" && has out "unchanged system \`web3\` (id $id, version 1)" && pass "re-import: unchanged" || fail "re-import: unchanged"
run import-hadoop 0 -- ovf import "$HADOOP" --state="$DB" && has out "imported system \`hadoop\`" && pass "import hadoop (--state=DB)" || fail "import hadoop (--state=DB)"
sed 's|min="2" max="8" instances="3"|min="2" max="10" instances="4"|' "$WEB3" >"$TMP/web3-v2.ovf"
cp "$SRC/samples/web3/templates/app.properties.tpl" "$TMP/" && mkdir -p "$TMP/templates" && cp "$SRC/samples/web3/templates/app.properties.tpl" "$TMP/templates/"
run update 0 -- ovf import "$TMP/web3-v2.ovf" --state "$DB" && has out "updated system \`web3\` (id $id, version 2)" && pass "import a changed descriptor: updated, version 2" || fail "import a changed descriptor: updated, version 2"

# show and list
run show 0 -- ovf show web3 --state "$DB" && has out "system web3 (id $id)" && has out "element web: vm class web, instances 4 (min 2, max 10), depends on app" &&
  has out "template nginx-upstream: /etc/nginx/conf.d/upstream.conf" && has out "(store version 2)" && pass "show by name" || fail "show by name"
run show-id 0 -- ovf show "$id" --state "$DB" && has out "system web3" && pass "show by id" || fail "show by id"
run list 0 -- ovf show --state "$DB" && has out "hadoop  id" && has out "web3  id $id  version 2  5 element(s), 4 vm class(es), 4 template(s)" && pass "show without NAME lists the systems" || fail "show without NAME lists the systems"
run show-none 1 -- ovf show nope --state "$DB" && has err "cfmc: error: no business system \`nope\`" && pass "show an unknown system: exit 1" || fail "show an unknown system: exit 1"

# export, and import of the export gives the same system
run export 0 -- ovf export web3 --state "$DB" && has out '<cfm:BusinessSystemSection ovf:required="false" id="'"$id"'" name="web3">' && pass "export to stdout" || fail "export to stdout"
run export-file 0 -- ovf export web3 --state "$DB" -o "$TMP/export.ovf" && [ ! -s "$TMP/out" ] && [ -s "$TMP/export.ovf" ] && pass "export -o FILE" || fail "export -o FILE"
run validate-export 0 -- ovf validate "$TMP/export.ovf" && pass "the export validates" || fail "the export validates"
run reimport-export 0 -- ovf import "$TMP/export.ovf" --state "$DB" && has out "unchanged system \`web3\` (id $id, version 2)" && pass "import of the export: unchanged" || fail "import of the export: unchanged"
DB2=$TMP/other.db
run import-export-elsewhere 0 -- ovf import "$TMP/export.ovf" --state "$DB2" && has out "imported system \`web3\` (id $id, version 1)" && pass "the export carries the id to another store" || fail "the export carries the id to another store"
"$CFMC" ovf show web3 --state "$DB" | grep -v "store version" >"$TMP/show1"
"$CFMC" ovf show web3 --state "$DB2" | grep -v "store version" >"$TMP/show2"
cmp -s "$TMP/show1" "$TMP/show2" && pass "the other store shows the same system" || fail "the other store shows the same system"
run export-none 1 -- ovf export nope --state "$DB" && has err "no business system \`nope\`" && pass "export an unknown system: exit 1" || fail "export an unknown system: exit 1"

# A failed import changes nothing: an element with a running instance cannot be removed.
if command -v sqlite3 >/dev/null; then
  sqlite3 "$DB" "INSERT INTO element_instance (element_id, idx, vm_instance, state) SELECT id, 0, 'i-1', 'running' FROM element WHERE name = 'lb' AND system_id = (SELECT id FROM business_system WHERE name = 'web3');"
  "$CFMC" ovf show web3 --state "$DB" >"$TMP/before"
  sed -e '/<cfm:Element name="lb"/,/<\/cfm:Element>/d' -e '/<cfm:DependsOn element="web"\/>/d' -e 's/ element="lb" path/ path/' "$TMP/web3-v2.ovf" >"$TMP/web3-nolb.ovf"
  sed -i 's/instances="4"/instances="5"/' "$TMP/web3-nolb.ovf"
  run failed-import 1 -- ovf import "$TMP/web3-nolb.ovf" --state "$DB" &&
    has err "import of \`$TMP/web3-nolb.ovf\` failed (the store is unchanged): cannot remove element \`lb\` from system \`web3\`: it has 1 instance(s)" &&
    pass "failed import: a clear error, exit 1"
  "$CFMC" ovf show web3 --state "$DB" >"$TMP/after"
  cmp -s "$TMP/before" "$TMP/after" && pass "failed import: the store is unchanged" || { fail "failed import: the store is unchanged"; diff "$TMP/before" "$TMP/after" | head; }
  [ "$(sqlite3 "$DB" 'PRAGMA journal_mode')" = wal ] && pass "the store is in WAL mode" || fail "the store is in WAL mode"
else
  echo "skip failed-import tests: no sqlite3 program"
fi

# A file that is not a store.
echo "not a database, just some text that is long enough to have a header" >"$TMP/bad.db"
run bad-store 1 -- ovf show --state "$TMP/bad.db" && has err "cfmc: error: store \`$TMP/bad.db\`: sqlite:" && pass "a file that is not a store: exit 1" || fail "a file that is not a store: exit 1"

finish
