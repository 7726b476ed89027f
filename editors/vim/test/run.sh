#!/bin/sh
# run.sh — the ctest `editors.vim`: runs test.vim in headless Vim with editors/vim first on
# 'runtimepath' and no user configuration. Exits 77 (ctest SKIP) when vim is not installed.
# Usage: run.sh EDITORS_VIM_DIR
set -u
dir=$1
if ! command -v vim >/dev/null 2>&1; then echo "SKIP: vim is not installed"; exit 77; fi
exec vim -es -u NONE -i NONE -N --not-a-term \
  --cmd "set runtimepath^=$dir runtimepath+=$dir/after" -S "$dir/test/test.vim"
