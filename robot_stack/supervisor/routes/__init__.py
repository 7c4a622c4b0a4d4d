"""One router per resource; `ROUTERS` is what `app.create_app` mounts under /api."""
from __future__ import annotations

from robot_stack.supervisor.routes import camera, episode, estop, metrics, robot, status, stream, training, videos

ROUTERS = (status.router, metrics.router, episode.router, training.router, estop.router,
           stream.router, camera.router, robot.router, videos.router)
