"""Which node processes a run starts, with which parameters (profile + operator + resume).

Profiles list their graph nodes under `nodes:` and a default `operator:`; the operator adds:
  sim        -> `operator` node (simulated operator, twin only) + mux in sync mode
  spacemouse -> `teleop` node reading the spacemouse
  keyboard   -> `teleop` node reading the terminal
  none       -> nothing: an outside program may publish /rlif/teleop/intervening and /twist
A two-machine profile lists the graph's nodes that run on the other machine under `remote:`
(e.g. robot-pc: recorder, learner on a GPU box): the clock node then waits for them too.
The clock's first step also waits for the local actor, mux and operator to report their inputs
matched (param `wait_for`). Where the recorder runs, `train.record_mcap` adds the `mcap_recorder`
node and `train.video_every` the `video` node (each in its own process; the clock waits for them).
With `graph.compose` on the twin (launch/sim.yaml), the control loop's nodes (cell, actor, mux,
operator, recorder) are in group `control`: the launcher runs them as one process with one
EventsExecutor: no process switch and
no cross-process DDS hop per message on a small machine. The learner keeps its own process (its
training thread would hold the loop's GIL), as do the dashboard and a human's teleop reader; the
robot profiles keep one process per node.
"""
from __future__ import annotations

from pathlib import Path

from robot_stack.config import ConfigError, RunConfig
from robot_stack.launcher import NodeSpec

OPERATORS = ("sim", "spacemouse", "keyboard", "none")


def committed_episodes(run_dir: Path) -> int:
    """Committed episodes in the run's store (0 if none): where a resumed cell continues."""
    path = run_dir / "replay.zarr"
    if not path.exists():
        return 0
    from learner.replay import ReplayStore

    with ReplayStore.open(path, readonly=True) as store:
        return store.n_episodes


def plan_nodes(profile: dict, cfg: RunConfig, run_dir: Path, operator: str | None = None,
               resume: bool = False, max_episodes: int = 0, serve: bool = False,
               port: int | None = None) -> list[NodeSpec]:
    """Node specs for a run; `serve` adds the supervisor (dashboard) on `port`."""
    operator = operator or profile.get("operator", "none")
    if operator not in OPERATORS:
        raise ConfigError(f"--operator {operator!r}: expected one of {', '.join(OPERATORS)}")
    if operator == "sim" and cfg.cell.kind != "twin":
        raise ConfigError("--operator sim needs the twin (cell.kind=twin): a simulated operator "
                          "cannot watch a real arm")
    names = list(profile.get("nodes", []))
    remote = list(profile.get("remote", []))  # this graph's nodes on another machine (same ROS_DOMAIN_ID)
    if serve and "supervisor" not in names:
        names.append("supervisor")
    known = {"cell", "actor", "mux", "recorder", "learner", "supervisor", "franka_bridge", "twin_franka"}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"profile {profile.get('name')}: unknown nodes {unknown}; known: {sorted(known)}")
    start_episode = committed_episodes(run_dir)  # a new run's store holds only its demonstrations
    actor_weights = run_dir / "checkpoints" / "actor.safetensors"
    params: dict[str, dict] = {
        "cell": {"start_episode": start_episode, "max_episodes": max_episodes,
                 "learner_gate": cfg.graph.accelerated and "learner" in names,
                 "wait_recorder": "recorder" in names + remote},
        "franka_bridge": {"start_episode": start_episode, "max_episodes": max_episodes,
                          "wait_recorder": "recorder" in names + remote},
        "mux": {"sync_operator": operator == "sim"},
        "recorder": {"operator": operator},
        "learner": {"resume": resume},
        "actor": {"weights": str(actor_weights)} if resume and actor_weights.exists() else {},
        "supervisor": {"port": port} if port is not None else {},
    }
    specs = [NodeSpec(n, params.get(n, {})) for n in names]
    if operator == "sim":
        specs.append(NodeSpec("operator"))
    elif operator in ("spacemouse", "keyboard"):
        specs.append(NodeSpec("teleop", {"device": operator}))
    if "recorder" in names:  # the outputs for outside tools live with the run's store
        specs += [NodeSpec(n) for n, on in (("mcap_recorder", cfg.train.record_mcap),
                                             ("video", cfg.train.video_every > 0)) if on]
    set_observers(specs, extra=sum(r in OBSERVERS for r in remote))
    local = [s.name for s in specs]
    for s in specs:
        if s.name in ("cell", "franka_bridge"):
            s.params["wait_for"] = ",".join(n for n in WAIT_FOR if n in local)
        if s.name == "cell" and cfg.cell.kind == "twin" and ("supervisor" in names or cfg.cell.render):
            s.params["camera_hz"] = cfg.supervisor.camera_hz
    if cfg.graph.compose and cfg.cell.kind == "twin" and "cell" in local:
        return compose(specs)
    return specs


WAIT_FOR = ("actor", "mux", "operator", "mcap_recorder", "video")  # the clock's first step waits for these
COMPOSED = ("actor", "mux", "operator", "recorder", "cell")  # the control loop; the clock is built last
GROUP = "control"


def process_env(cfg: RunConfig) -> dict[str, str]:
    """Environment every node process of the graph gets over the launcher's own."""
    return {"FASTDDS_BUILTIN_TRANSPORTS": cfg.graph.dds_transport} if cfg.graph.dds_transport else {}


def compose(specs: list[NodeSpec]) -> list[NodeSpec]:
    """The twin's control-loop nodes in group `control` (one process, the launcher builds it) with
    the EventsExecutor, first and in `COMPOSED` order; the learner with the same executor."""
    members = sorted((s for s in specs if s.name in COMPOSED), key=lambda s: COMPOSED.index(s.name))
    for s in members:
        s.group, s.executor = GROUP, "events"
    rest = [s for s in specs if s.name not in COMPOSED]
    for s in rest:
        if s.name == "learner":
            s.executor = "events"
    return [*members, *rest]


OBSERVERS = ("actor", "mux", "operator", "supervisor", "mcap_recorder")  # nodes subscribing `observation`


def set_observers(specs: list[NodeSpec], extra: int = 0) -> None:
    """Tell the clock node how many observation subscribers to wait for before stepping
    (`extra`: observers running on another machine)."""
    n = sum(s.name in OBSERVERS for s in specs) + extra
    for s in specs:
        if s.name in ("cell", "franka_bridge"):
            s.params["expect_obs_subscribers"] = max(1, n)
