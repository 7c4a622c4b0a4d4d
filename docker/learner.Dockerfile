# Learner image for a GPU box: this project with CUDA torch. Runs the `learner-box` profile
# (recorder + learner) and talks to the robot PC over DDS (host networking, same ROS_DOMAIN_ID).
# Build from the repository root:  docker compose -f docker/compose.yaml build learner
# Needs the NVIDIA container toolkit on the host (compose requests the GPU).
FROM nvidia/cuda:12.8.1-base-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    RLIF_HOME=/opt/rlif
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR ${RLIF_HOME}
COPY requirements.txt pyproject.toml README.md ./
# torch from PyPI is the CUDA build on Linux x86_64 (its CUDA libraries come as pip packages)
RUN uv python install 3.11 \
    && uv venv --python 3.11 ${RLIF_HOME}/.venv \
    && uv pip install --python ${RLIF_HOME}/.venv/bin/python -r requirements.txt
COPY sim ./sim
COPY teleop ./teleop
COPY learner ./learner
COPY robot_stack ./robot_stack
COPY launch ./launch
COPY scripts ./scripts
RUN uv pip install --python ${RLIF_HOME}/.venv/bin/python --no-deps -e .

ENV PATH=${RLIF_HOME}/.venv/bin:${PATH} \
    ROS_DOMAIN_ID=42
CMD ["rlif", "up", "learner-box", "--run-dir", "/opt/rlif/runs/robot"]
