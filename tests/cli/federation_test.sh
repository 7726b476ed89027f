#!/usr/bin/env bash
# federation_test.sh — two managers of the local federation (`cfmc local up`: two cfm-clouds, a
# mosquitto, a cfmd per cloud) share cloud events (issue 15): web3 exported from manager a and
# imported into b (one system id), a procedure on manager a waits for an event that a procedure
# on manager b publishes, both histories hold it once (`cfmc events`), a system imported on a
# alone reaches b with config_changed, ownership moves by `cfmc takeover` while a's manager is
# down and a's restarted manager is fenced (run_vm fails `fenced`, no RunInstances reach cloud
# a), `cfmc local kill b` is seen
# by a as manager_lost within 2 s, and `down` leaves nothing running. (Joining is recorded for the
# systems a manager holds when the peer comes: tests/fed/presence_test.cpp.) Whatever is left running at exit is killed by recorded PID.
#   federation_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
D=$TMP/fed
export CFM_CONTEXT=$D/context.json

cleanup() {
  stop_local_federation "$D" ${A2:-}
  rm -rf "$TMP"
}
trap cleanup EXIT
running() { [ -e "/proc/$1" ] && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

run up 0 -- local up --dir "$D" --boot-delay 50ms && has out "manager a: cfmd pid" && has out "manager b: cfmd pid" &&
  pass "up: two clouds, the broker, a cfmd per cloud" || { fail "up"; cat "$TMP/out" "$TMP/err"; exit 1; }

run import-a 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a && pass "web3 into a" || fail "web3 into a"
run export-a 0 -- ovf export web3 --manager a -o "$TMP/web3.ovf" && pass "web3 exported from a" || fail "export"
run import-b 0 -- ovf import "$TMP/web3.ovf" --manager b && pass "the same system (id) into b" || fail "web3 into b"
ID_A=$("$CFMC" ovf show web3 --manager a | head -1)
ID_B=$("$CFMC" ovf show web3 --manager b | head -1)
[ -n "$ID_A" ] && [ "$ID_A" = "$ID_B" ] && pass "one system id on both managers" || fail "ids differ: $ID_A / $ID_B"

# configuration sharing: a system imported on a only reaches b (retained systems/<id>/config)
run import-hadoop 0 -- ovf import "$SRC/samples/hadoop/hadoop.ovf" --manager a && pass "hadoop into a only" ||
  fail "hadoop into a"
HID=$("$CFMC" ovf show hadoop --manager a | head -1)
shared=no
for _ in $(seq 1 100); do
  [ "$("$CFMC" ovf show hadoop --manager b 2>/dev/null | head -1)" = "$HID" ] && { shared=yes; break; }
  sleep 0.1
done
[ $shared = yes ] && pass "hadoop's configuration reached b, same id" || fail "hadoop did not reach b"
"$CFMC" ovf export hadoop --manager a -o "$TMP/hadoop-a.ovf" >/dev/null 2>&1
"$CFMC" ovf export hadoop --manager b -o "$TMP/hadoop-b.ovf" >/dev/null 2>&1
cmp -s "$TMP/hadoop-a.ovf" "$TMP/hadoop-b.ovf" && pass "b's hadoop equals a's" || fail "b's hadoop differs from a's"
run config-changed 0 -- events hadoop --manager b --name config_changed --json &&
  grep -q '"version":1' "$TMP/out" && pass "b recorded config_changed (version 1)" ||
  { fail "config_changed on b"; cat "$TMP/out"; }

cat >"$TMP/waiter.cfp" <<'CFP'
procedure main(sys: BusinessSystem) {
  let e = wait_cloud_event(sys, "scale_out", timeout: 60s, match: {"tier": "web"});
  print("${this_manager()} got ${e.name} from ${e.source} #${e.seq}: ${e.data}");
}
CFP
cat >"$TMP/publisher.cfp" <<'CFP'
procedure main(sys: BusinessSystem) {
  publish_cloud_event(sys, "scale_out", {"tier": "db", "n": 1});
  publish_cloud_event(sys, "scale_out", {"tier": "web", "n": 2});
  print("published on ${this_manager()}");
}
CFP
cd "$TMP" || exit 1
run waiter 0 -- run --manager a waiter.cfp --arg sys=web3 --detach && WID=$(cat "$TMP/out") &&
  pass "a standing procedure on a ($WID)" || fail "waiter on a"
sleep 0.5
run publisher 0 -- run --manager b publisher.cfp --arg sys=web3 && has out "published on b" &&
  pass "a procedure on b publishes" || { fail "publisher on b"; cat "$TMP/err"; }
run waiter-logs 0 -- logs "${WID:-none}" --manager a --follow &&
  [ "$(cat "$TMP/out")" = 'a got scale_out from b #2: {"n":2,"tier":"web"}' ] &&
  pass "a's wait_cloud_event got b's event (match passed the first over)" ||
  { fail "a's waiter"; cat "$TMP/out" "$TMP/err"; }
for m in a b; do
  run "events-$m" 0 -- events web3 --manager "$m" --name scale_out --json &&
    [ "$(grep -c '"source":"b"' "$TMP/out")" = 2 ] && [ "$(wc -l <"$TMP/out")" = 2 ] &&
    pass "manager $m's history holds b's two events once" || { fail "events on $m"; cat "$TMP/out"; }
done

# ownership and fencing: hadoop (made on a) is owned by a; a's manager dies, b takes hadoop
# over, a's manager comes back: it learns the takeover and its run_vm for hadoop is fenced
# before any cloud call
own() { "$CFMC" owner hadoop --manager "$1" --json 2>/dev/null; }
owned=no
for _ in $(seq 1 50); do
  own b | grep -q '"owner":"a","epoch":1\|"epoch":1.*"owner":"a"' && { owned=yes; break; }
  sleep 0.1
done
[ $owned = yes ] && pass "b records hadoop as a's (epoch 1)" || { fail "owner on b"; own b; }
MPID_A=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["managers"]["a"]["pid"])' "$D/context.json")
kill -KILL "$MPID_A" && pass "a's manager killed (cloud a stays)" || fail "kill a's manager"
run takeover 0 -- takeover hadoop --manager b && has out "owner b, epoch 2" && pass "b takes hadoop over (epoch 2)" ||
  { fail "takeover"; cat "$TMP/out" "$TMP/err"; }
sleep 1.5 # b's node shares it at its next heartbeat
rm -f "$D/a/cfmd.sock"
"$(dirname "$CFMC")/cfmd" --config "$D/a/manager.toml" >>"$D/a/cfmd.log" 2>&1 &
A2=$!
learned=no
for _ in $(seq 1 100); do
  j=$(own a)
  echo "$j" | grep -q '"owner":"b"' && echo "$j" | grep -q '"held_epoch":1' && { learned=yes; break; }
  sleep 0.1
done
[ $learned = yes ] && pass "a's manager, restarted, learns the takeover (owner b, it held epoch 1)" ||
  { fail "a did not learn the takeover"; own a; }
run owner-a 0 -- owner hadoop --manager a && has out "stands down (fenced)" && pass "cfmc owner shows a fenced" ||
  { fail "cfmc owner on a"; cat "$TMP/out"; }
cat >"$TMP/fenced.cfp" <<'CFP'
procedure main(sys: BusinessSystem) {
  try {
    let vm = run_vm(sys, "worker");
    print("started ${vm.id}");
  } catch err {
    print("${err.kind} ${err.code}");
  }
}
CFP
for _ in $(seq 1 50); do [ -S "$D/a/cfmd.sock" ] && break; sleep 0.1; done
run fenced-run 0 -- run --manager a fenced.cfp --arg sys=hadoop && [ "$(cat "$TMP/out")" = "cloud fenced" ] &&
  pass "run_vm for hadoop on a fails with cloud/fenced" || { fail "run_vm on a not fenced"; cat "$TMP/out" "$TMP/err"; }
EP_A=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clouds"]["a"]["endpoint"])' "$D/context.json")
n=$(AWS_CONFIG_FILE="$D/aws/config" AWS_SHARED_CREDENTIALS_FILE="$D/aws/credentials" \
  /usr/bin/aws --profile cfm-a --endpoint-url "$EP_A" ec2 describe-instances --query 'length(Reservations)' --output text 2>&1)
[ "$n" = 0 ] && pass "cloud a got no RunInstances" || fail "cloud a has instances: $n"

# the REPL on manager b (a session held by b's daemon): reload a system, wait for an event a
# procedure on a publishes (it reaches b's daemon, which wakes the session's wait)
cat >"$TMP/repl.in" <<'IN'
let h = reload(BusinessSystem { name: "hadoop", id: "", description: "", elements: [], vm_classes: [], templates: [], properties: {}, element_instances: [], vm_instances: [] })
print(h.name + " on " + this_manager())
let e = wait_cloud_event(h, "ping", timeout: 30s)
print("repl got ${e.data} from ${e.source}")
IN
cat >"$TMP/ping.cfp" <<'CFP'
procedure main(sys: BusinessSystem) { publish_cloud_event(sys, "ping", {"n": 7}); }
CFP
"$CFMC" repl --manager b --engine interp <"$TMP/repl.in" >"$TMP/repl.out" 2>&1 &
RP=$!
for _ in $(seq 1 50); do grep -q "hadoop on b" "$TMP/repl.out" && break; sleep 0.1; done
run ping 0 -- run --manager a ping.cfp --arg sys=hadoop || { fail "ping on a"; cat "$TMP/err"; }
wait "$RP"
grep -qx "hadoop on b" "$TMP/repl.out" && grep -qx 'repl got {"n":7} from a' "$TMP/repl.out" &&
  pass "cfmc repl --manager b: reload, this_manager, wait_cloud_event of a's event" ||
  { fail "repl --manager"; cat "$TMP/repl.out"; }

# the disaster: cloud b and its manager killed; a (its restarted manager) sees b lost within 2 s
run kill-b 0 -- local kill b --dir "$D" && has out "manager b, cfmd pid" && pass "kill b (its manager too)" ||
  fail "kill b"
lost=no
for _ in $(seq 1 20); do
  "$CFMC" events web3 --manager a --name manager_lost >"$TMP/lost" 2>&1
  grep -q '"manager":"b"' "$TMP/lost" && { lost=yes; break; }
  sleep 0.1
done
[ $lost = yes ] && pass "a recorded manager_lost b within 2 s" || { fail "no manager_lost on a"; cat "$TMP/lost"; }

# a's restarted manager is not in the context (started by hand above): stopped by its PID
kill -TERM "$A2" 2>/dev/null
wait "$A2" 2>/dev/null
LEFT=$(local_federation_pids "$D")
run down 0 -- local down --dir "$D" && has out "broker: stopped" && pass "down" || { fail "down"; cat "$TMP/out"; }
alive=no
for p in $LEFT; do running "$p" && alive=$p; done
[ $alive = no ] && pass "down leaves nothing running" || fail "down left pid $alive running"
finish
