# Robot PC image: ROS 2 Jazzy + franka_ros2 (pinned tag; only the driver, the state broadcaster and
# what they need) + the RLIF impedance controller (controllers/) + this project in a Python 3.11 venv.
# Build from the repository root:  docker compose -f docker/compose.yaml build driver
# Run with host networking (FCI and DDS over UDP), real-time limits and the spacemouse's hidraw node:
# see docker/compose.yaml and README "On the robot". franka_ros2 v3.x pins libfranka 0.20.x, which
# needs an FR3 with system version >= 5.9 (a Panda / FER needs an older franka_ros2 and libfranka).
FROM ros:jazzy-ros-base

ARG FRANKA_ROS2_VERSION=v3.4.0
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    RLIF_HOME=/opt/rlif
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# --- franka_ros2, as its README builds it (vcs import of dependency.repos, rosdep skipping
# zed_wrapper, colcon), but only the packages the cell needs and their dependencies (no Gazebo,
# MoveIt or vision kit)
RUN apt-get update && apt-get install -y --no-install-recommends \
        git ros-dev-tools libhidapi-hidraw0 curl ca-certificates libeigen3-dev cmake g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/franka_ws
ENV FRANKA_PACKAGES="franka_bringup franka_hardware franka_robot_state_broadcaster"
RUN git clone --branch "${FRANKA_ROS2_VERSION}" --single-branch --depth 1 \
        https://github.com/frankarobotics/franka_ros2.git src/franka_ros2 \
    && vcs import src < src/franka_ros2/dependency.repos --recursive --skip-existing \
    && . /opt/ros/jazzy/setup.sh \
    && apt-get update && rosdep update --rosdistro jazzy \
    && colcon list --packages-up-to ${FRANKA_PACKAGES} --paths-only \
        | xargs rosdep install --ignore-src --rosdistro jazzy -y --skip-keys=zed_wrapper --from-paths \
    && colcon build --packages-up-to ${FRANKA_PACKAGES} \
        --cmake-args -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DBUILD_TESTS=OFF \
    && rm -rf build log /var/lib/apt/lists/*

# --- the RLIF impedance controller: its law's tests first (Eigen only), then the plugin
COPY controllers/rlif_impedance_controller src/rlif_impedance_controller
RUN cmake -S src/rlif_impedance_controller/test -B /tmp/law-test -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /tmp/law-test && /tmp/law-test/test_impedance_law && rm -rf /tmp/law-test \
    && . /opt/ros/jazzy/setup.sh && . install/setup.sh \
    && apt-get update \
    && rosdep install --from-paths src/rlif_impedance_controller --ignore-src --rosdistro jazzy -y \
    && colcon build --packages-select rlif_impedance_controller \
        --cmake-args -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    && rm -rf build log /var/lib/apt/lists/*

# --- the project: Python 3.11 venv (the ROS 2 pip wheels in requirements.txt are built for it),
# CPU torch (the robot PC runs the actor; a GPU box runs the learner: learner.Dockerfile)
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR ${RLIF_HOME}
COPY requirements.txt pyproject.toml README.md ./
RUN uv python install 3.11 \
    && uv venv --python 3.11 ${RLIF_HOME}/.venv \
    && uv pip install --python ${RLIF_HOME}/.venv/bin/python \
        --index-url https://download.pytorch.org/whl/cpu "$(grep '^torch==' requirements.txt)" \
    && uv pip install --python ${RLIF_HOME}/.venv/bin/python -r requirements.txt
COPY sim ./sim
COPY teleop ./teleop
COPY learner ./learner
COPY robot_stack ./robot_stack
COPY controllers ./controllers
COPY launch ./launch
COPY scripts ./scripts
COPY docker/driver.sh ./docker/driver.sh
RUN uv pip install --python ${RLIF_HOME}/.venv/bin/python --no-deps -e .

# The franka_ros2 workspace is sourced for `ros2 ...`; `rlif` comes from the venv. Both speak DDS
# on the host network with the same ROS_DOMAIN_ID, over UDP (compose sets the transport).
ENV PATH=${RLIF_HOME}/.venv/bin:${PATH} \
    ROS_DOMAIN_ID=42
COPY docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["rlif", "doctor"]
