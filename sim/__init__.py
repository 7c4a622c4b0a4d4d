"""MuJoCo twin of the peg-insertion cell (no rclpy here).

`import sim` registers the gymnasium id `RLIF/PegInsertion-v0` (where gymnasium is installed:
the contract and the cell's rules, `sim.contract` and `sim.rules`, need numpy only). Rendering is headless and
optional: `sim.gl.choose()` picks MuJoCo's OpenGL backend before mujoco is imported (egl, else
osmesa, else none), so the twin imports and simulates on machines without any GL library; only
camera frames need one (`sim.gl.RenderUnavailable` names the fix).
"""
from sim import gl

gl.choose()

ENV_ID = "RLIF/PegInsertion-v0"
try:
    import gymnasium as gym  # noqa: E402
except ImportError:  # sim.contract and sim.rules need numpy only (the robot's side imports them)
    gym = None
if gym is not None and ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="sim.env:PegInsertionEnv", max_episode_steps=None)
