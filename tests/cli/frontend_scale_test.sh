#!/usr/bin/env bash
# frontend_scale_test.sh — the front end's cost grows at most n·log n with the input (issue 12).
# Hostile inputs that were quadratic are generated here and must finish: ctest's TIMEOUT on this
# test (tests/CMakeLists.txt) is generous for linear work and far too short for quadratic work.
# No timing is asserted; each case checks the diagnostics it must give.
#   frontend_scale_test.sh CFMC
set -u
CFMC=$1
. "$(dirname "$0")/lib.sh"

# One name redeclared 5,000 times in a block: one error per redeclaration (was 28 s, 3.6 GB: every
# declaration reported against every earlier one, and scopes were searched from end to end).
python3 -c "
print('procedure main() {')
for _ in range(5000): print('  var x = 1;')
print('}')" >"$TMP/redeclare.cfp"
run redeclare 1 -- check "$TMP/redeclare.cfp" &&
  [ "$(grep -c "is already declared in this scope" "$TMP/err")" = 4999 ] && pass "5,000 redeclarations: 4,999 errors"

# 50,000 distinct names in one block, each used once: lookups take constant time.
python3 -c "
print('procedure main() {')
for i in range(50000): print(f'  let x{i} = {i};')
print('  print(' + ' + '.join(f'x{i}' for i in range(0, 50000, 5000)) + ');')
print('}')" >"$TMP/names.cfp"
run names 0 -- check "$TMP/names.cfp" && pass "50,000 names in one block"

# A 4 MB one-line 1+1+…+1: refused before parsing as nested deeper than kMaxExprDepth (was 20 s
# and 2 GB: the parse tree, then the caret line written one character at a time).
python3 -c "print('procedure main() { print(' + '+'.join(['1'] * (2 * 1024 * 1024)) + '); }')" >"$TMP/chain.cfp"
run chain 1 -- check "$TMP/chain.cfp" && has err "nesting too deep (limit 10000)" &&
  [ "$(wc -l <"$TMP/err")" -le 3 ] && [ "$(wc -c <"$TMP/err")" -lt 2000 ] &&
  pass "a 4 MB chain of \`+\`: one error, its line shown as a window"

# The limit itself: 9,999 operators in a chain (10,000 levels) pass, 10,000 do not (the same for
# `*`); a chain that mixes precedence levels is measured by its depth, not by its operators.
chain() { python3 -c "import sys; n=int(sys.argv[1]); op=sys.argv[2]; print('fn f(a: int) -> int { return ' + op.join(['a'] * (n + 1)) + '; }')" "$@"; }
chain 9999 + >"$TMP/at.cfp"
run at-limit 0 -- check "$TMP/at.cfp" && pass "9,999 \`+\` in a chain: at the limit"
chain 10000 + >"$TMP/past.cfp"
run past-limit 1 -- check "$TMP/past.cfp" && has err "nesting too deep (limit 10000)" && pass "10,000 \`+\`: one past"
chain 10000 '*' >"$TMP/past-mul.cfp"
run past-limit-mul 1 -- check "$TMP/past-mul.cfp" && has err "nesting too deep (limit 10000)" && pass "10,000 \`*\`: one past"
chain 6000 ' * a + ' >"$TMP/mixed.cfp"
run mixed 0 -- check "$TMP/mixed.cfp" && pass "12,000 operators of two levels, about 6,000 deep: within the limit"
finish
