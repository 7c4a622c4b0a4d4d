#!/usr/bin/env bash
# The driver service (docker/compose.yaml): franka_ros2 + the RLIF impedance controller.
# 1. writes the controller's cell parameters from the run config (the `rlif` venv, with no ROS
#    Jazzy paths in its environment: its own ROS 2 wheels must not mix with Jazzy's);
# 2. starts rlif_impedance_controller's launch file (franka_bringup's franka.launch.py inside),
#    which spawns the controller active with those parameters.
#   FRANKA_IP (required), RLIF_PROFILE (default robot) and RLIF_SET (extra --set overrides,
#   space-separated) choose the config, as for `rlif train`.
set -euo pipefail
: "${FRANKA_IP:?set FRANKA_IP to the FCI address of the arm}"
params=/tmp/rlif_controller_params.yaml
sets=()
for s in ${RLIF_SET:-}; do sets+=(--set "$s"); done
env -i HOME="${HOME:-/root}" PATH="$RLIF_HOME/.venv/bin:/usr/bin:/bin" \
  "$RLIF_HOME/.venv/bin/rlif" robot controller-params --profile "${RLIF_PROFILE:-robot}" "${sets[@]}" --out "$params"
set +u  # ROS setup scripts read unset variables
source /opt/ros/jazzy/setup.bash
source /opt/franka_ws/install/setup.bash
set -u
exec ros2 launch rlif_impedance_controller robot.launch.py robot_ip:="$FRANKA_IP" params_file:="$params"
