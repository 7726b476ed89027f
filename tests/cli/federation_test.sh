#!/usr/bin/env bash
# federation_test.sh — two managers of the local federation (`cfmc local up`: two cfm-clouds, a
# mosquitto, a cfmd per cloud) share cloud events (issue 15): web3 exported from manager a and
# imported into b (one system id), a procedure on manager a waits for an event that a procedure
# on manager b publishes, both histories hold it once (`cfmc events`), a system imported on a
# alone reaches b with config_changed, `cfmc local kill b` is seen
# by a as manager_lost within 2 s, and `down` leaves nothing running. (Joining is recorded for the
# systems a manager holds when the peer comes: tests/fed/presence_test.cpp.) Whatever is left running at exit is killed by recorded PID.
#   federation_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
D=$TMP/fed
export CFM_CONTEXT=$D/context.json

# pids the context records, one a line
recorded() {
  [ -f "$D/context.json" ] || return 0
  /usr/bin/python3 - "$D/context.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
pids = [c["broker"]["pid"]] if c.get("broker") else []
pids += [k["pid"] for k in c["clouds"].values()] + [m.get("pid", 0) for m in c["managers"].values()]
for p in pids:
    if p:
        print(p)
PY
}
cleanup() {
  "$CFMC" local down --dir "$D" >/dev/null 2>&1
  for p in $(recorded); do kill -KILL "$p" 2>/dev/null; done
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

# the disaster: cloud b and its manager killed; a sees b lost within 2 s
run kill-b 0 -- local kill b --dir "$D" && has out "manager b, cfmd pid" && pass "kill b (its manager too)" ||
  fail "kill b"
lost=no
for _ in $(seq 1 20); do
  "$CFMC" events web3 --manager a --name manager_lost >"$TMP/lost" 2>&1
  grep -q '"manager":"b"' "$TMP/lost" && { lost=yes; break; }
  sleep 0.1
done
[ $lost = yes ] && pass "a recorded manager_lost b within 2 s" || { fail "no manager_lost on a"; cat "$TMP/lost"; }

LEFT=$(recorded)
run down 0 -- local down --dir "$D" && has out "manager a: stopped" && pass "down" || fail "down"
alive=no
for p in $LEFT; do running "$p" && alive=$p; done
[ $alive = no ] && pass "down leaves nothing running" || fail "down left pid $alive running"
finish
