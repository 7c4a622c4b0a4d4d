#!/usr/bin/env bash
# Robot PC container entrypoint. `rlif ...` runs from the project's Python 3.11 venv with its own
# ROS 2 wheels: ROS Jazzy's setup (Python 3.12 paths on PYTHONPATH) must NOT be sourced for it.
# `driver` runs docker/driver.sh (it keeps the two apart itself). Anything else (`ros2 ...`, a
# shell) gets ROS 2 Jazzy + the franka_ros2 workspace sourced. All talk DDS over UDP with the same
# ROS_DOMAIN_ID.
set -e
case "${1:-}" in
  rlif|python|python3.11)
    exec "$@" ;;
  driver)
    shift
    exec "$RLIF_HOME/docker/driver.sh" "$@" ;;
  *)
    set +u
    source /opt/ros/jazzy/setup.bash
    source /opt/franka_ws/install/setup.bash
    export PATH="${PATH#"$RLIF_HOME/.venv/bin:"}"  # the system python3 (3.12) for ROS's tools
    exec "$@" ;;
esac
