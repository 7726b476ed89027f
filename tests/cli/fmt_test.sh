#!/usr/bin/env bash
# fmt_test.sh — `cfmc fmt` as users and CI meet it: in place (only when the text changes), --check
# (names the files that would change, exit 1), --diff, `-` (stdin to stdout), directories, and the
# errors: syntax errors (file untouched), unreadable files, bad usage.
#   fmt_test.sh CFMC SOURCE_DIR
set -u
CFMC=$1
SRC=$2
source "$(dirname "$0")/lib.sh"

printf 'fn f(a:int)->int{let b=a*2;return b+1;}\nprocedure main(){print(f(1));print(2);}\n' >"$TMP/messy.cfp"
printf 'fn f(a: int) -> int {\n  let b = a * 2;\n  return b + 1;\n}\nfn g() -> int { return 1; }\n' >"$TMP/tidy.cfp"
printf 'fn f( {\n' >"$TMP/broken.cfp"
cp "$TMP/broken.cfp" "$TMP/broken.orig"

run help 0 -- fmt --help && has out "usage: cfmc fmt" && has out "--check" && pass help || fail help
run main-help 0 -- --help && has out "fmt " && pass main-help || fail main-help
run no-files 2 -- fmt && has err "no files given" && pass no-files || fail no-files
run bad-option 2 -- fmt --frobnicate "$TMP/tidy.cfp" && has err "unknown option" && pass bad-option || fail bad-option

run check-clean 0 -- fmt --check "$TMP/tidy.cfp" && [ ! -s "$TMP/out" ] && pass check-clean || fail check-clean
cp "$TMP/messy.cfp" "$TMP/messy.orig"
run check-dirty 1 -- fmt --check "$TMP/tidy.cfp" "$TMP/messy.cfp" && has out "$TMP/messy.cfp" &&
  ! has out "$TMP/tidy.cfp" && cmp -s "$TMP/messy.cfp" "$TMP/messy.orig" && pass check-dirty || fail check-dirty

run diff 0 -- fmt --diff "$TMP/messy.cfp" && has out "+++ $TMP/messy.cfp (formatted)" &&
  has out "+  return b + 1;" && has out "-fn f(a:int)->int{let b=a*2;return b+1;}" &&
  cmp -s "$TMP/messy.cfp" "$TMP/messy.orig" && pass diff || fail diff
run diff-check 1 -- fmt --diff --check "$TMP/messy.cfp" && has out "@@ " && pass diff-check || fail diff-check

"$CFMC" fmt - <"$TMP/messy.cfp" >"$TMP/stdout.cfp" 2>"$TMP/err"
if [ $? -eq 0 ] && grep -qF 'procedure main() {' "$TMP/stdout.cfp"; then pass stdin; else fail stdin; fi

# In place: rewritten once, then left alone (same inode: not rewritten when nothing changes).
run in-place 0 -- fmt "$TMP/messy.cfp" && cmp -s "$TMP/messy.cfp" "$TMP/stdout.cfp" && pass in-place || fail in-place
before=$(stat -c %i:%Y "$TMP/messy.cfp")
sleep 1
run in-place-again 0 -- fmt "$TMP/messy.cfp" && [ "$(stat -c %i:%Y "$TMP/messy.cfp")" = "$before" ] &&
  pass in-place-again || fail in-place-again
run check-after 0 -- fmt --check "$TMP/messy.cfp" && pass check-after || fail check-after

run syntax-error 1 -- fmt "$TMP/broken.cfp" && has err "broken.cfp:1:" && has err "not formatted" &&
  cmp -s "$TMP/broken.cfp" "$TMP/broken.orig" && pass syntax-error || fail syntax-error
run missing 1 -- fmt "$TMP/nope.cfp" && has err "cannot read" && has err "nope.cfp" && pass missing || fail missing
run directory-arg-fifo 1 -- fmt /dev/null && has err "cannot read" && pass not-regular || fail not-regular

mkdir -p "$TMP/tree/sub"
cp "$TMP/messy.orig" "$TMP/tree/sub/a.cfp"
cp "$TMP/tidy.cfp" "$TMP/tree/b.cfp"
run dir-check 1 -- fmt --check "$TMP/tree" && has out "sub/a.cfp" && ! has out "b.cfp" && pass dir-check || fail dir-check
run dir-fix 0 -- fmt "$TMP/tree" && run dir-check-after 0 -- fmt --check "$TMP/tree" && pass dir-fix || fail dir-fix

# The samples are kept formatted.
run samples 0 -- fmt --check "$SRC/samples" && pass samples || { cat "$TMP/out"; fail samples; }

finish
