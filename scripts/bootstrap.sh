#!/usr/bin/env bash
# bootstrap.sh — installs the Debian packages CFM builds, tests and benchmarks with, and does
# nothing when they are all installed. Debian 12 (bookworm); run as root or with sudo available.
# `bootstrap.sh --bench` also installs the benchmark-only packages (BENCH_PACKAGES: what the
# agent benchmarks compare against, bench/agent/); the plain call (CI's) never installs them.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ccache pkg-config
  # the language front end: ANTLR 4 tool (4.7.2) and C++ runtime (4.9)
  antlr4 libantlr4-runtime-dev
  # engines and runtime (later parts build on these)
  llvm-19-dev libedit-dev libboost-context-dev libjemalloc-dev
  # model store, OVF, cloud API, federation
  libpugixml-dev libsqlite3-dev libcurl4-openssl-dev libpaho-mqttpp-dev libpaho-mqtt-dev mosquitto
  libssl-dev libcpp-httplib-dev libtomlplusplus-dev nlohmann-json3-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev python3 lua5.4 luajit python3-jinja2 curl
  awscli python3-botocore
  # the samples' software on the local clouds' VMs (samples/web3, samples/hadoop; tests e2e.*)
  nginx-light python3-psycopg2 postgresql libxml2-utils
  # editor support tests (editors/emacs, ERT)
  emacs-nox
)
# only with --bench: bench/agent/agent_bench.py compares against OpenSSH and Ansible
BENCH_PACKAGES=(openssh-server openssh-client ansible-core)
for arg in "$@"; do
  case "$arg" in
    --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
    *) echo "usage: bootstrap.sh [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/cfm-bootstrap.log 2>&1; then
  # A fresh machine may have no package lists yet.
  $SUDO apt-get update -q >>/tmp/cfm-bootstrap.log 2>&1
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/cfm-bootstrap.log 2>&1 || {
    tail -20 /tmp/cfm-bootstrap.log >&2
    echo "bootstrap: apt-get failed (log: /tmp/cfm-bootstrap.log)" >&2
    exit 1
  }
fi
echo "bootstrap: done" >&2
