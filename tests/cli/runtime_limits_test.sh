#!/usr/bin/env bash
# runtime_limits_test.sh — the limits of a running program that a user meets (issue 12): out of
# memory ends cleanly with what was printed kept, long traces are shortened, templates render
# inside tasks with small stacks, and the scheduler's environment settings are checked.
#   runtime_limits_test.sh CFMC SOURCE_DIR [asan]
# The out-of-memory cases need an address-space limit (ulimit -v), which ASan cannot run under:
# they are skipped, with a message, when the third argument is `asan`.
set -u
CFMC=$1
SRC=$2
SANITIZED=${3:-}
source "$(dirname "$0")/lib.sh"

# ---- out of memory: `error: out of memory`, exit 1, earlier output kept in a file ----
cat >"$TMP/double.cfp" <<'CFP'
procedure main() {
  print("before");
  var s = "x";
  for i in 0..60 {
    s = s + s;
  }
  print(len(s));
}
CFP
cat >"$TMP/biglist.cfp" <<'CFP'
procedure main() {
  print("before");
  var xs: list<int> = [];
  for i in 0..1000000000 {
    xs.push(i);
  }
  print(len(xs));
}
CFP
if [ "$SANITIZED" = asan ]; then
  echo "skip out-of-memory cases: ASan reserves its shadow memory and cannot run under ulimit -v"
else
  for prog in double biglist; do
    for engine in interp jit; do
      name="oom-$prog-$engine"
      (
        ulimit -v 3000000
        exec "$CFMC" run --engine "$engine" --no-cache "$TMP/$prog.cfp" >"$TMP/out" 2>"$TMP/err"
      )
      got=$?
      if [ "$got" -eq 1 ] && [ "$(cat "$TMP/out")" = before ] && [ "$(cat "$TMP/err")" = "error: out of memory" ]; then
        pass "$name"
      else
        fail "$name: exit $got, stdout '$(head -c 200 "$TMP/out")', stderr '$(head -c 300 "$TMP/err")'"
      fi
    done
  done
fi

# ---- a stack overflow's trace: the repeated frame cut after three lines ----
cat >"$TMP/down.cfp" <<'CFP'
fn down(n: int) -> int {
  return down(n + 1) + 1;
}
procedure main() {
  down(0);
}
CFP
for engine in interp jit; do
  run "trace-$engine" 1 -- run --engine "$engine" --no-cache "$TMP/down.cfp" || continue
  want="error: stack overflow (calls nested too deeply)
  at $TMP/down.cfp:2
  at $TMP/down.cfp:2
  at $TMP/down.cfp:2
  [the frame above repeated 9996 more times]
  at $TMP/down.cfp:5"
  [ "$(cat "$TMP/err")" = "$want" ] && pass "trace-$engine" || { fail "trace-$engine"; head -8 "$TMP/err"; }
done
# mutual recursion does not repeat one frame: the middle of the trace is cut
cat >"$TMP/pingpong.cfp" <<'CFP'
fn ping(n: int) -> int {
  return pong(n + 1);
}
fn pong(n: int) -> int {
  return ping(n + 1);
}
procedure main() {
  ping(0);
}
CFP
for engine in interp jit; do
  run "trace-middle-$engine" 1 -- run --engine "$engine" --no-cache "$TMP/pingpong.cfp" || continue
  [ "$(wc -l <"$TMP/err")" -eq 102 ] && has err "  [9900 more lines]" &&
    [ "$(tail -1 "$TMP/err")" = "  at $TMP/pingpong.cfp:8" ] && pass "trace-middle-$engine" ||
    { fail "trace-middle-$engine"; head -3 "$TMP/err"; wc -l <"$TMP/err"; }
done

# ---- a ConfigTemplate compiled inside a task with the smallest stack allowed ----
DB=$TMP/state.db
"$CFMC" ovf import "$SRC/samples/web3/web3.ovf" --state "$DB" >/dev/null
sed 's/^  for t in sys.templates {$/  wait(async { for t in sys.templates {/; /print(t.render(vars));/{n;s/^  }$/  } });/}' \
  "$SRC/samples/web3/model.cfp" >"$TMP/in_task.cfp"
grep -q "wait(async" "$TMP/in_task.cfp" || fail "template-in-task: the sample changed; update this test"
for engine in interp jit; do
  CFM_TASK_STACK=128k run "template-in-task-$engine" 0 -- run --engine "$engine" --no-cache "$TMP/in_task.cfp" \
    --state "$DB" --arg sys=web3 && has out "synchronous_commit = remote_apply" && pass "template-in-task-$engine" ||
    fail "template-in-task-$engine"
done

# ---- the scheduler's settings: a value cfmc does not understand is an error, not ignored ----
check_env() { # NAME ASSIGNMENT MESSAGE
  env "$2" "$CFMC" run "$TMP/down.cfp" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  [ "$got" -eq 2 ] && [ "$(cat "$TMP/err")" = "cfmc: error: $3" ] && pass "$1" ||
    fail "$1: exit $got, stderr '$(cat "$TMP/err")'"
}
check_env env-stack-junk CFM_TASK_STACK=junk 'CFM_TASK_STACK=`junk` is not a size (bytes, or with k, m or g: `256k`, `1m`)'
check_env env-stack-unit CFM_TASK_STACK=12q 'CFM_TASK_STACK=`12q` is not a size (bytes, or with k, m or g: `256k`, `1m`)'
check_env env-stack-small CFM_TASK_STACK=64k 'CFM_TASK_STACK=`64k` is out of range (128 KiB to 1 GiB)'
check_env env-stack-large CFM_TASK_STACK=2g 'CFM_TASK_STACK=`2g` is out of range (128 KiB to 1 GiB)'
check_env env-stack-overflow CFM_TASK_STACK=99999999999999999999 'CFM_TASK_STACK=`99999999999999999999` is not a size (bytes, or with k, m or g: `256k`, `1m`)'
check_env env-stress CFM_SCHED_STRESS=yes 'CFM_SCHED_STRESS=`yes` is neither `0` nor `1`'
check_env env-seed CFM_SCHED_SEED=12x 'CFM_SCHED_SEED=`12x` is not a whole number'
# at the bounds: accepted
for v in 128k 1g 262144; do
  CFM_TASK_STACK=$v run "env-stack-$v" 1 -- run "$TMP/down.cfp" && has err "stack overflow" && pass "env-stack-$v" ||
    fail "env-stack-$v"
done

finish
