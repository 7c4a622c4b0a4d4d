#!/usr/bin/env bash
# Entry point that bootstraps the environment first (idempotent, fast when set up).
#   ./rlif.sh train [rlif train options]   main job: full ROS 2 graph on the MuJoCo twin, simulated operator
#   ./rlif.sh test  [pytest options]       the test suite (unit, graph, e2e, browser)
#   ./rlif.sh <subcommand> [...]           any other `rlif` subcommand (doctor, up, experiment, ...)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-help}
[ $# -gt 0 ] && shift
if [ "$cmd" = test ]; then
  "$root/scripts/bootstrap.sh" test
  cd "$root"
  exec "$root/.venv/bin/python" -m pytest "$@"
fi
"$root/scripts/bootstrap.sh" train
[ "$cmd" = help ] && exec "$root/.venv/bin/rlif" --help
exec "$root/.venv/bin/rlif" "$cmd" "$@"
