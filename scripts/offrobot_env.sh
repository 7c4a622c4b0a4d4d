#!/usr/bin/env bash
# The off-robot environment (.venv-offrobot): the project without the ROS 2 wheels, in another
# Python (default 3.12, e.g. a GPU learner box's), then the tests of the packages that never import
# rclpy (tests/sim, tests/teleop, tests/learner) and of the layering rule. It checks that `sim`,
# `teleop`, `learner` and the ROS-free commands install and pass their tests there too.
# Installs requirements.txt less its `ros-*` lines; torch for 3.12 comes from PyPI with its CUDA
# libraries (about 5 GB). Usage: scripts/offrobot_env.sh [PYTHON] [pytest options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-offrobot"
py=${1:-}
[ $# -gt 0 ] && shift
if [ -z "$py" ]; then
  for cand in python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3.12"; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys' >/dev/null 2>&1; then py=$cand; break; fi
  done
fi
[ -n "$py" ] || { echo "[offrobot_env] no python3.12 found: pass a Python (scripts/offrobot_env.sh /path/to/python)" >&2; exit 1; }
"$py" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' \
  || { echo "[offrobot_env] $py: the project supports Python 3.11 and 3.12 (pyproject.toml)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
reqs=$(mktemp /tmp/rlif-offrobot-reqs.XXXXXX.txt)
grep -v '^ros-' "$root/requirements.txt" > "$reqs"
links=()
[ -d /opt/wheels ] && links=(--find-links /opt/wheels)
"$venv/bin/python" -m pip install -q --disable-pip-version-check "${links[@]}" -r "$reqs" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$root" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
rm -f "$reqs"
if "$venv/bin/python" -c 'import rclpy' 2>/dev/null; then
  echo "[offrobot_env] rclpy is importable in $venv: not an off-robot environment" >&2; exit 1
fi
echo "[offrobot_env] $("$venv/bin/python" --version), torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'); running the ROS-free packages' tests" >&2
cd "$root"
exec "$venv/bin/python" -m pytest tests/sim tests/teleop tests/learner tests/test_layering.py "$@"
