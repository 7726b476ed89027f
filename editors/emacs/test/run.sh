#!/bin/sh
# run.sh — the ctest `editors.emacs`: runs the ERT tests of cfp-mode-tests.el in `emacs --batch`
# with no user configuration. Exits 77 (ctest SKIP) when emacs is not installed.
# Usage: run.sh EDITORS_EMACS_DIR
set -u
dir=$1
if ! command -v emacs >/dev/null 2>&1; then echo "SKIP: emacs is not installed"; exit 77; fi
exec emacs --batch -Q -L "$dir" -l "$dir/cfp-mode-tests.el" -f ert-run-tests-batch-and-exit
