#!/usr/bin/env bash
# cfmc_cli_test.sh — tests of the `cfmc` program as users run it: help and usage conventions,
# exit codes, the console and JSON diagnostic formats, and hostile input (invalid UTF-8, deep
# nesting, a 10 MB file, unterminated literals) that must give diagnostics, never a signal.
#   cfmc_cli_test.sh CFMC SOURCE_TESTS_DIR
set -u
CFMC=$1
TESTS=$2
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
  if [ "$got" -ne "$want" ]; then fail "$name: exit $got, want $want"; cat "$TMP/err" | head -5; return 1; fi
  return 0
}
has() { grep -qF -- "$2" "$TMP/$1"; }

run help 0 -- --help && has out "usage: cfmc <command>" && has out "check" && pass "cfmc --help"
run check-help 0 -- check --help && has out "usage: cfmc check" && has out "--format" && pass "cfmc check --help"
run no-args 2 -- && has err "usage:" && pass "no arguments: usage on stderr, exit 2"
run bad-command 2 -- frobnicate && has err "unknown command \`frobnicate\`" && pass "unknown command"
run bad-option 2 -- check --frob x.cfp && has err "unknown option" && pass "unknown option"
run bad-format 2 -- check --format xml x.cfp && has err "unknown format" && pass "unknown format"
run no-files 2 -- check && has err "no input files" && pass "check without files"
run version 0 -- --version && has out "cfmc " && pass "--version"
run missing-file 1 -- check "$TMP/nope.cfp" && has err "cannot read" && pass "missing file"

cat >"$TMP/ok.cfp" <<'CFP'
procedure main() { print("hello"); }
CFP
run clean 0 -- check "$TMP/ok.cfp" && [ ! -s "$TMP/err" ] && pass "clean file: exit 0, silent"

cat >"$TMP/bad.cfp" <<'CFP'
procedure main() {
	let x: int = "a";
  print(y);
}
CFP
if run errors 1 -- check "$TMP/bad.cfp"; then
  has err "bad.cfp:2:15: error: expected \`int\`, found \`string\`" &&
    has err "bad.cfp:3:9: error: undefined name \`y\`" &&
    grep -qP '^    \t             \^$' "$TMP/err" && pass "console diagnostics: every error, caret under the column (tabs kept)" ||
    { fail "console diagnostics"; cat "$TMP/err"; }
fi
if run json 1 -- check --format json "$TMP/bad.cfp" "$TMP/ok.cfp"; then
  has out '{"diagnostics":[{"file":' && has out '"line":2,"column":15' && has out '"kind":"TypeMismatch"' &&
    has out '"severity":"error"' && pass "--format json" || { fail "--format json"; cat "$TMP/out"; }
fi
run json-clean 0 -- check --format=json "$TMP/ok.cfp" && has out '{"diagnostics":[]}' && pass "--format=json, clean"
run json-unreadable 1 -- check --format=json "$TMP/ok.cfp" "$TMP/none.cfp" &&
  has out "{\"file\":\"$TMP/none.cfp\",\"line\":0,\"column\":0,\"severity\":\"error\",\"kind\":\"Io\"" &&
  has err "cfmc: error: cannot read $TMP/none.cfp" && pass "--format=json, an unreadable file" ||
  { fail "--format=json, an unreadable file"; cat "$TMP/out"; }

# Hostile input: each gives a diagnostic and exit 1, never a crash.
printf 'procedure main() { print("a\xff\xfeb"); }\n' >"$TMP/utf8.cfp"
run utf8 1 -- check "$TMP/utf8.cfp" && has err "utf8.cfp:1:28: error: source is not valid UTF-8" && pass "invalid UTF-8"

{ printf 'procedure main() { let x = '; printf '(%.0s' $(seq 10000); printf '1'; printf ')%.0s' $(seq 10000); printf '; }\n'; } >"$TMP/deep.cfp"
run deep-parens 1 -- check "$TMP/deep.cfp" && has err "nesting too deep" && pass "10,000-deep parentheses"

{ printf 'procedure main() {\n'; for i in $(seq 10000); do printf 'if true {\n'; done; for i in $(seq 10000); do printf '}\n'; done; printf '}\n'; } >"$TMP/deepblocks.cfp"
run deep-blocks 1 -- check "$TMP/deepblocks.cfp" && has err "nesting too deep" && pass "10,000-deep blocks"

{ printf 'procedure main() { let x = '; printf -- '-%.0s' $(seq 10000); printf '1; }\n'; } >"$TMP/deepunary.cfp"
run deep-unary 1 -- check "$TMP/deepunary.cfp" && has err "nesting too deep" && pass "10,000 prefix operators"

{ printf 'procedure main() { let x = 1'; printf ' + 1%.0s' $(seq 20000); printf '; }\n'; } >"$TMP/longchain.cfp"
run long-chain 1 -- check "$TMP/longchain.cfp" && has err "nesting too deep (limit 10000)" && pass "20,000-term operator chain"

{ printf 'procedure main() { let s = "'; printf '${"%.0s' $(seq 10000); printf '}"%.0s' $(seq 10000); printf '"; }\n'; } >"$TMP/deepinterp.cfp"
run deep-interp 1 -- check "$TMP/deepinterp.cfp" && has err "nesting too deep" && pass "10,000-deep string interpolation"

# A 7 MB file of ordinary code (near the 8 MiB limit) checks clean.
{
  printf 'fn f0(x: int) -> int { return x + 1; }\n'
  yes 'fn g(a: int, b: string) -> string { let c = a * 2 + 1; if c > 10 { return b + "${c}"; } return b; }' | head -c 7000000 | awk '{ sub(/fn g\(/, "fn g" NR "("); print }'
  printf '\n'
} >"$TMP/big.cfp"
sed -i '$d' "$TMP/big.cfp"
run big 0 -- check "$TMP/big.cfp" && pass "7 MB file checks clean" || head -c 600 "$TMP/err"

printf 'procedure main() { let s = "abc; }\n' >"$TMP/unterm.cfp"
run unterminated-string 1 -- check "$TMP/unterm.cfp" && has err "unterminated string literal" && pass "unterminated string"
printf 'procedure main() { let s = """abc\n' >"$TMP/unterm3.cfp"
run unterminated-triple 1 -- check "$TMP/unterm3.cfp" && has err "unterminated string literal" && pass "unterminated triple-quoted string"
printf 'template t() """\nhello {{ name\n' >"$TMP/untermtpl.cfp"
run unterminated-template 1 -- check "$TMP/untermtpl.cfp" && has err "unterminated template body" && pass "unterminated template"
printf 'procedure main() { let s = "a ${ 1 + ' >"$TMP/unterminterp.cfp"
run unterminated-interp 1 -- check "$TMP/unterminterp.cfp" && has err "unterminated" && pass "unterminated interpolation"
printf 'procedure main() { /* never closed\n' >"$TMP/untermcomment.cfp"
run unterminated-comment 1 -- check "$TMP/untermcomment.cfp" && has err "unterminated block comment" && pass "unterminated block comment"
printf '\x00\x01\x02 procedure' >"$TMP/binary.cfp"
run binary 1 -- check "$TMP/binary.cfp" && has err "unexpected character U+0000" && pass "control characters"
: >"$TMP/empty.cfp"
run empty 0 -- check "$TMP/empty.cfp" && pass "empty file"
run directory 1 -- check "$TMP" && has err "cannot read" && pass "a directory instead of a file"

# Source files are regular files of at most base::kMaxSourceBytes (issue 12): a device or a FIFO
# is refused before anything is read (`timeout`: before the fix /dev/zero read until memory ran
# out and a FIFO blocked), as the main file and as an import.
bounded() { # bounded NAME STATUS -- ARGS: `run` under a 20 s timeout (status 124 when it hangs)
  local name=$1 want=$2
  shift 3
  timeout 20 "$CFMC" "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then fail "$name: exit $got, want $want"; head -5 "$TMP/err"; return 1; fi
}
bounded dev-zero 1 -- check /dev/zero && has err "cannot read /dev/zero: is not a regular file" &&
  pass "check /dev/zero: refused, not read"
mkfifo "$TMP/fifo.cfp"
bounded fifo 1 -- check "$TMP/fifo.cfp" && has err "is not a regular file" && pass "check a FIFO: refused, no hang"
printf 'import "/dev/zero";\nimport "fifo.cfp";\nprocedure main() {}\n' >"$TMP/imports-dev.cfp"
bounded import-dev 1 -- check "$TMP/imports-dev.cfp" &&
  has err "cannot import \`/dev/zero\`: is not a regular file" && has err "cannot import \`fifo.cfp\`: is not a regular file" &&
  pass "import of a device and of a FIFO: refused"
truncate -s $((8 * 1024 * 1024 + 1)) "$TMP/huge.cfp"
bounded too-large 1 -- check "$TMP/huge.cfp" && has err "is larger than the limit of 8 MiB" &&
  pass "a source file over the size limit"

# ---- cfmc run ----
run run-help 0 -- run --help && has out "usage: cfmc run" && has out "--arg NAME=VALUE" && pass "cfmc run --help"
run run-no-file 2 -- run && has err "no input file" && pass "run without a file"
run run-bad-engine 2 -- run --engine llvm "$TMP/ok.cfp" && has err "unknown engine" && pass "run with an unknown engine"
run run-ok 0 -- run "$TMP/ok.cfp" && has out "hello" && pass "run prints"
run run-compile-error 1 -- run "$TMP/bad.cfp" && has err "error: expected \`int\`" && pass "run reports compile errors"

cat >"$TMP/trace.cfp" <<'CFP'
fn inner() { fail("boom"); }
fn outer() { inner(); }
procedure main() { print("start"); outer(); }
CFP
if run trace 1 -- run "$TMP/trace.cfp"; then
  printf 'error: boom\n  at %s:1\n  at %s:2\n  at %s:3\n' "$TMP/trace.cfp" "$TMP/trace.cfp" "$TMP/trace.cfp" >"$TMP/want"
  if cmp -s "$TMP/want" "$TMP/err" && has out "start"; then pass "uncaught error: message and one line per frame, innermost first"
  else fail "uncaught error trace"; diff "$TMP/want" "$TMP/err"; fi
fi

cat >"$TMP/args.cfp" <<'CFP'
procedure main(n: int, name: string = "x", d: duration = 1s, on: bool = false, ratio: float = 0.5, j: json = null) {
  print("${n} ${name} ${d} ${on} ${ratio} ${j}");
}
procedure other() { print("other"); }
CFP
run args 0 -- run "$TMP/args.cfp" --arg n=5 --arg "name=two words" --arg d=1.5m --arg on=true --arg ratio=2e3 \
  --arg 'j={"k":[1]}' && has out '5 two words 1m30s true 2000.0 {"k":[1]}' && pass "--arg converts to each parameter type"
run args-defaults 0 -- run --arg=n=-7 "$TMP/args.cfp" && has out "-7 x 1s false 0.5 null" && pass "--arg defaults"
run args-missing 1 -- run "$TMP/args.cfp" && has err "needs --arg n=<int>" && pass "a missing --arg"
run args-bad 1 -- run "$TMP/args.cfp" --arg n=five && has err "--arg n: \`five\` is not an \`int\`" && pass "a --arg that does not fit"
run args-bad-duration 1 -- run "$TMP/args.cfp" --arg n=1 --arg d=0.5ms && has err "is not a \`duration\`" && pass "a duration finer than 1 ms"
run args-unknown 1 -- run "$TMP/args.cfp" --arg n=1 --arg m=2 && has err "has no parameter \`m\`" && pass "an unknown --arg"
run args-twice 2 -- run "$TMP/args.cfp" --arg n=1 --arg n=2 && has err "given twice" && pass "an --arg given twice"
run proc 0 -- run --proc other "$TMP/args.cfp" && has out "other" && pass "--proc"
run proc-missing 1 -- run --proc nope "$TMP/args.cfp" && has err "no procedure \`nope\`" && pass "--proc that does not exist"

# --arg for a type no command-line value fits is not asked for (issue 12); a bad json says why.
cat >"$TMP/taskarg.cfp" <<'CFP'
procedure main(t: Task<int>, n: int = 1) { print(wait(t)); }
procedure withDefault(xs: list<int> = [1], n: int = 2) { print(xs); }
CFP
for engine in interp jit; do
  run "task-arg-$engine" 1 -- run --engine $engine "$TMP/taskarg.cfp" &&
    has err "procedure \`main\` cannot be run from the command line: parameter \`t\` has type \`Task<int>\`, which \`--arg\` cannot give" &&
    ! has err "needs --arg" && pass "$engine: a Task parameter is refused, not asked for with --arg"
  run "task-arg-given-$engine" 1 -- run --engine $engine "$TMP/taskarg.cfp" --arg t=1 &&
    has err "parameter \`t\` has type \`Task<int>\`" && pass "$engine: --arg for a Task parameter is refused"
  run "list-default-$engine" 0 -- run --engine $engine --proc withDefault "$TMP/taskarg.cfp" && has out "[1]" &&
    pass "$engine: a list parameter with a default needs no --arg"
  run "list-arg-$engine" 1 -- run --engine $engine --proc withDefault "$TMP/taskarg.cfp" --arg xs=1 &&
    has err "parameter \`xs\` has type \`list<int>\`, which \`--arg\` cannot give" && pass "$engine: --arg for a list parameter"
  run "json-arg-$engine" 1 -- run --engine $engine "$TMP/args.cfp" --arg n=1 --arg 'j={bad' &&
    has err "--arg j: \`{bad\` is not valid JSON: expected a string key at offset 1" && pass "$engine: a bad json --arg says why and where"
done

# ---- the JIT engine (--engine jit, --opt, --time; cfmc build --emit-llvm) ----
run run-help-jit 0 -- run --help && has out "--engine E" && has out "--opt N" && pass "cfmc run --help names the JIT"
run jit-ok 0 -- run --engine jit "$TMP/ok.cfp" && has out "hello" && pass "--engine jit prints"
for level in 0 1 2; do
  run "jit-opt$level" 0 -- run --engine=jit --opt $level "$TMP/ok.cfp" && has out "hello" && pass "--engine jit --opt $level"
done
run jit-bad-opt 2 -- run --engine jit --opt 3 "$TMP/ok.cfp" && has err "\`--opt\` needs 0, 1 or 2" && pass "--opt 3 is a usage error"
run jit-time 0 -- run --engine jit --time "$TMP/ok.cfp" && has err "jit (O2): lower" && has err "codegen" && pass "--time"
if run jit-trace 1 -- run --engine jit "$TMP/trace.cfp"; then
  if cmp -s "$TMP/want" "$TMP/err" && has out "start"; then pass "jit: the uncaught error's trace as the interpreter's"
  else fail "jit: uncaught error trace"; diff "$TMP/want" "$TMP/err"; fi
fi
cat >"$TMP/jitargs.cfp" <<'CFP'
procedure main(n: int, name: string = "x", d: duration = 1s, on: bool = false, ratio: float = 0.5) {
  print("${n} ${name} ${d} ${on} ${ratio}");
}
CFP
run jit-args 0 -- run --engine jit "$TMP/jitargs.cfp" --arg n=5 --arg "name=two words" --arg d=1.5m --arg on=true \
  --arg ratio=2e3 && has out '5 two words 1m30s true 2000.0' && pass "jit: --arg converts to each parameter type"
run jit-args-defaults 0 -- run --engine jit --arg=n=-7 "$TMP/jitargs.cfp" && has out "-7 x 1s false 0.5" &&
  pass "jit: --arg defaults"
run jit-args-bad 1 -- run --engine jit "$TMP/jitargs.cfp" --arg n=five && has err "--arg n: \`five\` is not an \`int\`" &&
  pass "jit: a --arg that does not fit"
cat >"$TMP/model.cfp" <<'CFP'
procedure main() {
  print("before");
  let t = ConfigTemplate { name: "t", element: "", path: "/x", mode: "0644", text: "hi" };
  print(t.render({"n": 1}));
}
CFP
run jit-render 0 -- run --engine jit "$TMP/model.cfp" && has out "before" && has out "hi" &&
  pass "jit: ConfigTemplate.render compiles the text at run time"
run default-engine 0 -- run --time "$TMP/model.cfp" && has err "jit (O2)" && pass "the JIT is the default engine"
run interp-engine 0 -- run --engine interp --time "$TMP/model.cfp" && ! has err "jit (O2)" && has out "hi" &&
  pass "--engine interp runs without compiling"
run build-help 0 -- build --help && has out "usage: cfmc build" && pass "cfmc build --help"
run build-no-emit 2 -- build "$TMP/ok.cfp" && has err "--emit-llvm" && pass "cfmc build without --emit-llvm"
run build-ir 0 -- build --emit-llvm --opt 0 "$TMP/trace.cfp" && has out "define internal i1 @fn.inner(i32 %depth)" &&
  has out "define i32 @cfm.entry" && has out "call void @cfm_fail_at" && pass "cfmc build --emit-llvm prints the IR"
run build-ir-o2 0 -- build --emit-llvm "$TMP/ok.cfp" && has out "@cfm.entry" && pass "cfmc build --emit-llvm at O2"
run build-model 0 -- build --emit-llvm "$TMP/model.cfp" && has out "call i32 @cfm_model_render" &&
  pass "cfmc build: a model method is a call into the runtime"

# ---- cfmc repl, scripted through a pipe (no prompts) ----
printf '%s\n' 'let x = 20' 'x + 22' ':type x' 'fn twice(n: int) -> int { return n * 2; }' 'twice(x)' \
  'var names: list<string> = []' 'names.push("web");' 'names' 'let m = {"a": [1,' '  2]}' 'm' 'nope' \
  'fail("boom");' 'x' 'record P { a: int }' 'P { a: x }' 'print("side effect")' ':help' ':quit' 'after quit' \
  | "$CFMC" repl >"$TMP/out" 2>"$TMP/err"
printf '%s\n' 42 int 40 '["web"]' '{"a": [1, 2]}' 20 'P { a: 20 }' 'side effect' >"$TMP/want"
if grep -v -e '^Type declarations' -e '^An expression' -e '^Input continues' -e '^  :' -e '^Tab completes' -e '^$' "$TMP/out" | cmp -s - "$TMP/want" &&
  has err "<repl 11>:1:1: error: undefined name \`nope\`" && has err "error: boom" && has out ":type EXPR"; then
  pass "repl through a pipe: values, declarations, variables, continuation, errors, :type, :help, :quit"
else
  fail "repl through a pipe"; diff <(grep -v -e '^Type declarations' -e '^An expression' -e '^Input continues' -e '^  :' -e '^Tab completes' -e '^$' "$TMP/out") "$TMP/want"; cat "$TMP/err"
fi
if /usr/bin/python3 "$TESTS/cli/repl_pty_test.py" "$CFMC"; then pass "repl through a pseudo-terminal"; else fail "repl through a pseudo-terminal"; fi

if [ "$fails" -ne 0 ]; then echo "$fails cfmc CLI test(s) failed"; exit 1; fi
echo "all cfmc CLI tests passed"
