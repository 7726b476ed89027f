#!/usr/bin/env bash
# cfmd_test.sh — the manager daemon (issue 15) with a real `cfmd` process on a temp manager
# configuration (no cloud reachable: the procedures only print and sleep) and `cfmc` as its
# client over the Unix socket: runs through `cfmc run --manager` under both engines with the
# same output and exit status as a local run, compile and run-time errors, a program with an
# import, --detach with `cfmc runs` and `cfmc logs`, `cfmc cancel` and Ctrl-C of a long sleep
# (`task cancelled`), runs at the same time, unknown runs, SIGTERM by PID (exit 0, socket gone),
# a BusinessSystem argument and reload() (runs using the API take the manager in turn), then the
# in-process fallback and `cannot reach manager`. The daemon is stopped by its PID.
#   cfmd_test.sh CFMC CFMD SOURCE_DIR
set -u
CFMC=$1
CFMD=$2
SRC=$3
source "$(dirname "$0")/lib.sh"
W=$TMP/w
mkdir -p "$W/a" "$W/prog/lib"
DPID=""
cleanup() {
  [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # the EXIT trap then stops the daemon

lone_manager "$W" context
unset CFM_MANAGER

cat >"$W/prog/hello.cfp" <<'CFP'
import "lib/util.cfp";

procedure main(n: int = 2) {
  for i in 0..n {
    print("hello " + str(i));
  }
  print(twice(n));
}

procedure slow() {
  print("start");
  let t = async nap();
  sleep(60s);
  print("never");
}

fn nap() { sleep(90s); }

procedure boom() {
  let x = [1, 2];
  print("before");
  print(x[5]);
}

procedure sysinfo(sys: BusinessSystem) {
  print(sys.name);
  print(reload(sys).name);
  print(this_cloud());
}

procedure holder(sys: BusinessSystem) {
  print("holding " + reload(sys).name);
  sleep(60s);
}

procedure waiter(sys: BusinessSystem) {
  let e = wait_cloud_event(sys, "go", timeout: 30s);
  print("got ${e.data}");
}

procedure publisher(sys: BusinessSystem) {
  publish_cloud_event(sys, "go", {"n": 1});
}

procedure pause(tag: string) {
  sleep(1s);
  print("done " + tag);
}
CFP
echo 'fn twice(x: int) -> int { return 2 * x; }' >"$W/prog/lib/util.cfp"
echo 'procedure main() { let x: int = "s"; }' >"$W/prog/bad.cfp"
mkdir -p "$W/prog/sub"
echo 'import "../lib/util.cfp"; procedure main() { print(twice(1)); }' >"$W/prog/sub/up.cfp"
cd "$W/prog"

# --- the program ---
run help 0 -- --help && has out "runs      list the runs" && pass "cfmc --help lists runs, logs, cancel" || fail "cfmc --help"
"$CFMD" --help | grep -qF "usage: cfmd --config FILE" && pass "cfmd --help" || fail "cfmd --help"
[ "$("$CFMD" --version)" = "cfmd 0.1.0" ] && pass "cfmd --version" || fail "cfmd --version"
"$CFMD" >/dev/null 2>&1
[ $? -eq 2 ] && pass "cfmd without --config: usage, 2" || fail "cfmd without --config"
"$CFMD" --config "$W/nope.toml" >/dev/null 2>"$TMP/derr"
[ $? -eq 1 ] && grep -qF "nope.toml" "$TMP/derr" && pass "cfmd with a missing config: 1, named" ||
  fail "cfmd with a missing config"

# --- start it ---
"$CFMD" --config "$W/m.toml" </dev/null >"$W/cfmd.out" 2>"$W/cfmd.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] && pass "cfmd listens on <store dir>/cfmd.sock" || { fail "cfmd did not start"; cat "$W/cfmd.err"; finish; }
[ "$(stat -c %a "$SOCK")" = 600 ] && pass "socket mode 0600" || fail "socket mode"

# --- runs with the output and exit status of a local run ---
for engine in interp jit; do
  for proc in main boom; do
    "$CFMC" run hello.cfp --proc $proc --engine $engine >"$TMP/lout" 2>"$TMP/lerr"
    lrc=$?
    "$CFMC" run --manager a hello.cfp --proc $proc --engine $engine >"$TMP/dout" 2>"$TMP/derr"
    drc=$?
    if [ $lrc -eq $drc ] && cmp -s "$TMP/lout" "$TMP/dout" && cmp -s "$TMP/lerr" "$TMP/derr"; then
      pass "$engine $proc: as a local run (exit $drc)"
    else
      fail "$engine $proc: local exit $lrc, daemon $drc"
      diff "$TMP/lout" "$TMP/dout"
      diff "$TMP/lerr" "$TMP/derr"
    fi
  done
done
run "arg" 0 -- run --manager a hello.cfp --arg n=3 &&
  [ "$(cat "$TMP/out")" = "$(printf 'hello 0\nhello 1\nhello 2\n6')" ] && pass "--arg through the daemon" ||
  fail "--arg through the daemon"
run "boom" 1 -- run --manager a hello.cfp --proc boom &&
  [ "$(cat "$TMP/out")" = "before" ] &&
  [ "$(cat "$TMP/err")" = "$(printf 'error: index 5 out of range (length 2)\n  at hello.cfp:22')" ] &&
  pass "an uncaught error: exit 1, message and trace" || fail "an uncaught error"
run "compile error" 1 -- run --manager a bad.cfp && has err "bad.cfp:1:33: error: expected \`int\`, found \`string\`" &&
  pass "a compile error: exit 1, the diagnostic" || fail "a compile error"
run "no proc" 1 -- run --manager a hello.cfp --proc nope && has err "cfmc: error: no procedure \`nope\`" &&
  pass "an unknown procedure: exit 1" || fail "an unknown procedure"
run "up" 0 -- run --manager a sub/up.cfp && [ "$(cat "$TMP/out")" = 2 ] &&
  pass "an import from the root's parent folder, beneath the working folder" || fail "an import from ../"
run "outside" 1 -- run --manager a "$W/prog/sub/up.cfp" &&
  has err "\`$W/prog/sub/../lib/util.cfp\` is outside the folder of \`$W/prog/sub/up.cfp\`" &&
  pass "with an absolute path, an import outside the root's folder is refused" ||
  { fail "an import outside the root's folder"; cat "$TMP/err"; }
# files named as typed: from the parent folder, messages and traces as a local run's
cd "$W"
for args in "prog/hello.cfp --proc boom" "prog/bad.cfp" "./prog/hello.cfp"; do
  "$CFMC" run $args >"$TMP/lout" 2>"$TMP/lerr"
  lrc=$?
  "$CFMC" run --manager a $args >"$TMP/dout" 2>"$TMP/derr"
  drc=$?
  if [ $lrc -eq $drc ] && cmp -s "$TMP/lout" "$TMP/dout" && cmp -s "$TMP/lerr" "$TMP/derr"; then
    pass "run $args: as a local run (exit $drc)"
  else
    fail "run $args: local exit $lrc, daemon $drc"
    diff "$TMP/lerr" "$TMP/derr"
  fi
done
cd "$W/prog"
run "config" 0 -- run --config "$W/m.toml" hello.cfp && [ "$(tail -1 "$TMP/out")" = 4 ] &&
  pass "--config FILE finds the daemon by the store's folder" || fail "--config FILE"

# --- detach, runs, logs, cancel ---
run "detach" 0 -- run --manager a hello.cfp --proc slow --detach
ID=$(cat "$TMP/out")
[[ "$ID" =~ ^r-[0-9]+$ ]] && pass "--detach prints the run id ($ID)" || fail "--detach: '$ID'"
for _ in $(seq 1 100); do
  "$CFMC" logs "$ID" --manager a >"$TMP/lg" 2>/dev/null
  [ "$(cat "$TMP/lg")" = start ] && break
  sleep 0.1
done
[ "$(cat "$TMP/lg")" = start ] && pass "logs RUN: its output so far" || fail "logs RUN"
run "runs" 0 -- runs --manager a && grep -qP "^$ID\trunning\t-\tslow\thello.cfp$" "$TMP/out" &&
  pass "runs: the detached run is running" || { fail "runs"; cat "$TMP/out"; }
# a run while the detached one runs: runs are concurrent
run "beside" 0 -- run --manager a hello.cfp --engine interp && [ "$(tail -1 "$TMP/out")" = 4 ] &&
  pass "a run ends while another is running" || fail "a run beside another"
run "cancel" 0 -- cancel "$ID" --manager a && pass "cancel RUN" || fail "cancel RUN"
run "follow" 0 -- logs "$ID" --manager a --follow && [ "$(cat "$TMP/out")" = start ] &&
  [ "$(cat "$TMP/err")" = "$(printf 'error: task cancelled\n  at hello.cfp:13')" ] &&
  pass "logs --follow: to the end, task cancelled" || { fail "logs --follow after cancel"; cat "$TMP/err"; }
run "runs after" 0 -- runs --manager a && grep -qP "^$ID\tcancelled\t1\tslow\thello.cfp$" "$TMP/out" &&
  pass "runs: cancelled, exit 1" || { fail "runs after cancel"; cat "$TMP/out"; }
run "cancel ended" 1 -- cancel "$ID" --manager a && has err "cfmc: error: run \`$ID\` has ended" &&
  pass "cancel of an ended run: 1" || fail "cancel of an ended run"
run "unknown logs" 1 -- logs r-999 --manager a && has err "cfmc: error: no run \`r-999\`" &&
  pass "logs of an unknown run: 1" || fail "logs of an unknown run"
run "unknown cancel" 1 -- cancel r-999 --manager a && has err "cfmc: error: no run \`r-999\`" &&
  pass "cancel of an unknown run: 1" || fail "cancel of an unknown run"

# --- Ctrl-C of an attached run cancels it ---
"$CFMC" run --manager a hello.cfp --proc slow --engine jit >"$TMP/cout" 2>"$TMP/cerr" &
CPID=$!
for _ in $(seq 1 100); do [ "$(cat "$TMP/cout")" = start ] && break; sleep 0.1; done
kill -INT "$CPID"
wait "$CPID"
crc=$?
[ $crc -eq 1 ] && [ "$(cat "$TMP/cerr")" = "$(printf 'error: task cancelled\n  at hello.cfp:13')" ] &&
  pass "Ctrl-C: the run is cancelled, exit 1" || { fail "Ctrl-C: exit $crc"; cat "$TMP/cerr"; }

# --- two attached runs at the same time ---
"$CFMC" run --manager a hello.cfp --proc pause --arg tag=one >"$TMP/o1" 2>&1 &
P1=$!
"$CFMC" run --manager a hello.cfp --proc pause --arg tag=two --engine interp >"$TMP/o2" 2>&1 &
P2=$!
wait "$P1"; r1=$?
wait "$P2"; r2=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$(cat "$TMP/o1")" = "done one" ] && [ "$(cat "$TMP/o2")" = "done two" ] &&
  pass "two runs at once, each with its own output" || { fail "two runs at once: $r1 $r2"; cat "$TMP/o1" "$TMP/o2"; }

# --- the procedure API and the manager's store: a BusinessSystem argument, reload; each run has
# its own manager, so runs use the API at the same time; cloud events between two runs ---
run "ovf import" 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a && pass "ovf import into the manager's store" ||
  fail "ovf import"
run "sys arg" 0 -- run --manager a hello.cfp --proc sysinfo --arg sys=web3 &&
  [ "$(cat "$TMP/out")" = "$(printf 'web3\nweb3\nc')" ] && pass "a BusinessSystem --arg and reload() in the daemon" ||
  { fail "a BusinessSystem --arg"; cat "$TMP/err"; }
run "sys arg missing" 1 -- run --manager a hello.cfp --proc sysinfo --arg sys=nope &&
  has err "cfmc: error: --arg sys: no business system named \`nope\` (nor with that id) in $W/a/store.db" &&
  pass "an unknown system: exit 1, named" || { fail "an unknown system"; cat "$TMP/err"; }
run "holder" 0 -- run --manager a hello.cfp --proc holder --arg sys=web3 --detach
HID=$(cat "$TMP/out")
for _ in $(seq 1 100); do
  "$CFMC" logs "$HID" --manager a >"$TMP/lg" 2>/dev/null
  [ "$(cat "$TMP/lg")" = "holding web3" ] && break
  sleep 0.1
done
run "api while held" 0 -- run --manager a hello.cfp --proc sysinfo --arg sys=web3 &&
  [ "$(cat "$TMP/out")" = "$(printf 'web3\nweb3\nc')" ] &&
  pass "an API run goes on while another API run is in progress" || { fail "an API run beside another"; cat "$TMP/err"; }
run "cancel holder" 0 -- cancel "$HID" --manager a
run "waiter" 0 -- run --manager a hello.cfp --proc waiter --arg sys=web3 --detach
WID=$(cat "$TMP/out")
sleep 0.5
run "publisher" 0 -- run --manager a hello.cfp --proc publisher --arg sys=web3 && pass "a run publishes an event" ||
  { fail "publisher"; cat "$TMP/err"; }
run "waiter logs" 0 -- logs "$WID" --manager a --follow && [ "$(cat "$TMP/out")" = 'got {"n":1}' ] &&
  pass "a standing run's wait_cloud_event gets another run's event" || { fail "the waiting run"; cat "$TMP/out" "$TMP/err"; }

# --- SIGTERM with a run still going ---
run "detach2" 0 -- run --manager a hello.cfp --proc slow --detach
kill -TERM "$DPID"
wait "$DPID"
drc=$?
DPID=""
[ $drc -eq 0 ] && pass "SIGTERM: cfmd exits 0 with a run going" || { fail "SIGTERM: exit $drc"; cat "$W/cfmd.err"; }
[ ! -e "$SOCK" ] && pass "the socket file is gone" || fail "the socket file is left"

# --- without the daemon ---
run "unreachable" 1 -- runs --manager a && has err "cfmc: error: cannot reach manager a at $SOCK: " &&
  pass "runs without a daemon: cannot reach manager" || { fail "runs without a daemon"; cat "$TMP/err"; }
run "fallback" 0 -- run --manager a hello.cfp && [ "$(tail -1 "$TMP/out")" = 4 ] &&
  pass "run --manager without a daemon: in-process" || fail "run --manager without a daemon"
run "detach none" 1 -- run --manager a hello.cfp --detach && has err "cannot reach manager a at $SOCK" &&
  pass "--detach without a daemon: 1" || fail "--detach without a daemon"

# --- the runs are kept in the store: a restarted daemon lists and prints the earlier ones ---
"$CFMD" --config "$W/m.toml" </dev/null >>"$W/cfmd.out" 2>>"$W/cfmd.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
run "runs kept" 0 -- runs --manager a && grep -q "^r-1	succeeded	0	main	hello.cfp" "$TMP/out" &&
  grep -q "	cancelled	" "$TMP/out" && pass "a restarted daemon lists the earlier runs (r-1 succeeded, one cancelled)" ||
  { fail "runs after a restart"; cat "$TMP/out"; }
NRUNS=$(wc -l <"$TMP/out")
run "logs kept" 0 -- logs r-1 --manager a && [ "$(cat "$TMP/out")" = "$(printf 'hello 0\nhello 1\n4')" ] &&
  pass "... and prints their output" || { fail "logs after a restart"; cat "$TMP/out" "$TMP/err"; }
run "numbering" 0 -- run --manager a hello.cfp --proc slow --detach && [ "$(cat "$TMP/out")" = "r-$((NRUNS + 1))" ] &&
  pass "new runs are numbered after the kept ones" || { fail "numbering after a restart"; cat "$TMP/out"; }
SLOW=$(cat "$TMP/out")
sleep 0.5 # its start is written within 200 ms
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
rm -f "$SOCK"
"$CFMD" --config "$W/m.toml" </dev/null >>"$W/cfmd.out" 2>>"$W/cfmd.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
run "interrupted" 0 -- runs --manager a && grep -q "^$SLOW	interrupted	1	slow" "$TMP/out" &&
  pass "a run the killed daemon left running is interrupted" || { fail "interrupted run"; cat "$TMP/out"; }
run "interrupted logs" 0 -- logs "$SLOW" --manager a && [ "$(cat "$TMP/out")" = "start" ] &&
  pass "... with the output it had" || { fail "interrupted run's output"; cat "$TMP/out"; }
kill -TERM "$DPID"
wait "$DPID"
DPID=""

# --- standing runs: [[standing]] in the configuration, started with the daemon, read from disk ---
mkdir -p "$W/b"
cat >"$W/m2.toml" <<'TOML'
[manager]
name = "b"
store = "b/store.db"

[cloud]
name = "c"
endpoint = "http://127.0.0.1:9/"
region = "r"
credentials = "creds"

[[standing]]
file = "prog/hello.cfp"
args = { n = 3 }

[[standing]]
file = "prog/hello.cfp"
proc = "slow"
engine = "interp"
TOML
"$CFMD" --config "$W/m2.toml" </dev/null >"$W/cfmd2.out" 2>"$W/cfmd2.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$W/b/cfmd.sock" ] && break; sleep 0.1; done
grep -q "standing run r-1: main of $W/prog/hello.cfp" "$W/cfmd2.err" && grep -q "standing run r-2: slow" "$W/cfmd2.err" &&
  pass "cfmd starts the configuration's standing runs" || { fail "standing runs not started"; cat "$W/cfmd2.err"; }
run "standing logs" 0 -- logs r-1 --config "$W/m2.toml" --follow &&
  [ "$(cat "$TMP/out")" = "$(printf 'hello 0\nhello 1\nhello 2\n6')" ] &&
  pass "the first standing run (its import read from disk, args from the config) succeeded" ||
  { fail "standing run r-1"; cat "$TMP/out" "$TMP/err"; }
run "standing runs" 0 -- runs --config "$W/m2.toml" && grep -q "^r-2	running" "$TMP/out" &&
  pass "the second standing run is running (interp)" || { fail "standing run r-2"; cat "$TMP/out"; }
printf '[[standing]]\nfile = "prog/hello.cfp"\nengine = "llvm"\n' >>"$W/m2.toml"
"$CFMD" --config "$W/m2.toml" --socket "$W/b/other.sock" >/dev/null 2>"$TMP/derr3"
[ $? -eq 1 ] && grep -qF 'standing.engine' "$TMP/derr3" && pass "a bad [[standing]] engine: cfmd refuses the config" ||
  { fail "bad standing engine"; cat "$TMP/derr3"; }
kill -TERM "$DPID"
wait "$DPID"
drc=$?
DPID=""
[ $drc -eq 0 ] && pass "SIGTERM with a standing run going: exit 0" || fail "SIGTERM with a standing run: exit $drc"
finish
