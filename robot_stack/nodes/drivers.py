"""What a cell adds to the control clock (`nodes.cell.CellNode`), composed into it: the
`CellDriver` protocol and the twin's driver. The real arm's is `robot_stack.franka.bridge.FrankaDriver`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from learner.seeds import episode_seed
from robot_stack import topics as T
from sim.contract import Source

if TYPE_CHECKING:
    from robot_stack.nodes.cell import CellNode


class CellDriver(Protocol):
    """What a cell adds to the clock (`CellNode` calls these; they never block)."""

    cell: object  # observe / apply / hold / reset (sim.contract.Cell), render where it has a camera

    def start_episode(self) -> None:
        """The previous episode is over (or none began): call `node.begin_episode` when ready."""

    def defer_end(self, reason: str) -> bool:
        """True: the episode's end is completed later (by the driver), not now."""

    def before_tick(self) -> bool:
        """Before each tick; False: no step now."""

    def executed(self, source: Source, action) -> tuple[Source, object]:
        """The source and action that will really be executed for this command."""

    def after_apply(self) -> None:
        """After a step was applied and published."""

    def on_event(self, e: T.Event) -> bool:
        """True: the event was handled here (the clock does not see it)."""

    def on_status(self, s: dict) -> None:
        """A heartbeat the clock accepted."""

    def status(self) -> dict:
        """Fields for the clock's heartbeat."""


class TwinDriver:
    """The MuJoCo twin behind the clock: an episode starts as soon as the last one ended."""

    def __init__(self, node: CellNode):
        from sim.cell import TwinCell

        from sim.gl import RenderUnavailable

        self.node = node
        self.cell = TwinCell(node.cfg.cell, seed=node.cfg.train.seed, vision=node.cfg.vision)
        if node.cfg.vision.enabled:
            try:  # image observations need OpenGL: refuse to start without it, not at the first step
                self.cell.images()
            except RenderUnavailable as e:
                raise SystemExit(f"{node.get_name()}: vision.image_size={node.cfg.vision.image_size}: {e}") from None

    def start_episode(self) -> None:
        n = self.node
        obs, info = self.cell.reset(seed=episode_seed(n.cfg.train.seed, n.episode))
        n.begin_episode(obs, sim={"hole_offset_m": np.asarray(info.get("hole_offset_m", [0.0, 0.0])).tolist()})

    def defer_end(self, reason: str) -> bool:
        return False

    def before_tick(self) -> bool:
        return True

    def executed(self, source: Source, action):
        return source, action

    def after_apply(self) -> None:
        pass

    def on_event(self, e: T.Event) -> bool:
        return False

    def on_status(self, s: dict) -> None:
        pass

    def status(self) -> dict:
        return {}
