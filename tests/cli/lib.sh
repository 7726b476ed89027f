# lib.sh — what the CLI test scripts share (sourced, not run): a temp folder removed at exit,
# pass/fail counting, `run` (cfmc with an expected exit status, output kept), `has`, `finish`,
# `lone_manager` (a manager whose cloud no test reaches), `local_federation_pids` and
# `stop_local_federation`.
#   CFMC must be set before sourcing.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# run NAME EXPECTED_STATUS -- ARGS...: runs cfmc, keeps stdout/stderr in $TMP/out, $TMP/err
run() {
  local name=$1 want=$2
  shift 3
  "$CFMC" "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -ge 128 ]; then fail "$name: killed by signal $((got - 128))"; return 1; fi
  if [ "$got" -ne "$want" ]; then fail "$name: exit $got, want $want"; head -5 "$TMP/err"; return 1; fi
  return 0
}
# has out|err TEXT: the last run's output holds TEXT
has() { grep -qF -- "$2" "$TMP/$1"; }

# finish: the summary line and the exit status
finish() {
  if [ "$fails" -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
  fi
  echo "all passed"
}

# lone_manager DIR: the files of one manager `a` whose cloud no test reaches (endpoint
# 127.0.0.1:9): DIR/m.toml (store DIR/a/store.db), DIR/creds; with `context`, also
# DIR/context.json naming it (socket DIR/a/cfmd.sock), CFM_CONTEXT set to it and SOCK to the socket.
lone_manager() {
  local dir=$1
  mkdir -p "$dir/a"
  cat >"$dir/m.toml" <<'TOML'
[manager]
name = "a"
store = "a/store.db"

[cloud]
name = "c"
endpoint = "http://127.0.0.1:9/"
region = "r"
credentials = "creds"
TOML
  printf '[default]\naws_access_key_id = x\naws_secret_access_key = y\n' >"$dir/creds"
  if [ "${2:-}" = context ]; then
    SOCK=$dir/a/cfmd.sock
    cat >"$dir/context.json" <<JSON
{"v": 1, "dir": "$dir", "clouds": {}, "managers": {"a": {"config": "$dir/m.toml", "cloud": "c", "socket": "$SOCK"}}}
JSON
    export CFM_CONTEXT=$dir/context.json
  fi
}

# The pids a local federation's context (DIR/context.json) records — broker, clouds, managers —
# one a line (for a test's cleanup after `cfmc local down`, by PID).
local_federation_pids() {
  [ -f "$1/context.json" ] || return 0
  /usr/bin/python3 - "$1/context.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
pids = [c["broker"]["pid"]] if c.get("broker") else []
pids += [k["pid"] for k in c["clouds"].values()] + [m.get("pid", 0) for m in c["managers"].values()]
for p in pids:
    if p:
        print(p)
PY
}

# stop_local_federation DIR [PID...]: `cfmc local down` on DIR, then SIGKILL to every pid its
# context records and to the PIDs given (what a test started itself), for a test's EXIT trap.
stop_local_federation() {
  local dir=$1
  shift
  "$CFMC" local down --dir "$dir" >/dev/null 2>&1
  for p in $(local_federation_pids "$dir") "$@"; do kill -KILL "$p" 2>/dev/null; done
}
