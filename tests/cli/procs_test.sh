#!/usr/bin/env bash
# procs_test.sh — a business system's procedure files in the shared configuration (issue 15):
# `cfmc procs put` on manager a of a local federation (two clouds, a broker, a cfmd each), the
# files listed and shown on manager b, run there with `cfmc run --manager b --stored SYSTEM FILE`
# (an import resolved among the stored files), a change and a removal reaching b, and the
# errors: unknown system, unknown file, a bad name, a file too large, a file that does not check
# (refused with its diagnostics, stored with --no-check), `--stored` without a daemon. No VMs are
# started. Whatever is left running at exit is killed by recorded PID.
#   procs_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
D=$TMP/fed
export CFM_CONTEXT=$D/context.json

cleanup() {
  stop_local_federation "$D"
  rm -rf "$TMP"
}
trap cleanup EXIT

# eventually CMD...: CMD succeeds within 10 s
eventually() {
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

run up 0 -- local up --dir "$D" --boot-delay 50ms && has out "manager b: cfmd pid" &&
  pass "up: two clouds, the broker, a cfmd per cloud" || { fail "up"; cat "$TMP/out" "$TMP/err"; exit 1; }
run import-a 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a && pass "web3 into a" || fail "web3 into a"
eventually "$CFMC" ovf show web3 --manager b && pass "web3 reached b" || fail "web3 did not reach b"

P=$TMP/p
mkdir -p "$P/lib"
cat >"$P/lib/util.cfp" <<'CFP'
fn twice(n: int) -> int {
  return 2 * n;
}
CFP
cat >"$P/hello.cfp" <<'CFP'
import "lib/util.cfp";

procedure main(n: int = 1) {
  print("${this_manager()}: twice ${n} is ${twice(n)}");
}
CFP

run put 0 -- procs put web3 --manager a --base "$P" "$P/hello.cfp" "$P/lib/util.cfp" &&
  has out "stored 2 files in web3" && pass "put two files on a" || { fail "put"; cat "$TMP/out" "$TMP/err"; }
run list-a 0 -- procs list web3 --manager a &&
  [ "$(cut -f1 "$TMP/out" | tr '\n' ' ')" = "hello.cfp lib/util.cfp " ] &&
  grep -q "^lib/util.cfp	$(wc -c <"$P/lib/util.cfp")	$(sha256sum "$P/lib/util.cfp" | cut -c1-12)\$" "$TMP/out" &&
  pass "list on a: names, sizes, hashes" || { fail "list on a"; cat "$TMP/out"; }
listed_on_b() { [ "$("$CFMC" procs list web3 --manager b | cut -f1 | tr '\n' ' ')" = "$1" ]; }
eventually listed_on_b "hello.cfp lib/util.cfp " && pass "the files reached b" || fail "the files did not reach b"
run show-b 0 -- procs show web3 hello.cfp --manager b && cmp -s "$TMP/out" "$P/hello.cfp" &&
  pass "show on b: the text as put" || fail "show on b"
run events-b 0 -- events web3 --manager b --name config_changed --json && grep -q '"version":2' "$TMP/out" &&
  pass "b recorded config_changed version 2 (the put)" || { fail "config_changed on b"; cat "$TMP/out"; }
run stored-b 0 -- run --manager b --stored web3 hello.cfp --arg n=21 &&
  [ "$(cat "$TMP/out")" = "b: twice 21 is 42" ] && pass "run --stored on b, its import among the stored files" ||
  { fail "run --stored on b"; cat "$TMP/out" "$TMP/err"; }
run stored-interp 0 -- run --manager a --engine interp --stored web3 hello.cfp &&
  [ "$(cat "$TMP/out")" = "a: twice 1 is 2" ] && pass "run --stored on a, the interpreter" ||
  { fail "run --stored on a"; cat "$TMP/out" "$TMP/err"; }

# a change on b reaches a; a removal on a reaches b
sed -i 's/2 \* n/3 * n/' "$P/lib/util.cfp"
run put-b 0 -- procs put web3 --manager b --as lib/util.cfp "$P/lib/util.cfp" && pass "a change put on b" ||
  fail "put on b"
changed_on_a() { "$CFMC" run --manager a --stored web3 hello.cfp --arg n=2 | grep -qx "a: twice 2 is 6"; }
eventually changed_on_a && pass "the change reached a (run there)" || fail "the change did not reach a"
run unchanged 0 -- procs put web3 --manager b --as lib/util.cfp "$P/lib/util.cfp" && has out "unchanged 1 file" &&
  pass "the same text again changes nothing" || fail "unchanged put"

# errors
run unknown-system 1 -- procs list nope --manager a && has err "no business system \`nope\`" &&
  pass "unknown system" || fail "unknown system"
run unknown-file 1 -- procs show web3 nope.cfp --manager a &&
  has err "system \`web3\` has no procedure file \`nope.cfp\`" && pass "unknown file" || fail "unknown file"
run unknown-stored 1 -- run --manager a --stored web3 nope.cfp && has err "has no procedure file \`nope.cfp\`" &&
  pass "run --stored of an unknown file" || { fail "run --stored unknown"; cat "$TMP/err"; }
run bad-name 1 -- procs put web3 --manager a --as ../up.cfp "$P/hello.cfp" && has err "has a \`.\` or \`..\` part" &&
  pass "a name with .. is refused" || { fail "bad name"; cat "$TMP/err"; }
run bad-ext 1 -- procs put web3 --manager a --as notes.txt "$P/hello.cfp" && has err "does not end in \`.cfp\`" &&
  pass "a name without .cfp is refused" || fail "bad extension"
head -c 600000 /dev/zero | tr '\0' ' ' >"$P/big.cfp"
run too-large 1 -- procs put web3 --manager a "$P/big.cfp" && has err "over the limit of 524288" &&
  pass "a file over 512 KiB is refused" || { fail "too large"; cat "$TMP/err"; }
printf 'procedure main() {\n  let x: int = "no";\n}\n' >"$P/broken.cfp"
run no-check 1 -- procs put web3 --manager a "$P/broken.cfp" && has err "broken.cfp:2:" &&
  has err "not stored: a file does not check" && pass "a file that does not check: refused, with diagnostics" ||
  { fail "check"; cat "$TMP/err"; }
printf 'import "lib/none.cfp";\n\nprocedure main() {\n}\n' >"$P/orphan.cfp"
run missing-import 1 -- procs put web3 --manager a "$P/orphan.cfp" && has err "lib/none.cfp" &&
  pass "a file whose import is not stored is refused" || { fail "missing import"; cat "$TMP/err"; }
run not-there 1 -- procs show web3 broken.cfp --manager a && pass "nothing stored by the refused put" ||
  fail "the refused put stored something"
run forced 0 -- procs put web3 --manager a --no-check "$P/broken.cfp" && pass "--no-check stores it" ||
  fail "--no-check"
run forced-run 1 -- run --manager a --stored web3 broken.cfp && has err "broken.cfp:2:" &&
  pass "running it reports its diagnostics" || { fail "run broken"; cat "$TMP/err"; }
run usage 2 -- procs put web3 --manager a && has err "which files?" && pass "put without files: usage" ||
  fail "usage"
run stored-no-manager 2 -- run --stored web3 hello.cfp && has err "\`--stored\` needs \`--manager NAME\`" &&
  pass "--stored without a manager: usage" || fail "--stored without a manager"

# removal
run rm 0 -- procs rm web3 broken.cfp --manager a && pass "rm on a" || fail "rm"
eventually listed_on_b "hello.cfp lib/util.cfp " && pass "the removal reached b" || fail "removal did not reach b"
run rm-again 1 -- procs rm web3 broken.cfp --manager a && has err "no procedure file \`broken.cfp\`" &&
  pass "rm of a file not there" || fail "rm again"

run help 0 -- procs --help && has out "cfmc procs put SYSTEM FILE..." && pass "procs --help" || fail "help"
run main-help 0 -- --help && has out "procs     put, list, show or remove" && pass "cfmc --help names procs" ||
  fail "main help"

run down 0 -- local down --dir "$D" && pass "down" || fail "down"
finish
