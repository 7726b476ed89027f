#!/bin/sh
# run.sh — the ctest `editors.vscode-grammar`: installs the grammar test's npm packages from
# package-lock.json (`npm ci`) into WORKDIR (the build folder, never the source tree), then runs
# grammar.test.js against the repository. Exits 77 (ctest SKIP) with the reason when node or npm
# is missing or `npm ci` fails (no registry, no cache); a grammar failure exits 1.
# Usage: run.sh REPO_ROOT WORKDIR
set -u
repo=$1
work=$2
vscode=$repo/editors/vscode

if ! command -v node >/dev/null 2>&1; then echo "SKIP: node is not installed"; exit 77; fi
if ! command -v npm >/dev/null 2>&1; then echo "SKIP: npm is not installed"; exit 77; fi

mkdir -p "$work" || exit 1
# Reinstall only when the lock file changed since the last install.
if [ ! -d "$work/node_modules" ] || ! cmp -s "$vscode/package-lock.json" "$work/package-lock.json"; then
  cp "$vscode/package.json" "$vscode/package-lock.json" "$work/" || exit 1
  if ! (cd "$work" && npm ci --no-audit --no-fund >npm-ci.log 2>&1); then
    echo "SKIP: npm ci failed (no access to the npm registry?); its output:"
    tail -n 20 "$work/npm-ci.log"
    rm -rf "$work/node_modules"
    exit 77
  fi
fi
NODE_PATH=$work/node_modules exec node "$vscode/test/grammar.test.js" "$repo"
