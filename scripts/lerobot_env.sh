#!/usr/bin/env bash
# The lerobot test environment (.venv-lerobot): the `lerobot` library in its own Python 3.12
# venv, so a test can load this cell's LeRobot exports with the library itself
# (tests/learner/test_lerobot_io.py; skipped without it). lerobot 0.6.1 needs Python >= 3.12 and
# torch < 2.12 and cannot live in .venv (Python 3.11 for the ROS 2 wheels, torch 2.13).
# About 5.5 GB (torch with its CUDA libraries from PyPI). Usage: scripts/lerobot_env.sh [PYTHON3.12]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-lerobot"
py=${1:-}
if [ -z "$py" ]; then
  for cand in python3.12 python3.13 "$HOME/.pyenv/versions/3.12.1/bin/python3.12"; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      py=$cand; break
    fi
  done
fi
[ -n "$py" ] || { echo "[lerobot_env] needs Python >= 3.12: pass its path (scripts/lerobot_env.sh /path/to/python3.12)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "lerobot[dataset]==0.6.1" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$venv/bin/python" -c 'import lerobot.datasets.lerobot_dataset; print("[lerobot_env] ready:", __import__("lerobot").__version__)'
