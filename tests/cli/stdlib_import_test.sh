#!/usr/bin/env bash
# stdlib_import_test.sh — `import "std/NAME.cfp";` (docs/language.md §4, stdlib/README.md): every
# module of the standard library checks clean from the build's share/cfm/stdlib; CFM_STDLIB
# overrides the folder; a missing module names the folder; a local folder named std is reached
# as ./std/; and through a real `cfmd`, the client sends the std modules it read (with
# CFM_STDLIB set for the client only, the daemon runs the client's module, and errors and
# traces read as in a local run). The daemon is stopped by its PID.
#   stdlib_import_test.sh CFMC CFMD SOURCE_DIR
set -u
CFMC=$1
CFMD=$2
SRC=$3
source "$(dirname "$0")/lib.sh"
W=$TMP/w
mkdir -p "$W/a" "$W/prog/std" "$W/mystd"
DPID=""
cleanup() {
  [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
unset CFM_STDLIB CFM_MANAGER

# --- every module of the stdlib, from the folder beside the build's bin/ ---
{
  for f in "$SRC"/stdlib/*.cfp; do echo "import \"std/$(basename "$f")\";"; done
  echo 'procedure main() { print(start_waves([])); print(transient("agent", "unreachable")); }'
} >"$W/prog/all.cfp"
sed -i 's/start_waves(\[\])/len(start_waves([]))/' "$W/prog/all.cfp"
cd "$W/prog"
run "check all" 0 -- check all.cfp && pass "every stdlib module checks clean" || { fail "check all"; cat "$TMP/out" "$TMP/err"; }
for engine in interp jit; do
  run "run all $engine" 0 -- run --engine $engine all.cfp && [ "$(cat "$TMP/out")" = "$(printf '0\ntrue')" ] &&
    pass "$engine: a program importing the whole stdlib runs" || { fail "run all $engine"; cat "$TMP/out" "$TMP/err"; }
done

# --- CFM_STDLIB overrides; a missing module names the folder ---
cat >"$W/mystd/greet.cfp" <<'CFP'
// greet.cfp — a stdlib module of the test's own folder
fn greet() -> string {
  return "from mystd";
}
fn boom() -> int {
  let xs = [1];
  return xs[3];
}
CFP
cat >"$W/prog/std/greet.cfp" <<'CFP'
fn local_greet() -> string {
  return "from ./std";
}
CFP
cat >"$W/prog/greet_main.cfp" <<'CFP'
import "std/greet.cfp";
import "./std/greet.cfp";

procedure main() {
  print(greet());
  print(local_greet());
}

procedure crash() {
  print(boom());
}
CFP
cat >"$W/prog/missing.cfp" <<'CFP'
import "std/nope.cfp";
procedure main() {}
CFP
export CFM_STDLIB=$W/mystd
run "override" 0 -- run greet_main.cfp && [ "$(cat "$TMP/out")" = "$(printf 'from mystd\nfrom ./std')" ] &&
  pass "CFM_STDLIB overrides; ./std/ is the importer's folder" || { fail "override"; cat "$TMP/out" "$TMP/err"; }
run "missing" 1 -- check missing.cfp &&
  has err "missing.cfp:1:1: error: cannot import \`std/nope.cfp\`: no such file in the standard library ($W/mystd)" &&
  pass "a missing module names the stdlib folder" || { fail "missing"; cat "$TMP/out" "$TMP/err"; }
CFM_STDLIB=mystd-relative run "relative" 1 -- check missing.cfp &&
  has err "no such file in the standard library ($W/prog/mystd-relative)" &&
  pass "a relative CFM_STDLIB is taken from the working folder" || { fail "relative"; cat "$TMP/err"; }
unset CFM_STDLIB
run "default missing" 1 -- check missing.cfp && has err "($(cd "$(dirname "$CFMC")/.." && pwd)/share/cfm/stdlib)" &&
  pass "without CFM_STDLIB: share/cfm/stdlib beside bin/" || { fail "default missing"; cat "$TMP/err"; }

# --- through cfmd: the client sends the std modules it read ---
lone_manager "$W" context
env -u CFM_STDLIB "$CFMD" --config "$W/m.toml" </dev/null >"$W/cfmd.out" 2>"$W/cfmd.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { fail "cfmd did not start"; cat "$W/cfmd.err"; finish; }
for engine in interp jit; do
  for proc in main crash; do
    CFM_STDLIB=$W/mystd "$CFMC" run greet_main.cfp --proc $proc --engine $engine >"$TMP/lout" 2>"$TMP/lerr"
    lrc=$?
    CFM_STDLIB=$W/mystd "$CFMC" run --manager a greet_main.cfp --proc $proc --engine $engine >"$TMP/dout" 2>"$TMP/derr"
    drc=$?
    if [ $lrc -eq $drc ] && cmp -s "$TMP/lout" "$TMP/dout" && cmp -s "$TMP/lerr" "$TMP/derr" &&
      grep -q "from mystd\|at $W/mystd/greet.cfp:7" "$TMP/dout" "$TMP/derr"; then
      pass "$engine $proc: the client's std module runs in the daemon as in a local run (exit $drc)"
    else
      fail "$engine $proc: local exit $lrc, daemon $drc"
      diff "$TMP/lout" "$TMP/dout"
      diff "$TMP/lerr" "$TMP/derr"
    fi
  done
  run "daemon all $engine" 0 -- run --manager a --engine $engine all.cfp && [ "$(cat "$TMP/out")" = "$(printf '0\ntrue')" ] &&
    pass "$engine: the default stdlib through the daemon" || { fail "daemon all $engine"; cat "$TMP/out" "$TMP/err"; }
done
CFM_STDLIB=$W/mystd run "daemon missing" 1 -- run --manager a missing.cfp &&
  has err "cannot import \`std/nope.cfp\`: no such file in the standard library ($W/mystd)" &&
  pass "a missing module through the daemon names the client's folder" || { fail "daemon missing"; cat "$TMP/err"; }
kill -TERM "$DPID"
wait "$DPID"
DPID=""
finish
