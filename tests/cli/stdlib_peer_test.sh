#!/usr/bin/env bash
# stdlib_peer_test.sh — std/scale.cfp and std/recover.cfp across two managers of the local
# federation (`cfmc local up`: clouds a and b with a quota of 8 instances each, the broker, a
# cfmd per cloud): web3 imported into a reaches b; a standing run on b serves one scale-out
# request (next_scale_out_request + serve_scale_out_request); on a, with the cloud filled (8 web),
# scale_out_element(web, 2) gets InstanceLimitExceeded for both and they start in b through
# scale_out.request / scale_out.reply; then `cfmc local kill a`, and recover_in_this_cloud on b starts
# every element that does not run in b (b records only its own instances: each at its
# configured count) and leaves web (already in b) alone.
# Whatever is left running at exit is stopped by `cfmc local down` and killed by recorded PID.
#   stdlib_peer_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
D=$TMP/fed
export CFM_CONTEXT=$D/context.json
unset CFM_STDLIB CFM_MANAGER

cleanup() {
  stop_local_federation "$D"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

run up 0 -- local up --dir "$D" --boot-delay 50ms --instances 8 && pass "up: clouds a and b, quota 8 each" ||
  { fail "up"; cat "$TMP/out" "$TMP/err"; finish; }
run import 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a && pass "web3 into a" || fail "web3 into a"
ID=$("$CFMC" ovf show web3 --manager a | head -1)
shared=no
for _ in $(seq 1 100); do
  [ "$("$CFMC" ovf show web3 --manager b 2>/dev/null | head -1)" = "$ID" ] && { shared=yes; break; }
  sleep 0.1
done
[ $shared = yes ] && pass "web3 reached b" || { fail "web3 did not reach b"; finish; }

cat >"$TMP/peer.cfp" <<'CFP'
import "std/scale.cfp";

procedure peer(sys: BusinessSystem) {
  let req = next_scale_out_request(sys, timeout: 2m);
  let vms = serve_scale_out_request(sys, req);
  print("served ${len(vms)} ${req.element} for ${req.from} in ${this_cloud()}");
}
CFP
cat >"$TMP/home.cfp" <<'CFP'
import "std/scale.cfp";
import "std/vms.cfp";

procedure main(sys: BusinessSystem) {
  var fill: list<Task<VMInstance>> = [];
  for i in 0..8 {
    fill.push(async run_vm(sys, "web"));
  }
  wait(fill);
  try {
    run_vm(sys, "web");
  } catch err {
    print("cloud full: ${err.code}");
  }
  let r = scale_out_element(sys, "web", 2, peer_timeout: 1m);
  print("${len(r.local)} here, ${len(r.remote)} in ${r.peer}");
  for v in r.remote {
    print("${v.cloud} ${v.address != ""} ${v.id.starts_with("i-")}");
  }
}
CFP
cat >"$TMP/recover.cfp" <<'CFP'
import "std/recover.cfp";
import "std/vms.cfp";

procedure main(sys: BusinessSystem) {
  let started = recover_in_this_cloud(sys, lost_cloud: "a");
  var ok = true;
  for e in sys.elements {
    var want = e.instances;
    if want < e.min_instances {
      want = e.min_instances;
    }
    if e.name == "web" {
      want = 0;
    }
    var got = 0;
    if started.has(e.name) {
      got = len(started[e.name]);
      for vm in started[e.name] {
        ok = ok && vm.cloud == "b";
      }
    }
    if got != want {
      ok = false;
      print("${e.name}: ${got} started, ${want} wanted");
    }
  }
  print("recovered in b: ${ok}, web left alone: ${!started.has("web")}");
  print("in b now: ${len(running_vms(reload(sys), ""))}");
}
CFP
run peer 0 -- run --manager b "$TMP/peer.cfp" --proc peer --arg sys=web3 --detach && PEER=$(cat "$TMP/out") &&
  pass "a standing peer on b ($PEER)" || { fail "peer"; cat "$TMP/err"; }
sleep 0.5
run home 0 -- run --manager a "$TMP/home.cfp" --arg sys=web3 &&
  [ "$(cat "$TMP/out")" = "$(printf 'cloud full: InstanceLimitExceeded\n0 here, 2 in b\nb true true\nb true true')" ] &&
  pass "scale_out on a full cloud a: both VMs started in b through the peer" || { fail "home"; cat "$TMP/out" "$TMP/err"; }
run peer-logs 0 -- logs "$PEER" --manager b --follow && [ "$(cat "$TMP/out")" = "served 2 web for a in b" ] &&
  pass "the peer served the request" || { fail "peer logs"; cat "$TMP/out" "$TMP/err"; }

run kill 0 -- local kill a && pass "cloud a killed" || fail "kill a"
run recover 0 -- run --manager b "$TMP/recover.cfp" --arg sys=web3 && [ "$(head -1 "$TMP/out")" = "recovered in b: true, web left alone: true" ] &&
  pass "recover_in_this_cloud on b: every element but web started in b as configured" || { fail "recover"; cat "$TMP/out" "$TMP/err"; }
run down 0 -- local down --dir "$D" && pass "down" || fail "down"
finish
