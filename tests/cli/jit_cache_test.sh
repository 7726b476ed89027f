#!/usr/bin/env bash
# jit_cache_test.sh — the JIT's persistent object cache (compiler/jitload/objcache.h) through `cfmc
# run --engine jit`: a miss then a hit with the same output (run without loading the engine,
# compiler/jitload/light_run.h; by the engine with CFM_JIT_LIGHT=0), misses when the source or
# --opt change, --no-cache writes nothing, and truncated, corrupt or foreign cache files fall back
# to compiling (and are replaced) without changing the output, as does a well-framed file whose
# object the light path's loader and LLVM both refuse.
#   jit_cache_test.sh CFMC
set -u
CFMC=$1
. "$(dirname "$0")/lib.sh"
export CFM_CACHE_DIR="$TMP/cache"
HIT="object cache hit" # the engine's `(object cache hit)` and the light path's
LIGHT="object cache hit, LLVM not loaded"

cat >"$TMP/p.cfp" <<'CFP'
fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
procedure main() { print("fib ${fib(20)}"); let xs = [1, 2, 3]; print("${xs}"); }
CFP
want='fib 6765
[1, 2, 3]'
entries() { find "$CFM_CACHE_DIR" -name '*.o' 2>/dev/null | wc -l; }
only() { find "$CFM_CACHE_DIR" -name '*.o' | head -1; }

run first 0 -- run --engine jit --time "$TMP/p.cfp" && ! has err "$HIT" && [ "$(cat "$TMP/out")" = "$want" ] &&
  [ "$(entries)" = 1 ] && [ "$(stat -c %a "$CFM_CACHE_DIR")" = 700 ] &&
  pass "first run: a miss, the object stored (directory mode 0700)"
run second 0 -- run --engine jit --time "$TMP/p.cfp" && has err "$LIGHT" && [ "$(cat "$TMP/out")" = "$want" ] &&
  pass "second run: a hit, run without the engine, the same output"
CFM_JIT_LIGHT=0 run second-engine 0 -- run --engine jit --time "$TMP/p.cfp" && has err "(object cache hit)" &&
  ! has err "$LIGHT" && [ "$(cat "$TMP/out")" = "$want" ] &&
  pass "CFM_JIT_LIGHT=0: a hit linked by the engine, the same output"
[ -z "$(find "$CFM_CACHE_DIR" -name '*.tmp.*')" ] && pass "no temporary files left"

sed -i 's/fib(20)/fib(21)/' "$TMP/p.cfp"
run changed 0 -- run --engine jit --time "$TMP/p.cfp" && ! has err "$HIT" && has out "fib 10946" &&
  [ "$(entries)" = 2 ] && pass "a changed source: a miss"
run changed-again 0 -- run --engine jit --time "$TMP/p.cfp" && has err "$HIT" && has out "fib 10946" &&
  pass "the changed source: a hit"
run opt1 0 -- run --engine jit --opt 1 --time "$TMP/p.cfp" && ! has err "$HIT" && has out "fib 10946" &&
  pass "another --opt: a miss"
run proc 1 -- run --engine jit --time --proc nope "$TMP/p.cfp" && pass "an unknown procedure: no crash"

# An import is part of the key.
cat >"$TMP/lib.cfp" <<'CFP'
fn greet() -> string { return "one"; }
CFP
cat >"$TMP/main.cfp" <<'CFP'
import "lib.cfp";
procedure main() { print(greet()); }
CFP
run imp1 0 -- run --engine jit --time "$TMP/main.cfp" && has out "one" && ! has err "$HIT" &&
  run imp2 0 -- run --engine jit --time "$TMP/main.cfp" && has err "$HIT" && pass "with an import: a hit"
sed -i 's/"one"/"two"/' "$TMP/lib.cfp"
run imp3 0 -- run --engine jit --time "$TMP/main.cfp" && has out "two" && ! has err "$HIT" &&
  pass "a changed import: a miss"

# The same text under another path is another program (traces name the file).
mkdir -p "$TMP/a" "$TMP/b"
printf 'procedure main() {\n  throw "boom";\n}\n' >"$TMP/a/t.cfp"
cp "$TMP/a/t.cfp" "$TMP/b/t.cfp"
run trace-a 1 -- run --engine jit "$TMP/a/t.cfp" && has err "a/t.cfp:2" &&
  run trace-b 1 -- run --engine jit --time "$TMP/b/t.cfp" && has err "b/t.cfp:2" && ! has err "$HIT" &&
  pass "the same text at another path: a miss, the trace names its own file"

# --no-cache neither reads nor writes.
rm -rf "$CFM_CACHE_DIR"
run nocache 0 -- run --engine jit --no-cache --time "$TMP/p.cfp" && has out "fib 10946" && ! has err "$HIT" &&
  [ ! -e "$CFM_CACHE_DIR" ] && pass "--no-cache writes nothing"
run help 0 -- run --help && has out "--no-cache" && pass "--no-cache in cfmc run --help"

# Damaged cache files: each falls back to compiling, prints the same, and is replaced.
run fill 0 -- run --engine jit "$TMP/p.cfp"
f=$(only)
good="$TMP/good.o"
cp "$f" "$good"
size=$(stat -c %s "$good")
damage() { # NAME: the file is damaged before the run
  run "$1" 0 -- run --engine jit --time "$TMP/p.cfp" && ! has err "$HIT" && has out "fib 10946" &&
    run "$1-after" 0 -- run --engine jit --time "$TMP/p.cfp" && has err "$HIT" && has out "fib 10946" &&
    pass "$1: compiled again, the same output, replaced"
}
head -c $((size / 2)) "$good" >"$f" && damage "a truncated object"
head -c 10 "$good" >"$f" && damage "a truncated header"
: >"$f" && damage "an empty file"
cp "$good" "$f" && printf 'XXXX' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none &&
  damage "a corrupt object"
cp "$good" "$f" && printf 'X' | dd of="$f" bs=1 seek=10 conv=notrunc status=none && damage "a wrong key"
head -c "$size" /dev/urandom >"$f" && damage "random bytes"
# Framed right (magic, key, size, checksum) around bytes that are no object: the light path's
# loader refuses them, then the engine's LLVM does, and the program is compiled again.
/usr/bin/python3 - "$f" <<'PY'
import hashlib, os, sys
path = sys.argv[1]
payload = b"\x7fELF" + os.urandom(200)
key = bytes.fromhex(os.path.basename(path)[:64])
open(path, "wb").write(b"CFMJITO2" + key + len(payload).to_bytes(8, "little") + payload + hashlib.sha256(payload).digest())
PY
damage "a well-framed file that holds no object"

# An unwritable directory is not an error.
rm -rf "$CFM_CACHE_DIR"
: >"$TMP/file"
CFM_CACHE_DIR="$TMP/file/sub" run unwritable 0 -- run --engine jit "$TMP/p.cfp" && has out "fib 10946" &&
  pass "a cache directory that cannot be made: runs anyway"

# Pruning keeps the newest 256 entries.
mkdir -p "$CFM_CACHE_DIR"
for i in $(seq 1 300); do
  printf '%064x' "$i" | xargs -I{} touch -d "2020-01-01 00:00:$((i % 60))" "$CFM_CACHE_DIR/{}.o"
done
run prune 0 -- run --engine jit --no-cache "$TMP/p.cfp" # no-cache: nothing pruned
[ "$(entries)" = 300 ] || fail "--no-cache pruned"
sed -i 's/fib(21)/fib(22)/' "$TMP/p.cfp"
run prune 0 -- run --engine jit "$TMP/p.cfp" && [ "$(entries)" = 256 ] &&
  run prune-hit 0 -- run --engine jit --time "$TMP/p.cfp" && has err "$HIT" &&
  pass "a full cache is pruned to 256 entries, the newest kept"

finish
