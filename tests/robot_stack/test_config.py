"""Config composition: defaults, profiles (extends), --set overrides, validation, save/load."""
import pytest
import yaml

from robot_stack import config as C, profiles

pytestmark = pytest.mark.unit


def test_defaults_are_valid_and_sim_profile_resolves():
    cfg = C.resolve("sim")
    assert cfg.profile == "sim" and cfg.cell.kind == "twin"
    assert cfg.cell.max_step_m == 0.01 and C.RunConfig().agent.n_critics == 10  # the base: RLPD's size
    # the profile's overrides win: the main job's small learner and its human operator
    assert cfg.agent.n_critics == 5 and cfg.agent.hidden == (128, 128)
    assert (cfg.operator.strategy, cfg.operator.expert_kind, cfg.train.demo_episodes) == ("human", "reference", 10)


def test_set_overrides_are_typed():
    cfg = C.resolve("sim", ["agent.utd=8", "cell.clearance_m=0.002", "cell.safety_box_m=[0.05, 0.05, 0.1]",
                            "agent.target_entropy=-2", "graph.accelerated=true"])
    assert cfg.agent.utd == 8 and cfg.cell.clearance_m == 0.002
    assert cfg.cell.safety_box_m == (0.05, 0.05, 0.1)
    assert cfg.agent.target_entropy == -2.0 and cfg.graph.accelerated is True


def test_unknown_key_names_the_allowed_ones():
    with pytest.raises(C.ConfigError, match=r"agent\.utdd: unknown key; allowed: .*utd"):
        C.resolve("sim", ["agent.utdd=3"])
    with pytest.raises(C.ConfigError, match=r"nosuch: unknown key; allowed: .*cell"):
        C.resolve("sim", ["nosuch.x=3"])


def test_wrong_type_and_literal_are_errors():
    with pytest.raises(C.ConfigError, match=r"agent\.utd: expected an integer, got 'many'"):
        C.resolve("sim", ["agent.utd=many"])
    with pytest.raises(C.ConfigError, match=r"cell\.action_space: '7d' is not one of"):
        C.resolve("sim", ["cell.action_space=7d"])
    with pytest.raises(C.ConfigError, match="expected section.key=value"):
        C.parse_set(["agent.utd"])


def test_validation_fails_fast_naming_the_key():
    with pytest.raises(C.ConfigError, match="clearance_m"):
        C.resolve("sim", ["cell.clearance_m=0.01"])
    with pytest.raises(C.ConfigError, match="graph.deadline_ms"):
        C.resolve("sim", ["graph.deadline_ms=150"])


def test_profile_extends_is_base_plus_overrides(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "LAUNCH_DIR", tmp_path)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"nodes": ["cell"], "config": {"agent": {"utd": 2, "lr": 1e-3}}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"extends": "a", "config": {"agent": {"utd": 5}}}))
    prof = C.load_profile("b")
    assert prof["nodes"] == ["cell"] and prof["config"]["agent"] == {"utd": 5, "lr": 1e-3}
    cfg = C.resolve("b")
    assert cfg.agent.utd == 5 and cfg.agent.lr == 1e-3 and cfg.profile == "b"
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump({"extends": "loop"}))
    with pytest.raises(C.ConfigError, match="loops"):
        C.load_profile("loop")
    with pytest.raises(C.ConfigError, match="not found"):
        C.load_profile("missing")


def test_saved_config_round_trips(tmp_path):
    cfg = C.resolve("sim", ["agent.hidden=[64, 64, 64]", "operator.expert=low"])
    C.save(cfg, tmp_path / "config.yaml")
    assert C.load_saved(tmp_path / "config.yaml") == cfg


def test_every_field_has_a_doc():
    rows = C.describe()
    assert len(rows) > 40
    assert all(doc for _, _, doc in rows), [k for k, _, doc in rows if not doc]


def test_teleop_rates_are_config_and_must_beat_the_mux_silence_limit():
    cfg = C.resolve("sim", ["teleop.publish_hz=50", "teleop.heartbeat_hz=5", "supervisor.camera_hz=4",
                            "franka.fast_hz=100", "franka.startup_s=2", "franka.outside_box_m=0.005"])
    assert (cfg.teleop.publish_hz, cfg.teleop.heartbeat_hz, cfg.supervisor.camera_hz) == (50.0, 5.0, 4.0)
    assert (cfg.franka.fast_hz, cfg.franka.startup_s, cfg.franka.outside_box_m) == (100.0, 2.0, 0.005)
    with pytest.raises(C.ConfigError, match="teleop.publish_hz.*teleop_timeout_ms"):
        C.resolve("sim", ["teleop.publish_hz=10"])  # one 100 ms period = the mux's 100 ms silence limit
    C.resolve("sim", ["teleop.publish_hz=10", "graph.teleop_timeout_ms=250"])
