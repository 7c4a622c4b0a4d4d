#!/usr/bin/env bash
# Robot PC container entrypoint. `rlif ...` runs from the project's Python 3.11 venv with its own
# ROS 2 wheels: ROS Jazzy's setup (Python 3.12 paths on PYTHONPATH) must NOT be sourced for it.
# Anything else (`ros2 launch franka_bringup ...`, a shell) gets ROS 2 Jazzy + the franka_ros2
# workspace sourced. Both talk over DDS with the same ROS_DOMAIN_ID.
set -e
case "${1:-}" in
  rlif|python|python3.11)
    exec "$@" ;;
  *)
    source /opt/ros/jazzy/setup.bash
    source /opt/franka_ws/install/setup.bash
    export PATH="${PATH#"$RLIF_HOME/.venv/bin:"}"  # the system python3 (3.12) for ROS's tools
    exec "$@" ;;
esac
