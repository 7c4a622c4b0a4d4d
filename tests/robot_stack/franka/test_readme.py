"""README "On the robot" stays accurate: the keys, profiles, commands and defaults it names exist."""
import re
from pathlib import Path

import pytest

from robot_stack.config import LAUNCH_DIR, FrankaConfig
from robot_stack.franka import teach
from sim.config import CellConfig

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## On the robot")
    return text[start:text.index("\n## ", start + 5)]


def test_every_config_key_it_names_exists():
    s = section()
    fr, cl = {f for f in FrankaConfig.__dataclass_fields__}, {f for f in CellConfig.__dataclass_fields__}
    for key, star in re.findall(r"franka\.([a-z0-9_]+)(\*?)", s):
        assert (key in fr if not star else any(f.startswith(key) for f in fr)) or key in ("launch",), key
    for key, star in re.findall(r"`cell\.([a-z0-9_]+)(\*?)", s):
        assert key in cl if not star else any(f.startswith(key) for f in cl), key


def test_every_rlif_robot_command_it_names_exists():
    from robot_stack.cli.main import build_parser

    s = section()
    verbs = set(re.findall(r"rlif robot ([a-z\-]+)", s))
    assert verbs == {"recover", "push-test", "joints", "controller-params"}
    parser = build_parser()
    for verb in verbs:
        assert parser.parse_args(["robot", verb]).verb == verb
    assert "rlif doctor --profile robot" in s and parser.parse_args(["doctor", "--profile", "robot"]).profile


def test_the_versions_it_states_are_the_images():
    s, docker = section(), (ROOT / "docker" / "robot.Dockerfile").read_text()
    tag = re.search(r"ARG FRANKA_ROS2_VERSION=(v[\d.]+)", docker).group(1)
    assert f"franka_ros2 **{tag}**" in s and f"tag `{tag}`" in s
    assert "libfranka 0.20.x" in s and "system version **5.9 or newer**" in s
    assert "FASTDDS_BUILTIN_TRANSPORTS=UDPv4" in s and "hardware e-stop" in s


def test_every_profile_it_names_exists():
    s = section()
    names = set(re.findall(r"rlif (?:train|teach) --profile ([a-z\-]+)", s))
    names |= set(re.findall(r"rlif up ([a-z\-]+)", s))
    assert names >= {"robot", "robot-twin", "robot-pc", "learner-box"}
    for n in names:
        assert (LAUNCH_DIR / f"{n}.yaml").exists(), n


def test_the_defaults_it_quotes_are_the_code_defaults():
    s, f, c = section(), FrankaConfig(), CellConfig()
    quoted = {"`franka.stale_ms` (100 ms)": f.stale_ms == 100, "`franka.lift_m` (5 cm)": f.lift_m == 0.05,
              "`franka.reset_speed_m_s` 5 cm/s": f.reset_speed_m_s == 0.05,
              "`franka.reset_speed_rad_s` 0.3 rad/s": f.reset_speed_rad_s == 0.3,
              "`franka.reset_tolerance_m` (4 mm)": f.reset_tolerance_m == 0.004,
              "`franka.reset_timeout_s` 20 s": f.reset_timeout_s == 20,
              "`cell.max_force_n` (60 N)": c.max_force_n == 60,
              "`cell.safety_box_m` ±4, ±4, ±8 cm": c.safety_box_m == (0.04, 0.04, 0.08),
              "`cell.safety_box_rad` 0.3 rad": c.safety_box_rad == 0.3,
              "`cell.max_step_m` 1 cm": c.max_step_m == 0.01,
              "`cell.success_depth_m` 15 mm": c.success_depth_m == 0.015,
              "more than 1 cm outside": f.outside_box_m == 0.01,
              "more than 0.5 mm": teach.MAX_SPREAD_M == 0.0005,
              "`franka.collision_force_n` 80 N": f.collision_force_n == 80,
              "`franka.collision_torque_nm` 25 Nm": f.collision_torque_nm == 25,
              "`franka.wrench_sign` (-1)": f.wrench_sign == -1,
              "`franka.home_every` (10)": f.home_every == 10,
              "`franka.home_speed_rad_s` (0.3 rad/s)": f.home_speed_rad_s == 0.3,
              "`cell.max_step_m` 1 cm, 0.05 rad": c.max_step_m == 0.01 and c.max_step_rad == 0.05,
              "(2000 N/m, 150 Nm/rad; 120 N s/m, 8 Nm s/rad, the twin's)":
                  (c.stiffness_n_m, c.stiffness_nm_rad, c.damping_n_s_m, c.damping_nm_s_rad) == (2000, 150, 120, 8)}
    for text, ok in quoted.items():
        assert text in s.replace("\n   ", " ").replace("\n", " "), text
        assert ok, text
