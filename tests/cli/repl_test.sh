#!/usr/bin/env bash
# repl_test.sh — `cfmc repl` under each engine (`--engine interp`, `--engine jit`, and the
# default): the scripted session of cfmc_cli_test.sh, the pseudo-terminal test, and variables
# that persist across inputs (int, string, float, bool, duration, list, map, record, json),
# reassigned `var`s, errors that keep the previous values, functions declared by one input and
# called by later ones, tasks, templates. Every engine must print exactly the same.
#   repl_test.sh CFMC SOURCE_TESTS_DIR
set -u
CFMC=$1
TESTS=$2
. "$(dirname "$0")/lib.sh"
export CFM_CACHE_DIR="$TMP/cache"
help_lines=(-e '^Type declarations' -e '^An expression' -e '^Input continues' -e '^  :' -e '^Tab completes' -e '^$')

# ---- the session of cfmc_cli_test.sh ----
printf '%s\n' 'let x = 20' 'x + 22' ':type x' 'fn twice(n: int) -> int { return n * 2; }' 'twice(x)' \
  'var names: list<string> = []' 'names.push("web");' 'names' 'let m = {"a": [1,' '  2]}' 'm' 'nope' \
  'fail("boom");' 'x' 'record P { a: int }' 'P { a: x }' 'print("side effect")' ':help' ':quit' 'after quit' \
  >"$TMP/basic.in"
printf '%s\n' 42 int 40 '["web"]' '{"a": [1, 2]}' 20 'P { a: 20 }' 'side effect' >"$TMP/basic.want"

# ---- variables of every kind across inputs ----
cat >"$TMP/types.in" <<'IN'
let i = 41
var s = "ab"
let l = [1, 2, 3]
var m = {"k": [1], "j": [2, 3]}
record Pt { x: int, y: string }
let p = Pt { x: 1, y: "one" }
let j = parse_json("{\"a\": [1, 2.5, null, true], \"b\": \"t\"}")
let f = 2.5
let b = true
let d = 90s
i + 1
s = s + "c";
s
m["z"] = [9];
m
p.x + i
p.y
j["a"]
j["b"]
f * 2.0
!b
d + 30s
IN
cat >"$TMP/types.want" <<'OUT'
42
"abc"
{"k": [1], "j": [2, 3], "z": [9]}
42
"one"
[1,2.5,null,true]
"t"
5.0
false
2m
OUT

# ---- errors keep the previous values; functions declared then called; shadowing ----
cat >"$TMP/errors.in" <<'IN'
var n = 1
var xs = [1]
n = 2; xs.push(2); fail("boom");
n
xs
n = 3; xs.push(3);
n
xs
let q = 10 / (n - 3)
q
fn fact(k: int) -> int { if k <= 1 { return 1; } return k * fact(k - 1); }
fn twice(k: int) -> int { return 2 * fact(k); }
twice(n)
var r = twice(4) + n
r
fact(21) * 1000
r
let n = "shadowed"
n + "!"
let t = async fact(5)
wait(t)
var acc = 0
for x in xs { acc += x; }
acc
try { throw "x"; } catch e { print("caught ${e}"); }
acc
IN
cat >"$TMP/errors.want" <<'OUT'
1
[1]
3
[1, 3]
12
51
51
"shadowed!"
120
4
caught user: x
4
OUT
cat >"$TMP/errors.errwant" <<'OUT'
error: boom
  at <repl 3>:1
error: division by zero
  at <repl 9>:1
<repl 10>:1:1: error: undefined name `q`
    q
    ^
error: integer overflow: 21 * 2432902008176640000
  at <repl 11>:1
  at <repl 16>:1
OUT

# ---- messages name what the user typed (issue 12) ----
# A trace names the input and line where the code was typed (`<repl 1>:3`, not a line of the
# program the REPL builds); a syntax error at the end of an input says "end of input", never a
# token the REPL generated around it (`}`, `;`, `)`); `:load` takes regular files only.
mkfifo "$TMP/fifo.cfp"
cat >"$TMP/messages.in" <<IN
fn f(x: int) -> int {
  let y = x + 1;
  return 10 / x;
}
f(0)
let y =
1 +
:load /dev/zero
:load $TMP/fifo.cfp
:load $TMP
:load $TMP/none.cfp
f(1)
print(1 +
IN
cat >"$TMP/messages.want" <<'OUT'
10
OUT
cat >"$TMP/messages.errwant" <<OUT
error: division by zero
  at <repl 1>:3
  at <repl 2>:1
<repl 3>:1:8: error: expected an expression, found end of input
    let y =
           ^
<repl 4>:1:4: error: expected an expression, found end of input
    1 +
       ^
error: cannot load \`/dev/zero\`: is not a regular file
error: cannot load \`$TMP/fifo.cfp\`: is not a regular file
error: cannot load \`$TMP\`: is a directory
error: cannot load \`$TMP/none.cfp\`: No such file or directory
<repl 10>:1:10: error: expected an expression, found end of input
    print(1 +
             ^
OUT

for engine in interp jit default; do
  opt=(--engine "$engine")
  [ "$engine" = default ] && opt=()
  "$CFMC" repl "${opt[@]}" <"$TMP/basic.in" >"$TMP/basic.$engine" 2>"$TMP/basic.$engine.err"
  if grep -v "${help_lines[@]}" "$TMP/basic.$engine" | cmp -s - "$TMP/basic.want" &&
    grep -qF "<repl 11>:1:1: error: undefined name \`nope\`" "$TMP/basic.$engine.err" &&
    grep -qF "error: boom" "$TMP/basic.$engine.err" && grep -qF ":type EXPR" "$TMP/basic.$engine"; then
    pass "$engine: repl through a pipe: values, declarations, variables, continuation, errors, :type, :help, :quit"
  else
    fail "$engine: repl through a pipe"
    diff <(grep -v "${help_lines[@]}" "$TMP/basic.$engine") "$TMP/basic.want"
    cat "$TMP/basic.$engine.err"
  fi
  if /usr/bin/python3 "$TESTS/cli/repl_pty_test.py" "$CFMC" "${opt[@]}" >"$TMP/pty.out"; then
    pass "$engine: repl through a pseudo-terminal"
  else
    fail "$engine: repl through a pseudo-terminal"
    cat "$TMP/pty.out"
  fi
  for t in types errors messages; do
    timeout 60 "$CFMC" repl "${opt[@]}" <"$TMP/$t.in" >"$TMP/$t.$engine" 2>"$TMP/$t.$engine.err"
    status=$?
    if [ "$status" = 0 ] && cmp -s "$TMP/$t.$engine" "$TMP/$t.want" &&
      { [ ! -e "$TMP/$t.errwant" ] || cmp -s "$TMP/$t.$engine.err" "$TMP/$t.errwant"; } &&
      { [ -e "$TMP/$t.errwant" ] || [ ! -s "$TMP/$t.$engine.err" ]; }; then
      pass "$engine: repl session '$t'"
    else
      fail "$engine: repl session '$t' (exit $status)"
      diff "$TMP/$t.$engine" "$TMP/$t.want"
      [ -e "$TMP/$t.errwant" ] && diff "$TMP/$t.$engine.err" "$TMP/$t.errwant"
      [ -e "$TMP/$t.errwant" ] || cat "$TMP/$t.$engine.err"
    fi
  done
done

# ---- :doc: a built-in's and the session's declarations' signatures and documentation ----
printf '%s\n' 'record Svc { name: string, port: int }' 'fn twice(n: int) -> int { return n * 2; }' \
  'const LIMIT: int = 3;' ':doc twice' ':doc Svc' ':doc print' ':doc LIMIT' ':doc nothing_here' ':doc' >"$TMP/doc.in"
"$CFMC" repl <"$TMP/doc.in" >"$TMP/doc.out" 2>"$TMP/doc.err"
if grep -qxF 'fn twice(n: int) -> int' "$TMP/doc.out" && grep -qxF '  port: int' "$TMP/doc.out" &&
  grep -qF 'print(' "$TMP/doc.out" && grep -qF 'LIMIT: int' "$TMP/doc.out" && ! grep -qF '```' "$TMP/doc.out" &&
  grep -qF 'no built-in or declaration named `nothing_here`' "$TMP/doc.err" &&
  grep -qF '`:doc` needs a name' "$TMP/doc.err"; then
  pass "repl :doc: a function, a record, a built-in, a constant, an unknown name"
else
  fail "repl :doc"
  cat "$TMP/doc.out" "$TMP/doc.err"
fi

run bad-engine 2 -- repl --engine llvm && has err "unknown engine" && pass "repl --engine: an unknown engine"
run repl-help 0 -- repl --help && has out "--engine" && pass "repl --help names --engine"

finish
