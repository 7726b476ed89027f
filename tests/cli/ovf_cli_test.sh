#!/usr/bin/env bash
# ovf_cli_test.sh — tests of `cfmc ovf` as users run it: help and usage errors (exit 2), validate
# on the samples and on broken descriptors (exit 1 with FILE:LINE:COL), import into a real SQLite
# file, re-import (unchanged, then updated), show, list, export and re-import of the export, a
# failed import that leaves the store as it was, and issue 12's cases: template files confined to
# the descriptor's directory, DTDs and entities, undeclared networks, stores that only `import`
# creates, exports that never overwrite the store, read-only stores, concurrent imports.
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
run validate 0 -- ovf validate "$WEB3" "$HADOOP" && has out "web3.ovf: ok (OVF 1.x, system \`web3\`, 4 virtual system(s), 5 element(s), 5 template(s))" &&
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
cp "$SRC/samples/web3/templates/app.properties.tpl" "$TMP/" && mkdir -p "$TMP/templates" "$TMP/app" && cp "$SRC/samples/web3/templates/app.properties.tpl" "$TMP/templates/" && cp "$SRC/samples/web3/app/app.py" "$TMP/app/"
run update 0 -- ovf import "$TMP/web3-v2.ovf" --state "$DB" && has out "updated system \`web3\` (id $id, version 2)" && pass "import a changed descriptor: updated, version 2" || fail "import a changed descriptor: updated, version 2"

# show and list
run show 0 -- ovf show web3 --state "$DB" && has out "system web3 (id $id)" && has out "element web: vm class web, instances 4 (min 2, max 10), depends on app" &&
  has out "template nginx-upstream: /etc/nginx/conf.d/upstream.conf" && has out "(store version 2)" && pass "show by name" || fail "show by name"
run show-id 0 -- ovf show "$id" --state "$DB" && has out "system web3" && pass "show by id" || fail "show by id"
run list 0 -- ovf show --state "$DB" && has out "hadoop  id" && has out "web3  id $id  version 2  5 element(s), 4 vm class(es), 5 template(s)" && pass "show without NAME lists the systems" || fail "show without NAME lists the systems"
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

# --- Issue 12: files and the store -----------------------------------------------------------

# A template's fileRef is read from beneath the descriptor's directory only: a link to
# /etc/passwd is refused (and no store is created by the failed import).
PKG=$TMP/pkg
mkdir -p "$PKG/templates" "$PKG/app" && cp "$WEB3" "$PKG/" && cp "$SRC/samples/web3/templates/"* "$PKG/templates/" && cp "$SRC/samples/web3/app/app.py" "$PKG/app/"
ln -sf /etc/passwd "$PKG/templates/app.properties.tpl"
run link-template 1 -- ovf validate "$PKG/web3.ovf" &&
  has err "template \`app-properties\`: cannot read \`$PKG/templates/app.properties.tpl\`: leaves its directory" &&
  pass "a template file linked to /etc/passwd is refused" || fail "a template file linked to /etc/passwd is refused"
run link-import 1 -- ovf import "$PKG/web3.ovf" --state "$TMP/link.db" && ! grep -q "root:" "$TMP/out" "$TMP/err" &&
  [ ! -e "$TMP/link.db" ] && pass "import with a linked template file: refused, no store" || fail "import with a linked template file: refused, no store"
ln -sf ../../state.db "$PKG/templates/app.properties.tpl"
run link-up 1 -- ovf validate "$PKG/web3.ovf" && has err "leaves its directory" && pass "a relative link out of the directory is refused" || fail "a relative link out of the directory is refused"
# A FIFO as the template file: refused at once, not waited on.
rm -f "$PKG/templates/app.properties.tpl" && mkfifo "$PKG/templates/app.properties.tpl"
timeout 20 "$CFMC" ovf validate "$PKG/web3.ovf" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && has err "cannot read \`$PKG/templates/app.properties.tpl\`: is not a regular file" && pass "a FIFO as template file: refused, no hang" || fail "a FIFO as template file: refused, no hang"
timeout 20 "$CFMC" ovf validate "$PKG/templates/app.properties.tpl" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && has err "is not a regular file" && pass "a FIFO as descriptor: refused, no hang" || fail "a FIFO as descriptor: refused, no hang"
# A link that stays inside the directory is followed.
rm -f "$PKG/templates/app.properties.tpl" && cp "$SRC/samples/web3/templates/app.properties.tpl" "$PKG/templates/real.tpl" &&
  ln -s real.tpl "$PKG/templates/app.properties.tpl"
run link-inside 0 -- ovf validate "$PKG/web3.ovf" && pass "a link inside the directory is followed" || fail "a link inside the directory is followed"

# DTDs, entities, bad character references, undeclared networks.
printf '<?xml version="1.0"?>\n<!DOCTYPE Envelope [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>\n' >"$TMP/dtd.ovf"
run dtd 1 -- ovf validate "$TMP/dtd.ovf" && has err "dtd.ovf:2:1: error: a document type declaration (\`<!DOCTYPE\`) is not allowed" && pass "a DTD is refused" || fail "a DTD is refused"
sed 's|<Info>Load balancers, web, app and database servers</Info>|<Info>\&undefined;</Info>|; 0,/<Info>/s|<Info>|<Info>\&bogus;|' "$WEB3" >"$TMP/entity.ovf"
run entity 1 -- ovf validate "$TMP/entity.ovf" && has err "entity reference \`&bogus;\` is not allowed" && pass "an undefined entity is refused" || fail "an undefined entity is refused"
sed '0,/<Info>/s|<Info>|<Info>\&#0;|' "$WEB3" >"$TMP/charref.ovf"
run charref 1 -- ovf validate "$TMP/charref.ovf" && has err "character reference \`&#0;\` is not an XML character (U+0000)" && pass "an invalid character reference is refused" || fail "an invalid character reference is refused"
sed '0,/<rasd:Connection>backend</s|<rasd:Connection>backend<|<rasd:Connection>dmz<|' "$WEB3" >"$TMP/net.ovf"
run undeclared-network 1 -- ovf validate "$TMP/net.ovf" && has err "net.ovf:128:" && has err "\`rasd:Connection\` names network \`dmz\`, which \`NetworkSection\` does not declare" &&
  pass "a NIC on an undeclared network is refused" || fail "a NIC on an undeclared network is refused"

# Only import creates a store: show and export of a mistyped path say so and create nothing.
for c in show export; do
  run "typo-$c" 1 -- ovf $c web3 --state "$TMP/typo.db" && has err "cfmc: error: no store at \`$TMP/typo.db\`" && [ ! -e "$TMP/typo.db" ] &&
    pass "$c --state of a missing store: exit 1, nothing created" || fail "$c --state of a missing store: exit 1, nothing created"
done

# export never writes over the store (also through a link or a hard link), over a file that is not
# an OVF descriptor (unless --force), nor over a directory; an export replaces an export.
cp "$DB" "$TMP/db-before"
run export-over-store 1 -- ovf export web3 --state "$DB" -o "$DB" && has err "cannot export to \`$DB\`: it is the store" &&
  cmp -s "$DB" "$TMP/db-before" && pass "export -o the store: refused, the store intact" || fail "export -o the store: refused, the store intact"
ln -s "$DB" "$TMP/db-link" && ln "$DB" "$TMP/db-hard"
run export-over-store-link 1 -- ovf export web3 --state "$DB" -o "$TMP/db-link" && has err "it is the store" &&
  run export-over-store-hardlink 1 -- ovf export web3 --state "$DB" -o "$TMP/db-hard" && has err "it is the store" &&
  cmp -s "$DB" "$TMP/db-before" && pass "export -o a link to the store: refused" || fail "export -o a link to the store: refused"
run export-over-store-force 1 -- ovf export web3 --state "$DB" -o "$DB" --force && has err "it is the store" && pass "--force does not write over the store" || fail "--force does not write over the store"
run show-after 0 -- ovf show web3 --state "$DB" && pass "the store still reads" || fail "the store still reads"
echo "my notes" >"$TMP/notes.txt"
run export-over-text 1 -- ovf export web3 --state "$DB" -o "$TMP/notes.txt" &&
  has err "cannot export to \`$TMP/notes.txt\`: it exists and is not an OVF descriptor (give \`--force\` to replace it)" &&
  [ "$(cat "$TMP/notes.txt")" = "my notes" ] && pass "export over a file that is not OVF: refused" || fail "export over a file that is not OVF: refused"
run export-over-text-force 0 -- ovf export web3 --state "$DB" -o "$TMP/notes.txt" --force && cmp -s "$TMP/notes.txt" "$TMP/export.ovf" &&
  pass "export --force replaces it" || fail "export --force replaces it"
run export-again 0 -- ovf export web3 --state "$DB" -o "$TMP/export.ovf" && pass "export over an earlier export" || fail "export over an earlier export"
run export-dir 1 -- ovf export web3 --state "$DB" -o "$TMP" && has err "is not a regular file" && pass "export -o a directory: refused" || fail "export -o a directory: refused"
run export-no-dir 1 -- ovf export web3 --state "$DB" -o "$TMP/none/x.ovf" && has err "cannot export to" && pass "export into a missing directory: refused" || fail "export into a missing directory: refused"
ls -a "$TMP" | grep -q '\.tmp-' && fail "no temporary file left behind" || pass "no temporary file left behind"

# Read-only commands on a store the user cannot write: they work and create nothing. As root
# (CI), the commands run as nobody; otherwise as the user, with the permissions removed.
RO=$TMP/ro
mkdir -p "$RO" && "$CFMC" ovf import "$WEB3" --state "$RO/s.db" >/dev/null && chmod 755 "$TMP"
as_user() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi; }
for setup in "dir" "file"; do
  if [ $setup = dir ]; then chmod 555 "$RO"; chmod 644 "$RO/s.db"; else chmod 777 "$RO"; chmod 444 "$RO/s.db"; fi
  as_user "$CFMC" ovf show web3 --state "$RO/s.db" >"$TMP/out" 2>"$TMP/err" && has out "system web3" &&
    as_user "$CFMC" ovf export web3 --state "$RO/s.db" >"$TMP/out" 2>"$TMP/err" && has out "<cfm:BusinessSystemSection" &&
    as_user "$CFMC" run "$SRC/samples/web3/model.cfp" --state "$RO/s.db" --arg sys=web3 >"$TMP/out" 2>"$TMP/err" &&
    [ ! -e "$RO/s.db-wal" ] && [ ! -e "$RO/s.db-shm" ] &&
    pass "read-only $setup: show, export, run --state work, no -wal/-shm left" || { fail "read-only $setup: show, export, run --state work, no -wal/-shm left"; cat "$TMP/err"; }
done
chmod 755 "$RO"; chmod 644 "$RO/s.db"
"$CFMC" ovf show --state "$RO/s.db" >/dev/null && [ ! -e "$RO/s.db-wal" ] && [ ! -e "$RO/s.db-shm" ] &&
  pass "show on a writable store leaves no -wal/-shm" || fail "show on a writable store leaves no -wal/-shm"

# Eight imports at once into a new store: none fails with `database is locked`, all are stored.
CONC=$TMP/conc.db
for i in 1 2 3 4 5 6 7 8; do
  sed "s/name=\"web3\">/name=\"web3-$i\">/" "$WEB3" >"$PKG/w$i.ovf"
done
for i in 1 2 3 4 5 6 7 8; do
  "$CFMC" ovf import "$PKG/w$i.ovf" --state "$CONC" >"$TMP/conc$i.out" 2>&1 &
done
ok=1
for i in 1 2 3 4 5 6 7 8; do wait -n || ok=0; done
cat "$TMP"/conc*.out | grep -v "^imported system" && ok=0
[ $ok = 1 ] && [ "$("$CFMC" ovf show --state "$CONC" | wc -l)" = 8 ] && pass "8 concurrent imports into a new store all succeed" || fail "8 concurrent imports into a new store all succeed"

finish
