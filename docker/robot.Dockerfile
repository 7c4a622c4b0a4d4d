# Robot PC image: ROS 2 Jazzy + franka_ros2 (driver, state broadcaster, controllers) + this project.
# Build from the repository root:  docker compose -f docker/compose.yaml build robot
# Run with host networking (FCI and DDS), real-time limits and the spacemouse's hidraw node:
# see docker/compose.yaml and README "On the robot".
FROM ros:jazzy-ros-base

ARG FRANKA_ROS2_BRANCH=jazzy
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    RLIF_HOME=/opt/rlif

# --- franka_ros2, built as its README describes (vcs import of dependency.repos, rosdep, colcon)
RUN apt-get update && apt-get install -y --no-install-recommends \
        git ros-dev-tools libhidapi-hidraw0 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/franka_ws
RUN git clone --branch ${FRANKA_ROS2_BRANCH} --single-branch --depth 1 \
        https://github.com/frankarobotics/franka_ros2.git src \
    && vcs import src < src/dependency.repos --recursive --skip-existing \
    && apt-get update && (rosdep update || true) \
    && rosdep install --from-paths src --ignore-src --rosdistro jazzy -y \
    && . /opt/ros/jazzy/setup.sh \
    && colcon build --cmake-args -DCMAKE_BUILD_TYPE=Release \
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
COPY launch ./launch
COPY scripts ./scripts
RUN uv pip install --python ${RLIF_HOME}/.venv/bin/python --no-deps -e .

# The franka_ros2 workspace is sourced for `ros2 launch ...`; `rlif` comes from the venv. Both
# speak DDS on the host network with the same ROS_DOMAIN_ID.
ENV PATH=${RLIF_HOME}/.venv/bin:${PATH} \
    ROS_DOMAIN_ID=42
COPY docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["rlif", "doctor"]
