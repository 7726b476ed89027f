#!/usr/bin/env bash
# local_cli_test.sh — `cfmc local up|status|down|kill` with real `cfm-cloud` processes (found
# beside cfmc) in a temp folder: two clouds up with per-cloud quotas (--instances a=1: a
# second instance refused in a, not in b), status and status --json, the AWS profiles with awscli, `cfmc ovf import --manager` and `cfmc run --manager/--config/--context` on a manager's
# store, the broker (mosquitto: alive, answering, its secrets mode 0600 and on no command line,
# each manager's [broker]), one cloud killed (its pid and instance groups gone, the other and the
# broker alive), down (every recorded pid gone), and bad input. Whatever is left running at exit is killed by recorded PID.
#   local_cli_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"
D=$TMP/fed
AWS=/usr/bin/aws

# pids and instance groups the context records (stdout: "pid P" and "pgid G" lines)
recorded() {
  [ -f "$D/context.json" ] || return 0
  /usr/bin/python3 - "$D/context.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
if c.get("broker"):
    print("pid", c["broker"]["pid"])
for m in c.get("managers", {}).values():
    if m.get("pid"):
        print("pid", m["pid"])
for k in c["clouds"].values():
    print("pid", k["pid"])
    try:
        for g in open(k["state_dir"] + "/pgids").read().split():
            print("pgid", g)
    except OSError:
        pass
PY
}
cleanup() {
  recorded | while read -r what n; do
    if [ "$what" = pid ]; then kill -KILL "$n" 2>/dev/null; else kill -KILL -- "-$n" 2>/dev/null; fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
# running PID: the process exists and is not a zombie (a killed process whose parent was a
# cfm-cloud is a zombie until init reaps it); group_running PGID: a process of the group runs
running() {
  local s
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$s" ] && [ "$s" != Z ]
}
group_running() {
  local p
  for p in $(pgrep -g "$1"); do running "$p" && return 0; done
  return 1
}

# bad input
run clouds-0 2 -- local up --clouds 0 --dir "$D" && has err "--clouds" && pass "up --clouds 0: exit 2" ||
  fail "up --clouds 0: exit 2"
: >"$TMP/afile"
run dir-is-file 1 -- local up --dir "$TMP/afile" && has err "is not a directory" && pass "up --dir FILE: exit 1" ||
  fail "up --dir FILE: exit 1"
run no-context 1 -- local status --dir "$TMP/nothing" && has err "local up" && pass "status without context" ||
  fail "status without context"
run no-command 2 -- local && pass "local without command: exit 2" || fail "local without command: exit 2"
run quota-unknown-cloud 2 -- local up --dir "$D" --instances c=3 && has err "no cloud \`c\`" && [ ! -e "$D/context.json" ] &&
  pass "up --instances c=3 with 2 clouds: exit 2" || fail "up --instances c=3 with 2 clouds: exit 2"
run quota-bad 2 -- local up --dir "$D" --vcpus a=,b=3 && has err "--vcpus" && pass "up --vcpus a=,b=3: exit 2" ||
  fail "up --vcpus a=,b=3: exit 2"

# up fails clearly without a working cfm-cloud (cfmc copied to a folder of its own)
mkdir -p "$TMP/bin" && cp "$CFMC" "$TMP/bin/cfmc"
PATH=/usr/bin:/bin "$TMP/bin/cfmc" local up --dir "$TMP/nocloud" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && has err "cannot find the \`cfm-cloud\` program" && pass "up without cfm-cloud: exit 1" ||
  fail "up without cfm-cloud: exit 1"
printf '#!/bin/sh\necho "cfm-cloud: bad config" >&2\nexit 3\n' >"$TMP/bin/cfm-cloud"
chmod +x "$TMP/bin/cfm-cloud"
"$TMP/bin/cfmc" local up --dir "$TMP/nocfmd" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && has err "cannot find the \`cfmd\` program" && [ ! -e "$TMP/nocfmd/context.json" ] &&
  pass "up without cfmd: exit 1, nothing started" || fail "up without cfmd: exit 1"
printf '#!/bin/sh\necho "cfmd: not reached" >&2\nexit 3\n' >"$TMP/bin/cfmd"
chmod +x "$TMP/bin/cfmd"
"$TMP/bin/cfmc" local up --dir "$TMP/badcloud" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && has err "cfm-cloud of cloud \`a\` exited with status 3" && has err "cfm-cloud: bad config" &&
  [ ! -e "$TMP/badcloud/context.json" ] && pass "up with a failing cfm-cloud: exit 1, log shown" ||
  fail "up with a failing cfm-cloud: exit 1, log shown"

# up (per-cloud quotas: a may run one instance, b 20; vcpus 8 in a, 32 in b)
if run up 0 -- local up --clouds 2 --dir "$D" --boot-delay 50ms --instances 20 --instances a=1 --vcpus a=8,b=32 &&
  has out "cloud a: cfm-cloud pid" &&
  has out "cloud b: cfm-cloud pid" && [ -f "$D/context.json" ] && [ -f "$D/a/manager.toml" ] &&
  [ -f "$D/b/cloud.toml" ] && [ -f "$D/aws/config" ] && [ -f "$D/aws/credentials" ]; then
  pass "up 2 clouds"
else
  fail "up 2 clouds"
  cat "$TMP/err" "$D"/*/cfm-cloud.log 2>/dev/null | tail -20
  finish
fi
PIDS_BEFORE=$(recorded | grep '^pid')

run status 0 -- local status --dir "$D" && has out "cloud a: alive, pid" && has out "cloud b: alive, pid" &&
  has out "broker: alive, pid" && pass status || fail status
run status-json 0 -- local status --json --context "$D/context.json" && /usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["broker"]["alive"] is True and j["broker"]["url"].startswith("tcp://127.0.0.1:"), j
assert sorted(j["clouds"]) == ["a", "b"], j
for name, k in j["clouds"].items():
    assert k["alive"] is True and k["pid"] > 0, k
    assert k["endpoint"].startswith("http://127.0.0.1:"), k
    assert k["region"] == "local-" + name, k
assert j["managers"]["a"]["name"] == "a" and j["managers"]["a"]["config"].endswith("/a/manager.toml"), j
for name, m in j["managers"].items():
    assert m["alive"] is True and m["pid"] > 0 and m["socket"].endswith("/" + name + "/cfmd.sock"), m
' "$TMP/out" && pass "status --json" || fail "status --json"

# the broker: secrets in files mode 0600, none on mosquitto's command line, [broker] per manager
BROKER_PID=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["broker"]["pid"])' "$D/context.json")
secrets_ok=yes
for f in "$D/broker/admin-password" "$D/broker/dynsec.json" "$D/a/broker-password" "$D/b/broker-password"; do
  [ "$(stat -c %a "$f")" = 600 ] || secrets_ok="mode of $f"
  case "$f" in
  *password) tr '\0' ' ' <"/proc/$BROKER_PID/cmdline" | grep -qF -- "$(head -c 64 "$f")" &&
    secrets_ok="$f on the command line" ;;
  esac
done
[ "$secrets_ok" = yes ] && pass "broker secrets mode 0600, not on the command line" || fail "broker secrets: $secrets_ok"
grep -q '^\[broker\]' "$D/a/manager.toml" && grep -q 'username = "manager-b"' "$D/b/manager.toml" &&
  grep -q "password_file = \"$D/b/broker-password\"" "$D/b/manager.toml" && pass "managers' [broker]" ||
  fail "managers' [broker]"

run up-again 0 -- local up --dir "$D" && has out "already up" && [ "$(recorded | grep '^pid')" = "$PIDS_BEFORE" ] &&
  pass "up when up changes nothing" || fail "up when up changes nothing"

# the AWS profiles drive the clouds; one instance on each, so that each has a process group
ep() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clouds"][sys.argv[2]]["endpoint"])' "$D/context.json" "$1"; }
aws_local() {
  local cloud=$1
  shift
  AWS_CONFIG_FILE="$D/aws/config" AWS_SHARED_CREDENTIALS_FILE="$D/aws/credentials" \
    "$AWS" --profile "cfm-$cloud" --endpoint-url "$(ep "$cloud")" --output json "$@"
}
for c in a b; do
  if aws_local "$c" ec2 run-instances --image-id ami-cfm-default --instance-type c1.micro >"$TMP/run-$c.json" 2>"$TMP/aws.err"; then
    pass "aws run-instances on $c"
  else
    fail "aws run-instances on $c"
    cat "$TMP/aws.err"
  fi
done
# Each instance is waited for until it runs (the loop ends when it runs, or after 1200 tries).
for c in a b; do
  state=
  for _ in $(seq 1200); do
    state=$(aws_local "$c" ec2 describe-instances --query 'Reservations[].Instances[].State.Name' --output text 2>/dev/null)
    [ "$state" = running ] && break
    sleep 0.1
  done
  [ "$state" = running ] && pass "aws describe-instances on $c: running" || fail "aws describe-instances on $c: $state"
done
[ -s "$D/a/state/pgids" ] && [ -s "$D/b/state/pgids" ] && pass "instance groups recorded" ||
  fail "instance groups recorded"
# the per-cloud quotas: in the files, and a's second instance refused while b takes one more
grep -qx 'instances = 1' "$D/a/cloud.toml" && grep -qx 'vcpus = 8' "$D/a/cloud.toml" &&
  grep -qx 'instances = 20' "$D/b/cloud.toml" && grep -qx 'vcpus = 32' "$D/b/cloud.toml" &&
  pass "per-cloud quotas in cloud.toml" || fail "per-cloud quotas in cloud.toml"
if aws_local a ec2 run-instances --image-id ami-cfm-default --instance-type c1.micro >"$TMP/out" 2>"$TMP/aws.err"; then
  fail "a's quota of 1 instance: a second one was accepted"
else
  grep -q InstanceLimitExceeded "$TMP/aws.err" && pass "a's quota of 1 instance: InstanceLimitExceeded" ||
    fail "a's quota of 1 instance: $(cat "$TMP/aws.err")"
fi
aws_local b ec2 run-instances --image-id ami-cfm-default --instance-type c1.micro >"$TMP/out" 2>"$TMP/aws.err" &&
  pass "b's quota of 20: a second instance" || fail "b's quota of 20: $(cat "$TMP/aws.err")"

# managers: the store and run
run ovf-import 0 -- ovf import "$SRC/samples/web3/web3.ovf" --manager a --context "$D/context.json" &&
  has out "imported system \`web3\`" && [ -f "$D/a/store.db" ] && pass "ovf import --manager a" ||
  fail "ovf import --manager a"
run run-manager 0 -- run --engine interp "$SRC/samples/web3/model.cfp" --manager a --context "$D/context.json" \
  --arg sys=web3 && has out "BusinessSystem(web3)" && pass "run --manager a" || fail "run --manager a"
CFM_CONTEXT="$D/context.json" CFM_MANAGER=a run run-env 0 -- run "$SRC/samples/web3/model.cfp" --arg sys=web3 &&
  has out "BusinessSystem(web3)" && pass "run with CFM_MANAGER and CFM_CONTEXT" ||
  fail "run with CFM_MANAGER and CFM_CONTEXT"
run run-config 0 -- run "$SRC/samples/web3/model.cfp" --config "$D/a/manager.toml" --arg sys=web3 &&
  has out "BusinessSystem(web3)" && pass "run --config" || fail "run --config"
run run-unknown 1 -- run "$SRC/samples/web3/model.cfp" --manager zz --context "$D/context.json" &&
  has err "no manager named \`zz\` in $D/context.json (managers: a, b)" && pass "run --manager zz" ||
  fail "run --manager zz"
run run-state-too 2 -- run "$SRC/samples/web3/model.cfp" --manager a --context "$D/context.json" --state "$TMP/x.db" &&
  has err "conflict" && [ ! -e "$TMP/x.db" ] && pass "run --manager with --state: exit 2" ||
  fail "run --manager with --state: exit 2"
run run-both 2 -- run "$SRC/samples/web3/model.cfp" --manager a --config "$D/a/manager.toml" &&
  has err "not both" && pass "run --manager with --config: exit 2" || fail "run --manager with --config: exit 2"

# kill one cloud: its cfm-cloud and instance groups gone at once, the other alive
PID_A=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clouds"]["a"]["pid"])' "$D/context.json")
PID_B=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clouds"]["b"]["pid"])' "$D/context.json")
MPID_A=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["managers"]["a"]["pid"])' "$D/context.json")
MPID_B=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["managers"]["b"]["pid"])' "$D/context.json")
GROUPS_A=$(cat "$D/a/state/pgids")
run kill-unknown 1 -- local kill zz --dir "$D" && has err "no cloud named \`zz\`" && pass "kill unknown cloud: exit 1" ||
  fail "kill unknown cloud: exit 1"
run kill-a 0 -- local kill a --dir "$D" && ! running "$PID_A" && running "$PID_B" && running "$BROKER_PID" &&
  pass "kill a (the broker stays)" ||
  fail "kill a"
! running "$MPID_A" && running "$MPID_B" && has out "manager a, cfmd pid $MPID_A" &&
  pass "kill a kills manager a too, b's stays" || fail "kill a and the managers"
gone=yes
for g in $GROUPS_A; do group_running "$g" && gone=no; done
[ "$gone" = yes ] && pass "a's instances gone" || fail "a's instances gone"
run status-after-kill 0 -- local status --dir "$D" && has out "cloud a: dead" && has out "cloud b: alive" &&
  has out "manager a: dead" && has out "manager b: alive" &&
  pass "status after kill" || fail "status after kill"
run up-partly 1 -- local up --dir "$D" && has out "already up" && has err "not running" &&
  pass "up with a dead cloud changes nothing" || fail "up with a dead cloud changes nothing"

# down: nothing left running, files kept; --purge removes them
LEFT=$(recorded)
run down 0 -- local down --dir "$D" && has out "files kept" && [ -f "$D/context.json" ] && pass down || fail down
alive=no
while read -r what n; do
  if [ "$what" = pid ]; then running "$n" && alive="pid $n"; else group_running "$n" && alive="pgid $n"; fi
done <<<"$LEFT"
[ "$alive" = no ] && pass "down leaves nothing running" || fail "down leaves nothing running: $alive"
run status-down 0 -- local status --dir "$D" && has out "cloud a: dead" && has out "cloud b: dead" &&
  pass "status after down" || fail "status after down"
run purge 0 -- local down --purge --dir "$D" && [ ! -e "$D" ] && pass "down --purge" || fail "down --purge"

# --no-broker: one cloud and its manager, no broker; the manager's configuration has no [broker]
run up-no-broker 0 -- local up --clouds 1 --no-broker --dir "$D" && has out "broker: none" &&
  pass "up --no-broker" || fail "up --no-broker"
LEFT=$(recorded)
[ ! -e "$D/broker" ] && ! grep -q '^\[broker\]' "$D/a/manager.toml" &&
  pass "--no-broker: no broker files, no [broker]" || fail "--no-broker: no broker files, no [broker]"
run status-no-broker 0 -- local status --json --dir "$D" && /usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["broker"] is None and j["clouds"]["a"]["alive"] and j["managers"]["a"]["alive"], j
' "$TMP/out" && pass "status --json without a broker" || fail "status --json without a broker"
run down-no-broker 0 -- local down --purge --dir "$D" && pass "down without a broker" || fail "down without a broker"
alive=no
while read -r what n; do
  if [ "$what" = pid ]; then running "$n" && alive="pid $n"; else group_running "$n" && alive="pgid $n"; fi
done <<<"$LEFT"
[ "$alive" = no ] && pass "--no-broker: down leaves nothing running" || fail "--no-broker: down leaves nothing running: $alive"

finish
