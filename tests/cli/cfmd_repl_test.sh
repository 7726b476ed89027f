#!/usr/bin/env bash
# cfmd_repl_test.sh — a REPL session held by the manager's daemon (issue 15; API.md "Where
# procedures run": `cfmc repl --manager NAME` evaluates each input in that manager). A real
# `cfmd` on a temp manager configuration and `cfmc repl --manager a` fed through a FIFO: a
# declaration then its use in the next input, reload() and publish_cloud_event() acting through
# the daemon's manager (its store holds the event: `cfmc events`), an error that leaves the
# session usable, Ctrl-C (SIGINT) of a long sleep cancelling the input and not the session,
# `:type` and `:doc`, `:load` refused; `--in-process` refused while the daemon answers; the
# error without a daemon; over the control API (curl): the limit of 8 sessions, eval, close. Processes are stopped by their PIDs.
#   cfmd_repl_test.sh CFMC CFMD SOURCE_DIR
set -u
CFMC=$1
CFMD=$2
SRC=$3
source "$(dirname "$0")/lib.sh"
W=$TMP/w
mkdir -p "$W/a"
DPID=""
RPID=""
cleanup() {
  [ -n "$RPID" ] && kill -KILL "$RPID" 2>/dev/null
  [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

lone_manager "$W" context
unset CFM_MANAGER
cd "$W"

# --- no daemon: an error naming how to start one ---
run "no daemon" 1 -- repl --manager a </dev/null &&
  has err "cfmc: error: no manager daemon a is running (nothing answers at $SOCK); start it with \`cfmc local up\` or \`cfmd --config FILE\`" &&
  pass "repl --manager without a daemon: the error, 1" || { fail "repl --manager without a daemon"; cat "$TMP/err"; }

run "ovf import" 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a && pass "ovf import into the manager's store" ||
  fail "ovf import"

"$CFMD" --config "$W/m.toml" </dev/null >"$W/cfmd.out" 2>"$W/cfmd.err" &
DPID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] && pass "cfmd listens" || { fail "cfmd did not start"; cat "$W/cfmd.err"; finish; }

run "in-process beside the daemon" 1 -- repl --manager a --in-process </dev/null &&
  has err "--in-process would open its store beside it (a second writer)" &&
  pass "--in-process is refused while the daemon answers" || { fail "--in-process beside the daemon"; cat "$TMP/err"; }

# --- a session, input by input through a FIFO ---
mkfifo "$W/in"
"$CFMC" repl --manager a <"$W/in" >"$W/rout" 2>"$W/rerr" &
RPID=$!
exec 3>"$W/in"
SYS='BusinessSystem { name: "web3", id: "", description: "", elements: [], vm_classes: [], templates: [], properties: {}, element_instances: [], vm_instances: [] }'
cat >&3 <<IN
fn twice(x: int) -> int { return 2 * x; }
twice(21)
let s = reload($SYS)
print(s.name + " on " + this_manager())
publish_cloud_event(s, "from_repl", {"n": 7})
[1, 2][5]
twice(2)
IN
# wait for the answer to the last input so far
for _ in $(seq 1 200); do grep -qx 4 "$W/rout" && break; sleep 0.1; done
[ "$(head -1 "$W/rout")" = 42 ] && pass "a declaration, then its use in the next input" ||
  { fail "declaration then use"; cat "$W/rout" "$W/rerr"; }
grep -qx "web3 on a" "$W/rout" && pass "reload() and this_manager() through the daemon's manager" ||
  { fail "reload in the daemon"; cat "$W/rout" "$W/rerr"; }
grep -qF "error: index 5 out of range (length 2)" "$W/rerr" && grep -qx 4 "$W/rout" &&
  pass "an error, then the session goes on" || { fail "an error leaves the session usable"; cat "$W/rerr"; }
run "events" 0 -- events web3 --manager a --name from_repl --json && has out '"n":7' &&
  pass "the daemon's store holds the event the session published" || { fail "the event in the store"; cat "$TMP/out" "$TMP/err"; }

# --- Ctrl-C of a long input: the input is cancelled, the session stays ---
echo 'publish_cloud_event(s, "sleeping", {"k": 1}); sleep(60s); print("never");' >&3
for _ in $(seq 1 200); do
  "$CFMC" events web3 --manager a --name sleeping --json >"$TMP/ev" 2>/dev/null
  [ -s "$TMP/ev" ] && break
  sleep 0.1
done
[ -s "$TMP/ev" ] && pass "the long input runs in the daemon" || fail "the long input did not start"
kill -INT "$RPID"
cat >&3 <<'IN'
twice(5)
:type twice(1)
:doc twice
:load nothing.cfp
IN
exec 3>&-
wait "$RPID"
rc=$?
RPID=""
[ $rc -eq 0 ] && pass "the REPL ends at end of input, 0" || { fail "the REPL's exit: $rc"; cat "$W/rerr"; }
grep -qF "error: task cancelled" "$W/rerr" && ! grep -qx never "$W/rout" &&
  pass "Ctrl-C cancelled the running input" || { fail "Ctrl-C of the input"; cat "$W/rout" "$W/rerr"; }
grep -qx 10 "$W/rout" && pass "after Ctrl-C the session goes on, its declarations kept" ||
  { fail "the session after Ctrl-C"; cat "$W/rout" "$W/rerr"; }
grep -qx int "$W/rout" && pass ":type in the daemon's session" || fail ":type"
grep -qF "fn twice(x: int) -> int" "$W/rout" && pass ":doc of the session's declaration (answered by cfmc)" ||
  { fail ":doc"; cat "$W/rout"; }
grep -qF "error: \`:load\` reads a file of this machine" "$W/rerr" && pass ":load is refused" ||
  { fail ":load"; cat "$W/rerr"; }

# --- the control API: at most 8 sessions open, a closed one is gone, a 9th refused until then ---
post() { curl -s -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X POST "http://cfmd$1" -d "${2:-}"; }
codes=""
for _ in $(seq 1 9); do codes="$codes $(post /repl)"; done
[ "$codes" = " 201 201 201 201 201 201 201 201 503" ] && grep -qF "at most 8 REPL sessions" "$TMP/body" &&
  pass "at most 8 sessions: the 9th is refused (503)" || { fail "the session limit: $codes"; cat "$TMP/body"; }
[ "$(post /repl/s-2/eval '{"input": "1 + 2"}')" = 200 ] && grep -qF '"text":"3\n"' "$TMP/body" &&
  pass "POST /repl/ID/eval answers the output" || { fail "eval over the API"; cat "$TMP/body"; }
[ "$(post /repl/s-2/close)" = 200 ] && [ "$(post /repl/s-2/eval '{"input": "1"}')" = 404 ] &&
  pass "a closed session is gone (404)" || { fail "close over the API"; cat "$TMP/body"; }
[ "$(post /repl)" = 201 ] && pass "after a close, a new session opens" || fail "open after close"

# --- the daemon stops by PID ---
kill -TERM "$DPID"
wait "$DPID"
drc=$?
DPID=""
[ $drc -eq 0 ] && pass "cfmd stops on SIGTERM, 0" || { fail "cfmd exit $drc"; cat "$W/cfmd.err"; }
finish
