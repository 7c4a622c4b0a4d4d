"""Bad config input: every number finite and in range, safety limits refuse NaN/inf/negative,
and a hostile or broken profile / `--set` is one line with exit code 2 (no traceback)."""
import math
import subprocess
import sys
from dataclasses import fields, is_dataclass

import pytest

from robot_stack import config as C
from robot_stack.cli.main import main
from robot_stack.config import FrankaConfig, GraphConfig, SupervisorConfig
from sim.config import CellConfig
from teleop.config import TeleopConfig

pytestmark = pytest.mark.unit


def number_fields(obj=None, prefix=""):
    """(key, field, value) of every float / int field of RunConfig (tuples included)."""
    obj = obj if obj is not None else C.RunConfig()
    for f in fields(obj):
        v = getattr(obj, f.name)
        if is_dataclass(v):
            yield from number_fields(v, f"{prefix}{f.name}.")
        elif isinstance(v, (int, float, tuple)) and not isinstance(v, bool):
            vals = v if isinstance(v, tuple) else (v,)
            if vals and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vals):
                yield prefix + f.name, f, v


def cli(*argv, capsys):
    rc = main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def _set(key, value, like):
    text = f"[{', '.join([value] * len(like))}]" if isinstance(like, tuple) else value
    return f"{key}={text}"


FLOAT_KEYS = [(k, v) for k, f, v in number_fields()
              if any(isinstance(x, float) for x in (v if isinstance(v, tuple) else (v,)))]
RANGED_KEYS = [(k, f, v) for k, f, v in number_fields() if "gt" in f.metadata or "ge" in f.metadata]


def test_there_are_many_float_keys_and_most_are_ranged():
    assert len(FLOAT_KEYS) >= 30 and len(RANGED_KEYS) >= 40


@pytest.mark.parametrize("key,like", FLOAT_KEYS, ids=[k for k, _ in FLOAT_KEYS])
@pytest.mark.parametrize("bad", [".nan", ".inf", "-.inf"])
def test_every_float_key_refuses_nan_and_inf_naming_the_key(key, like, bad):
    with pytest.raises(C.ConfigError, match=rf"config {key}: must be a finite number"):
        C.resolve("sim", [_set(key, bad, like)])


@pytest.mark.parametrize("key,f,like", RANGED_KEYS, ids=[k for k, _, _ in RANGED_KEYS])
def test_every_ranged_key_refuses_a_value_below_its_range(key, f, like):
    low = f.metadata.get("gt", f.metadata.get("ge"))
    bad = low - 1 if isinstance(low, int) and not any(isinstance(x, float) for x in
                                                     (like if isinstance(like, tuple) else (like,))) else low - 1.0
    with pytest.raises(C.ConfigError, match=rf"config {key}: must be >=? {low}"):
        C.resolve("sim", [_set(key, repr(bad), like)])


def test_defaults_and_every_shipped_profile_pass_the_ranges():
    for name in ("sim", "robot", "robot-twin", "robot-pc", "learner-box"):
        C.resolve(name)


@pytest.mark.parametrize("argv,key", [
    (["--profile", "robot", "--set", "cell.max_force_n=.nan"], "cell.max_force_n"),
    (["--profile", "robot", "--set", "cell.safety_box_m=[.nan,.nan,.nan]"], "cell.safety_box_m"),
    (["--set", "cell.max_force_n=-1"], "cell.max_force_n"),
    (["--set", "graph.deadline_ms=.inf"], "graph.deadline_ms"),
    (["--set", "supervisor.max_body_bytes=-1"], "supervisor.max_body_bytes"),
])
def test_rlif_config_refuses_unsafe_limits_with_one_line(argv, key, capsys):
    rc, err = cli("config", *argv, capsys=capsys)
    assert rc == 2 and key in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("make", [
    lambda: CellConfig(max_force_n=math.nan), lambda: CellConfig(max_force_n=math.inf),
    lambda: CellConfig(max_force_n=-1.0), lambda: CellConfig(safety_box_m=(math.nan, math.nan, math.nan)),
    lambda: CellConfig(safety_box_m=(0.04, math.inf, 0.08)), lambda: CellConfig(safety_box_rad=math.nan),
    lambda: CellConfig(control_hz=math.nan),
    lambda: GraphConfig(deadline_ms=math.nan), lambda: GraphConfig(teleop_timeout_ms=math.inf),
    lambda: FrankaConfig(stale_ms=math.nan), lambda: FrankaConfig(reset_timeout_s=math.inf),
    lambda: FrankaConfig(reset_speed_m_s=math.nan),
    lambda: TeleopConfig(stale_ms=math.nan), lambda: TeleopConfig(poll_hz=math.inf),
    lambda: SupervisorConfig(max_body_bytes=-1), lambda: SupervisorConfig(max_body_bytes=0),
])
def test_safety_limits_refuse_nan_inf_negative_in_their_own_validate(make):
    with pytest.raises(ValueError):
        make().validate()


# ---------------------------------------------------------------- profiles and --set
BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                 + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
                 + ["config: {cell: *i}"]) + "\n"


@pytest.mark.parametrize("content,words", [
    ("- a\n- b\n", "must be a mapping"),
    (b"config:\n  cell: {kind: '\xff\xfe'}\n", "not UTF-8"),
    ("extends: 123\n", "`extends` must be"),
    ("config: [1, 2]\n", "`config` must be a mapping"),
    ("nodes: cell\n", "`nodes` must be a list"),
    ("config: {cell: {kind: twin}\n", "not valid YAML"),
    (BOMB, "expands to more than"),
], ids=["list", "non-utf8", "extends-int", "config-list", "nodes-str", "bad-yaml", "alias-bomb"])
def test_a_broken_profile_is_one_line_rc_2(tmp_path, capsys, content, words):
    p = tmp_path / "p.yaml"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    rc, err = cli("config", "--profile", str(p), capsys=capsys)
    assert rc == 2 and words in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and len(err) < 400


def test_an_alias_bomb_is_refused_fast_with_a_short_message(tmp_path):
    # ~500 bytes that expand to 9**9 values: refused by counting, before any walk or repr of it.
    assert len(BOMB) < 600
    with pytest.raises(C.ConfigError, match="expands to more than") as e:
        C.load_yaml(BOMB, "bomb")
    assert len(str(e.value)) < 200
    (tmp_path / "config.yaml").write_text(BOMB)
    with pytest.raises(C.ConfigError, match="expands to more than"):
        C.load_saved(tmp_path / "config.yaml")


@pytest.mark.parametrize("item,words", [
    ("cell.max_force_n=[1", "not valid YAML"), ("cell.kind={a: [}", "not valid YAML"),
    ("cell.max_force_n=*x", "not valid YAML"), ("cell=3", "expected a mapping"),
    ("agent.hidden=[1, [2]]", "expected an integer"),
])
def test_bad_yaml_in_set_is_one_line_rc_2(capsys, item, words):
    rc, err = cli("config", "--set", item, capsys=capsys)
    assert rc == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_conflicting_sets_are_one_line(capsys):
    rc, err = cli("config", "--set", "cell=3", "--set", "cell.kind=twin", capsys=capsys)
    assert rc == 2 and "cell" in err and "Traceback" not in err
    rc, err = cli("config", "--set", "cell.kind=twin", "--set", "cell=3", capsys=capsys)
    assert rc == 2 and "is a section" in err


def test_relative_extends_resolves_against_the_profiles_folder(tmp_path):
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "base.yaml").write_text("nodes: [cell]\nconfig: {agent: {utd: 7}}\n")
    (d / "child.yaml").write_text("extends: base.yaml\nconfig: {agent: {lr: 0.001}}\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "base.yaml").write_text("config: {agent: {utd: 1}}\n")  # must not be used
    # a real process in another working directory: the profile's folder decides, not the cwd
    r = subprocess.run([sys.executable, "-m", "robot_stack.cli.main", "config", "--json",
                        "--profile", str(d / "child.yaml")], cwd=tmp_path / "elsewhere",
                       capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "PYTHONPATH": str(C.LAUNCH_DIR.parent)})
    assert r.returncode == 0, r.stderr
    assert '"utd": 7' in r.stdout and '"lr": 0.001' in r.stdout
    (d / "orphan.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(C.ConfigError, match=r"nowhere.yaml.* not found \(looked in .*profiles\)"):
        C.load_profile(str(d / "orphan.yaml"))


def test_a_saved_config_that_is_not_utf8_or_a_list_is_one_line(tmp_path):
    p = tmp_path / "config.yaml"
    p.write_bytes(b"cell:\n  kind: \xff\n")
    with pytest.raises(C.ConfigError, match="not UTF-8"):
        C.load_saved(p)
    p.write_text("- 1\n")
    with pytest.raises(C.ConfigError, match="expected a mapping"):
        C.load_saved(p)
