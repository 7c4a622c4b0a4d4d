"""MuJoCo twin of the peg-insertion cell (no rclpy here).

`import sim` registers the gymnasium id `RLIF/PegInsertion-v0`. Rendering is headless: on Linux
without a display, MUJOCO_GL defaults to egl (set before mujoco is imported).
"""
import os
import sys

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402

ENV_ID = "RLIF/PegInsertion-v0"
if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="sim.env:PegInsertionEnv", max_episode_steps=None)
