#!/usr/bin/env bash
# startup_test.sh — issue 18: cfmc does not load LLVM unless the JIT runs. `cfmc` has no
# libLLVM (nor the JIT engine) among its NEEDED libraries; the dynamic loader's own trace
# (LD_DEBUG=libs) shows neither loaded by `--version`, `--help`, `check` and `run --engine
# interp`, and the engine (which holds LLVM's components) loaded by a JIT run; a missing
# engine is a clear error for the JIT only. With the object cache warm, a JIT run does not load
# the engine either (unless CFM_JIT_LIGHT=0, or the program renders a ConfigTemplate). Likewise for the network libraries (libcurl, Paho
# MQTT, libssl, libcrypto): not NEEDED by cfmc, not loaded by those commands; the manager module
# (libcfm_manager_module.so, cfmc/manager_module.h) that holds them is loaded by `run --config`
# opening a manager in-process, and its absence is a clear error for that command only. libedit
# likewise: not NEEDED, not loaded by those commands; `cfmc repl` on a terminal loads it, and
# without it runs without line editing after a warning naming it.
#   startup_test.sh CFMC
set -u
CFMC=$1
. "$(dirname "$0")/lib.sh"
export CFM_CACHE_DIR="$TMP/cache"

cat >"$TMP/hello.cfp" <<'CFP'
procedure main() { print("hello"); }
CFP

# check NAME COND: pass when COND (a command) succeeds, else fail
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

needed=$(readelf -d "$CFMC" | grep NEEDED)
check "readelf: cfmc has NEEDED libraries" [ -n "$needed" ]
check "readelf: no libLLVM among cfmc's NEEDED libraries" bash -c "! grep -qi llvm <<<'$needed'"
check "readelf: the JIT engine is not NEEDED either" bash -c "! grep -q cfm_jit_engine <<<'$needed'"
check "the JIT engine is built beside cfmc" [ -f "$(dirname "$CFMC")/libcfm_jit_engine.so" ]
NETLIBS='libcurl|libpaho|libssl|libcrypto|libcfm_manager_module'
check "readelf: no libcurl, Paho, libssl, libcrypto among cfmc's NEEDED libraries" \
  bash -c "! grep -qE '$NETLIBS' <<<'$needed'"
check "the manager module is built beside cfmc" [ -f "$(dirname "$CFMC")/libcfm_manager_module.so" ]
check "readelf: no libedit among cfmc's NEEDED libraries" bash -c "! grep -q libedit <<<'$needed'"

# traced NAME ARGS...: runs cfmc with the loader's trace of libraries in $TMP/err (exit 0 wanted)
traced() {
  local name=$1
  shift
  LD_DEBUG=libs "$CFMC" "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  [ "$got" -eq 0 ] || { fail "$name: exit $got"; head -5 "$TMP/err"; return 1; }
  # The trace is there at all (a loader that ignores LD_DEBUG would prove nothing).
  has err "calling init:" || { fail "$name: no LD_DEBUG trace"; return 1; }
}
for cmd in "--version" "--help" "check $TMP/hello.cfp" "run --engine interp $TMP/hello.cfp"; do
  # shellcheck disable=SC2086 # the words of $cmd are the arguments
  if traced "$cmd" $cmd; then
    check "cfmc $cmd: libLLVM not loaded" bash -c "! grep -q 'libLLVM' '$TMP/err'"
    check "cfmc $cmd: the JIT engine not loaded" bash -c "! grep -q 'libcfm_jit_engine' '$TMP/err'"
    check "cfmc $cmd: no libcurl, Paho, libssl, libcrypto, manager module loaded" \
      bash -c "! grep -qE '$NETLIBS' '$TMP/err'"
    check "cfmc $cmd: libedit not loaded" bash -c "! grep -q 'libedit' '$TMP/err'"
  fi
done
check "run --engine interp: the program's output" has out hello

if traced "run (jit)" run --engine jit "$TMP/hello.cfp"; then
  check "cfmc run --engine jit: the JIT engine loaded" has err "libcfm_jit_engine.so"
  check "the engine does not need the shared libLLVM (its components are inside)" \
    bash -c "! readelf -d '$(dirname "$CFMC")/libcfm_jit_engine.so' | grep NEEDED | grep -qi llvm"
  check "cfmc run --engine jit: the program's output" has out hello
fi

# The object cache warm (the run above stored the object): cfmc runs the cached object itself and
# never maps the engine (compiler/jitload/light_run.h); CFM_JIT_LIGHT=0 goes through the engine.
if traced "run (jit, cached)" run --engine jit "$TMP/hello.cfp"; then
  check "cfmc run --engine jit, cache warm: the JIT engine not loaded" \
    bash -c "! grep -q 'libcfm_jit_engine' '$TMP/err'"
  check "cfmc run --engine jit, cache warm: the program's output" has out hello
fi
if CFM_JIT_LIGHT=0 traced "run (jit, cached, CFM_JIT_LIGHT=0)" run --engine jit "$TMP/hello.cfp"; then
  check "CFM_JIT_LIGHT=0: the JIT engine loaded" has err "libcfm_jit_engine.so"
  check "CFM_JIT_LIGHT=0: the program's output" has out hello
fi
# A ConfigTemplate rendered at run time needs the engine's compiler: from the cache too, the
# engine is loaded and the output is right.
cat >"$TMP/render.cfp" <<'CFP'
procedure main() {
  let t = ConfigTemplate { name: "motd", element: "", path: "/etc/motd", mode: "0644", text: "{{ n + 1 }} up" };
  print(t.render({"n": 41}));
}
CFP
run render-fill 0 -- run --engine jit "$TMP/render.cfp"
if traced "run (jit, cached, render)" run --engine jit --time "$TMP/render.cfp"; then
  check "a cached program that renders a template: a hit, linked by the engine" has err "(object cache hit)"
  check "a cached program that renders a template: the JIT engine loaded" has err "libcfm_jit_engine.so"
  check "a cached program that renders a template: the output" has out "42 up"
fi

# A missing engine: the JIT reports it (exit 1, naming the file); the interpreter does not care.
export CFM_JIT_ENGINE="$TMP/no-such-engine.so"
if run missing-jit 1 -- run --engine jit "$TMP/hello.cfp"; then
  check "no engine: the error names it" has err "cfmc: error: cannot load the JIT engine $TMP/no-such-engine.so"
  check "no engine: nothing printed by the program" [ ! -s "$TMP/out" ]
fi
if run missing-build 1 -- build --emit-llvm "$TMP/hello.cfp"; then
  check "no engine: build --emit-llvm reports it" has err "cannot load the JIT engine"
fi
run missing-interp 0 -- run --engine interp "$TMP/hello.cfp" && check "no engine: the interpreter runs" has out hello
unset CFM_JIT_ENGINE

# `cfmc repl` on a terminal (script(1) gives it one): libedit loaded on first use; a missing one
# is a warning that names it, and the session runs without line editing.
if command -v script >/dev/null; then
  repl_tty() { printf 'print("hi");\n:quit\n' | timeout 60 script -qec "$1" /dev/null >"$TMP/tty" 2>&1; }
  repl_tty "LD_DEBUG=libs '$CFMC' repl --engine interp"
  check "repl on a terminal: libedit loaded" grep -q 'libedit\.so' "$TMP/tty"
  check "repl on a terminal: the prompt" grep -qF 'cfm> ' "$TMP/tty"
  check "repl on a terminal: the output" grep -q '^hi' "$TMP/tty"
  repl_tty "CFM_LIBEDIT='$TMP/no-libedit.so' '$CFMC' repl --engine interp"
  check "no libedit: a warning naming it" \
    grep -qF "cfmc: warning: no line editing (cannot load $TMP/no-libedit.so" "$TMP/tty"
  check "no libedit: the session runs" grep -q '^hi' "$TMP/tty"
fi

# A manager opened in-process (`run --config FILE`, no daemon): the manager module and the
# network libraries are loaded, the program runs; without the module, a clear error.
lone_manager "$TMP/m"
if traced "run --config" run --engine interp --config "$TMP/m/m.toml" "$TMP/hello.cfp"; then
  check "run --config: the manager module loaded" has err "libcfm_manager_module.so"
  check "run --config: libcurl loaded with it" has err "libcurl"
  check "run --config: the program's output" has out hello
fi
export CFM_MANAGER_MODULE="$TMP/no-such-module.so"
if run missing-module 1 -- run --engine interp --config "$TMP/m/m.toml" "$TMP/hello.cfp"; then
  check "no manager module: the error names it" has err "cfmc: error: cannot load the manager module $TMP/no-such-module.so"
  check "no manager module: nothing printed by the program" [ ! -s "$TMP/out" ]
fi
run missing-module-interp 0 -- run --engine interp "$TMP/hello.cfp" && check "no manager module: a plain run runs" has out hello
unset CFM_MANAGER_MODULE

finish
